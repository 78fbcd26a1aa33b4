-- Reader features: search, editions, view counts, coverage collections and the live
-- breaking stream.

-- Full-text search. A contentless FTS5 index (the text lives in `articles`; the index
-- holds only what search needs), fed with text normalised by newsdesk (case, accents,
-- Arabic letter forms) in the same transaction as every article write. SQLite-only:
-- the PostgreSQL tree uses a tsvector column instead.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, summary, body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Editions of one story in several languages share a group (the id of the first).
ALTER TABLE articles ADD COLUMN translation_group INTEGER;
CREATE INDEX articles_translation_idx ON articles (translation_group, language);

-- Views per article per hour (hours since the epoch), added up in memory and written
-- in batches.
CREATE TABLE article_views (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    views INTEGER NOT NULL,
    PRIMARY KEY (article_id, hour)
);
CREATE INDEX article_views_hour_idx ON article_views (hour, article_id);

-- Coverage hubs: an ordered list of articles, some pinned first.
CREATE TABLE collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    language TEXT NOT NULL,
    hero_media_id INTEGER REFERENCES media (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX collections_hero_idx ON collections (hero_media_id);

CREATE TABLE collection_articles (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT 0,
    PRIMARY KEY (collection_id, article_id)
);
CREATE INDEX collection_articles_article_idx ON collection_articles (article_id, collection_id);

-- What happened to live breaking items, in order, for the event stream. Written in the
-- same transaction as the change; go-live and expiry events are written when they come
-- due, once (the unique index makes a second instance's attempt a no-op).
CREATE TABLE breaking_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'deleted', 'expired')),
    item_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX breaking_events_due_idx ON breaking_events (kind, item_id, due_at);
CREATE INDEX breaking_events_created_idx ON breaking_events (created_at);
-- The scheduler's scans for items going live or expiring in the last second.
CREATE INDEX breaking_items_due_live_idx ON breaking_items (published_at);
CREATE INDEX breaking_items_due_expiry_idx ON breaking_items (expires_at);

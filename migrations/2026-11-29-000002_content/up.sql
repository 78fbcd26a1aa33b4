-- The newsroom content model: sections, regions, tags, articles and their relations,
-- and the breaking-news ticker.

CREATE TABLE sections (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES sections (id),
    position INTEGER NOT NULL DEFAULT 0,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX sections_parent_idx ON sections (parent_id, position, id);

CREATE TABLE regions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX regions_name_idx ON regions (name, id);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tags_name_idx ON tags (name, id);

-- The large text columns come last: SQLite reads a row's columns in order, so list
-- queries that never touch the body stop before it.
CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT,
    section_id INTEGER REFERENCES sections (id),
    source TEXT,
    hero_media_id INTEGER REFERENCES media (id),
    featured BOOLEAN NOT NULL DEFAULT 0,
    -- 'draft' or 'published'; "scheduled" is published with a future published_at,
    -- decided at read time so no background job is needed.
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    published_at TIMESTAMP,
    word_count INTEGER NOT NULL DEFAULT 0,
    reading_time_minutes INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    body_html TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT ''
);
CREATE INDEX articles_published_idx ON articles (status, published_at, id);
CREATE INDEX articles_language_idx ON articles (language, status, published_at, id);
CREATE INDEX articles_section_idx ON articles (section_id, status, published_at, id);
CREATE INDEX articles_updated_idx ON articles (status, updated_at, id);
CREATE INDEX articles_title_idx ON articles (status, title, id);
CREATE INDEX articles_creator_idx ON articles (created_by, status);
CREATE INDEX articles_hero_idx ON articles (hero_media_id);

-- Relations, each indexed in both directions.
CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);

CREATE TABLE article_regions (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    region_id INTEGER NOT NULL REFERENCES regions (id),
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, region_id)
);
CREATE INDEX article_regions_region_idx ON article_regions (region_id, article_id);

-- The byline: authors in order.
CREATE TABLE article_authors (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author_idx ON article_authors (author_id, article_id);

CREATE TABLE breaking_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL,
    article_id INTEGER REFERENCES articles (id) ON DELETE SET NULL,
    url TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX breaking_items_live_idx ON breaking_items (language, published_at, expires_at);
CREATE INDEX breaking_items_article_idx ON breaking_items (article_id);

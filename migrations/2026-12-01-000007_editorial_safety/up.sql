-- Editorial safety: embargo (`unpublish_at`), the trash (`deleted_at`), revisions,
-- public corrections, preview links for drafts and the audit log.

ALTER TABLE articles ADD COLUMN unpublish_at TIMESTAMP;
ALTER TABLE articles ADD COLUMN deleted_at TIMESTAMP;
ALTER TABLE articles ADD COLUMN deleted_by INTEGER;

-- The reader indexes carry the two new columns, so a count of what readers see is
-- still answered from the index alone.
DROP INDEX articles_published_idx;
CREATE INDEX articles_published_idx ON articles (status, published_at, id, unpublish_at, deleted_at);
DROP INDEX articles_language_idx;
CREATE INDEX articles_language_idx ON articles (language, status, published_at, id, unpublish_at, deleted_at);
DROP INDEX articles_section_idx;
CREATE INDEX articles_section_idx ON articles (section_id, status, published_at, id, unpublish_at, deleted_at);
-- Few articles have either: the embargo horizon and the trash are read from these.
CREATE INDEX articles_unpublish_idx ON articles (unpublish_at) WHERE unpublish_at IS NOT NULL;
CREATE INDEX articles_trash_idx ON articles (deleted_at, id) WHERE deleted_at IS NOT NULL;

-- Every change to an article's stored fields. `fields` is the JSON of the editable
-- fields but the body (all of them every 16th revision, else only those that changed);
-- `body` is the Markdown, deflated, only when it differs from the revision before
-- (NULL: unchanged), so a title fix costs a few dozen bytes. A rowid table: rows with
-- a body are kilobytes, which a WITHOUT ROWID table would spill to overflow pages.
CREATE TABLE article_revisions (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    author_id INTEGER,
    author_name TEXT,
    summary TEXT NOT NULL,
    fields TEXT NOT NULL,
    body BLOB,
    PRIMARY KEY (article_id, number)
);

-- Public corrections: appended, never edited.
CREATE TABLE article_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX article_corrections_article_idx ON article_corrections (article_id, id);

-- Preview links: only the SHA-256 of each token is kept.
CREATE TABLE preview_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX preview_links_article_idx ON preview_links (article_id);
CREATE INDEX preview_links_expiry_idx ON preview_links (expires_at);

-- Every write, in the write's own transaction. `actor_name` keeps the name the actor
-- had, so an entry still reads after the account is gone. `burst` groups failed
-- sign-ins (account, address, minute) into one entry with a `count`.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER,
    actor_name TEXT,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    resource_id INTEGER,
    summary TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    burst TEXT
);
-- Two indexes only: every write pays for each. Filters by action or time walk the log
-- newest first (ids follow time), which an admin's page of 20 entries can afford.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, id);
CREATE UNIQUE INDEX audit_log_burst_idx ON audit_log (burst) WHERE burst IS NOT NULL;

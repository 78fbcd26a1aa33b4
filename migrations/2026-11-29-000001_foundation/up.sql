-- Foundation: server settings, staff accounts, media and authors.
-- Only portable column types are used (INTEGER, TEXT, BOOLEAN, TIMESTAMP) so that the
-- PostgreSQL migration tree can mirror this one table for table.

-- Key/value settings the server keeps for itself (the generated JWT secret).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- A single row whose counter every content write bumps; caches compare against it.
CREATE TABLE content_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO content_state (id, version) VALUES (1, 1);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'writer')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    -- Bumped on disable, delete and password change: every older token stops working.
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_login_at TIMESTAMP
);

CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'embed')),
    url TEXT NOT NULL,
    mime_type TEXT,
    width INTEGER,
    height INTEGER,
    duration_seconds INTEGER,
    caption TEXT,
    credit TEXT,
    alt_text TEXT,
    language TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_language_idx ON media (language, id);
CREATE INDEX media_kind_idx ON media (kind, id);

CREATE TABLE authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    bio TEXT,
    avatar_media_id INTEGER REFERENCES media (id),
    -- A JSON object of strings, e.g. {"x": "https://x.com/someone"}.
    links TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX authors_avatar_idx ON authors (avatar_media_id);
CREATE INDEX authors_name_idx ON authors (name, id);

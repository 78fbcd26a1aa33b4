-- Responses to POSTs that carried an Idempotency-Key, kept for 24 hours so that a
-- retry replays the first answer instead of creating a second resource.
-- Mirrors migrations/2026-11-29-000003_idempotency.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    -- Method, path and a hash of the body: a reused key with another request is refused.
    fingerprint TEXT COLLATE "C" NOT NULL,
    -- NULL while the first request is still being handled.
    status INTEGER,
    content_type TEXT COLLATE "C",
    location TEXT COLLATE "C",
    body TEXT COLLATE "C",
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

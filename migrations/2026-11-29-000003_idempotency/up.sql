-- Responses to POSTs that carried an Idempotency-Key, kept for 24 hours so that a
-- retry replays the first answer instead of creating a second resource.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    -- Method, path and a hash of the body: a reused key with another request is refused.
    fingerprint TEXT NOT NULL,
    -- NULL while the first request is still being handled.
    status INTEGER,
    content_type TEXT,
    location TEXT,
    body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

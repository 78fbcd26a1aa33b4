-- Integrations: API tokens, sessions with refresh tokens, and webhooks with their
-- outbox (events written in the same transaction as the change that made them).

-- Whether an article's going live was announced to webhooks: 0 not (drafts, scheduled,
-- trashed), 1 announced as live, 2 expired (its `unpublish_at` passed). The scheduler
-- announces what time made live or expired; writes announce what they change.
ALTER TABLE articles ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
UPDATE articles SET announced = CASE
    WHEN deleted_at IS NOT NULL OR status <> 'published' THEN 0
    WHEN unpublish_at IS NOT NULL AND unpublish_at <= datetime('now') THEN 2
    WHEN published_at IS NOT NULL AND published_at <= datetime('now') THEN 1
    ELSE 0 END;
-- Scheduled articles waiting to go live, and live articles waiting to expire: the
-- scheduler's two questions, each answered from a small index.
CREATE INDEX articles_unannounced_idx ON articles (published_at) WHERE announced = 0 AND status = 'published';
CREATE INDEX articles_announced_expiry_idx ON articles (unpublish_at) WHERE announced = 1 AND unpublish_at IS NOT NULL;

-- API tokens: only the SHA-256 of each is kept. `scopes` is space-separated.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    created_by INTEGER
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);

-- Sign-in sessions. A refresh token names its session and generation and is signed
-- with the server secret and the session's nonce, so nothing secret is stored; each
-- refresh moves `generation` on.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    token_version INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    rotated_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Webhook endpoints. `events` is a JSON array of event types (or "*"); `secret` signs
-- deliveries, so it is kept as it was given.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    failing_since TIMESTAMP,
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The outbox: one row per event, with the body every endpoint receives.
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    msg_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- One row per event and endpoint; `attempt_log` is a JSON array of the attempts.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    last_duration_ms INTEGER,
    attempt_log TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- The pending deliveries of each endpoint in commit order: what a lane claims next,
-- however long the log of finished ones grows.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhooks;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP INDEX articles_announced_expiry_idx;
DROP INDEX articles_unannounced_idx;
ALTER TABLE articles DROP COLUMN announced;

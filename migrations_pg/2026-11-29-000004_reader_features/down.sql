DROP INDEX breaking_items_due_live_idx;
DROP INDEX breaking_items_due_expiry_idx;
DROP TABLE breaking_events;
DROP TABLE collection_articles;
DROP TABLE collections;
DROP TABLE article_views;
DROP INDEX articles_translation_idx;
ALTER TABLE articles DROP COLUMN translation_group;
DROP TABLE article_search;

-- The ids of the featured stories, for a search with `featured=true` or `false` (SQLite's
-- migration of the same name says why): each of a search's matches is looked up in this
-- small partial index, an index-only look-up, instead of in its row for the flag (about
-- 3 µs each at a million stories). Lists keep `articles_featured_idx`, which holds
-- their order.
CREATE INDEX articles_featured_ids_idx ON articles (id) WHERE featured;
CREATE VIEW featured_articles AS SELECT id FROM articles WHERE featured;

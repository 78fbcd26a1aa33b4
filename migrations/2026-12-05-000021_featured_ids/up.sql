-- The ids of the featured stories (a few in a hundred), for a search with `featured=true`
-- or `false`: it keeps its matches from the sitemap index (`article_facts`) and looks
-- each up here, a small index that stays in memory, instead of reading each match's row
-- for its flag (the row holds the body; at a million stories that read was a fifth of
-- the search load's CPU). The condition is `featured = 1`, never the bare `featured`
-- that lists name: SQLite uses a partial index only for a query that states its
-- condition as written, so no list's plan can move to this index. The view names it:
-- a later migration that rebuilds `articles` or drops the index drops this view first,
-- as it does `article_facts`.
CREATE INDEX articles_featured_ids_idx ON articles (id) WHERE featured = 1;
CREATE VIEW featured_articles AS
    SELECT id FROM articles INDEXED BY articles_featured_ids_idx WHERE featured = 1;

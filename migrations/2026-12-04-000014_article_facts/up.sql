-- A story's facts that decide whether readers see it and where it belongs, read from
-- the narrow sitemap index (`2026-12-02-000010_sitemap_index`, keyed by id) instead of
-- the story's row. A walk that checks many candidate stories one by one (a tag's newest
-- for related stories, a section's newest in one language) looked each up in the table,
-- whose rows hold the bodies: at a million stories a few hundred such look-ups read as
-- many table pages, where the index holds fifty stories a page. SQLite looks a story up
-- by its rowid whenever it can, so the view names the index; PostgreSQL finds it itself.
-- A later migration that rebuilds `articles` or drops the index drops this view first.
CREATE VIEW article_facts AS
    SELECT id, status, published_at, unpublish_at, deleted_at, language, section_id
    FROM articles INDEXED BY articles_sitemap_idx;

-- A story's facts that decide whether readers see it and where it belongs, for walks
-- that check many candidate stories one by one (SQLite's migration of the same name
-- says why). PostgreSQL reads them from the sitemap index (an index-only scan) by
-- itself; the view is here so that both backends run the same queries.
CREATE VIEW article_facts AS
    SELECT id, status, published_at, unpublish_at, deleted_at, language, section_id
    FROM articles;

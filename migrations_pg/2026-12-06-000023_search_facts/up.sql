-- What a search's matches are filtered by once the full-text statement has kept those
-- readers see (SQLite's migration of the same name says why it has an index there).
-- PostgreSQL finds each match by its primary key; the view is here so that both
-- backends run the same queries.
CREATE VIEW search_facts AS
    SELECT id, language, section_id, published_at
    FROM articles;

-- What a search's matches are filtered by once the full-text statement has kept those
-- readers see (language, section, publication time), in an index of its own, keyed by
-- id: a search looks up to 1,000 matches up one by one, and in the sitemap index
-- (`article_facts`), whose entries also hold the slug and the times that hide a story,
-- those look-ups read about four times the pages (36 MB against 135 MB at a million
-- stories). The view names the index, as `article_facts` does; a later migration that
-- rebuilds `articles` or drops the index drops this view first.
CREATE INDEX articles_search_idx ON articles (id, language, section_id, published_at);
CREATE VIEW search_facts AS
    SELECT id, language, section_id, published_at
    FROM articles INDEXED BY articles_search_idx;

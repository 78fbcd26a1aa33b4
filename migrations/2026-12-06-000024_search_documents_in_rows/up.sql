-- PostgreSQL's migration of the same name keeps each search document in its row.
-- SQLite's search index (FTS5) keeps its own pages; nothing changes here.
SELECT 1;

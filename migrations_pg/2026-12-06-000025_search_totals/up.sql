-- SQLite's migration of the same name keeps its search index's totals for the ranking.
-- PostgreSQL's ranking (`ts_rank`) reads no totals; nothing changes here.
SELECT 1;

DROP INDEX articles_sitemap_idx;
DELETE FROM article_counts WHERE kind = 5;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 5, (id - 1) / 10000, count(*) FROM articles WHERE announced = 1 GROUP BY (id - 1) / 10000;

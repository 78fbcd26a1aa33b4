-- Child sitemaps of 2,500 ids instead of 10,000, and what a child reads of each article
-- in its block, with what decides whether readers see it, for an index-only scan.
CREATE INDEX articles_sitemap_idx ON articles (id) INCLUDE (
    status, published_at, unpublish_at, deleted_at, updated_at, language, section_id,
    translation_group, slug
);
-- The counts of the blocks (kind 5) again, by the new size.
DELETE FROM article_counts WHERE kind = 5;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 5, (id - 1) / 2500, count(*) FROM articles WHERE announced = 1 GROUP BY (id - 1) / 2500;

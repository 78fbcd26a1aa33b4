-- Child sitemaps of 2,500 ids instead of 10,000 (a child read cold was over 10 ms at a
-- million articles), and what a child reads of each article in its block, with what
-- decides whether readers see it, in a narrow index: a range of it instead of whole
-- rows with their bodies.
CREATE INDEX articles_sitemap_idx ON articles (
    id, status, published_at, unpublish_at, deleted_at, updated_at, language, section_id,
    translation_group, slug
);
-- The counts of the blocks (kind 5) again, by the new size, from the articles announced
-- as live as when they were first filled.
DELETE FROM article_counts WHERE kind = 5;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 5, (id - 1) / 2500, count(*) FROM articles WHERE announced = 1 GROUP BY (id - 1) / 2500;

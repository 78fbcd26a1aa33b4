-- Maintained counts of the articles readers see: all of them (kind 0), per section
-- (1, the section's own articles), tag (2), author (3), region (4) and block of 10,000
-- ids (5, the sitemap's children). A write appends its change as a row (+1 or -1 for
-- each key) and never updates a shared row, so concurrent writers do not wait on one
-- another; the scheduler folds each key's rows into one. A count is the sum of a key's
-- rows.
CREATE TABLE article_counts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind INTEGER NOT NULL,
    ref_id INTEGER NOT NULL,
    n BIGINT NOT NULL
);
CREATE INDEX article_counts_key_idx ON article_counts (kind, ref_id, n);
-- Filled from the articles announced as live (what readers see; the reads add what time
-- changed since, from the two partial indexes of the scheduler).
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 0, 0, count(*) FROM articles WHERE announced = 1;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 1, section_id, count(*) FROM articles
    WHERE announced = 1 AND section_id IS NOT NULL GROUP BY section_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 2, l.tag_id, count(*) FROM article_tags l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 GROUP BY l.tag_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 3, l.author_id, count(*) FROM article_authors l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 GROUP BY l.author_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 4, l.region_id, count(*) FROM article_regions l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 GROUP BY l.region_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 5, (id - 1) / 10000, count(*) FROM articles WHERE announced = 1 GROUP BY (id - 1) / 10000;

-- What the counts have not taken in yet: stories whose moment came but which the
-- scheduler has not announced (the trash left out, unlike the scheduler's own index).
CREATE INDEX articles_uncounted_idx ON articles (published_at) WHERE announced = 0 AND status = 'published' AND deleted_at IS NULL;

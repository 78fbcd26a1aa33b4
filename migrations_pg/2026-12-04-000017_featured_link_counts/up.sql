-- The featured stories of each section, tag, author and region counted too, under the
-- kind of the section (tag, author, region) with `ref_id` -id - 1 (`counts::featured_ref`),
-- in all languages and in each (`kind + 8 × n`, as
-- `2026-12-03-000013_language_counts` spells a language), so that a section's or a
-- tag's featured stories (`featured=true` or `featured=false` with one section, tag,
-- author or region, alone or with `lang`) read their totals instead of counting them.
-- Filled from the articles announced as live.
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 1, -a.section_id - 1, count(*) FROM articles a
    WHERE a.announced = 1 AND a.featured AND a.section_id IS NOT NULL
    GROUP BY a.section_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 1 + 8 * ((ascii(substr(a.language, 1, 1)) - 96)
        + 27 * (ascii(substr(a.language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(a.language, 3, 1)) - 96, 0)), -a.section_id - 1, count(*)
    FROM articles a
    WHERE a.announced = 1 AND a.featured AND a.section_id IS NOT NULL AND a.language ~ '^[a-z]{2,3}$'
    GROUP BY a.language, a.section_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 2, -l.tag_id - 1, count(*) FROM article_tags l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 AND a.featured AND l.tag_id IS NOT NULL
    GROUP BY l.tag_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 2 + 8 * ((ascii(substr(a.language, 1, 1)) - 96)
        + 27 * (ascii(substr(a.language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(a.language, 3, 1)) - 96, 0)), -l.tag_id - 1, count(*)
    FROM article_tags l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 AND a.featured AND l.tag_id IS NOT NULL AND a.language ~ '^[a-z]{2,3}$'
    GROUP BY a.language, l.tag_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 3, -l.author_id - 1, count(*) FROM article_authors l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 AND a.featured AND l.author_id IS NOT NULL
    GROUP BY l.author_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 3 + 8 * ((ascii(substr(a.language, 1, 1)) - 96)
        + 27 * (ascii(substr(a.language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(a.language, 3, 1)) - 96, 0)), -l.author_id - 1, count(*)
    FROM article_authors l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 AND a.featured AND l.author_id IS NOT NULL AND a.language ~ '^[a-z]{2,3}$'
    GROUP BY a.language, l.author_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 4, -l.region_id - 1, count(*) FROM article_regions l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 AND a.featured AND l.region_id IS NOT NULL
    GROUP BY l.region_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 4 + 8 * ((ascii(substr(a.language, 1, 1)) - 96)
        + 27 * (ascii(substr(a.language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(a.language, 3, 1)) - 96, 0)), -l.region_id - 1, count(*)
    FROM article_regions l JOIN articles a ON a.id = l.article_id
    WHERE a.announced = 1 AND a.featured AND l.region_id IS NOT NULL AND a.language ~ '^[a-z]{2,3}$'
    GROUP BY a.language, l.region_id;

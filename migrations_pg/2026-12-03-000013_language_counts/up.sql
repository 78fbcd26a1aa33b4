-- The maintained counts also per language (`counts::in_language`), so that an
-- edition's lists (`lang=ar`, alone or with one section, tag, author or region) read
-- their totals instead of counting rows: kind `k + 8 × n` counts kind `k` (all 0,
-- section 1, tag 2, author 3, region 4) in the language whose two or three lowercase
-- letters spell `n` in base 27 (a = 1, the first letter lowest: "en" is 383).
-- Filled, like the first counts, from the articles announced as live.
CREATE TABLE counted_languages (language TEXT PRIMARY KEY NOT NULL, kind_step INTEGER NOT NULL);
INSERT INTO counted_languages (language, kind_step)
    SELECT language, 8 * ((ascii(substr(language, 1, 1)) - 96)
        + 27 * (ascii(substr(language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(language, 3, 1)) - 96, 0))
    FROM (SELECT DISTINCT language FROM articles) AS used
    WHERE language ~ '^[a-z]{2,3}$';
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 0 + l.kind_step, 0, count(*) FROM articles a
    JOIN counted_languages l ON l.language = a.language
    WHERE a.announced = 1 GROUP BY l.kind_step;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 1 + l.kind_step, a.section_id, count(*) FROM articles a
    JOIN counted_languages l ON l.language = a.language
    WHERE a.announced = 1 AND a.section_id IS NOT NULL GROUP BY l.kind_step, a.section_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 2 + l.kind_step, t.tag_id, count(*) FROM article_tags t
    JOIN articles a ON a.id = t.article_id
    JOIN counted_languages l ON l.language = a.language
    WHERE a.announced = 1 GROUP BY l.kind_step, t.tag_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 3 + l.kind_step, t.author_id, count(*) FROM article_authors t
    JOIN articles a ON a.id = t.article_id
    JOIN counted_languages l ON l.language = a.language
    WHERE a.announced = 1 GROUP BY l.kind_step, t.author_id;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 4 + l.kind_step, t.region_id, count(*) FROM article_regions t
    JOIN articles a ON a.id = t.article_id
    JOIN counted_languages l ON l.language = a.language
    WHERE a.announced = 1 GROUP BY l.kind_step, t.region_id;
DROP TABLE counted_languages;

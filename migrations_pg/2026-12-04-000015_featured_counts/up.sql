-- The featured stories counted too (`counts::FEATURED`, kind 6, `ref_id` 0), in all
-- languages and in each (`6 + 8 × n`, as `2026-12-03-000013_language_counts` spells a
-- language), so that `featured=true` and `featured=false`, alone or with `lang`, read
-- their totals instead of counting every story. Filled from the articles announced as
-- live.
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 6, 0, count(*) FROM articles WHERE announced = 1 AND featured;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 6 + 8 * ((ascii(substr(language, 1, 1)) - 96)
        + 27 * (ascii(substr(language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(language, 3, 1)) - 96, 0)), 0, count(*)
    FROM articles
    WHERE announced = 1 AND featured AND language ~ '^[a-z]{2,3}$'
    GROUP BY language;

-- The featured stories counted too (`counts::FEATURED`, kind 6, `ref_id` 0), in all
-- languages and in each (`6 + 8 × n`, as `2026-12-03-000013_language_counts` spells a
-- language), so that `featured=true` and `featured=false`, alone or with `lang`, read
-- their totals: at a million stories a first page of `featured=true` counted every
-- story for 0.6–1.4 s. Filled from the articles announced as live.
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 6, 0, count(*) FROM articles WHERE announced = 1 AND featured;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 6 + 8 * ((unicode(substr(language, 1, 1)) - 96)
        + 27 * (unicode(substr(language, 2, 1)) - 96)
        + 729 * coalesce(unicode(substr(language, 3, 1)) - 96, 0)), 0, count(*)
    FROM articles
    WHERE announced = 1 AND featured
        AND (language GLOB '[a-z][a-z]' OR language GLOB '[a-z][a-z][a-z]')
    GROUP BY language;

-- The stories counted per day of publication too (`counts::DAY`, kind 7, `ref_id` the
-- day's Julian day number in UTC), in all languages and in each (`7 + 8 × n`, as
-- `2026-12-03-000013_language_counts` spells a language), so that a date window
-- (`published_after`, `published_before`, alone or with `lang`) sums its whole days
-- and counts only the part-days at its ends: at a million stories a month's total
-- counted its 85,000 stories. Filled from the articles announced as live.
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 7, CAST(julianday(date(published_at)) + 0.5 AS INTEGER), count(*)
    FROM articles WHERE announced = 1
    GROUP BY 2;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 7 + 8 * ((unicode(substr(language, 1, 1)) - 96)
        + 27 * (unicode(substr(language, 2, 1)) - 96)
        + 729 * coalesce(unicode(substr(language, 3, 1)) - 96, 0)),
        CAST(julianday(date(published_at)) + 0.5 AS INTEGER), count(*)
    FROM articles
    WHERE announced = 1
        AND (language GLOB '[a-z][a-z]' OR language GLOB '[a-z][a-z][a-z]')
    GROUP BY 1, 2;

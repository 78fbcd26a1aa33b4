-- The stories counted per day of publication too (`counts::DAY`, kind 7, `ref_id` the
-- day's Julian day number in UTC), in all languages and in each (`7 + 8 × n`, as
-- `2026-12-03-000013_language_counts` spells a language), so that a date window
-- (`published_after`, `published_before`, alone or with `lang`) sums its whole days
-- and counts only the part-days at its ends. Filled from the articles announced as
-- live.
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 7, CAST(to_char(published_at, 'J') AS INTEGER), count(*)
    FROM articles WHERE announced = 1
    GROUP BY 2;
INSERT INTO article_counts (kind, ref_id, n)
    SELECT 7 + 8 * ((ascii(substr(language, 1, 1)) - 96)
        + 27 * (ascii(substr(language, 2, 1)) - 96)
        + 729 * greatest(ascii(substr(language, 3, 1)) - 96, 0)),
        CAST(to_char(published_at, 'J') AS INTEGER), count(*)
    FROM articles
    WHERE announced = 1 AND language ~ '^[a-z]{2,3}$'
    GROUP BY 1, 2;

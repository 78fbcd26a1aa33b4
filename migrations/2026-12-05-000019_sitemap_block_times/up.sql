-- When each child sitemap (a block of 2,500 article ids) last changed, in Unix seconds,
-- for the sitemap index's `<lastmod>`: raised by every write that changes what a child
-- lists (a live story created, edited, taken down or trashed, a story going live or
-- expiring, an edition joining a story, a section renamed). Filled from the live stories
-- as they stand: the latest of their last edits and publication times.
CREATE TABLE sitemap_blocks (
    block INTEGER PRIMARY KEY NOT NULL,
    changed_at BIGINT NOT NULL
);
INSERT INTO sitemap_blocks (block, changed_at)
    SELECT (id - 1) / 2500,
           max(max(unixepoch(updated_at), coalesce(unixepoch(published_at), 0)))
    FROM articles WHERE announced = 1 GROUP BY (id - 1) / 2500;

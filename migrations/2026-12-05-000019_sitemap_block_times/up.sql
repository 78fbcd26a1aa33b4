-- When each child sitemap (a block of 2,500 article ids) last changed, in Unix seconds,
-- for the sitemap index's `<lastmod>`: raised by every write that changes what a child
-- lists (a live story created, edited, taken down or trashed, a story going live or
-- expiring, an edition joining a story, a section renamed). Filled from the stories
-- readers see now: the latest of their last edits and publication times, read from the
-- narrow sitemap index (at ten million stories a scan of the table would read its
-- bodies, tens of gigabytes).
CREATE TABLE sitemap_blocks (
    block INTEGER PRIMARY KEY NOT NULL,
    changed_at BIGINT NOT NULL
);
INSERT INTO sitemap_blocks (block, changed_at)
    SELECT (id - 1) / 2500, max(max(unixepoch(updated_at), unixepoch(published_at)))
    FROM articles INDEXED BY articles_sitemap_idx
    WHERE status = 'published' AND deleted_at IS NULL AND published_at <= datetime('now')
        AND (unpublish_at IS NULL OR unpublish_at > datetime('now'))
    GROUP BY (id - 1) / 2500;

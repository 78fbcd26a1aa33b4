-- An author's and a region's stories by publication time, as a tag's already are
-- (`2026-12-03-000011_tag_times`): each byline and region link carries its article's
-- `published_at`, kept equal to it by the triggers below whatever writes the rows, so
-- that a readers' page of one author or one region is a range of one index, newest or
-- oldest first. Before, such a page walked every article by date and probed each for
-- the link: an author or region whose stories are all old was walked from the newest
-- story of the archive back.
ALTER TABLE article_authors ADD COLUMN published_at TIMESTAMP;
UPDATE article_authors
    SET published_at = (SELECT published_at FROM articles WHERE articles.id = article_authors.article_id);
CREATE INDEX article_authors_time_idx ON article_authors (author_id, published_at, article_id);

ALTER TABLE article_regions ADD COLUMN published_at TIMESTAMP;
UPDATE article_regions
    SET published_at = (SELECT published_at FROM articles WHERE articles.id = article_regions.article_id);
CREATE INDEX article_regions_time_idx ON article_regions (region_id, published_at, article_id);

-- A new link takes its article's time (a writer that sets it already pays one look-up).
CREATE TRIGGER article_authors_time_on_insert AFTER INSERT ON article_authors
WHEN NEW.published_at IS NOT (SELECT published_at FROM articles WHERE id = NEW.article_id)
BEGIN
    UPDATE article_authors
        SET published_at = (SELECT published_at FROM articles WHERE id = NEW.article_id)
        WHERE article_id = NEW.article_id AND author_id = NEW.author_id;
END;

CREATE TRIGGER article_regions_time_on_insert AFTER INSERT ON article_regions
WHEN NEW.published_at IS NOT (SELECT published_at FROM articles WHERE id = NEW.article_id)
BEGIN
    UPDATE article_regions
        SET published_at = (SELECT published_at FROM articles WHERE id = NEW.article_id)
        WHERE article_id = NEW.article_id AND region_id = NEW.region_id;
END;

-- A story published, scheduled, moved in time or unpublished moves all its links with
-- it: one trigger for the three kinds, in place of the tags' own.
DROP TRIGGER articles_tag_time_on_update;
CREATE TRIGGER articles_link_times_on_update AFTER UPDATE OF published_at ON articles
WHEN NEW.published_at IS NOT OLD.published_at
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
    UPDATE article_authors SET published_at = NEW.published_at WHERE article_id = NEW.id;
    UPDATE article_regions SET published_at = NEW.published_at WHERE article_id = NEW.id;
END;

-- An author's and a region's stories by publication time, as a tag's already are
-- (`2026-12-03-000011_tag_times`): each byline and region link carries its article's
-- `published_at`, kept equal to it by the triggers below whatever writes the rows, so
-- that a readers' page of one author or one region is a range of one index, newest or
-- oldest first. Before, such a page walked every article by date and probed each for
-- the link: an author or region whose stories are all old was walked from the newest
-- story of the archive back.
ALTER TABLE article_authors ADD COLUMN published_at TIMESTAMP;
UPDATE article_authors AS l SET published_at = a.published_at FROM articles AS a
    WHERE a.id = l.article_id;
CREATE INDEX article_authors_time_idx ON article_authors (author_id, published_at, article_id);

ALTER TABLE article_regions ADD COLUMN published_at TIMESTAMP;
UPDATE article_regions AS l SET published_at = a.published_at FROM articles AS a
    WHERE a.id = l.article_id;
CREATE INDEX article_regions_time_idx ON article_regions (region_id, published_at, article_id);

-- A new link takes its article's time (the tags' function serves any link table).
CREATE TRIGGER article_authors_time_on_insert BEFORE INSERT ON article_authors
    FOR EACH ROW EXECUTE FUNCTION article_tags_time_on_insert();
CREATE TRIGGER article_regions_time_on_insert BEFORE INSERT ON article_regions
    FOR EACH ROW EXECUTE FUNCTION article_tags_time_on_insert();

-- A story published, scheduled, moved in time or unpublished moves all its links with
-- it: one trigger for the three kinds, in place of the tags' own.
DROP TRIGGER articles_tag_time_on_update ON articles;
DROP FUNCTION articles_tag_time_on_update();
CREATE FUNCTION articles_link_times_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
    UPDATE article_authors SET published_at = NEW.published_at WHERE article_id = NEW.id;
    UPDATE article_regions SET published_at = NEW.published_at WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_link_times_on_update AFTER UPDATE OF published_at ON articles
    FOR EACH ROW WHEN (NEW.published_at IS DISTINCT FROM OLD.published_at)
    EXECUTE FUNCTION articles_link_times_on_update();

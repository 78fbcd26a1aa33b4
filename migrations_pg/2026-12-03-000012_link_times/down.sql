DROP TRIGGER articles_link_times_on_update ON articles;
DROP FUNCTION articles_link_times_on_update();
CREATE FUNCTION articles_tag_time_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_tag_time_on_update AFTER UPDATE OF published_at ON articles
    FOR EACH ROW WHEN (NEW.published_at IS DISTINCT FROM OLD.published_at)
    EXECUTE FUNCTION articles_tag_time_on_update();
DROP TRIGGER article_regions_time_on_insert ON article_regions;
DROP TRIGGER article_authors_time_on_insert ON article_authors;
DROP INDEX article_regions_time_idx;
DROP INDEX article_authors_time_idx;
ALTER TABLE article_regions DROP COLUMN published_at;
ALTER TABLE article_authors DROP COLUMN published_at;

DROP TRIGGER articles_link_times_on_update;
CREATE TRIGGER articles_tag_time_on_update AFTER UPDATE OF published_at ON articles
WHEN NEW.published_at IS NOT OLD.published_at
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
END;
DROP TRIGGER article_regions_time_on_insert;
DROP TRIGGER article_authors_time_on_insert;
DROP INDEX article_regions_time_idx;
DROP INDEX article_authors_time_idx;
ALTER TABLE article_regions DROP COLUMN published_at;
ALTER TABLE article_authors DROP COLUMN published_at;

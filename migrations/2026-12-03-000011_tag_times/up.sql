-- A tag's stories by publication time. Each link row carries its article's
-- `published_at`, kept equal to it by the two triggers below whatever writes the rows,
-- so that a tag's newest stories are a range of one index, newest first: related
-- stories walked the language's stories probing each for the tag (about a thousand
-- probes for a tag holding a tenth of the archive), and a tag whose stories are all old
-- was walked from the newest story of the archive back.
ALTER TABLE article_tags ADD COLUMN published_at TIMESTAMP;
UPDATE article_tags
    SET published_at = (SELECT published_at FROM articles WHERE articles.id = article_tags.article_id);
CREATE INDEX article_tags_time_idx ON article_tags (tag_id, published_at, article_id);

-- A new link takes its article's time (a writer that sets it already pays one look-up).
CREATE TRIGGER article_tags_time_on_insert AFTER INSERT ON article_tags
WHEN NEW.published_at IS NOT (SELECT published_at FROM articles WHERE id = NEW.article_id)
BEGIN
    UPDATE article_tags
        SET published_at = (SELECT published_at FROM articles WHERE id = NEW.article_id)
        WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id;
END;

-- A story published, scheduled, moved in time or unpublished moves its links with it.
CREATE TRIGGER articles_tag_time_on_update AFTER UPDATE OF published_at ON articles
WHEN NEW.published_at IS NOT OLD.published_at
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
END;

-- A tag's stories by publication time. Each link row carries its article's
-- `published_at`, kept equal to it by the two triggers below whatever writes the rows,
-- so that a tag's newest stories are a range of one index, newest first: related
-- stories walked the language's stories probing each for the tag, and a tag whose
-- stories are all old was walked from the newest story of the archive back.
ALTER TABLE article_tags ADD COLUMN published_at TIMESTAMP;
UPDATE article_tags AS t SET published_at = a.published_at FROM articles AS a
    WHERE a.id = t.article_id;
CREATE INDEX article_tags_time_idx ON article_tags (tag_id, published_at, article_id);

-- A new link takes its article's time.
CREATE FUNCTION article_tags_time_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.published_at := (SELECT published_at FROM articles WHERE id = NEW.article_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER article_tags_time_on_insert BEFORE INSERT ON article_tags
    FOR EACH ROW EXECUTE FUNCTION article_tags_time_on_insert();

-- A story published, scheduled, moved in time or unpublished moves its links with it.
CREATE FUNCTION articles_tag_time_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_tag_time_on_update AFTER UPDATE OF published_at ON articles
    FOR EACH ROW WHEN (NEW.published_at IS DISTINCT FROM OLD.published_at)
    EXECUTE FUNCTION articles_tag_time_on_update();

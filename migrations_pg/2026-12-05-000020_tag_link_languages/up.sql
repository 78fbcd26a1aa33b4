-- A tag's stories in one language by publication time. Each link row carries its
-- article's `language`, kept equal to it by the triggers below whatever writes the
-- rows, as `published_at` is (`2026-12-03-000011_tag_times`): related stories take the
-- newest of each tag in the article's language, and walking the tag's links by time
-- alone passed every story of the other languages first.
ALTER TABLE article_tags ADD COLUMN language TEXT;
UPDATE article_tags AS t SET language = a.language FROM articles AS a
    WHERE a.id = t.article_id;
CREATE INDEX article_tags_language_time_idx
    ON article_tags (tag_id, language, published_at, article_id);

-- A new link takes its article's time and language, in the one look-up (the function
-- the other links share sets the time alone).
CREATE FUNCTION article_tags_link_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT published_at, language INTO NEW.published_at, NEW.language
        FROM articles WHERE id = NEW.article_id;
    RETURN NEW;
END
$$;
DROP TRIGGER article_tags_time_on_insert ON article_tags;
CREATE TRIGGER article_tags_link_on_insert BEFORE INSERT ON article_tags
    FOR EACH ROW EXECUTE FUNCTION article_tags_link_on_insert();

-- A story moved to another language moves its links with it.
CREATE FUNCTION articles_tag_language_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE article_tags SET language = NEW.language WHERE article_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER articles_tag_language_on_update AFTER UPDATE OF language ON articles
    FOR EACH ROW WHEN (NEW.language IS DISTINCT FROM OLD.language)
    EXECUTE FUNCTION articles_tag_language_on_update();

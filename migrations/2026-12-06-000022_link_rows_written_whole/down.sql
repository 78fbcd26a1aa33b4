CREATE TRIGGER article_tags_time_on_insert AFTER INSERT ON article_tags
WHEN NEW.published_at IS NOT (SELECT published_at FROM articles WHERE id = NEW.article_id)
BEGIN
    UPDATE article_tags
        SET published_at = (SELECT published_at FROM articles WHERE id = NEW.article_id)
        WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id;
END;
CREATE TRIGGER article_tags_language_on_insert AFTER INSERT ON article_tags
WHEN NEW.language IS NOT (SELECT language FROM articles WHERE id = NEW.article_id)
BEGIN
    UPDATE article_tags
        SET language = (SELECT language FROM articles WHERE id = NEW.article_id)
        WHERE article_id = NEW.article_id AND tag_id = NEW.tag_id;
END;
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

CREATE FUNCTION article_tags_time_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.published_at := (SELECT published_at FROM articles WHERE id = NEW.article_id);
    RETURN NEW;
END
$$;
CREATE FUNCTION article_tags_link_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT published_at, language INTO NEW.published_at, NEW.language
        FROM articles WHERE id = NEW.article_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER article_tags_link_on_insert BEFORE INSERT ON article_tags
    FOR EACH ROW EXECUTE FUNCTION article_tags_link_on_insert();
CREATE TRIGGER article_authors_time_on_insert BEFORE INSERT ON article_authors
    FOR EACH ROW EXECUTE FUNCTION article_tags_time_on_insert();
CREATE TRIGGER article_regions_time_on_insert BEFORE INSERT ON article_regions
    FOR EACH ROW EXECUTE FUNCTION article_tags_time_on_insert();

DROP TRIGGER articles_tag_language_on_update ON articles;
DROP FUNCTION articles_tag_language_on_update();
DROP TRIGGER article_tags_link_on_insert ON article_tags;
DROP FUNCTION article_tags_link_on_insert();
CREATE TRIGGER article_tags_time_on_insert BEFORE INSERT ON article_tags
    FOR EACH ROW EXECUTE FUNCTION article_tags_time_on_insert();
DROP INDEX article_tags_language_time_idx;
ALTER TABLE article_tags DROP COLUMN language;

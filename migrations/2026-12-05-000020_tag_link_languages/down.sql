DROP TRIGGER articles_tag_language_on_update;
DROP TRIGGER article_tags_language_on_insert;
DROP INDEX article_tags_language_time_idx;
ALTER TABLE article_tags DROP COLUMN language;

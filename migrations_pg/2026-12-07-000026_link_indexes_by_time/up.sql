-- The tag, byline and region links lose their (other id, article_id) indexes: the time
-- indexes (other id, published_at, article_id) answer every look-up by the other id as
-- well, and each link a create, edit, import or seed writes was an entry in both.
DROP INDEX article_tags_tag_idx;
DROP INDEX article_authors_author_idx;
DROP INDEX article_regions_region_idx;

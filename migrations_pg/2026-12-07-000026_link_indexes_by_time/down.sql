CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);
CREATE INDEX article_authors_author_idx ON article_authors (author_id, article_id);
CREATE INDEX article_regions_region_idx ON article_regions (region_id, article_id);

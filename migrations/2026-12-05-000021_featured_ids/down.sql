DROP VIEW featured_articles;
DROP INDEX articles_featured_ids_idx;

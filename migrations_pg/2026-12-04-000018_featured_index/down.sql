DROP INDEX articles_featured_section_idx;
DROP INDEX articles_featured_idx;

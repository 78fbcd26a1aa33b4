-- PostgreSQL's migration of this name adds partial indexes of the featured stories
-- (`articles_featured_idx`, `articles_featured_section_idx`). SQLite's planner does not
-- choose such an index over `articles_section_idx` or `articles_published_idx`, whose
-- ranges bound both the status and the time (measured on the 1,000,000-article corpus),
-- so here they would only cost writes: nothing is added, and the migration keeps the two
-- backends' lists alike.
SELECT 1;

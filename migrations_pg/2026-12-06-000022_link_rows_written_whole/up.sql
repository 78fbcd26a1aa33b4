-- Every writer of a tag, byline or region link (a create, an edit, an import, a seed)
-- gives the link its story's publication time, and a tag link its story's language, in
-- the row it inserts. The triggers that looked each new link's story up cost a call of
-- a PL/pgSQL function and a look-up per link. They go; the triggers that move a story's
-- links when its time or language changes stay, and `newsdesk recount` sets right any
-- link written otherwise (by hand, or by an older release).
DROP TRIGGER article_tags_link_on_insert ON article_tags;
DROP TRIGGER article_authors_time_on_insert ON article_authors;
DROP TRIGGER article_regions_time_on_insert ON article_regions;
DROP FUNCTION article_tags_link_on_insert();
DROP FUNCTION article_tags_time_on_insert();

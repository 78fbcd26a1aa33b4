-- Every writer of a tag, byline or region link (a create, an edit, an import, a seed)
-- gives the link its story's publication time, and a tag link its story's language, in
-- the row it inserts. The triggers that checked each new link against its story cost a
-- look-up of the story per link, and made every insert of links a statement SQLite
-- journals first: a tenth of a seed's time at a million stories. They go; the triggers
-- that move a story's links when its time or language changes stay, and `newsdesk
-- recount` sets right any link written otherwise (by hand, or by an older release).
DROP TRIGGER article_tags_time_on_insert;
DROP TRIGGER article_tags_language_on_insert;
DROP TRIGGER article_authors_time_on_insert;
DROP TRIGGER article_regions_time_on_insert;

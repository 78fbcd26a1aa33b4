-- The featured stories (a few in a hundred) newest first, in the whole archive and in
-- each section. A featured rail (`featured=true`, alone or with a section or language)
-- read the archive's or the section's stories newest first and the row of each for its
-- flag: about fifty rows for every featured one, and with a section given as
-- `section_id = ANY(…)`, which PostgreSQL 15 cannot read in an index's order, a thousand
-- for every one. Both indexes are partial, on the flag alone, so lists name it as a
-- bare column (`WHERE featured`), never as a bound value a generic plan cannot match.
CREATE INDEX articles_featured_idx ON articles (published_at, id) WHERE featured;
CREATE INDEX articles_featured_section_idx ON articles (section_id, published_at, id)
    WHERE featured;

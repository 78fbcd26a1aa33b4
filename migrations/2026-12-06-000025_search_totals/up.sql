-- The search index's rows and the words they hold, for the ranking's statistics (see
-- `fts_rank`): FTS5 keeps totals too, but a delete from a contentless index does not
-- lower them, and every edit of a story deletes its entry and adds it again. Moved by
-- every write of the index; filled from FTS5's table of row lengths when the database
-- is next opened, and by `newsdesk recount`.
CREATE TABLE search_totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rows INTEGER NOT NULL,
    tokens INTEGER NOT NULL
);

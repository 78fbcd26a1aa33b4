-- Localized names and page-ready reads. Mirrors migrations/2026-11-29-000005_localized_names.

-- Names, descriptions, bios and captions in the other configured languages: a JSON
-- object keyed by language code, each value an object of the localized fields
-- (`{"ar": {"name": "سياسة"}}`). The top-level columns keep the base value.
ALTER TABLE sections ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tags ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';
ALTER TABLE regions ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';
ALTER TABLE collections ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';
ALTER TABLE authors ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';
ALTER TABLE media ADD COLUMN localized TEXT NOT NULL DEFAULT '{}';

-- Slugs a resource had before: a read by an old slug answers 308 to the current one.
-- `kind` is the resource type ('article', 'tag'...). A new resource taking a freed
-- slug removes its row, which ends the redirect.
CREATE TABLE old_slugs (
    kind TEXT COLLATE "C" NOT NULL,
    slug TEXT COLLATE "C" NOT NULL,
    target_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, slug)
);
CREATE INDEX old_slugs_target_idx ON old_slugs (kind, target_id);

DROP TABLE old_slugs;
ALTER TABLE media DROP COLUMN localized;
ALTER TABLE authors DROP COLUMN localized;
ALTER TABLE collections DROP COLUMN localized;
ALTER TABLE regions DROP COLUMN localized;
ALTER TABLE tags DROP COLUMN localized;
ALTER TABLE sections DROP COLUMN localized;

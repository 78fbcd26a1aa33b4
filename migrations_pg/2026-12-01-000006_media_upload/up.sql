-- Mirrors migrations/2026-12-01-000006_media_upload. Uploaded media: the stored file's size and SHA-256 (files are addressed by it, so the
-- same bytes are one file), the focal point, the placeholder colours and the
-- renditions as a JSON array of {width, height, format, url}. External media (a URL
-- typed in) leave them null and `renditions` empty.
ALTER TABLE media ADD COLUMN bytes BIGINT;
ALTER TABLE media ADD COLUMN sha256 TEXT;
ALTER TABLE media ADD COLUMN focal_x DOUBLE PRECISION;
ALTER TABLE media ADD COLUMN focal_y DOUBLE PRECISION;
ALTER TABLE media ADD COLUMN dominant_color TEXT;
ALTER TABLE media ADD COLUMN placeholder TEXT;
ALTER TABLE media ADD COLUMN renditions TEXT NOT NULL DEFAULT '[]';
CREATE INDEX media_sha256 ON media (sha256);

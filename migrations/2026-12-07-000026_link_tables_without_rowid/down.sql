-- The link tables with rowids again, and their (other id, article_id) indexes.
DROP TRIGGER articles_link_times_on_update;
DROP TRIGGER articles_tag_language_on_update;

CREATE TABLE article_tags_rebuilt (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    position INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP,
    language TEXT,
    PRIMARY KEY (article_id, tag_id)
);
INSERT INTO article_tags_rebuilt (article_id, tag_id, position, published_at, language)
    SELECT article_id, tag_id, position, published_at, language FROM article_tags
    ORDER BY article_id, tag_id;
DROP TABLE article_tags;
ALTER TABLE article_tags_rebuilt RENAME TO article_tags;
CREATE INDEX article_tags_tag_idx ON article_tags (tag_id, article_id);
CREATE INDEX article_tags_time_idx ON article_tags (tag_id, published_at, article_id);
CREATE INDEX article_tags_language_time_idx
    ON article_tags (tag_id, language, published_at, article_id);

CREATE TABLE article_authors_rebuilt (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    position INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP,
    PRIMARY KEY (article_id, author_id)
);
INSERT INTO article_authors_rebuilt (article_id, author_id, position, published_at)
    SELECT article_id, author_id, position, published_at FROM article_authors
    ORDER BY article_id, author_id;
DROP TABLE article_authors;
ALTER TABLE article_authors_rebuilt RENAME TO article_authors;
CREATE INDEX article_authors_author_idx ON article_authors (author_id, article_id);
CREATE INDEX article_authors_time_idx ON article_authors (author_id, published_at, article_id);

CREATE TABLE article_regions_rebuilt (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    region_id INTEGER NOT NULL REFERENCES regions (id),
    position INTEGER NOT NULL DEFAULT 0,
    published_at TIMESTAMP,
    PRIMARY KEY (article_id, region_id)
);
INSERT INTO article_regions_rebuilt (article_id, region_id, position, published_at)
    SELECT article_id, region_id, position, published_at FROM article_regions
    ORDER BY article_id, region_id;
DROP TABLE article_regions;
ALTER TABLE article_regions_rebuilt RENAME TO article_regions;
CREATE INDEX article_regions_region_idx ON article_regions (region_id, article_id);
CREATE INDEX article_regions_time_idx ON article_regions (region_id, published_at, article_id);

CREATE TRIGGER articles_link_times_on_update AFTER UPDATE OF published_at ON articles
WHEN NEW.published_at IS NOT OLD.published_at
BEGIN
    UPDATE article_tags SET published_at = NEW.published_at WHERE article_id = NEW.id;
    UPDATE article_authors SET published_at = NEW.published_at WHERE article_id = NEW.id;
    UPDATE article_regions SET published_at = NEW.published_at WHERE article_id = NEW.id;
END;

CREATE TRIGGER articles_tag_language_on_update AFTER UPDATE OF language ON articles
WHEN NEW.language IS NOT OLD.language
BEGIN
    UPDATE article_tags SET language = NEW.language WHERE article_id = NEW.id;
END;

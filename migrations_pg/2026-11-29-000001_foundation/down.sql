DROP TABLE authors;
DROP TABLE media;
DROP TABLE users;
DROP TABLE content_state;
DROP TABLE settings;

DROP TABLE breaking_items;
DROP TABLE article_authors;
DROP TABLE article_regions;
DROP TABLE article_tags;
DROP TABLE articles;
DROP TABLE tags;
DROP TABLE regions;
DROP TABLE sections;

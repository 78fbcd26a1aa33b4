-- Every count kept per language (kinds from 8 up).
DELETE FROM article_counts WHERE kind >= 8;

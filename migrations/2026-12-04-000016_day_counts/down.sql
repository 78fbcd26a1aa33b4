DELETE FROM article_counts WHERE kind % 8 = 7;

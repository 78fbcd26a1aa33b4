DROP TABLE article_counts;

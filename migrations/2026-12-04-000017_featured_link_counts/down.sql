DELETE FROM article_counts WHERE ref_id < 0;

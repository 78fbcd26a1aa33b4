DROP VIEW article_facts;

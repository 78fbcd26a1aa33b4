DROP VIEW search_facts;
DROP INDEX articles_search_idx;

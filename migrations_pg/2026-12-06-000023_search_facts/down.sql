DROP VIEW search_facts;

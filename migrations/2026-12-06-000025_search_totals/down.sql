DROP TABLE search_totals;

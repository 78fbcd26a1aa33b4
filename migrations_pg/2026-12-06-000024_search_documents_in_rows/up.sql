-- Each search document kept in its row, compressed, rather than in the TOAST table
-- beside it. A search walks the documents from the newest story and tests each one
-- against the query until 5,000 match (about 15,000 documents for a common word at
-- 100,000 stories): a document stored out of line cost a look-up in the TOAST index
-- and the reading of its chunks for each one tested. Full-length stories' documents
-- (about 2 KB compressed) were all out of line; short ones stay where they were.
-- `SET STORAGE` applies to rows written from now on; `CLUSTER` writes the table anew,
-- in the order of the walk, so that the rows already there move too. It holds the
-- table's lock while it runs: 3.3 s at 100,000 full-length stories on the machine of
-- bench/RESULTS.md, during which searches and writes of stories wait.
ALTER TABLE article_search ALTER COLUMN document SET STORAGE MAIN;
CLUSTER article_search USING article_search_pkey;

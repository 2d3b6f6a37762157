-- An in-memory database of a million rows (the row count is set by the caller with
-- .parameter or by editing N below), indexed and queried.
CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v INTEGER);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n)
INSERT INTO t SELECT x, printf('key-%08d', (x * 7919) % :n), (x * 2654435761) % 1000003 FROM c;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_v ON t(v);
SELECT count(*), sum(v), min(k), max(k) FROM t;
SELECT k, v FROM t WHERE v BETWEEN 1000 AND 1010 ORDER BY v, k;
SELECT v % 10, count(*), avg(length(k)) FROM t GROUP BY v % 10 ORDER BY 1;
SELECT count(DISTINCT v) FROM t;

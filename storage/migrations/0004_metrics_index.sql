-- quantd schema, part 4: the (key, value) index on metrics goes. It cost a sweep about as much
-- as the rest of storing its metrics (74,250 rows: 350 ms with it, 165 ms without, measured
-- 2026-12-01), and no query uses it: run listings go through runs_experiment and the metrics
-- primary key. The tracking issue's search chooses its own index when it is measured.
DROP INDEX IF EXISTS metrics_key_value;

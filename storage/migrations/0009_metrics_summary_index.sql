-- quantd schema, part 9: run searches order by one summary metric (GET
-- /v1/experiments/{id}/runs?order_by=metrics.<key>): an index on (key, value) of the summary
-- rows lets such a search walk the runs in metric order and stop after a page instead of
-- ranking every run (100,000 runs: 0.7 s -> milliseconds, bench/tracking.sh). It costs a
-- backtest sweep's bulk metric insert about 0.2 s per 74,250 rows (docs/engine.md, bench (d)).
CREATE INDEX IF NOT EXISTS metrics_summary_value ON metrics (key, value) WHERE step = 0;

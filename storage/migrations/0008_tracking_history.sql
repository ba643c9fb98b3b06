-- quantd schema, part 8: what the tracking API and its MLflow-compatible subset need.
-- * metric_points: the append-only history of logged metrics (MLflow: metrics are never
--   overwritten). One row holds the points of one key from one logging call, as arrays, so that
--   a batch of 1,000 points over 20 keys writes 20 rows, not 1,000 index entries. `metrics`
--   keeps one summary value per (run, key) at step 0 — the latest point — which searches order
--   and filter on; a backtest's metrics have no history rows (their value is the history).
-- * runs: MLflow's SCHEDULED status, a lifecycle (active/deleted), the user who made it.
-- * experiments: last_update_time, artifact_location; the MLflow default experiment "0".
CREATE TABLE metric_points (
    run_id bigint NOT NULL,
    key    text NOT NULL,
    seq    bigserial,
    steps  int8[] NOT NULL,
    vals   float8[] NOT NULL,
    ts_ms  int8[] NOT NULL,
    PRIMARY KEY (run_id, key, seq),
    CHECK (cardinality(steps) = cardinality(vals) AND cardinality(vals) = cardinality(ts_ms))
);
COMMENT ON TABLE metric_points IS 'append-only metric history: the points of one key per logging call';

ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'scheduled', 'finished', 'failed', 'killed'));
ALTER TABLE runs ADD COLUMN lifecycle text NOT NULL DEFAULT 'active'
    CHECK (lifecycle IN ('active', 'deleted'));
ALTER TABLE runs ADD COLUMN user_id text NOT NULL DEFAULT '';

ALTER TABLE experiments ADD COLUMN last_update_time timestamptz NOT NULL DEFAULT now();
ALTER TABLE experiments ADD COLUMN artifact_location text NOT NULL DEFAULT '';
INSERT INTO experiments (id, name) VALUES (0, 'Default') ON CONFLICT DO NOTHING;

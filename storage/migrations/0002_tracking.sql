-- quantd schema, part 2: what backtests record and the tracking work builds on: experiments,
-- runs (params, tags, reproducibility hashes), metrics (scalar = step 0, or stepped series),
-- the full series of kept runs, and artifacts.

CREATE TABLE experiments (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    tags       jsonb NOT NULL DEFAULT '{}',
    lifecycle  text NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'deleted')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
    id             bigserial PRIMARY KEY,
    experiment_id  bigint NOT NULL REFERENCES experiments (id),
    name           text NOT NULL DEFAULT '',
    strategy       text NOT NULL,
    status         text NOT NULL DEFAULT 'finished'
                   CHECK (status IN ('running', 'finished', 'failed', 'killed')),
    params         jsonb NOT NULL DEFAULT '{}',
    tags           jsonb NOT NULL DEFAULT '{}',
    data_hash      text,
    config_hash    text,
    engine_version text,
    job_id         bigint,
    start_time     timestamptz NOT NULL DEFAULT now(),
    end_time       timestamptz
);
COMMENT ON COLUMN runs.params IS 'flat dotted keys, as MLflow keeps them: {"momentum.sma_crossover.fast": 7, ...}';
COMMENT ON COLUMN runs.data_hash IS 'SHA-256 of the bars the run read';
COMMENT ON COLUMN runs.config_hash IS 'SHA-256 of the run''s canonical params';
CREATE INDEX runs_experiment ON runs (experiment_id, id);

-- No foreign key to runs: bulk loads of sweep metrics (tens of thousands of rows) would pay a
-- per-row check; runs are never deleted, and storage/runs_db.c writes both in one transaction.
CREATE TABLE metrics (
    run_id bigint NOT NULL,
    key    text NOT NULL,
    step   bigint NOT NULL DEFAULT 0,
    value  float8 NOT NULL,
    ts     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, key, step)
);
COMMENT ON COLUMN metrics.value IS 'NaN where a metric is undefined (served as null)';
CREATE INDEX metrics_key_value ON metrics (key, value);

CREATE TABLE run_series (
    run_id  bigint PRIMARY KEY REFERENCES runs (id),
    days    int4[] NOT NULL,
    equity  float8[] NOT NULL,
    trades  jsonb NOT NULL DEFAULT '[]'
);
COMMENT ON TABLE run_series IS 'equity curve and trades of the runs a sweep keeps (best K, single runs)';

CREATE TABLE artifacts (
    id         bigserial PRIMARY KEY,
    run_id     bigint NOT NULL REFERENCES runs (id),
    path       text NOT NULL,
    sha256     text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, path)
);

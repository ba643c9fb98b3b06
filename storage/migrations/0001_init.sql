-- quantd schema, part 1: symbols and daily bars, the job queue and schedules, API tokens and
-- the audit log. Applied in one transaction by storage/migrate.c; never edited once merged.

CREATE TABLE symbols (
    symbol       text PRIMARY KEY CHECK (symbol ~ '^[A-Za-z0-9][A-Za-z0-9.^=_-]{0,31}$'),
    asset_class  text NOT NULL DEFAULT 'equity',
    -- bumped in the same transaction as every write to the symbol's bars: readers that cache
    -- encoded bars compare it to know whether their copy is current
    bars_version bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE symbols IS 'Instruments we hold data for';

-- No foreign key to symbols: a per-row RI check made bulk upserts 3-4x slower (measured);
-- storage/bars_db.c inserts the symbol in the same transaction as its bars instead.
CREATE TABLE bars (
    symbol    text NOT NULL,
    interval  text NOT NULL DEFAULT '1d' CHECK (interval IN ('1d', '1h', '1m')),
    ts        timestamptz NOT NULL,
    open      float8 NOT NULL CHECK (open > 0),
    high      float8 NOT NULL CHECK (high > 0),
    low       float8 NOT NULL CHECK (low > 0),
    close     float8 NOT NULL CHECK (close > 0),
    adj_close float8 NOT NULL CHECK (adj_close > 0),
    volume    bigint NOT NULL CHECK (volume >= 0),
    source    text NOT NULL,
    PRIMARY KEY (symbol, interval, ts)
);
COMMENT ON TABLE bars IS 'OHLCV bars; daily bars have ts at 00:00 UTC of the trading date';

CREATE TABLE jobs (
    id               bigserial PRIMARY KEY,
    type             text NOT NULL,
    params           jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress         float8 NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    message          text NOT NULL DEFAULT '',
    result           jsonb,
    error            jsonb,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    cancel_requested boolean NOT NULL DEFAULT false,
    run_after        timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_until      timestamptz,
    schedule_name    text,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN jobs.attempts IS 'times a worker has claimed the job';
COMMENT ON COLUMN jobs.run_after IS 'a queued job is not claimed before this (retry backoff)';
CREATE INDEX jobs_claim ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (lease_until) WHERE status = 'running';
CREATE INDEX jobs_status_type ON jobs (status, type, id);

CREATE TABLE schedules (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    cron        text NOT NULL,
    job_type    text NOT NULL,
    params      jsonb NOT NULL DEFAULT '{}',
    enabled     boolean NOT NULL DEFAULT true,
    next_run_at timestamptz NOT NULL,
    last_run_at timestamptz,
    last_job_id bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    name         text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
COMMENT ON TABLE api_tokens IS 'Bearer tokens; only the SHA-256 of the secret is stored';

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token_name  text,
    method      text NOT NULL,
    path        text NOT NULL,
    status      integer NOT NULL,
    request_id  text NOT NULL,
    remote_addr text,
    detail      jsonb
);
COMMENT ON TABLE audit_log IS 'One row per mutating API call, whatever its outcome';

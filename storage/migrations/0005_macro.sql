-- quantd schema, part 5: macro and positioning series (DESIGN §4), read by the feature
-- factory (docs/features.md) and written by the ingestion jobs of the market-data issue.
-- A missing observation (FRED's ".") is a row with a NULL value, never 0; a revision is an
-- upsert of the same (series_id, date).
CREATE TABLE macro_observations (
    series_id  text NOT NULL CHECK (length(series_id) BETWEEN 1 AND 64),
    date       date NOT NULL,
    value      float8,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, date)
);
COMMENT ON TABLE macro_observations IS 'FRED series (DGS10, T10Y2Y, BAMLH0A0HYM2, VIXCLS, ...) and the CBOE VIX close as series VIX; NULL = missing';

-- CFTC Commitments of Traders, legacy report: the fields behind net speculative positioning.
-- market is the CFTC contract market code, a 6-character string ("13874A": E-mini S&P 500).
CREATE TABLE cot_reports (
    market          text NOT NULL CHECK (length(market) BETWEEN 1 AND 16),
    report_date     date NOT NULL,
    market_name     text NOT NULL DEFAULT '',
    open_interest   bigint NOT NULL CHECK (open_interest >= 0),
    noncomm_long    bigint NOT NULL CHECK (noncomm_long >= 0),
    noncomm_short   bigint NOT NULL CHECK (noncomm_short >= 0),
    noncomm_spread  bigint,
    comm_long       bigint,
    comm_short      bigint,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (market, report_date)
);
COMMENT ON COLUMN cot_reports.report_date IS 'the Tuesday the positions are as of; published the following Friday';

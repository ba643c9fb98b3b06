-- quantd schema, part 7: option chain snapshots from the options providers (ingest_options).
-- One row per contract, trading day (as_of, New York) and source: a later snapshot of the same
-- day replaces the earlier one. Absent quote fields and greeks stay NULL, never 0.
CREATE TABLE option_quotes (
    underlying    text NOT NULL,
    as_of         date NOT NULL,
    source        text NOT NULL CHECK (source IN ('tradier', 'polygon')),
    expiration    date NOT NULL,
    strike        float8 NOT NULL CHECK (strike > 0),
    option_right  char(1) NOT NULL CHECK (option_right IN ('C', 'P')),
    contract      text NOT NULL,
    bid           float8,
    ask           float8,
    last          float8,
    volume        bigint,
    open_interest bigint,
    iv            float8,
    delta         float8,
    gamma         float8,
    theta         float8,
    vega          float8,
    rho           float8,
    quote_time    timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (underlying, as_of, source, expiration, strike, option_right)
);
COMMENT ON COLUMN option_quotes.contract IS 'OCC symbol: ROOT YYMMDD C|P strike x 1000 (ACME240719C00100000)';
COMMENT ON COLUMN option_quotes.iv IS 'annual decimal; Tradier: ORATS mid_iv (smv_vol when mid_iv is 0); Polygon: NULL';
COMMENT ON COLUMN option_quotes.theta IS 'the provider''s units: Tradier/ORATS theta per calendar day, vega per volatility point';
CREATE INDEX option_quotes_contract ON option_quotes (contract, as_of);

-- quantd schema, part 3: computed features, long format: one row per (symbol, feature, date).
-- Long rather than wide: the set of features grows with every indicator and parameter, and a
-- request names a handful of them; the primary key serves "these names, this range" directly.
CREATE TABLE features (
    symbol text NOT NULL,
    name   text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_.]{0,63}$'),
    ts     date NOT NULL,
    value  float8 NOT NULL,
    PRIMARY KEY (symbol, name, ts)
);
COMMENT ON TABLE features IS 'feature values; undefined leading values are absent (served as null), never 0';

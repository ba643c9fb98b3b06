-- quantd schema, part 6: dividends and splits as the sources report them (Yahoo's chart
-- events), by ex-date. adj_close in bars already reflects them; these rows say what happened.
CREATE TABLE corporate_actions (
    symbol     text NOT NULL,
    ex_date    date NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('dividend', 'split')),
    value      float8 NOT NULL CHECK (value > 0),
    source     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, ex_date, kind)
);
COMMENT ON COLUMN corporate_actions.value IS 'dividend: cash per share; split: new shares per old share (2 for 2:1, 1/30 for 1:30)';

-- quantd schema, part 10: the model registry. A registered model has versions, each made from
-- a run (its strategy and params are what a trading job runs); a version is in one stage,
-- None / Staging / Production / Archived, and every transition is kept (who, when, from, to).
CREATE TABLE registered_models (
    name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE model_versions (
    model       text NOT NULL REFERENCES registered_models (name),
    version     int NOT NULL CHECK (version >= 1),
    run_id      bigint NOT NULL REFERENCES runs (id),
    stage       text NOT NULL DEFAULT 'None'
                CHECK (stage IN ('None', 'Staging', 'Production', 'Archived')),
    description text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, version)
);

CREATE TABLE model_transitions (
    id          bigserial PRIMARY KEY,
    model       text NOT NULL,
    version     int NOT NULL,
    from_stage  text NOT NULL,
    to_stage    text NOT NULL,
    actor       text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);
CREATE INDEX model_transitions_model ON model_transitions (model, version, id);

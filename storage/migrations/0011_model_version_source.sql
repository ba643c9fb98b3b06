-- quantd schema, part 11: a model version's source (MLflow's model-versions/create takes one:
-- where the model's files are; quantd's versions are a run's strategy and params, so it is
-- informational).
ALTER TABLE model_versions ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT '';

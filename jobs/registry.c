/*
 * The job-type registry. To add a job type: write its validate/run pair in its own file under
 * jobs/ and add one row below. Any thread (read-only table).
 */
#include "jobs/job.h"
#include "common/date.h"

#include <stdio.h>
#include <string.h>

job_validate_fn ingest_equity_validate;
job_run_fn ingest_equity_run;
job_validate_fn equity_backtest_validate;
job_run_fn equity_backtest_run;
job_validate_fn build_features_validate;
job_run_fn build_features_run;
job_validate_fn ingest_macro_validate, ingest_vix_validate, ingest_cot_validate;
job_run_fn ingest_macro_run, ingest_vix_run, ingest_cot_run;
job_validate_fn ingest_options_validate;
job_validate_fn rerun_validate;
job_validate_fn report_validate;
job_run_fn report_run;
job_run_fn rerun_run;
job_run_fn ingest_options_run;

static const struct job_type registry[] = {
    {"ingest_equity", "daily OHLCV bars for symbols into the bars table (source: yahoo, csv or synthetic)",
     ingest_equity_validate, ingest_equity_run},
    {"equity_backtest", "SMA-crossover backtests (one config or a grid) recorded as runs of an experiment",
     equity_backtest_validate, equity_backtest_run},
    {"build_features", "technical indicators per symbol into the features table",
     build_features_validate, build_features_run},
    {"ingest_macro", "FRED series observations into macro_observations (default: the macro factors' series)",
     ingest_macro_validate, ingest_macro_run},
    {"ingest_vix", "the CBOE VIX daily close history into macro_observations as series VIX",
     ingest_vix_validate, ingest_vix_run},
    {"ingest_cot", "CFTC legacy COT reports (net speculative positioning) into cot_reports",
     ingest_cot_validate, ingest_cot_run},
    {"ingest_options", "option chain snapshots (Tradier with greeks, or Polygon) into option_quotes",
     ingest_options_validate, ingest_options_run},
    {"rerun", "re-runs a recorded backtest run from its params as a new run; says whether the "
              "metrics match", rerun_validate, rerun_run},
    {"report", "an experiment's HTML report, stored as an artifact of its best run",
     report_validate, report_run},
};

const struct job_type *
job_type_find(const char *name)
{
    for (size_t i = 0; i < QD_ARRAY_LEN(registry); i++)
        if (strcmp(registry[i].name, name) == 0)
            return &registry[i];
    return NULL;
}

const struct job_type *
job_types(size_t *n)
{
    *n = QD_ARRAY_LEN(registry);
    return registry;
}

enum qd_code
job_validate(const char *type, const json_t *params, struct qd_err *err)
{
    const struct job_type *t = job_type_find(type);

    if (t == NULL) {
        char names[256] = "";
        size_t at = 0;
        for (size_t i = 0; i < QD_ARRAY_LEN(registry) && at < sizeof(names); i++)
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? ", " : "",
                                   registry[i].name);
        return qd_err_field(err, QD_EINVAL, "type", "unknown job type \"%s\" (known: %s)", type,
                            names);
    }
    if (!json_is_object(params))
        return qd_err_field(err, QD_EINVAL, "params", "params must be an object");
    return t->validate(params, err);
}

enum qd_code
job_param_date(const json_t *params, const char *key, bool required, int32_t *day,
               struct qd_err *err)
{
    const json_t *v = json_object_get(params, key);
    char field[64];

    snprintf(field, sizeof(field), "params.%s", key);
    if (v == NULL || json_is_null(v)) {
        if (required)
            return qd_err_field(err, QD_EINVAL, field, "%s is required", key);
        return QD_ENOTFOUND;
    }
    if (!json_is_string(v) ||
        !qd_date_parse(json_string_value(v), json_string_length(v), day))
        return qd_err_field(err, QD_EINVAL, field, "%s must be a date as YYYY-MM-DD", key);
    return QD_OK;
}

enum qd_code
job_param_known(const json_t *params, const char *const *keys, struct qd_err *err)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)params, k, v)
    {
        bool known = false;
        for (const char *const *p = keys; *p && !known; p++)
            known = strcmp(*p, k) == 0;
        if (!known) {
            char field[96];
            snprintf(field, sizeof(field), "params.%.80s", k);
            return qd_err_field(err, QD_EINVAL, field, "unknown parameter \"%.80s\"", k);
        }
    }
    return QD_OK;
}

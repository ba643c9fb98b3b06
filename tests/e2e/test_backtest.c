/* End-to-end: equity_backtest jobs over real ingested bars, recorded as runs; the run
 * endpoints; parameter errors. */
#define _GNU_SOURCE
#include "tests/lib/harness.h"

#include <check.h>
#include <jansson.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct qt_daemon d;
static char dbinfo[512];
static int teardown_failed;

static void
setup(void)
{
    struct qt_resp r;
    json_t *job;

    ck_assert(qt_db_create("e2e_backtest", dbinfo, sizeof(dbinfo)) == 0);
    ck_assert(qt_daemon_start(&d, dbinfo, "{\"jobs\": {\"workers\": 2, \"poll_ms\": 50}, "
                                          "\"tracking\": {\"artifact_max_mb\": 1}}") == 0);
    ck_assert(qt_post_json(&d, "/v1/jobs",
                           "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"BT\"],"
                           "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\"}}",
                           &r) == 0);
    ck_assert(r.status == 202);
    job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    ck_assert(job != NULL);
    json_decref(job);
}

static void
teardown(void)
{
    int st = -1;

    if (qt_daemon_signal_wait(&d, SIGTERM, 20000, &st) != 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0) {
        fprintf(stderr, "FAIL: the daemon did not exit 0 after SIGTERM (%d)\n", st);
        teardown_failed = 1;
    }
}

static json_t *
run_job(const char *body, const char *want)
{
    struct qt_resp r;
    json_t *job;

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", body, &r), 0);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    ck_assert_ptr_nonnull(job);
    ck_assert_msg(strcmp(json_string_value(json_object_get(job, "status")), want) == 0,
                  "job %s: %s", json_string_value(json_object_get(job, "status")),
                  json_dumps(json_object_get(job, "error"), 0));
    return job;
}

START_TEST(grid_sweep_recorded_as_runs)
{
    json_t *job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                          "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                          "\"experiment_name\":\"sma-grid\",\"initial_capital\":100000,"
                          "\"fees\":{\"rate\":0.001},\"keep_top\":3,"
                          "\"strategy_configs\":[{\"name\":\"sma\",\"momentum\":{\"sma_crossover\":"
                          "{\"fast\":{\"start\":5,\"stop\":30,\"step\":5},"
                          "\"slow\":[20,40,60,80]}}}]}}",
                          "succeeded");
    json_t *res = json_object_get(job, "result"), *runs = json_object_get(res, "runs");
    json_t *best = json_object_get(json_object_get(res, "best"), "sma");
    long long best_id = json_integer_value(json_object_get(best, "run_id"));
    struct qt_resp r;
    char path[96];
    int expected = 0;

    /* fast 5..30 step 5 x slow {20,40,60,80}, fast < slow */
    for (int f = 5; f <= 30; f += 5)
        for (int s = 20; s <= 80; s += 20)
            expected += f < s;
    ck_assert_int_eq((int)json_array_size(runs), expected);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs"), expected);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics"), expected * 15);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM run_series"), 3);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(DISTINCT config_hash) FROM runs"), expected);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(DISTINCT data_hash) FROM runs"), 1);

    snprintf(path, sizeof(path), "/v1/runs/%lld", best_id);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "strategy")), "sma");
    ck_assert_ptr_nonnull(json_object_get(json_object_get(r.json, "params"),
                                          "momentum.sma_crossover.fast"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "params"), "fill")),
                     "next_open");
    {
        json_t *m = json_object_get(r.json, "metrics");
        static const char *const names[] = {"final_value", "total_return", "cagr",
                                            "annual_volatility", "sharpe_ratio", "sortino_ratio",
                                            "max_drawdown", "max_drawdown_duration_days",
                                            "calmar_ratio", "win_rate", "profit_factor",
                                            "avg_trade_return", "num_trades", "exposure",
                                            "turnover"};
        for (size_t i = 0; i < 15; i++)
            ck_assert_msg(json_object_get(m, names[i]) != NULL, "metric %s", names[i]);
        /* the stored values (binary COPY) are the job's, exactly; an undefined one is NaN */
        for (size_t i = 0; i < 15; i++) {
            json_t *v = json_object_get(json_object_get(best, "metrics"), names[i]);
            char sql[256];
            if (json_is_null(v))
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM metrics WHERE run_id = %lld AND key = '%s' "
                         "AND value = 'NaN'", best_id, names[i]);
            else
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM metrics WHERE run_id = %lld AND key = '%s' "
                         "AND value = %.17g::float8", best_id, names[i], json_number_value(v));
            ck_assert_msg(qt_sql_int(dbinfo, sql) == 1, "stored %s", names[i]);
        }

        /* the best by Sharpe really is the highest Sharpe of the experiment */
        {
            char sql[200];
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM metrics WHERE key = 'sharpe_ratio' AND value > %.17g "
                     "AND value <> 'NaN'",
                     json_number_value(json_object_get(m, "sharpe_ratio")));
            ck_assert_int_eq(qt_sql_int(dbinfo, sql), 0);
        }
    }
    ck_assert(json_is_true(json_object_get(r.json, "has_series")));
    qt_resp_free(&r);
    {
        /* a run that never trades: its undefined metrics are stored as NaN, served as null */
        json_t *j2 = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                             "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                             "\"experiment_name\":\"never-trades\",\"strategy_configs\":"
                             "[{\"momentum\":{\"sma_crossover\":{\"fast\":5,\"slow\":5000}}}]}}",
                             "succeeded");
        json_t *b2 = json_object_get(json_object_get(json_object_get(j2, "result"), "best"),
                                     "sma_crossover");
        long long id2 = json_integer_value(json_object_get(b2, "run_id"));
        char sql[200];
        ck_assert(json_is_null(json_object_get(json_object_get(b2, "metrics"), "win_rate")));
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM metrics WHERE run_id = %lld AND value = 'NaN' AND key IN "
                 "('win_rate', 'profit_factor', 'avg_trade_return', 'sharpe_ratio')", id2);
        ck_assert_int_eq(qt_sql_int(dbinfo, sql), 4);
        json_decref(j2);
    }

    snprintf(path, sizeof(path), "/v1/runs/%lld/equity", best_id);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "equity")),
                     (int)json_integer_value(json_object_get(res, "bars")));
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/runs/%lld/trades", best_id);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(json_is_array(json_object_get(r.json, "trades")));
    qt_resp_free(&r);

    /* a run whose series was not kept, and a run that does not exist */
    ck_assert_int_eq(qt_get(&d, "/v1/runs/999999/equity", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/runs/999999", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    json_decref(job);
}
END_TEST

START_TEST(single_run_matches_grid_point)
{
    json_t *one = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                          "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                          "\"experiment_name\":\"sma-one\",\"fees\":{\"rate\":0.001},"
                          "\"strategy_configs\":[{\"momentum\":{\"sma_crossover\":"
                          "{\"fast\":10,\"slow\":40}}}]}}",
                          "succeeded");
    long long id = json_integer_value(json_object_get(
        json_object_get(json_object_get(json_object_get(one, "result"), "best"), "sma_crossover"),
        "run_id"));

    ck_assert_int_gt(id, 0);
    char sql[1024];

    /* the grid of sma-grid held (10, 40) with the same fees: a single run of that pair gives
     * the same 15 metrics to the last bit (the strategy names differ, so match by pair) */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM metrics a, metrics b, runs ra, runs rb WHERE ra.id = %lld "
             "AND a.run_id = ra.id AND rb.strategy = 'sma' AND "
             "rb.params->'momentum.sma_crossover.fast' = '10' AND "
             "rb.params->'momentum.sma_crossover.slow' = '40' AND b.run_id = rb.id AND "
             "b.key = a.key AND (a.value = b.value OR (a.value = 'NaN' AND b.value = 'NaN'))",
             id);
    ck_assert_int_eq(qt_sql_int(dbinfo, sql), 15);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM run_series s JOIN runs r ON "
                                        "r.id = s.run_id JOIN experiments e ON e.id = "
                                        "r.experiment_id WHERE e.name = 'sma-one'"),
                     1);
    json_decref(one);
}
END_TEST

static const struct {
    const char *params, *field;
} bad[] = {
    {"\"symbols\":[\"BT\",\"BT\"]", "params.symbols[1]"},
    {"\"symbols\":[\"BT\",\"X\"],\"weights\":{\"BT\":0.7,\"X\":0.6}", "params.weights"},
    {"\"symbols\":[\"BT\"],\"weights\":{\"Y\":0.5}", "params.weights.Y"},
    {"\"symbols\":[\"BT\"],\"strategy_configs\":[{\"momentum\":{\"macd\":{\"fast\":12}}}]",
     "params.strategy_configs[0].momentum.macd"},
    {"\"symbols\":[\"BT\"],\"strategy_configs\":[{\"momentum\":{\"sma_crossover\":{\"fast\":5,"
     "\"slow\":20}},\"regime_aware\":{\"risk_regime_filter\":{\"max_level\":5}}}]",
     "params.strategy_configs[0].regime_aware.risk_regime_filter.max_level"},
    {"\"symbols\":[\"BT\"],\"strategy_configs\":[{\"momentum\":{\"rsi\":{\"period\":14,"
     "\"overbought\":30,\"oversold\":70}}}]",
     "params.strategy_configs[0]"},
    {"\"symbols\":[\"BT\"],\"strategy_configs\":[{\"momentum\":{\"sma_crossover\":{\"fast\":"
     "{\"start\":5},\"slow\":20}}}]",
     "params.strategy_configs[0].momentum.sma_crossover.fast"},
    {"\"symbols\":[\"BT\"],\"strategy_configs\":[{\"momentum\":{\"sma_crossover\":{\"fast\":30,"
     "\"slow\":20}}}]",
     "params.strategy_configs[0]"},
    {"\"symbols\":[\"BT\"],\"sizing\":{\"mode\":\"martingale\"}", "params.sizing.mode"},
    {"\"symbols\":[\"BT\"],\"sizing\":{\"mode\":\"fixed_shares\"}", "params.sizing.shares"},
    {"\"symbols\":[\"BT\"],\"sizing\":{\"mode\":\"percent_equity\",\"percent\":2}",
     "params.sizing.percent"},
    {"\"symbols\":[\"BT\"],\"fill\":\"vwap\"", "params.fill"},
    {"\"symbols\":[\"BT\"],\"fees\":{\"rate\":0.5}", "params.fees.rate"},
};

START_TEST(bad_params_name_the_field)
{
    char body[1024];
    struct qt_resp r;

    snprintf(body, sizeof(body),
             "{\"type\":\"equity_backtest\",\"params\":{\"start_date\":\"2010-01-01\","
             "\"end_date\":\"2019-12-31\",\"experiment_name\":\"x\",%s%s}}",
             bad[_i].params,
             strstr(bad[_i].params, "strategy_configs")
                 ? ""
                 : ",\"strategy_configs\":[{\"momentum\":{\"sma_crossover\":{\"fast\":5,"
                   "\"slow\":20}}}]");
    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", body, &r), 0);
    ck_assert_msg(r.status == 400, "status %ld for %s", r.status, body);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     bad[_i].field);
    qt_resp_free(&r);
}
END_TEST

START_TEST(no_bars_fails_clearly)
{
    json_t *job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"NOBARS\"],"
                          "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                          "\"experiment_name\":\"empty\",\"strategy_configs\":[{\"momentum\":"
                          "{\"sma_crossover\":{\"fast\":5,\"slow\":20}}}]}}",
                          "failed");
    json_t *e = json_object_get(job, "error");

    ck_assert_str_eq(json_string_value(json_object_get(e, "field")), "params.symbols[0]");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "message")), "ingest"));
    ck_assert_int_eq(json_integer_value(json_object_get(job, "attempts")), 1);
    json_decref(job);
}
END_TEST

START_TEST(rsi_bollinger_and_combo)
{
    json_t *job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                          "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                          "\"experiment_name\":\"mixed\",\"strategy_configs\":["
                          "{\"name\":\"rsi\",\"momentum\":{\"rsi\":{\"period\":[7,14],"
                          "\"overbought\":70,\"oversold\":{\"start\":20,\"stop\":30,"
                          "\"step\":5}}}},"
                          "{\"name\":\"bb\",\"mean_reversion\":{\"bollinger_bands\":"
                          "{\"period\":20,\"std\":[1.5,2]}}},"
                          "{\"name\":\"combo\",\"momentum\":{\"sma_crossover\":{\"fast\":10,"
                          "\"slow\":50}},\"regime_aware\":{\"trend_filter\":true,"
                          "\"risk_regime_filter\":{\"max_level\":2}}}]}}",
                          "succeeded");
    json_t *best = json_object_get(json_object_get(job, "result"), "best");

    ck_assert_int_eq((int)json_integer_value(json_object_get(json_object_get(best, "rsi"), "runs")),
                     6);
    ck_assert_int_eq((int)json_integer_value(json_object_get(json_object_get(best, "bb"), "runs")),
                     2);
    ck_assert_int_eq(
        (int)json_integer_value(json_object_get(json_object_get(best, "combo"), "runs")), 1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs r JOIN experiments e ON "
                                        "e.id = r.experiment_id WHERE e.name = 'mixed'"),
                     9);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs WHERE params ? "
                                        "'regime_aware.trend_filter.window' AND "
                                        "params->>'regime_aware.trend_filter.window' = '200'"),
                     1);
    /* the trend filter can only remove exposure: combo is never more exposed than SMA(10,50)
     * alone */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics m JOIN runs r ON r.id = "
                                        "m.run_id WHERE r.strategy = 'combo' AND m.key = "
                                        "'exposure' AND m.value <= 1"),
                     1);
    json_decref(job);
}
END_TEST

START_TEST(sizing_modes_end_to_end)
{
    static const char *const sizings[] = {
        "{\"mode\":\"fixed_shares\",\"shares\":10}", "{\"mode\":\"percent_equity\",\"percent\":0.5}",
        "{\"mode\":\"vol_target\",\"target\":0.1,\"window\":21}", "{\"mode\":\"kelly\"}"};

    for (size_t k = 0; k < 4; k++) {
        char body[1024];
        json_t *job, *m;
        snprintf(body, sizeof(body),
                 "{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                 "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                 "\"experiment_name\":\"sizing\",\"sizing\":%s,\"strategy_configs\":["
                 "{\"name\":\"s%zu\",\"momentum\":{\"sma_crossover\":{\"fast\":10,"
                 "\"slow\":50}}}]}}",
                 sizings[k], k);
        job = run_job(body, "succeeded");
        m = json_object_get(json_array_get(json_object_get(json_object_get(job, "result"),
                                                           "runs"),
                                           0),
                            "id");
        ck_assert(json_integer_value(m) > 0);
        json_decref(job);
    }
    /* 10 shares is a small position in 100,000 of capital: the final value moves little */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs WHERE params->>'sizing.mode' "
                                        "= 'fixed_shares' AND params->>'sizing.shares' = '10.0'"),
                     1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs WHERE params->>'sizing.mode' "
                                        "= 'kelly' AND params->>'sizing.window' = '63'"),
                     1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics m JOIN runs r ON r.id = "
                                        "m.run_id WHERE r.params->>'sizing.mode' = "
                                        "'fixed_shares' AND m.key = 'final_value' AND "
                                        "abs(m.value - 100000) < 5000"),
                     1);
}
END_TEST

START_TEST(long_short_runs)
{
    json_t *job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                          "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                          "\"experiment_name\":\"ls\",\"direction\":\"long_short\","
                          "\"strategy_configs\":[{\"name\":\"ls\",\"momentum\":"
                          "{\"sma_crossover\":{\"fast\":10,\"slow\":50}}}]}}",
                          "succeeded");
    long long id = json_integer_value(json_object_get(
        json_object_get(json_object_get(json_object_get(job, "result"), "best"), "ls"), "run_id"));
    char path[64];
    struct qt_resp r;
    size_t i, shorts = 0;
    json_t *tr;

    snprintf(path, sizeof(path), "/v1/runs/%lld/trades", id);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_array_foreach(json_object_get(r.json, "trades"), i, tr)
        shorts += json_number_value(json_object_get(tr, "size")) < 0;
    ck_assert_uint_gt(shorts, 0);
    qt_resp_free(&r);
    /* long/short is in the market after the first cross on every bar */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics m JOIN runs r ON r.id = "
                                        "m.run_id WHERE r.params->>'direction' = 'long_short' "
                                        "AND m.key = 'exposure' AND m.value > 0.9"),
                     1);
    json_decref(job);
}
END_TEST

START_TEST(strategies_listed)
{
    struct qt_resp r;
    json_t *list, *sma;

    ck_assert_int_eq(qt_get(&d, "/v1/strategies", &r), 0);
    ck_assert_int_eq(r.status, 200);
    list = json_object_get(r.json, "strategies");
    ck_assert_int_eq((int)json_array_size(list), 5);
    sma = json_array_get(list, 0);
    ck_assert_str_eq(json_string_value(json_object_get(sma, "name")), "momentum.sma_crossover");
    ck_assert_int_eq((int)json_array_size(json_object_get(sma, "params")), 2);
    ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(sma, "params"), 0),
                                           "default")));
    qt_resp_free(&r);
}
END_TEST

START_TEST(portfolio_of_two)
{
    struct qt_resp r;
    json_t *job, *ing, *res, *best, *tr;
    long long id, ndays;
    char path[64];
    size_t i, bt = 0, bt2 = 0;

    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                  "{\"type\":\"ingest_equity\",\"params\":{\"symbols\":[\"BT2\"],"
                                  "\"start_date\":\"2012-01-01\",\"end_date\":\"2019-12-31\"}}",
                                  &r), 0);
    ing = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    ck_assert_ptr_nonnull(ing);
    json_decref(ing);
    job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\",\"BT2\"],"
                  "\"weights\":{\"BT\":0.6,\"BT2\":0.3},\"start_date\":\"2010-01-01\","
                  "\"end_date\":\"2019-12-31\",\"experiment_name\":\"pf\","
                  "\"strategy_configs\":[{\"name\":\"pf\",\"momentum\":{\"sma_crossover\":"
                  "{\"fast\":[5,10],\"slow\":50}}}]}}",
                  "succeeded");
    res = json_object_get(job, "result");
    best = json_object_get(json_object_get(res, "best"), "pf");
    id = json_integer_value(json_object_get(best, "run_id"));
    ck_assert_int_eq((int)json_integer_value(json_object_get(best, "runs")), 2);
    /* the union calendar: BT's 2010-2019 days (BT2 starts later) */
    ndays = qt_sql_int(dbinfo, "SELECT count(DISTINCT ts) FROM bars WHERE symbol IN ('BT','BT2') "
                               "AND ts >= '2010-01-01' AND ts <= '2019-12-31'");
    ck_assert_int_eq(json_integer_value(json_object_get(res, "bars")), ndays);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs WHERE params->>'symbols' = "
                                        "'BT,BT2' AND (params->>'weights.BT')::float8 = 0.6 AND "
                                        "(params->>'weights.BT2')::float8 = 0.3"),
                     2);
    snprintf(path, sizeof(path), "/v1/runs/%lld/trades", id);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    json_array_foreach(json_object_get(r.json, "trades"), i, tr)
    {
        const char *sym = json_string_value(json_object_get(tr, "symbol"));
        ck_assert_ptr_nonnull(sym);
        bt += strcmp(sym, "BT") == 0;
        bt2 += strcmp(sym, "BT2") == 0;
    }
    ck_assert_uint_gt(bt, 0);
    ck_assert_uint_gt(bt2, 0);
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/runs/%lld/equity", id);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq((long long)json_array_size(json_object_get(r.json, "equity")), ndays);
    /* 10 % of the capital was never allocated: the first value is the full capital */
    ck_assert(fabs(json_number_value(json_object_get(
                       json_array_get(json_object_get(r.json, "equity"), 0), "value")) -
                   100000) < 1e-6);
    qt_resp_free(&r);
    json_decref(job);
    /* the same portfolio rebalanced monthly: recorded, and it trades more */
    job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\",\"BT2\"],"
                  "\"weights\":{\"BT\":0.6,\"BT2\":0.3},\"rebalance\":\"monthly\","
                  "\"start_date\":\"2010-01-01\",\"end_date\":\"2019-12-31\","
                  "\"experiment_name\":\"pf-monthly\",\"strategy_configs\":[{\"name\":\"pf\","
                  "\"momentum\":{\"sma_crossover\":{\"fast\":5,\"slow\":50}}}]}}",
                  "succeeded");
    json_decref(job);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM runs WHERE params->>'rebalance' = "
                                        "'monthly'"),
                     1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics a JOIN runs ra ON ra.id = "
                                        "a.run_id JOIN runs rb ON rb.params->>'rebalance' = 'none' "
                                        "AND rb.params->>'momentum.sma_crossover.fast' = '5' "
                                        "AND rb.params->>'symbols' = 'BT,BT2' JOIN metrics b ON "
                                        "b.run_id = rb.id AND b.key = 'turnover' WHERE "
                                        "ra.params->>'rebalance' = 'monthly' AND a.key = "
                                        "'turnover' AND a.value > b.value"),
                     1);
}
END_TEST

START_TEST(experiment_views)
{
    struct qt_resp r;
    json_t *runs;
    long long eid;
    char path[512];
    double prev = INFINITY;
    size_t i;
    json_t *run;

    ck_assert_int_eq(qt_get(&d, "/v1/experiments/sma-grid", &r), 0);
    ck_assert_int_eq(r.status, 200);
    eid = json_integer_value(json_object_get(r.json, "id"));
    ck_assert_int_gt(json_integer_value(json_object_get(r.json, "runs")), 5);
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/experiments/%lld", eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "name")), "sma-grid");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments", &r), 0);
    ck_assert_int_ge((int)json_array_size(json_object_get(r.json, "experiments")), 1);
    qt_resp_free(&r);
    /* ordered by Sharpe, best first, two per page */
    snprintf(path, sizeof(path),
             "/v1/experiments/%lld/runs?order_by=metrics.sharpe_ratio%%20DESC&limit=2", eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    runs = json_object_get(r.json, "runs");
    ck_assert_int_eq((int)json_array_size(runs), 2);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "next_cursor")), "2");
    json_array_foreach(runs, i, run)
    {
        double v = json_number_value(json_object_get(json_object_get(run, "metrics"),
                                                     "sharpe_ratio"));
        ck_assert(v <= prev);
        prev = v;
    }
    qt_resp_free(&r);
    snprintf(path, sizeof(path),
             "/v1/experiments/%lld/runs?order_by=metrics.sharpe_ratio%%20DESC&limit=2&cursor=2",
             eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert(json_number_value(json_object_get(
                  json_object_get(json_array_get(json_object_get(r.json, "runs"), 0), "metrics"),
                  "sharpe_ratio")) <= prev);
    qt_resp_free(&r);
    /* no order_by: by id, paged */
    snprintf(path, sizeof(path), "/v1/experiments/%lld/runs?limit=3", eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    runs = json_object_get(r.json, "runs");
    ck_assert_int_eq((int)json_array_size(runs), 3);
    ck_assert_int_lt(json_integer_value(json_object_get(json_array_get(runs, 0), "id")),
                     json_integer_value(json_object_get(json_array_get(runs, 1), "id")));
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "next_cursor")), "3");
    qt_resp_free(&r);
    /* a filter: only the runs it matches, still in order */
    snprintf(path, sizeof(path),
             "/v1/experiments/%lld/runs?order_by=metrics.sharpe_ratio%%20DESC&filter="
             "params.%%60momentum.sma_crossover.fast%%60%%20%%3E%%3D%%2010%%20AND%%20"
             "metrics.num_trades%%20%%3E%%200&limit=1000", eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM runs r WHERE r.experiment_id = %lld AND "
                 "(r.params->>'momentum.sma_crossover.fast')::int >= 10 AND EXISTS (SELECT 1 "
                 "FROM metrics m WHERE m.run_id = r.id AND m.key = 'num_trades' AND m.value > 0)",
                 eid);
        ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "runs")),
                         qt_sql_int(dbinfo, sql));
        ck_assert_int_gt((int)json_array_size(json_object_get(r.json, "runs")), 0);
    }
    json_array_foreach(json_object_get(r.json, "runs"), i, run)
        ck_assert_int_ge(json_integer_value(json_object_get(json_object_get(run, "params"),
                                                            "momentum.sma_crossover.fast")), 10);
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/experiments/%lld/runs?filter=params.x%%20%%3D", eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "filter");
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/experiments/%lld/runs?order_by=metrics.a%%3Bb", eid);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "order_by");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/no-such-experiment", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
}
END_TEST

/* GET /v1/experiments/{id}/compare and /best on the "mixed" experiment (rsi: 6 runs, bb: 2,
 * combo: 1; every curve kept). The statistics are recomputed from the kept curves: the Sharpe
 * ratio so obtained must be the engine's stored one. */
START_TEST(experiment_compare_and_best)
{
    struct qt_resp r;
    json_t *list, *s, *b;
    size_t i;
    long long best_id, rsi_best, total = 0;
    double prev = INFINITY;

    best_id = qt_sql_int(dbinfo, "SELECT r.id FROM runs r JOIN experiments e ON e.id = "
                                 "r.experiment_id JOIN metrics m ON m.run_id = r.id AND m.key = "
                                 "'sharpe_ratio' AND m.step = 0 WHERE e.name = 'mixed' AND "
                                 "m.value <> 'NaN' ORDER BY m.value DESC, r.id LIMIT 1");
    rsi_best = qt_sql_int(dbinfo, "SELECT r.id FROM runs r JOIN experiments e ON e.id = "
                                  "r.experiment_id JOIN metrics m ON m.run_id = r.id AND m.key = "
                                  "'sharpe_ratio' AND m.step = 0 WHERE e.name = 'mixed' AND "
                                  "r.strategy = 'rsi' AND m.value <> 'NaN' ORDER BY m.value DESC, "
                                  "r.id LIMIT 1");
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/compare?metric=sharpe_ratio", &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "direction")), "max");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "runs")), 9);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r.json, "best"), "run_id")),
                     best_id);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r.json, "deflation"),
                                                        "trials")), 9);
    list = json_object_get(r.json, "strategies");
    ck_assert_int_eq((int)json_array_size(list), 3);
    json_array_foreach(list, i, s)
    {
        double best = json_number_value(json_object_get(s, "best"));
        double sr = json_number_value(json_object_get(s, "sharpe_ratio"));
        json_t *ci = json_object_get(s, "sharpe_ci"), *vs = json_object_get(s, "vs_best");
        char sql[512];
        total += json_integer_value(json_object_get(s, "runs"));
        ck_assert(best <= prev);                                  /* best strategy first */
        prev = best;
        /* the Sharpe ratio of the kept curve is the stored metric of the best run */
        ck_assert_msg(fabs(sr - best) <= 1e-9 * fmax(1, fabs(best)), "%s: %.17g vs %.17g",
                      json_string_value(json_object_get(s, "strategy")), sr, best);
        ck_assert(json_number_value(json_object_get(ci, "lo")) <
                  json_number_value(json_object_get(ci, "hi")));
        ck_assert_int_eq(json_integer_value(json_object_get(ci, "resamples")), 2000);
        ck_assert(json_number_value(json_object_get(s, "dsr")) <=
                  json_number_value(json_object_get(s, "psr")));
        ck_assert(json_number_value(json_object_get(s, "psr")) >= 0 &&
                  json_number_value(json_object_get(s, "psr")) <= 1);
        if (i == 0) {
            ck_assert(json_is_null(vs));                          /* the best, against itself */
        } else {
            double p = json_number_value(json_object_get(vs, "jk_p"));
            ck_assert_int_eq(json_integer_value(json_object_get(vs, "run_id")), best_id);
            ck_assert(p >= 0 && p <= 1);
            ck_assert_int_gt(json_integer_value(json_object_get(vs, "returns")), 2000);
        }
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE "
                 "e.name = 'mixed' AND r.strategy = '%s'",
                 json_string_value(json_object_get(s, "strategy")));
        ck_assert_int_eq(json_integer_value(json_object_get(s, "runs")), qt_sql_int(dbinfo, sql));
        if (strcmp(json_string_value(json_object_get(s, "strategy")), "bb") == 0)
            ck_assert_double_eq_tol(json_number_value(json_object_get(s, "mean")),
                                    json_number_value(json_object_get(s, "median")), 1e-12);
    }
    ck_assert_int_eq(total, 9);
    qt_resp_free(&r);

    /* a metric where lower is better */
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/compare?metric=max_drawdown", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "direction")), "min");
    list = json_object_get(r.json, "strategies");
    ck_assert(json_number_value(json_object_get(json_array_get(list, 0), "best")) <=
              json_number_value(json_object_get(json_array_get(list, 1), "best")));
    qt_resp_free(&r);

    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/best?strategy=rsi", &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "run_id")), rsi_best);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "runs_in_experiment")), 9);
    ck_assert_ptr_nonnull(json_object_get(json_object_get(r.json, "params"),
                                          "momentum.rsi.period"));
    ck_assert(json_is_number(json_object_get(json_object_get(r.json, "metrics"), "cagr")));
    b = json_object_get(r.json, "deflated_sharpe");
    ck_assert(json_is_number(json_object_get(b, "dsr")));
    ck_assert(json_is_boolean(json_object_get(b, "dsr_passes")));
    ck_assert_double_eq_tol(json_number_value(json_object_get(b, "threshold")), 0.95, 1e-12);
    ck_assert(json_is_boolean(json_object_get(b, "dsr_passes")) &&
              json_is_true(json_object_get(b, "dsr_passes")) ==
                  (json_number_value(json_object_get(b, "dsr")) >= 0.95));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/best", &r), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "run_id")), best_id);
    qt_resp_free(&r);

    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/best?strategy=nosuch", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/compare?metric=a%20b", &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "metric");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/no-such/compare", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
}
END_TEST

/* POST /v1/experiments, POST /v1/runs/{id}/metrics (batch), GET /v1/runs/{id}/metrics/{key}. */
START_TEST(experiments_created_and_metrics_logged)
{
    struct qt_resp r;
    long long run = qt_sql_int(dbinfo, "SELECT min(id) FROM runs");
    char path[96], *body;
    struct {
        char  *p;
        size_t n;
    } b;
    json_t *h;
    FILE *f;

    ck_assert_int_eq(qt_post_json(&d, "/v1/experiments",
                                  "{\"name\":\"manual\",\"tags\":{\"owner\":\"ann\"}}", &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    ck_assert_int_gt(json_integer_value(json_object_get(r.json, "id")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "tags"), "owner")),
                     "ann");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/experiments", "{\"name\":\"manual\"}", &r), 0);
    ck_assert_int_eq(r.status, 409);
    qt_resp_free(&r);
    /* the lifecycle: deleted, then active again */
    {
        long long mid = qt_sql_int(dbinfo, "SELECT id FROM experiments WHERE name = 'manual'");
        char p[96];
        snprintf(p, sizeof(p), "/v1/experiments/%lld", mid);
        ck_assert_int_eq(qt_http(&d, "DELETE", p, d.token, NULL, NULL, 0, &r), 0);
        ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
        ck_assert_str_eq(json_string_value(json_object_get(r.json, "lifecycle")), "deleted");
        qt_resp_free(&r);
        snprintf(p, sizeof(p), "/v1/experiments/%lld/restore", mid);
        ck_assert_int_eq(qt_post_json(&d, p, "", &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(json_string_value(json_object_get(r.json, "lifecycle")), "active");
        qt_resp_free(&r);
        ck_assert_int_eq(qt_http(&d, "DELETE", "/v1/experiments/987654", d.token, NULL, NULL, 0,
                                 &r), 0);
        ck_assert_int_eq(r.status, 404);
        qt_resp_free(&r);
    }
    {
        static const char *const refused[][2] = {
            {"{\"name\":\"123\"}", "name"},
            {"{\"name\":\"\"}", "name"},
            {"{\"name\":\"x\",\"tags\":{\"owner\":1}}", "tags.owner"},
            {"{\"name\":\"x\",\"color\":\"red\"}", "color"},
        };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
            ck_assert_int_eq(qt_post_json(&d, "/v1/experiments", refused[i][0], &r), 0);
            ck_assert_msg(r.status == 400, "%s: %ld", refused[i][0], r.status);
            ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"),
                                                               "field")), refused[i][1]);
            qt_resp_free(&r);
        }
    }
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM experiments WHERE name IN "
                                        "('x', '123', '')"), 0);

    /* 1,000 points in one batch: steps 0..996 of "loss", step 998 twice (both kept), and a
     * NaN */
    f = open_memstream(&b.p, &b.n);
    ck_assert_ptr_nonnull(f);
    fputs("{\"metrics\":[", f);
    for (int i = 0; i < 997; i++)
        fprintf(f, "%s{\"key\":\"loss\",\"value\":%g,\"step\":%d,\"timestamp\":%lld}",
                i ? "," : "", 1.0 / (i + 1), i, 1700000000000LL + i);
    fputs(",{\"key\":\"loss\",\"value\":5,\"step\":998},{\"key\":\"loss\",\"value\":6,"
          "\"step\":998},{\"key\":\"odd metric\",\"value\":\"NaN\"}]}", f);
    fclose(f);
    body = b.p;
    snprintf(path, sizeof(path), "/v1/runs/%lld/metrics", run);
    ck_assert_int_eq(qt_post_json(&d, path, body, &r), 0);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "logged")), 1000);
    qt_resp_free(&r);
    free(body);
    snprintf(path, sizeof(path), "/v1/runs/%lld/metrics/loss", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    h = json_object_get(r.json, "history");
    ck_assert_int_eq((int)json_array_size(h), 999);   /* 0..996 and 998 twice: append-only */
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 3), "step")), 3);
    ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(h, 3), "value")),
                            0.25, 1e-12);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 3), "timestamp")),
                     1700000000003LL);
    ck_assert(json_number_value(json_object_get(json_array_get(h, 997), "value")) == 5);
    ck_assert(json_number_value(json_object_get(json_array_get(h, 998), "value")) == 6);
    qt_resp_free(&r);
    /* the summary the run shows (and searches use) is the latest point: now, value 6 */
    snprintf(path, sizeof(path), "/v1/runs/%lld", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert(json_number_value(json_object_get(json_object_get(r.json, "metrics"), "loss")) == 6);
    ck_assert(json_is_number(json_object_get(json_object_get(r.json, "metrics"), "sharpe_ratio")));
    qt_resp_free(&r);
    /* a backtest metric without logged points: its value is its history */
    snprintf(path, sizeof(path), "/v1/runs/%lld/metrics/cagr", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "history")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r.json,
                                                                       "history"), 0), "step")),
                     0);
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/runs/%lld/metrics/odd%%20metric", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "history")), 1);
    ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(r.json, "history"), 0),
                                           "value")));           /* NaN is served as null */
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/runs/%lld/metrics/never", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "history")), 0);
    qt_resp_free(&r);
    /* refused batches change nothing */
    snprintf(path, sizeof(path), "/v1/runs/%lld/metrics", run);
    {
        static const char *const refused[] = {
            "{\"metrics\":[]}",
            "{\"metrics\":[{\"key\":\"a\",\"value\":1},{\"key\":\"\",\"value\":1}]}",
            "{\"metrics\":[{\"key\":\"a\",\"value\":\"high\"}]}",
            "{\"metrics\":[{\"key\":\"a\",\"value\":1,\"step\":-1}]}",
            "{\"metrics\":[{\"key\":\"a;drop\",\"value\":1}]}",
            "{\"metrics\":[{\"key\":\"a\",\"value\":1,\"extra\":1}]}",
        };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
            ck_assert_int_eq(qt_post_json(&d, path, refused[i], &r), 0);
            ck_assert_msg(r.status == 400, "%s: %ld", refused[i], r.status);
            qt_resp_free(&r);
        }
    }
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics WHERE key = 'a'"), 0);
    ck_assert_int_eq(qt_post_json(&d, "/v1/runs/999999/metrics",
                                  "{\"metrics\":[{\"key\":\"a\",\"value\":1}]}", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM metrics WHERE run_id = 999999"), 0);
}
END_TEST

/* The model registry: versions from a run and by "register best", stages with
 * archive_existing, Production for admins only, the audit trail, and what a trading job reads. */
START_TEST(model_registry)
{
    struct qt_resp r;
    long long best_id, rsi_best;
    char body[256], research[256];
    json_t *v;

    best_id = qt_sql_int(dbinfo, "SELECT min(r.id) FROM runs r JOIN experiments e ON e.id = "
                                 "r.experiment_id WHERE e.name = 'mixed' AND r.strategy = 'bb'");
    rsi_best = qt_sql_int(dbinfo, "SELECT r.id FROM runs r JOIN experiments e ON e.id = "
                                  "r.experiment_id JOIN metrics m ON m.run_id = r.id AND m.key = "
                                  "'sharpe_ratio' AND m.step = 0 WHERE e.name = 'mixed' AND "
                                  "r.strategy = 'rsi' AND m.value <> 'NaN' ORDER BY m.value DESC, "
                                  "r.id LIMIT 1");
    ck_assert_int_eq(qt_post_json(&d, "/v1/models", "{\"name\":\"sma-model\",\"description\":"
                                                    "\"the crossover\"}", &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/models", "{\"name\":\"sma-model\"}", &r), 0);
    ck_assert_int_eq(r.status, 409);
    qt_resp_free(&r);
    snprintf(body, sizeof(body), "{\"run_id\":%lld}", best_id);
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions", body, &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "stage")), "None");
    qt_resp_free(&r);
    /* register best */
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions",
                                  "{\"experiment\":\"mixed\",\"strategy\":\"rsi\",\"metric\":"
                                  "\"sharpe_ratio\"}", &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "run_id")), rsi_best);
    qt_resp_free(&r);

    /* a research token may stage, not promote to Production */
    ck_assert_int_eq(qt_post_json(&d, "/v1/tokens", "{\"name\":\"researcher\",\"scopes\":"
                                                    "[\"research\"]}", &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    snprintf(research, sizeof(research), "%s",
             json_string_value(json_object_get(r.json, "token")));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "POST", "/v1/models/sma-model/versions/1/stage", research,
                             "application/json", "{\"stage\":\"Production\"}", 22, &r), 0);
    ck_assert_int_eq(r.status, 403);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "POST", "/v1/models/sma-model/versions/1/stage", research,
                             "application/json", "{\"stage\":\"Staging\"}", 19, &r), 0);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions/1/stage",
                                  "{\"stage\":\"Production\"}", &r), 0);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "stage")), "Production");
    qt_resp_free(&r);
    /* nor take a Production version out of it */
    ck_assert_int_eq(qt_http(&d, "POST", "/v1/models/sma-model/versions/1/stage", research,
                             "application/json", "{\"stage\":\"Archived\"}", 20, &r), 0);
    ck_assert_int_eq(r.status, 403);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM model_versions WHERE model = "
                                        "'sma-model' AND version = 1 AND stage = 'Production'"),
                     1);
    /* archive_existing (the default): version 1 leaves Production for Archived */
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions/2/stage",
                                  "{\"stage\":\"Production\"}", &r), 0);
    ck_assert_int_eq(r.status, 200);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM model_versions WHERE model = "
                                        "'sma-model' AND stage = 'Production'"), 1);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT version FROM model_versions WHERE model = "
                                        "'sma-model' AND stage = 'Archived'"), 1);
    /* what a trading job reads: the strategy, its flat params and the nested config */
    ck_assert_int_eq(qt_get(&d, "/v1/models/sma-model?stage=Production", &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "version")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "strategy")), "rsi");
    ck_assert(json_is_integer(json_object_get(json_object_get(r.json, "params"),
                                              "momentum.rsi.period")));
    ck_assert(json_equal(json_object_get(json_object_get(json_object_get(
                             json_object_get(r.json, "strategy_config"), "momentum"), "rsi"),
                                         "period"),
                         json_object_get(json_object_get(r.json, "params"),
                                         "momentum.rsi.period")));
    qt_resp_free(&r);
    /* the audit trail of version 1: None -> Staging (researcher) -> Production -> Archived */
    ck_assert_int_eq(qt_get(&d, "/v1/models/sma-model", &r), 0);
    v = json_object_get(json_array_get(json_object_get(r.json, "versions"), 0), "transitions");
    ck_assert_int_eq((int)json_array_size(v), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(v, 0), "from")), "None");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(v, 0), "actor")),
                     "researcher");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(v, 2), "to")), "Archived");
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "production")), 2);
    qt_resp_free(&r);
    /* archive_existing false: two versions in Production; the stage read gives the latest */
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions/1/stage",
                                  "{\"stage\":\"Production\",\"archive_existing\":false}", &r),
                     0);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM model_versions WHERE model = "
                                        "'sma-model' AND stage = 'Production'"), 2);
    /* refusals */
    ck_assert_int_eq(qt_get(&d, "/v1/models/nope?stage=Production", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/models/sma-model?stage=Live", &r), 0);
    ck_assert_int_eq(r.status, 400);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions", "{\"run_id\":999999}", &r),
                     0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions",
                                  "{\"experiment\":\"mixed\",\"strategy\":\"nope\"}", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/models/sma-model/versions/9/stage",
                                  "{\"stage\":\"Staging\"}", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM model_versions WHERE model = "
                                        "'sma-model'"), 2);
}
END_TEST

/* GET /v1/experiments/{id}/report: one self-contained HTML page; rendered by headless
 * Chromium (when installed: make deps installs it) without console errors into a non-empty
 * screenshot. */
START_TEST(experiment_report)
{
    struct qt_resp r;
    const char *body;
    char cmd[1024];
    FILE *f;
    long png = 0;
    int st;

    ck_assert_int_eq(qt_get(&d, "/v1/experiments/sma-grid/report", &r), 0);
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(qt_header(&r, "Content-Type"), "text/html"));
    ck_assert_ptr_nonnull(strstr(qt_header(&r, "Content-Security-Policy"), "default-src 'none'"));
    body = r.body;
    ck_assert_ptr_nonnull(strstr(body, "<!DOCTYPE html>"));
    ck_assert_ptr_nonnull(strstr(body, "<h2>Strategies</h2>"));
    ck_assert_ptr_nonnull(strstr(body, "<polyline"));                 /* equity, drawdown */
    ck_assert_ptr_nonnull(strstr(body, "Monthly returns"));
    ck_assert_ptr_nonnull(strstr(body, "<rect"));                     /* the 2-D sweep */
    ck_assert_ptr_nonnull(strstr(body, "momentum.sma_crossover.fast (across)"));
    ck_assert_ptr_nonnull(strstr(body, "<h2>Significance</h2>"));
    ck_assert(strstr(body, ">met<") != NULL || strstr(body, ">unmet<") != NULL);
    /* self-contained: no script, no external resource */
    ck_assert_ptr_null(strstr(body, "<script"));
    ck_assert_ptr_null(strstr(body, "src="));
    ck_assert_ptr_null(strstr(body, "href="));
    ck_assert_ptr_null(strstr(body, "@import"));
    ck_assert_ptr_null(strstr(body, "url("));
    ck_assert_int_lt((int)r.len, 2 << 20);
    f = fopen("build/e2e-report.html", "w");
    ck_assert_ptr_nonnull(f);
    fwrite(r.body, 1, r.len, f);
    fclose(f);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/mixed/report?metric=cagr", &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "combo"));
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/experiments/nope/report", &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    /* the report job stores it as an artifact of the best run */
    {
        json_t *job;
        char p[256];
        ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", "{\"type\":\"report\",\"params\":"
                                                      "{\"experiment\":\"sma-grid\"}}", &r),
                         0);
        ck_assert_int_eq(r.status, 202);
        job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
        qt_resp_free(&r);
        ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "succeeded");
        snprintf(p, sizeof(p), "/v1/runs/%lld/artifacts/file?path=reports%%2Fsharpe_ratio.html",
                 (long long)json_integer_value(json_object_get(json_object_get(job, "result"),
                                                               "run_id")));
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(job, "result"),
                                                            "size")) > 10000, 1);
        json_decref(job);
        ck_assert_int_eq(qt_get(&d, p, &r), 0);
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(strstr(r.body, "Experiment sma-grid"));
        ck_assert_ptr_nonnull(strstr(qt_header(&r, "Content-Type"), "text/html"));
        qt_resp_free(&r);
        ck_assert_int_eq(qt_post_json(&d, "/v1/jobs", "{\"type\":\"report\",\"params\":"
                                                      "{\"experiment\":\"sma-grid\","
                                                      "\"metric\":\"a b\"}}", &r), 0);
        ck_assert_int_eq(r.status, 400);
        qt_resp_free(&r);
    }

    /* make deps installs chromium: its absence is a failure, not a skip */
    ck_assert_msg(system("command -v chromium >/dev/null 2>&1") == 0,
                  "chromium is not installed (make deps installs it)");
    unlink("build/e2e-report.png");
    snprintf(cmd, sizeof(cmd),
             "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
             "--no-first-run --disable-extensions --enable-logging=stderr --v=0 "
             "--window-size=1100,2400 --screenshot=build/e2e-report.png "
             "file://$(pwd)/build/e2e-report.html > build/e2e-report.log 2>&1");
    st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "chromium failed: see build/e2e-report.log");
    f = fopen("build/e2e-report.png", "rb");
    ck_assert_msg(f != NULL, "no screenshot");
    fseek(f, 0, SEEK_END);
    png = ftell(f);
    fclose(f);
    ck_assert_msg(png > 20000, "the screenshot is %ld bytes: an empty page?", png);
    /* the page's console (Chromium logs it as "INFO:CONSOLE:<line>] ...", an uncaught
     * exception as "Uncaught ...") fails the test; the browser's own noise (dbus, GPU, its
     * background fetches) does not. Checked by hand on a page with a script error. */
    st = system("grep -E 'CONSOLE[:(]|Uncaught' build/e2e-report.log >/dev/null");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "console errors in build/e2e-report.log");
}
END_TEST

/* Run artifacts: content-addressed by SHA-256, listed, downloaded; paths that could escape
 * are refused; the size cap (tracking.artifact_max_mb = 1 here) holds. */
START_TEST(run_artifacts)
{
    static const char body[] = "hello artifact\n";
    static const char sha[] = "51bc0fc1f19104fa6e89ce50be9aa1f57c3346c1ca51ab49f5f00e14ce8f8076";
    struct qt_resp r;
    long long run = qt_sql_int(dbinfo, "SELECT max(id) FROM runs");
    char path[256], file[800], cmd[1400];
    char *big;
    int st;

    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts?path=plots/a.txt", run);
    ck_assert_int_eq(qt_http(&d, "PUT", path, d.token, "text/plain", body, strlen(body), &r), 0);
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(r.json, "sha256")), sha);
    ck_assert_int_eq(json_integer_value(json_object_get(r.json, "size")), (int)strlen(body));
    qt_resp_free(&r);
    /* the same bytes under another name: one file */
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts?path=copy.html", run);
    ck_assert_int_eq(qt_http(&d, "PUT", path, d.token, "text/html", body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 201);
    qt_resp_free(&r);
    snprintf(file, sizeof(file), "%s/artifacts/51/%s", d.state_dir, sha);
    ck_assert_int_eq(access(file, F_OK), 0);
    snprintf(cmd, sizeof(cmd),
             "test $(find %s/artifacts/51 -type f | wc -l) -eq 1 && test -z \"$(ls -A "
             "%s/artifacts/tmp)\"", d.state_dir, d.state_dir);
    st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "one stored file, no temporary left");
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq((int)json_array_size(json_object_get(r.json, "artifacts")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(r.json,
                                                                      "artifacts"), 0), "path")),
                     "copy.html");
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts/file?path=copy.html", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(qt_header(&r, "Content-Type"), "text/html"));
    ck_assert_str_eq(qt_header(&r, "Content-Security-Policy"), "sandbox");
    ck_assert_int_eq((int)r.len, (int)strlen(body));
    ck_assert(memcmp(r.body, body, r.len) == 0);
    qt_resp_free(&r);
    /* names that could escape, or are not names */
    {
        static const char *const badp[] = {"..%2Fetc%2Fpasswd", "%2Fabs", "a%2F%2Fb", "a%2F.%2Fb",
                                            "a%5Cb", "", "x%2F.."};
        for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++) {
            snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts?path=%s", run, badp[i]);
            ck_assert_int_eq(qt_http(&d, "PUT", path, d.token, "text/plain", body, strlen(body),
                                     &r), 0);
            ck_assert_msg(r.status == 400, "%s: %ld", badp[i], r.status);
            qt_resp_free(&r);
        }
    }
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts/file?path=..%%2Fx", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 400);
    qt_resp_free(&r);
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts/file?path=nope.txt", run);
    ck_assert_int_eq(qt_get(&d, path, &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    ck_assert_int_eq(qt_http(&d, "PUT", "/v1/runs/999999/artifacts?path=x.txt", d.token,
                             "text/plain", body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 404);
    qt_resp_free(&r);
    /* no token: refused before anything is written */
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts?path=anon.txt", run);
    ck_assert_int_eq(qt_http(&d, "PUT", path, NULL, "text/plain", body, strlen(body), &r), 0);
    ck_assert_int_eq(r.status, 401);
    qt_resp_free(&r);
    /* over the cap (1 MiB here): 413, nothing kept */
    big = malloc((1 << 20) + 10);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', (1 << 20) + 10);
    snprintf(path, sizeof(path), "/v1/runs/%lld/artifacts?path=big.bin", run);
    ck_assert_int_eq(qt_http(&d, "PUT", path, d.token, "application/octet-stream", big,
                             (1 << 20) + 10, &r), 0);
    ck_assert_int_eq(r.status, 413);
    qt_resp_free(&r);
    free(big);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM artifacts WHERE path NOT LIKE "
                                        "'reports/%'"), 2);
    st = system(cmd);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "no temporary file left");
}
END_TEST

/* POST /v1/runs/{id}/rerun: the recorded params, run again on the same data, give the same
 * metrics bit for bit, as a new run of the same experiment. */
START_TEST(rerun_reproduces)
{
    static const char *const which[] = {"combo", "rsi", "bb"};
    struct qt_resp r;
    json_t *job, *res;
    char path[96], sql[256];

    for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
        long long id, exp, rid;
        snprintf(sql, sizeof(sql), "SELECT max(id) FROM runs WHERE strategy = '%s'", which[i]);
        id = qt_sql_int(dbinfo, sql);
        ck_assert_int_gt(id, 0);
        snprintf(path, sizeof(path), "/v1/runs/%lld/rerun", id);
        ck_assert_int_eq(qt_post_json(&d, path, "", &r), 0);
        ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body);
        ck_assert_ptr_nonnull(qt_header(&r, "Location"));
        job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
        qt_resp_free(&r);
        ck_assert_ptr_nonnull(job);
        ck_assert_msg(strcmp(json_string_value(json_object_get(job, "status")), "succeeded") == 0,
                      "%s: %s", which[i], json_dumps(json_object_get(job, "error"), 0));
        res = json_object_get(job, "result");
        ck_assert_msg(json_is_true(json_object_get(res, "match")), "%s: %s", which[i],
                      json_dumps(json_object_get(res, "mismatches"), 0));
        ck_assert(json_is_true(json_object_get(res, "data_hash_match")));
        rid = json_integer_value(json_object_get(res, "rerun_id"));
        ck_assert_int_gt(rid, id);
        snprintf(sql, sizeof(sql), "SELECT experiment_id FROM runs WHERE id = %lld", id);
        exp = qt_sql_int(dbinfo, sql);
        snprintf(sql, sizeof(sql), "SELECT experiment_id FROM runs WHERE id = %lld", rid);
        ck_assert_int_eq(qt_sql_int(dbinfo, sql), exp);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM runs a, runs b WHERE a.id = %lld AND b.id = %lld AND "
                 "a.params = b.params AND a.strategy = b.strategy", id, rid);
        ck_assert_int_eq(qt_sql_int(dbinfo, sql), 1);
        json_decref(job);
    }
    /* an unknown run: the job fails saying so */
    ck_assert_int_eq(qt_post_json(&d, "/v1/runs/999999/rerun", "", &r), 0);
    ck_assert_int_eq(r.status, 202);
    job = qt_wait_job(&d, json_integer_value(json_object_get(r.json, "id")), 60000);
    qt_resp_free(&r);
    ck_assert_str_eq(json_string_value(json_object_get(job, "status")), "failed");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(job, "error"),
                                                                   "message")),
                                 "not found"));
    json_decref(job);
}
END_TEST

START_TEST(features_built_and_served)
{
    json_t *job = run_job("{\"type\":\"build_features\",\"params\":{\"symbols\":[\"BT\","
                          "\"NOBARS\"],\"names\":[\"sma_20\",\"rsi_14\",\"bb_upper_20_2\","
                          "\"risk_regime\",\"credit_spread\"],\"start_date\":\"2015-01-01\","
                          "\"end_date\":\"2019-12-31\"}}",
                          "succeeded");
    json_t *syms = json_object_get(json_object_get(job, "result"), "symbols");
    json_t *bt = json_array_get(syms, 0), *rows, *row;
    struct qt_resp r;
    char sql[512];
    long long n;

    /* a feature that needs absent series gets an error, never zeros */
    ck_assert_ptr_nonnull(json_object_get(json_object_get(bt, "feature_errors"), "credit_spread"));
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'credit_spread'"),
                     0);
    /* the risk regime is computed with its documented fallback, and says so */
    ck_assert_ptr_nonnull(
        json_object_get(json_object_get(bt, "feature_fallbacks"), "risk_regime"));
    ck_assert_int_gt(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'risk_regime' AND value BETWEEN 0 AND 3"),
                     0);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'risk_regime' AND value <> floor(value)"),
                     0);
    ck_assert_ptr_nonnull(json_object_get(json_array_get(syms, 1), "error"));
    n = qt_sql_int(dbinfo, "SELECT count(*) FROM bars WHERE symbol = 'BT' AND ts >= '2015-01-01' "
                           "AND ts <= '2019-12-31'");
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = 'sma_20'"), n);
    /* sma_20 equals the mean of the last 20 closes, computed here by PostgreSQL */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM features f JOIN (SELECT ts::date AS d, avg(close) OVER (ORDER "
             "BY ts ROWS 19 PRECEDING) AS m FROM bars WHERE symbol = 'BT') b ON b.d = f.ts "
             "WHERE f.symbol = 'BT' AND f.name = 'sma_20' AND abs(f.value - b.m) > 1e-9");
    ck_assert_int_eq(qt_sql_int(dbinfo, sql), 0);
    json_decref(job);
    /* rebuilding writes nothing new */
    job = run_job("{\"type\":\"build_features\",\"params\":{\"symbols\":[\"BT\"],"
                  "\"names\":[\"sma_20\"],\"start_date\":\"2015-01-01\","
                  "\"end_date\":\"2019-12-31\"}}",
                  "succeeded");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(job, "result"), "written")),
                     0);
    json_decref(job);

    ck_assert_int_eq(qt_get(&d, "/v1/features/BT?names=sma_20,rsi_14,ema_5&start=2015-01-05"
                                "&end=2015-01-09",
                            &r), 0);
    ck_assert_msg(r.status == 200, "%s", r.body);
    rows = json_object_get(r.json, "rows");
    ck_assert_int_eq((int)json_array_size(rows), 5);
    row = json_array_get(rows, 0);
    ck_assert_str_eq(json_string_value(json_object_get(row, "ts")), "2015-01-05");
    ck_assert(json_is_number(json_object_get(row, "sma_20")));
    ck_assert(json_is_number(json_object_get(row, "rsi_14")));
    ck_assert(json_is_null(json_object_get(row, "ema_5")));      /* never computed: null */
    qt_resp_free(&r);
    ck_assert_int_eq(qt_get(&d, "/v1/features/BT?names=sma_x", &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "names");
    qt_resp_free(&r);
    ck_assert_int_eq(qt_post_json(&d, "/v1/jobs",
                                  "{\"type\":\"build_features\",\"params\":{\"symbols\":[\"BT\"],"
                                  "\"names\":[\"sma_20\",\"nonsense_3\"],\"start_date\":"
                                  "\"2015-01-01\",\"end_date\":\"2019-12-31\"}}",
                                  &r), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "params.names[1]");
    qt_resp_free(&r);
}
END_TEST

/* The macro and positioning features and the regimes read the series present: rows put into
 * macro_observations and cot_reports here as the ingestion jobs will write them. */
START_TEST(macro_features_from_series)
{
    json_t *job, *bt;
    char sql[1024];

    ck_assert_int_eq(qt_sql_exec(dbinfo, "DELETE FROM macro_observations"), 0);
    ck_assert_int_eq(qt_sql_exec(dbinfo, "DELETE FROM cot_reports"), 0);
    /* business days 2014-2019: the curve +1 until 2017, then -0.5; HY OAS rising by 0.001 a
     * day; DGS10 2 + 0.0005 a day; VIX 25; one missing HY value on 2018-03-01 */
    ck_assert_int_eq(qt_sql_exec(dbinfo,
        "INSERT INTO macro_observations (series_id, date, value) "
        "SELECT s, d::date, CASE s WHEN 'T10Y2Y' THEN CASE WHEN d < '2017-01-01' THEN 1.0 "
        "ELSE -0.5 END WHEN 'BAMLH0A0HYM2' THEN CASE WHEN d = '2018-03-01' THEN NULL "
        "ELSE 4 + 0.001 * (d::date - '2014-01-01'::date) END "
        "WHEN 'DGS10' THEN 2 + 0.0005 * (d::date - '2014-01-01'::date) ELSE 25 END "
        "FROM generate_series('2014-01-01'::date, '2019-12-31', '1 day') d, "
        "unnest(ARRAY['T10Y2Y', 'BAMLH0A0HYM2', 'DGS10', 'VIX']) s "
        "WHERE extract(isodow FROM d) < 6"), 0);
    /* weekly COT reports on Tuesdays: net non-commercial (600 + k - 400) / 1000 */
    ck_assert_int_eq(qt_sql_exec(dbinfo,
        "INSERT INTO cot_reports (market, report_date, open_interest, noncomm_long, "
        "noncomm_short) SELECT '13874A', d::date, 1000, "
        "600 + ((d::date - '2013-12-31'::date) / 7) % 50, 400 "
        "FROM generate_series('2013-12-31'::date, '2019-12-31', '7 days') d"), 0);
    job = run_job("{\"type\":\"build_features\",\"params\":{\"symbols\":[\"BT\"],\"names\":"
                  "[\"curve_slope\",\"credit_spread\",\"credit_spread_change\",\"rate_momentum\","
                  "\"cot_net_noncommercial\",\"cot_net_noncommercial_z\",\"risk_regime\","
                  "\"volatility_regime\"],\"start_date\":\"2017-01-01\","
                  "\"end_date\":\"2019-12-31\"}}",
                  "succeeded");
    bt = json_array_get(json_object_get(json_object_get(job, "result"), "symbols"), 0);
    ck_assert_msg(json_object_get(bt, "feature_errors") == NULL, "%s",
                  json_dumps(json_object_get(bt, "feature_errors"), 0));
    ck_assert_ptr_null(json_object_get(bt, "feature_fallbacks"));   /* VIX, HY, curve there */
    ck_assert_int_gt(json_integer_value(json_object_get(
                         json_object_get(json_object_get(job, "result"), "inputs"), "cot")),
                     300);
    /* every stored value is the series as of the bar: the latest non-missing observation
     * dated at least one day before it (FRED), PostgreSQL computing the expectation */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM features f WHERE f.symbol = 'BT' AND f.name = '%s' AND "
             "f.value IS DISTINCT FROM (SELECT value FROM macro_observations m WHERE "
             "m.series_id = '%s' AND m.value IS NOT NULL AND m.date <= f.ts - 1 "
             "ORDER BY m.date DESC LIMIT 1)", "curve_slope", "T10Y2Y");
    ck_assert_int_eq(qt_sql_int(dbinfo, sql), 0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM features f WHERE f.symbol = 'BT' AND f.name = '%s' AND "
             "f.value IS DISTINCT FROM (SELECT value FROM macro_observations m WHERE "
             "m.series_id = '%s' AND m.value IS NOT NULL AND m.date <= f.ts - 1 "
             "ORDER BY m.date DESC LIMIT 1)", "credit_spread", "BAMLH0A0HYM2");
    ck_assert_int_eq(qt_sql_int(dbinfo, sql), 0);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'curve_slope' AND ts >= '2017-01-03' AND value <> -0.5"),
                     0);
    /* the bar after the missing HY value (2018-03-01) has the one before it, never 0 */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features f JOIN "
                                        "macro_observations m ON m.series_id = 'BAMLH0A0HYM2' "
                                        "AND m.date = '2018-02-28' WHERE f.symbol = 'BT' AND "
                                        "f.name = 'credit_spread' AND f.ts = '2018-03-02' AND "
                                        "f.value = m.value"),
                     1);
    /* COT: Tuesday's report is used from Friday on */
    ck_assert_int_eq(qt_sql_int(dbinfo,
        "SELECT count(*) FROM features f WHERE f.symbol = 'BT' AND f.name = "
        "'cot_net_noncommercial' AND f.value IS DISTINCT FROM (SELECT (noncomm_long - "
        "noncomm_short)::float8 / open_interest FROM cot_reports c WHERE c.report_date <= "
        "f.ts - 3 ORDER BY c.report_date DESC LIMIT 1)"), 0);
    ck_assert_int_gt(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'cot_net_noncommercial_z'"),
                     600);
    /* VIX 25: volatility regime 2 everywhere; risk at least 1 (VIX), and 2+ once inverted */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'volatility_regime' AND value <> 2"),
                     0);
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'risk_regime' AND value < 2 AND ts >= '2017-01-04'"),
                     0);
    /* credit_spread_change is the 21-bar change: HY rises 0.001 a calendar day */
    ck_assert_int_eq(qt_sql_int(dbinfo, "SELECT count(*) FROM features WHERE name = "
                                        "'credit_spread_change' AND (value < 0.025 OR "
                                        "value > 0.045)"),
                     0);
    json_decref(job);
    /* the risk filter of a backtest reads the same inputs: level >= 1 everywhere (VIX 25), so
     * max_level 0 never holds a position */
    job = run_job("{\"type\":\"equity_backtest\",\"params\":{\"symbols\":[\"BT\"],"
                  "\"start_date\":\"2015-01-01\",\"end_date\":\"2019-12-31\","
                  "\"experiment_name\":\"risk-off\",\"strategy_configs\":[{\"momentum\":"
                  "{\"sma_crossover\":{\"fast\":5,\"slow\":20}},\"regime_aware\":"
                  "{\"risk_regime_filter\":{\"max_level\":0}}}]}}",
                  "succeeded");
    {
        json_t *best = json_object_get(json_object_get(job, "result"), "best");
        const char *k;
        json_t *v, *m = NULL;
        json_object_foreach(best, k, v) m = json_object_get(v, "metrics");
        ck_assert_ptr_nonnull(m);
        ck_assert(json_number_value(json_object_get(m, "exposure")) == 0);
        ck_assert(json_number_value(json_object_get(m, "num_trades")) == 0);
    }
    json_decref(job);
    ck_assert_int_eq(qt_sql_exec(dbinfo, "DELETE FROM macro_observations"), 0);
    ck_assert_int_eq(qt_sql_exec(dbinfo, "DELETE FROM cot_reports"), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("backtest");
    TCase *tc = tcase_create("backtest");
    SRunner *sr;
    int failed;

    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, grid_sweep_recorded_as_runs);
    tcase_add_test(tc, single_run_matches_grid_point);
    tcase_add_loop_test(tc, bad_params_name_the_field, 0, sizeof(bad) / sizeof(bad[0]));
    tcase_add_test(tc, no_bars_fails_clearly);
    tcase_add_test(tc, features_built_and_served);
    tcase_add_test(tc, macro_features_from_series);
    tcase_add_test(tc, rsi_bollinger_and_combo);
    tcase_add_test(tc, sizing_modes_end_to_end);
    tcase_add_test(tc, long_short_runs);
    tcase_add_test(tc, strategies_listed);
    tcase_add_test(tc, portfolio_of_two);
    tcase_add_test(tc, experiment_views);
    tcase_add_test(tc, experiment_compare_and_best);
    tcase_add_test(tc, experiments_created_and_metrics_logged);
    tcase_add_test(tc, model_registry);
    tcase_add_test(tc, experiment_report);
    tcase_add_test(tc, run_artifacts);
    tcase_add_test(tc, rerun_reproduces);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed || teardown_failed ? 1 : 0;
}

/* tracking/compare.c: grouping by strategy (best with ties to the lowest id, median, mean,
 * undefined values, the direction of a metric) and the comparison JSON on hand-made curves. */
#include "tests/unit/unit.h"
#include "tracking/compare.h"
#include "tracking/params.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Runs of fixed arrays (not released: nothing here is malloc'd). */
struct fixture {
    int64_t id[7];
    char   *strategy[7], *params[7];
    double  value[7], sharpe[7];
};

static struct exp_runs
make_runs(struct fixture *f)
{
    static const char *const strat[7] = {"a", "b", "a", "c", "b", "a", "c"};
    static const double val[7] = {1.0, 3.0, 2.0, NAN, 3.0, 2.0, NAN};
    struct exp_runs r = {.experiment_id = 9, .n = 7};

    for (int i = 0; i < 7; i++) {
        f->id[i] = 100 + i;
        f->strategy[i] = (char *)strat[i];
        f->params[i] = (char *)"{\"x\": 1}";
        f->value[i] = val[i];
        f->sharpe[i] = val[i];
    }
    snprintf(r.experiment, sizeof(r.experiment), "e");
    r.id = f->id;
    r.strategy = f->strategy;
    r.params = f->params;
    r.value = f->value;
    r.sharpe = f->sharpe;
    return r;
}

START_TEST(groups_best_median_mean)
{
    struct fixture f;
    struct exp_runs r = make_runs(&f);
    struct cmp_group *g;
    size_t ng;
    struct qd_err err;

    ck_assert_int_eq(compare_groups(&r, 1, &g, &ng, &err), QD_OK);
    ck_assert_uint_eq(ng, 3);
    /* b: values 3, 3 -> best 3 (run 101, the lower id of the tie), median 3 */
    ck_assert_str_eq(g[0].strategy, "b");
    ck_assert_uint_eq(g[0].best, 1);
    ck_assert(g[0].best_value == 3 && g[0].median == 3 && g[0].mean == 3);
    /* a: 1, 2, 2 -> best 2 at run 102 (index 2, lower id than index 5), median 2, mean 5/3 */
    ck_assert_str_eq(g[1].strategy, "a");
    ck_assert_uint_eq(g[1].best, 2);
    ck_assert_uint_eq(g[1].count, 3);
    ck_assert(g[1].median == 2);
    ck_assert_double_eq_tol(g[1].mean, 5.0 / 3.0, 1e-15);
    /* c: undefined everywhere, last */
    ck_assert_str_eq(g[2].strategy, "c");
    ck_assert_uint_eq(g[2].best, SIZE_MAX);
    ck_assert_uint_eq(g[2].defined, 0);
    ck_assert(isnan(g[2].median) && isnan(g[2].mean));
    free(g);
    /* lower is better: a (best 1 at run 100) first */
    ck_assert_int_eq(compare_groups(&r, -1, &g, &ng, &err), QD_OK);
    ck_assert_str_eq(g[0].strategy, "a");
    ck_assert_uint_eq(g[0].best, 0);
    ck_assert(g[0].median == 2);
    free(g);
    ck_assert_int_eq(compare_direction("max_drawdown"), -1);
    ck_assert_int_eq(compare_direction("annual_volatility"), -1);
    ck_assert_int_eq(compare_direction("sharpe_ratio"), 1);
    ck_assert_int_eq(compare_direction("cagr"), 1);
}
END_TEST

START_TEST(compare_json_shape)
{
    struct fixture f;
    struct exp_runs r = make_runs(&f);
    struct cmp_group *g;
    size_t ng;
    struct qd_err err;
    int32_t days[40];
    double eq_a[40], eq_b[40];
    struct cmp_curve curves[3] = {{0}};
    struct cmp_opts o = {.metric = "m", .direction = 1, .dsr_threshold = 0.95, .resamples = 500};
    json_t *out, *s;

    for (int i = 0; i < 40; i++) {
        days[i] = 18000 + i;
        eq_a[i] = 100 * (1 + 0.01 * i + 0.003 * ((i * 7) % 5));
        eq_b[i] = 100 * (1 + 0.004 * i + 0.005 * ((i * 3) % 4));
    }
    ck_assert_int_eq(compare_groups(&r, 1, &g, &ng, &err), QD_OK);
    curves[0] = (struct cmp_curve){days, eq_a, 40};        /* b's best */
    curves[1] = (struct cmp_curve){days + 10, eq_b, 30};   /* a's best: 30 dates, 30 shared */
    ck_assert_int_eq(compare_json(&r, g, ng, curves, &o, &out, &err), QD_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(out, "best"), "run_id")),
                     101);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(out, "deflation"),
                                                        "trials")), 7);
    s = json_array_get(json_object_get(out, "strategies"), 0);
    ck_assert(json_is_null(json_object_get(s, "vs_best")));
    ck_assert_int_eq(json_integer_value(json_object_get(s, "returns")), 39);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "sharpe_ci"),
                                                        "resamples")), 500);
    s = json_array_get(json_object_get(out, "strategies"), 1);
    /* paired on the 30 common dates: 29 returns */
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "vs_best"), "returns")),
                     29);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "vs_best"), "run_id")),
                     101);
    s = json_array_get(json_object_get(out, "strategies"), 2);
    ck_assert(json_is_null(json_object_get(s, "best_run_id")));
    ck_assert_ptr_nonnull(json_object_get(s, "note"));
    json_decref(out);
    /* a best run without a kept curve: nulls and a note, no error */
    curves[1] = (struct cmp_curve){0};
    ck_assert_int_eq(compare_json(&r, g, ng, curves, &o, &out, &err), QD_OK);
    s = json_array_get(json_object_get(out, "strategies"), 1);
    ck_assert(json_is_null(json_object_get(s, "dsr")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(s, "note")), "not kept"));
    json_decref(out);
    free(g);
}
END_TEST

START_TEST(params_nested_back)
{
    json_t *flat = json_pack("{s:i, s:i, s:i, s:f, s:s}", "momentum.sma_crossover.fast", 7,
                             "momentum.sma_crossover.slow", 21, "regime_aware.trend_filter.window",
                             200, "fees.rate", 0.001, "fill", "next_open");
    json_t *cfg = run_params_strategy_config(flat), *want;
    char long_key[300];

    want = json_pack("{s:{s:{s:i, s:i}}, s:{s:{s:i}}}", "momentum", "sma_crossover", "fast", 7,
                     "slow", 21, "regime_aware", "trend_filter", "window", 200);
    ck_assert(json_equal(cfg, want));                   /* fees and fill are not strategy */
    ck_assert(run_param_is_strategy("mean_reversion.bollinger_bands.std"));
    ck_assert(!run_param_is_strategy("momentumx.a") && !run_param_is_strategy("sizing.mode"));
    memset(long_key, 'a', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    run_params_set_nested(cfg, long_key, json_object_get(flat, "fill"));
    ck_assert(json_equal(cfg, want));                   /* a key too long is left out */
    json_decref(want);
    json_decref(cfg);
    json_decref(flat);
}
END_TEST

Suite *
suite_compare(void)
{
    Suite *s = suite_create("compare");
    TCase *tc = tcase_create("all");

    tcase_add_test(tc, groups_best_median_mean);
    tcase_add_test(tc, compare_json_shape);
    tcase_add_test(tc, params_nested_back);
    suite_add_tcase(s, tc);
    return s;
}

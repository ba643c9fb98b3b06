/* tracking/filter.c: the run-search filter grammar and the SQL it compiles to (docs/tracking.md).
 * Expected SQL is written out from the documented forms, not copied from the module's output;
 * every error is checked for its message and its byte position. */
#include "tests/unit/unit.h"
#include "tracking/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The documented forms, for tables that check many conditions of one shape. */
#define METRIC_SQL(k, op, v)                                                                      \
    "EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id AND m.key = $" k " AND m.step = 0 "   \
    "AND m.value <> 'NaN'::float8 AND m.value " op " $" v "::float8)"
#define PARAM_NUM_SQL(k, op, v)                                                                   \
    "(jsonb_typeof(r.params -> $" k ") = 'number' AND (r.params -> $" k ") " op                  \
    " to_jsonb($" v "::numeric))"
#define PARAM_STR_SQL(k, op, v) "(r.params ->> $" k ") " op " $" v
#define TAG_SQL(k, op, v)       "(r.tags ->> $" k ") " op " $" v

/* Parses a NUL-terminated text, asserting success. */
static void
parse_ok(const char *text, int first, struct run_filter *f)
{
    struct qd_err err = {0};
    enum qd_code rc = run_filter_parse(text, strlen(text), first, f, &err);

    ck_assert_msg(rc == QD_OK, "\"%s\": %s", text, err.msg);
}

/* text parses (first parameter 2) to sql with the given values. */
static void
expect(const char *text, const char *sql, int nvalues, const char *const *values)
{
    struct run_filter f;

    parse_ok(text, 2, &f);
    ck_assert_msg(strcmp(f.sql, sql) == 0, "\"%s\":\n got  %s\n want %s", text, f.sql, sql);
    ck_assert_int_eq(f.nvalues, nvalues);
    for (int i = 0; i < nvalues; i++)
        ck_assert_msg(strcmp(f.values[i], values[i]) == 0, "\"%s\": $%d = \"%s\", want \"%s\"",
                      text, i + 2, f.values[i], values[i]);
    run_filter_release(&f);
}

/* text[0..len) fails with QD_EINVAL, a message holding want and " at <pos>", and f zeroed. */
static void
expect_error_n(const char *text, size_t len, const char *want, size_t pos)
{
    struct run_filter f;
    struct qd_err err = {0};
    char at[32];
    const char *hit;

    memset(&f, 0x55, sizeof(f));                /* must come back zeroed */
    ck_assert_int_eq(run_filter_parse(text, len, 2, &f, &err), QD_EINVAL);
    ck_assert_ptr_null(f.sql);
    ck_assert_ptr_null(f.values);
    ck_assert_int_eq(f.nvalues, 0);
    ck_assert_str_eq(err.field, "filter");
    ck_assert_msg(strncmp(err.msg, "filter: ", 8) == 0, "message \"%s\"", err.msg);
    ck_assert_msg(strstr(err.msg, want) != NULL, "\"%.60s\": message \"%s\", want \"%s\"", text,
                  err.msg, want);
    snprintf(at, sizeof(at), " at %zu", pos);
    hit = strstr(err.msg, at);
    ck_assert_msg(hit != NULL && (hit[strlen(at)] == '\0' || hit[strlen(at)] == ' '),
                  "\"%.60s\": message \"%s\", want position %zu", text, err.msg, pos);
    run_filter_release(&f);                     /* harmless on a zeroed filter */
}

static void
expect_error(const char *text, const char *want, size_t pos)
{
    expect_error_n(text, strlen(text), want, pos);
}

/* ---- the brief's example, written out in full ---- */

START_TEST(full_example)
{
    static const char *const v[] = {"sharpe_ratio", "1.5", "momentum.sma_crossover.fast", "10",
                                    "owner", "ann", "finished"};

    expect("metrics.sharpe_ratio > 1.5 AND params.`momentum.sma_crossover.fast` = 10 and "
           "tags.owner = 'ann' AND attributes.status = \"finished\"",
           "EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id AND m.key = $2 AND m.step = 0 "
           "AND m.value <> 'NaN'::float8 AND m.value > $3::float8) AND "
           "(jsonb_typeof(r.params -> $4) = 'number' AND (r.params -> $4) = "
           "to_jsonb($5::numeric)) AND (r.tags ->> $6) = $7 AND r.status = $8",
           7, v);
}
END_TEST

START_TEST(attributes_full_sql)
{
    static const char *const v[] = {"7", "1700000000000", "1700000086400", "ann's", "mom%"};

    expect("run.id >= 7 AND attributes.start_time > 1.7e12 AND attr.end_time <= 1700000086400"
           " AND attribute.name != \"ann's\" AND run.strategy LIKE 'mom%'",
           "r.id >= $2::bigint AND r.start_time > to_timestamp($3::float8 / 1000) AND "
           "r.end_time <= to_timestamp($4::float8 / 1000) AND r.name <> $5 AND "
           "r.strategy LIKE $6",
           5, v);
}
END_TEST

START_TEST(blank_is_true)
{
    static const char *const blanks[] = {"", " ", "\t\n  \r\n"};
    struct run_filter f;
    struct qd_err err = {0};

    for (size_t i = 0; i < QD_ARRAY_LEN(blanks); i++) {
        parse_ok(blanks[i], 2, &f);
        ck_assert_str_eq(f.sql, "TRUE");
        ck_assert_int_eq(f.nvalues, 0);
        ck_assert_ptr_null(f.values);
        run_filter_release(&f);
    }
    ck_assert_int_eq(run_filter_parse(NULL, 0, 2, &f, &err), QD_OK);    /* no text at all */
    ck_assert_str_eq(f.sql, "TRUE");
    run_filter_release(&f);
    ck_assert_int_eq(run_filter_parse(NULL, 3, 2, &f, &err), QD_EINVAL);
    ck_assert_int_eq(run_filter_parse("", 0, 2, NULL, &err), QD_EINVAL);
}
END_TEST

/* ---- prefixes and their aliases, in any case ---- */

static const struct {
    const char *text, *sql;
} prefix_cases[] = {
    {"metrics.k = 1", METRIC_SQL("2", "=", "3")},
    {"metric.k = 1", METRIC_SQL("2", "=", "3")},
    {"METRICS.k = 1", METRIC_SQL("2", "=", "3")},
    {"Metric.k = 1", METRIC_SQL("2", "=", "3")},
    {"params.k = 1", PARAM_NUM_SQL("2", "=", "3")},
    {"param.k = 1", PARAM_NUM_SQL("2", "=", "3")},
    {"parameters.k = 1", PARAM_NUM_SQL("2", "=", "3")},
    {"PARAMS.k = 'v'", PARAM_STR_SQL("2", "=", "3")},
    {"Parameters.k = 'v'", PARAM_STR_SQL("2", "=", "3")},
    {"tags.k = 'v'", TAG_SQL("2", "=", "3")},
    {"tag.k = 'v'", TAG_SQL("2", "=", "3")},
    {"TAGS.k = 'v'", TAG_SQL("2", "=", "3")},
    {"attributes.status = 'v'", "r.status = $2"},
    {"attribute.status = 'v'", "r.status = $2"},
    {"attr.status = 'v'", "r.status = $2"},
    {"run.status = 'v'", "r.status = $2"},
    {"ATTRIBUTES.status = 'v'", "r.status = $2"},
    {"Run.Status = 'v'", "r.status = $2"},              /* attribute names in any case too */
    {"attributes.strategy = 'v'", "r.strategy = $2"},
    {"attributes.name = 'v'", "r.name = $2"},
    {"attributes.run_id = 5", "r.id = $2::bigint"},
    {"attributes.id = 5", "r.id = $2::bigint"},
    {"attributes.start_time = 5", "r.start_time = to_timestamp($2::float8 / 1000)"},
    {"attributes.end_time = 5", "r.end_time = to_timestamp($2::float8 / 1000)"},
    {"attributes.`status` = 'v'", "r.status = $2"},     /* a quoted attribute name */
};

START_TEST(prefixes)
{
    struct run_filter f;
    const char *key;

    parse_ok(prefix_cases[_i].text, 2, &f);
    ck_assert_msg(strcmp(f.sql, prefix_cases[_i].sql) == 0, "\"%s\":\n got  %s\n want %s",
                  prefix_cases[_i].text, f.sql, prefix_cases[_i].sql);
    if (strncasecmp(prefix_cases[_i].text, "attr", 4) == 0 ||
        strncasecmp(prefix_cases[_i].text, "run", 3) == 0) {
        ck_assert_int_eq(f.nvalues, 1);                 /* the column is fixed text: no key */
        ck_assert_str_eq(f.values[0], strchr(prefix_cases[_i].text, '\'') ? "v" : "5");
    } else {
        ck_assert_int_eq(f.nvalues, 2);
        key = f.values[0];
        ck_assert_str_eq(key, "k");
        ck_assert_str_eq(f.values[1], strchr(prefix_cases[_i].text, '\'') ? "v" : "1");
    }
    run_filter_release(&f);
}
END_TEST

/* ---- keys ---- */

START_TEST(keys)
{
    static const char *const dotted[] = {"momentum.sma_crossover.fast", "1"};
    static const char *const dashed[] = {"a-b_C.9", "1"};
    static const char *const spaced[] = {"with space, comma; and 'quote'", "x"};
    static const char *const dq[] = {"a`b.c", "x"};
    static const char *const utf8[] = {"r\xc3\xa9gime \xe2\x82\xac", "x"};
    char text[400], key[260];
    struct run_filter f;

    expect("params.momentum.sma_crossover.fast = 1", PARAM_NUM_SQL("2", "=", "3"), 2, dotted);
    expect("params.`momentum.sma_crossover.fast` = 1", PARAM_NUM_SQL("2", "=", "3"), 2, dotted);
    expect("params.\"momentum.sma_crossover.fast\" = 1", PARAM_NUM_SQL("2", "=", "3"), 2,
           dotted);
    expect("metrics.a-b_C.9 = 1", METRIC_SQL("2", "=", "3"), 2, dashed);
    expect("tags.`with space, comma; and 'quote'` = 'x'", TAG_SQL("2", "=", "3"), 2, spaced);
    expect("tags.\"a`b.c\" = 'x'", TAG_SQL("2", "=", "3"), 2, dq);
    expect("tags.`r\xc3\xa9gime \xe2\x82\xac` = 'x'", TAG_SQL("2", "=", "3"), 2, utf8);

    /* 250 bytes is the limit, bare or quoted */
    memset(key, 'k', 250);
    key[250] = '\0';
    snprintf(text, sizeof(text), "metrics.%s > 0", key);
    parse_ok(text, 2, &f);
    ck_assert_uint_eq(strlen(f.values[0]), 250);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "metrics.`%s` > 0", key);
    parse_ok(text, 2, &f);
    ck_assert_uint_eq(strlen(f.values[0]), 250);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "metrics.%sk > 0", key);
    expect_error(text, "key longer than 250 bytes", 8);
    snprintf(text, sizeof(text), "metrics.\"%sk\" > 0", key);
    expect_error(text, "quoted key longer than 250 bytes", 8);
}
END_TEST

/* ---- operators ---- */

static const struct {
    const char *op, *sql;
} op_cases[] = {
    {"=", "="}, {"==", "="}, {"!=", "<>"}, {"<>", "<>"},
    {"<", "<"}, {"<=", "<="}, {">", ">"}, {">=", ">="},
};

START_TEST(operators)
{
    char text[64], want[512];
    struct run_filter f;

    /* with spaces, and without: "metrics.k<=1" */
    for (int spaced = 0; spaced < 2; spaced++) {
        snprintf(text, sizeof(text), spaced ? "metrics.k %s 1" : "metrics.k%s1", op_cases[_i].op);
        snprintf(want, sizeof(want), METRIC_SQL("2", "%s", "3"), op_cases[_i].sql);
        parse_ok(text, 2, &f);
        ck_assert_str_eq(f.sql, want);
        run_filter_release(&f);
    }
    snprintf(text, sizeof(text), "params.k %s -3", op_cases[_i].op);
    snprintf(want, sizeof(want), PARAM_NUM_SQL("2", "%s", "3"), op_cases[_i].sql);
    parse_ok(text, 2, &f);
    ck_assert_str_eq(f.sql, want);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "params.k%s'v'", op_cases[_i].op);
    snprintf(want, sizeof(want), PARAM_STR_SQL("2", "%s", "3"), op_cases[_i].sql);
    parse_ok(text, 2, &f);
    ck_assert_str_eq(f.sql, want);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "tags.k %s 'v'", op_cases[_i].op);
    snprintf(want, sizeof(want), TAG_SQL("2", "%s", "3"), op_cases[_i].sql);
    parse_ok(text, 2, &f);
    ck_assert_str_eq(f.sql, want);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "run.id %s 4", op_cases[_i].op);
    snprintf(want, sizeof(want), "r.id %s $2::bigint", op_cases[_i].sql);
    parse_ok(text, 2, &f);
    ck_assert_str_eq(f.sql, want);
    run_filter_release(&f);
}
END_TEST

START_TEST(like_operators)
{
    static const char *const pv[] = {"k", "a%"};
    static const char *const sv[] = {"b_"};

    expect("params.k LIKE 'a%'", PARAM_STR_SQL("2", "LIKE", "3"), 2, pv);
    expect("params.k like 'a%'", PARAM_STR_SQL("2", "LIKE", "3"), 2, pv);
    expect("params.k ILIKE \"a%\"", PARAM_STR_SQL("2", "ILIKE", "3"), 2, pv);
    expect("params.k iLike 'a%'", PARAM_STR_SQL("2", "ILIKE", "3"), 2, pv);
    expect("tags.k LIKE'a%'", TAG_SQL("2", "LIKE", "3"), 2, pv);
    expect("tags.k Ilike 'a%'", TAG_SQL("2", "ILIKE", "3"), 2, pv);
    expect("run.status LIKE 'b_'", "r.status LIKE $2", 1, sv);
    expect("run.strategy ILIKE 'b_'", "r.strategy ILIKE $2", 1, sv);
    expect("run.name like 'b_'", "r.name LIKE $2", 1, sv);
    /* LIKE is a word: "LIKEx" is not it */
    expect_error("tags.k LIKEx 'a'", "expected an operator", 7);
}
END_TEST

/* ---- values ---- */

static const struct {
    const char *num, *want;     /* want: "%.17g" of the double (metrics, params, start_time) */
} num_cases[] = {
    {"1", "1"},
    {"+1", "1"},
    {"-1", "-1"},
    {"007", "7"},
    {"1.5", "1.5"},
    {"-2.5", "-2.5"},
    {"1e3", "1000"},
    {"1E3", "1000"},
    {"1e+3", "1000"},
    {"+1.5e-3", "0.0015"},
    {"25e-1", "2.5"},
    {".5", "0.5"},
    {"-.5", "-0.5"},
    {"5.", "5"},
    {"0.1", "0.10000000000000001"},             /* the double, as jansson writes a real */
    {"1e20", "1e+20"},
    {"-0", "-0"},
    {"1.7976931348623157e308", "1.7976931348623157e+308"},
    {"4.9e-324", "4.9406564584124654e-324"},
    {"1e-400", "0"},                            /* underflow is finite: accepted */
};

START_TEST(numbers)
{
    char text[128];
    struct run_filter f;

    snprintf(text, sizeof(text), "metrics.m >= %s", num_cases[_i].num);
    parse_ok(text, 2, &f);
    ck_assert_int_eq(f.nvalues, 2);
    ck_assert_str_eq(f.values[1], num_cases[_i].want);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "params.p=%s", num_cases[_i].num);
    parse_ok(text, 2, &f);
    ck_assert_str_eq(f.values[1], num_cases[_i].want);
    run_filter_release(&f);
}
END_TEST

START_TEST(integer_attributes)
{
    static const char *const zero[] = {"0"}, *const big[] = {"9007199254740992"};
    static const char *const neg[] = {"-12"}, *const exp3[] = {"1000"};

    expect("run.id = -0", "r.id = $2::bigint", 1, zero);    /* not "-0" for ::bigint */
    expect("run.run_id = 9007199254740992", "r.id = $2::bigint", 1, big);
    expect("run.run_id = 9.007199254740992e15", "r.id = $2::bigint", 1, big);
    expect("run.id > -12.0", "r.id > $2::bigint", 1, neg);
    expect("run.id < 1e3", "r.id < $2::bigint", 1, exp3);
    expect_error("run.id = 9007199254740994", "must be an integer", 9);
    expect_error("run.id = 1e300", "must be an integer", 9);
    expect_error("run.run_id = 0.5", "must be an integer", 13);
}
END_TEST

START_TEST(strings)
{
    static const char *const sq[] = {"k", "it \"is\""};
    static const char *const dq[] = {"k", "it's"};
    static const char *const empty[] = {"k", ""};
    static const char *const odd[] = {"k", "`%_\\ $1 -- ; /*"};
    static const char *const utf8[] = {"k", "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x88"};
    char text[1100], s[1002];
    struct run_filter f;

    expect("tags.k = 'it \"is\"'", TAG_SQL("2", "=", "3"), 2, sq);
    expect("tags.k = \"it's\"", TAG_SQL("2", "=", "3"), 2, dq);
    expect("tags.k = ''", TAG_SQL("2", "=", "3"), 2, empty);
    expect("tags.k = \"\"", TAG_SQL("2", "=", "3"), 2, empty);
    expect("params.k = '`%_\\ $1 -- ; /*'", PARAM_STR_SQL("2", "=", "3"), 2, odd);
    expect("tags.k = '\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x88'", TAG_SQL("2", "=", "3"), 2,
           utf8);

    /* 1000 bytes is the limit */
    memset(s, 'x', 1000);
    s[1000] = '\0';
    snprintf(text, sizeof(text), "tags.k = '%s'", s);
    parse_ok(text, 2, &f);
    ck_assert_uint_eq(strlen(f.values[1]), 1000);
    run_filter_release(&f);
    snprintf(text, sizeof(text), "tags.k = '%sx'", s);
    expect_error(text, "string longer than 1000 bytes", 9);
}
END_TEST

START_TEST(and_and_whitespace)
{
    static const char *const v[] = {"a", "1", "b", "x"};
    static const char *const ands[] = {"AND", "and", "And", "aNd"};
    const char *want = METRIC_SQL("2", ">", "3") " AND " TAG_SQL("4", "=", "5");
    char text[64];

    for (size_t i = 0; i < QD_ARRAY_LEN(ands); i++) {
        snprintf(text, sizeof(text), "metrics.a > 1 %s tags.b = 'x'", ands[i]);
        expect(text, want, 4, v);
    }
    expect(" \t\nmetrics.a\t>\n1\r\n AND\n\ttags.b\t=\t'x' \n", want, 4, v);
    expect("metrics.a>1 AND tags.b='x'", want, 4, v);
    expect("tags.b='x'AND tags.b='x'", TAG_SQL("2", "=", "3") " AND " TAG_SQL("4", "=", "5"), 4,
           (const char *const[]){"b", "x", "b", "x"});
    /* AND must be a word of its own */
    expect_error("metrics.a > 1 ANDtags.b = 'x'", "expected AND or the end", 14);
    expect_error("metrics.a > 1 && tags.b = 'x'", "expected AND or the end", 14);
    expect_error("metrics.a > 1 AND AND tags.b = 'x'", "unknown prefix \"AND\"", 18);
}
END_TEST

START_TEST(parameter_numbering)
{
    struct run_filter f;
    struct qd_err err = {0};
    const char *text = "tags.t = 'x' AND params.p = 2 AND run.id = 3 AND metrics.m < 4";

    parse_ok(text, 1, &f);
    ck_assert_str_eq(f.sql, TAG_SQL("1", "=", "2") " AND " PARAM_NUM_SQL("3", "=", "4")
                            " AND r.id = $5::bigint AND " METRIC_SQL("6", "<", "7"));
    ck_assert_int_eq(f.nvalues, 7);
    run_filter_release(&f);
    parse_ok(text, 10, &f);
    ck_assert_str_eq(f.sql, TAG_SQL("10", "=", "11") " AND " PARAM_NUM_SQL("12", "=", "13")
                            " AND r.id = $14::bigint AND " METRIC_SQL("15", "<", "16"));
    ck_assert_str_eq(f.values[0], "t");
    ck_assert_str_eq(f.values[1], "x");
    ck_assert_str_eq(f.values[2], "p");
    ck_assert_str_eq(f.values[3], "2");
    ck_assert_str_eq(f.values[4], "3");
    ck_assert_str_eq(f.values[5], "m");
    ck_assert_str_eq(f.values[6], "4");
    run_filter_release(&f);

    /* the largest first number leaves room for 40 parameters below PostgreSQL's 65535 */
    parse_ok("tags.t = 'x'", 65496, &f);
    ck_assert_str_eq(f.sql, TAG_SQL("65496", "=", "65497"));
    run_filter_release(&f);
    for (int bad = 0; bad < 3; bad++) {
        int first = bad == 0 ? 0 : bad == 1 ? -1 : 65497;
        memset(&f, 0x55, sizeof(f));
        ck_assert_int_eq(run_filter_parse("tags.t = 'x'", 12, first, &f, &err), QD_EINVAL);
        ck_assert_ptr_null(f.sql);
        ck_assert_str_eq(err.field, "filter");
    }
}
END_TEST

/* The text is read up to len only: no NUL needed, bytes past len ignored. */
START_TEST(length_bounded)
{
    static const char src[] = "tags.k = 'v' AND tags.z = 'w'";
    char *exact = malloc(12);
    struct run_filter f;
    struct qd_err err = {0};

    ck_assert_ptr_nonnull(exact);
    memcpy(exact, src, 12);                     /* "tags.k = 'v'", no NUL */
    ck_assert_int_eq(run_filter_parse(exact, 12, 2, &f, &err), QD_OK);
    ck_assert_str_eq(f.sql, TAG_SQL("2", "=", "3"));
    ck_assert_str_eq(f.values[1], "v");
    run_filter_release(&f);
    ck_assert_int_eq(run_filter_parse("metrics.m = 15", 13, 2, &f, &err), QD_OK);
    ck_assert_str_eq(f.values[1], "1");
    run_filter_release(&f);
    expect_error_n(exact, 11, "unterminated string starting", 9);
    free(exact);
    /* a NUL inside the text is just a byte the grammar does not take */
    expect_error_n("tags.k = 'v'\0 AND", 17, "expected AND or the end", 12);
    expect_error_n("tags.k = 'v\0'", 13, "control character or invalid UTF-8 in string", 11);
    expect_error_n("tags.k\0 = 'v'", 13, "expected an operator", 6);
}
END_TEST

/* ---- limits ---- */

START_TEST(limits)
{
    char text[RUN_FILTER_MAX_TEXT + 64];
    size_t n = 0, starts[RUN_FILTER_MAX_CONDS + 1];
    struct run_filter f;

    for (int i = 0; i <= RUN_FILTER_MAX_CONDS; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", i ? " AND " : "");
        starts[i] = n;
        n += (size_t)snprintf(text + n, sizeof(text) - n, "metrics.m%d > %d", i, i);
        if (i == RUN_FILTER_MAX_CONDS - 1) {
            ck_assert_int_eq(run_filter_parse(text, n, 2, &f, NULL), QD_OK);
            ck_assert_int_eq(f.nvalues, 2 * RUN_FILTER_MAX_CONDS);
            ck_assert_str_eq(f.values[39], "19");
            run_filter_release(&f);
        }
    }
    expect_error(text, "more than 20 conditions", starts[RUN_FILTER_MAX_CONDS]);

    /* 4096 bytes is the limit, blanks included */
    memset(text, ' ', sizeof(text));
    memcpy(text, "tags.k = 'v'", 12);
    ck_assert_int_eq(run_filter_parse(text, RUN_FILTER_MAX_TEXT, 2, &f, NULL), QD_OK);
    run_filter_release(&f);
    expect_error_n(text, RUN_FILTER_MAX_TEXT + 1, "longer than 4096 bytes", 4096);
    expect_error_n(text + 12, RUN_FILTER_MAX_TEXT + 1, "longer than 4096 bytes", 4096);
}
END_TEST

/* ---- errors: message and byte position ---- */

static const struct {
    const char *text, *want;
    size_t pos;
} err_cases[] = {
    /* what the grammar leaves out */
    {"metrics.a > 1 OR metrics.b < 2", "OR is not supported", 14},
    {"metrics.a > 1 or metrics.b < 2", "OR is not supported", 14},
    {"OR metrics.a > 1", "OR is not supported", 0},
    {"metrics.a > 1 AND or metrics.b < 2", "OR is not supported", 18},
    {"(metrics.a > 1)", "parentheses are not supported", 0},
    {"metrics.a > 1 AND (tags.b = 'x')", "parentheses are not supported", 18},
    {"metrics.a > 1)", "parentheses are not supported", 13},
    {"metrics.a > (1)", "parentheses are not supported", 12},
    {"NOT metrics.a > 1", "unknown prefix \"NOT\"", 0},
    /* missing pieces */
    {"metrics.a 1", "expected an operator", 10},
    {"metrics.a", "expected an operator", 9},
    {"metrics.a ! 1", "expected an operator", 10},
    {"metrics.a IN (1, 2)", "expected an operator", 10},
    {"metrics.a >", "expected a value", 11},
    {"metrics.a > AND tags.b = 'x'", "expected a value", 12},
    {"metrics.a => 1", "expected a value", 11},
    {"tags.a = abc", "expected a value", 9},
    {"metrics.a = inf", "expected a value", 12},
    {"metrics.a = nan", "expected a value", 12},
    {"metrics.a > 1 AND", "expected a condition", 17},
    {"metrics.a > 1 AND   ", "expected a condition", 20},
    {"= 1", "expected a condition", 0},
    {"1 = metrics.a", "expected a condition", 0},
    {".a = 1", "expected a condition", 0},
    {"metrics = 1", "expected '.'", 7},
    {"metrics .a = 1", "expected '.'", 7},
    {"metrics. = 1", "expected a key", 8},
    {"metrics.'a' = 1", "expected a key", 8},
    /* quotes */
    {"tags.a = 'abc", "unterminated string starting", 9},
    {"tags.a = \"abc", "unterminated string starting", 9},
    {"tags.a = 'abc\"", "unterminated string starting", 9},
    {"params.`abc = 1", "unterminated quoted key starting", 7},
    {"params.\"abc = 1", "unterminated quoted key starting", 7},
    {"params.`` = 1", "empty key", 7},
    {"tags.a = 'x\x01y'", "control character or invalid UTF-8 in string", 11},
    {"tags.a = 'x\ny'", "control character or invalid UTF-8 in string", 11},
    {"tags.a = '\xff'", "control character or invalid UTF-8 in string", 10},
    {"tags.a = '\xc3'", "control character or invalid UTF-8 in string", 10},
    /* an overlong '/', a UTF-16 surrogate, a C1 control */
    {"tags.a = '\xc0\xaf'", "control character or invalid UTF-8 in string", 10},
    {"tags.a = '\xed\xa0\x80'", "control character or invalid UTF-8 in string", 10},
    {"tags.a = '\xc2\x85'", "control character or invalid UTF-8 in string", 10},
    {"tags.`a\tb` = 'x'", "control character or invalid UTF-8 in quoted key", 7},
    /* types */
    {"metrics.a = 'x'", "metrics compare with numbers", 12},
    {"metric.a LIKE 'x%'", "metrics compare with numbers", 14},
    {"tags.a = 1", "tags compare with strings", 9},
    {"tags.a > -1e3", "tags compare with strings", 9},
    {"params.a LIKE 1", "LIKE and ILIKE compare with strings", 14},
    {"tags.a ILIKE 1", "LIKE and ILIKE compare with strings", 13},
    {"metrics.a LIKE 1", "LIKE and ILIKE compare with strings", 15},
    {"run.id LIKE 1", "LIKE and ILIKE compare with strings", 12},
    {"run.status = 1", "attributes.status compares with strings", 13},
    {"run.run_id = '7'", "attributes.run_id compares with integers", 13},
    {"run.id LIKE '1%'", "attributes.id compares with integers", 12},
    {"run.start_time = 'yesterday'", "attributes.start_time compares with numbers", 17},
    {"run.end_time > 1e15", "attributes.end_time out of range", 15},
    {"run.run_id = 1.5", "attributes.run_id must be an integer", 13},
    /* names */
    {"foo.a = 1", "unknown prefix \"foo\"", 0},
    {"metrics.a = 1 AND metricz.b = 2", "unknown prefix \"metricz\"", 18},
    {"attributes.bogus = 'x'", "unknown attribute \"bogus\"", 11},
    {"attr.`user id` = 'x'", "(allowed: status, strategy, name, run_id, id, start_time, "
                             "end_time)", 5},
    {"run.run_name = 'x'", "unknown attribute \"run_name\"", 4},
    /* numbers */
    {"metrics.a = 1.5abc", "malformed number", 12},
    {"metrics.a = 1.2.3", "malformed number", 12},
    {"metrics.a = 0x10", "malformed number", 12},
    {"metrics.a = 1_000", "malformed number", 12},
    {"metrics.a = 1e", "malformed number", 12},
    {"metrics.a = 1e+", "malformed number", 12},
    {"metrics.a = -", "malformed number", 12},
    {"metrics.a = +.", "malformed number", 12},
    {"metrics.a = .", "malformed number", 12},
    {"metrics.a = --1", "malformed number", 12},
    {"metrics.a = 1e999", "number out of range", 12},
    {"metrics.a = -1e309", "number out of range", 12},
    /* trailing garbage */
    {"metrics.a > 1 foo", "expected AND or the end", 14},
    {"metrics.a > 1;", "expected AND or the end", 13},
    {"metrics.a > 1; DROP TABLE runs", "expected AND or the end", 13},
    {"tags.a = 'x' 'y'", "expected AND or the end", 13},
    {"tags.a = 'x''y'", "expected AND or the end", 12},
    {"metrics.a > 1 -- comment", "expected AND or the end", 14},
};

START_TEST(errors)
{
    expect_error(err_cases[_i].text, err_cases[_i].want, err_cases[_i].pos);
}
END_TEST

START_TEST(long_names_are_cut_in_messages)
{
    char text[400], want[64];
    struct qd_err err = {0};
    struct run_filter f;

    snprintf(text, sizeof(text), "attr.`%0200d\xc3\xa9` = 'x'", 0);
    ck_assert_int_eq(run_filter_parse(text, strlen(text), 2, &f, &err), QD_EINVAL);
    snprintf(want, sizeof(want), "\"%040d...\"", 0);        /* 40 bytes, then "..." */
    ck_assert_msg(strstr(err.msg, want) != NULL, "message %s", err.msg);
    /* a name with non-ASCII bytes is echoed as ASCII */
    snprintf(text, sizeof(text), "attr.`\xc3\xa9t\xc3\xa9` = 'x'");
    ck_assert_int_eq(run_filter_parse(text, strlen(text), 2, &f, &err), QD_EINVAL);
    ck_assert_msg(strstr(err.msg, "\"??t??\"") != NULL, "message %s", err.msg);
}
END_TEST

/* ---- injection: the user's text ends up in values or in an error, never in the SQL ---- */

/* The SQL's words are all from the fixed fragments; no ';' and no '"'. */
static void
assert_fixed_sql(const char *sql)
{
    static const char *const words[] = {
        "EXISTS", "SELECT", "FROM", "metrics", "m", "WHERE", "run_id", "r", "id", "AND", "key",
        "step", "value", "NaN", "float8", "jsonb_typeof", "params", "number", "to_jsonb",
        "numeric", "tags", "status", "strategy", "name", "bigint", "start_time", "end_time",
        "to_timestamp", "LIKE", "ILIKE", "TRUE",
    };

    ck_assert_ptr_null(strchr(sql, ';'));
    ck_assert_ptr_null(strchr(sql, '"'));
    ck_assert_ptr_null(strstr(sql, "--"));
    for (const char *s = sql; *s;) {
        size_t n = 0, k;
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_') {
            while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') || s[n] == '_' ||
                   (s[n] >= '0' && s[n] <= '9'))
                n++;
            for (k = 0; k < QD_ARRAY_LEN(words); k++)
                if (strlen(words[k]) == n && strncmp(words[k], s, n) == 0)
                    break;
            ck_assert_msg(k < QD_ARRAY_LEN(words), "unexpected word in %s", sql);
            s += n;
        } else {
            ck_assert_msg(strchr("0123456789 $().:'<>=/-", *s) != NULL, "unexpected byte in %s",
                          sql);
            s++;
        }
    }
}

START_TEST(injection)
{
    static const char *const attempts[] = {
        "params.x = 'a''; DROP TABLE runs; --'",
        "params.x = 'a\\'; DROP TABLE runs; --'",
        "tags.x = \"'; DROP TABLE runs; --\"",
        "tags.x = 'a' OR 1=1",
        "tags.x = 'a' AND 1=1",
        "params.`x') OR TRUE --` = 1",
        "params.\"x' || (SELECT password FROM tokens) || '\" = 'y'",
        "run.status = 'x' UNION SELECT 1",
        "run.`status; DROP TABLE runs` = 'x'",
        "metrics.`a = $1 OR m.key` > 0",
        "metrics.a > 1e3; DELETE FROM runs",
        "tags.x LIKE '%'' OR ''1''=''1'",
    };
    struct run_filter f;
    struct qd_err err = {0};
    enum qd_code rc;

    for (size_t i = 0; i < QD_ARRAY_LEN(attempts); i++) {
        rc = run_filter_parse(attempts[i], strlen(attempts[i]), 2, &f, &err);
        ck_assert(rc == QD_OK || rc == QD_EINVAL);
        if (rc == QD_OK) {
            assert_fixed_sql(f.sql);
            run_filter_release(&f);
        }
    }
    /* the brief's case: the doubled quote ends the string, the rest is refused */
    expect_error("params.x = 'a''; DROP TABLE runs; --'", "expected AND or the end", 14);
    /* in a string of the other quote, it is only a value */
    expect("tags.x = \"'; DROP TABLE runs; --\"", "(r.tags ->> $2) = $3", 2,
           (const char *const[]){"x", "'; DROP TABLE runs; --"});
    expect("params.`x') OR TRUE --` = 1", PARAM_NUM_SQL("2", "=", "3"), 2,
           (const char *const[]){"x') OR TRUE --", "1"});
    expect("metrics.`a = $1 OR m.key` > 0", METRIC_SQL("2", ">", "3"), 2,
           (const char *const[]){"a = $1 OR m.key", "0"});
}
END_TEST

START_TEST(sql_is_fixed_text)
{
    /* every accepted form of the tables above passes the word check */
    struct run_filter f;

    for (size_t i = 0; i < QD_ARRAY_LEN(prefix_cases); i++) {
        parse_ok(prefix_cases[i].text, 2, &f);
        assert_fixed_sql(f.sql);
        run_filter_release(&f);
    }
    parse_ok("metrics.a >= 1 AND params.b LIKE 'x' AND tags.c ILIKE 'y' AND run.start_time < 5 "
             "AND run.id <> 3",
             2, &f);
    assert_fixed_sql(f.sql);
    run_filter_release(&f);
}
END_TEST

START_TEST(release_is_idempotent)
{
    struct run_filter f;

    parse_ok("tags.k = 'v'", 2, &f);
    run_filter_release(&f);
    ck_assert_ptr_null(f.sql);
    ck_assert_ptr_null(f.values);
    ck_assert_int_eq(f.nvalues, 0);
    run_filter_release(&f);
    run_filter_release(NULL);
}
END_TEST

Suite *
suite_run_filter(void)
{
    Suite *s = suite_create("run_filter");
    TCase *sql = tcase_create("sql");
    TCase *val = tcase_create("values");
    TCase *bad = tcase_create("errors");
    TCase *safe = tcase_create("injection");

    tcase_add_test(sql, full_example);
    tcase_add_test(sql, attributes_full_sql);
    tcase_add_test(sql, blank_is_true);
    tcase_add_loop_test(sql, prefixes, 0, QD_ARRAY_LEN(prefix_cases));
    tcase_add_test(sql, keys);
    tcase_add_loop_test(sql, operators, 0, QD_ARRAY_LEN(op_cases));
    tcase_add_test(sql, like_operators);
    tcase_add_test(sql, and_and_whitespace);
    tcase_add_test(sql, parameter_numbering);
    tcase_add_test(sql, release_is_idempotent);
    suite_add_tcase(s, sql);
    tcase_add_loop_test(val, numbers, 0, QD_ARRAY_LEN(num_cases));
    tcase_add_test(val, integer_attributes);
    tcase_add_test(val, strings);
    tcase_add_test(val, length_bounded);
    suite_add_tcase(s, val);
    tcase_add_test(bad, limits);
    tcase_add_loop_test(bad, errors, 0, QD_ARRAY_LEN(err_cases));
    tcase_add_test(bad, long_names_are_cut_in_messages);
    suite_add_tcase(s, bad);
    tcase_add_test(safe, injection);
    tcase_add_test(safe, sql_is_fixed_text);
    suite_add_tcase(s, safe);
    return s;
}

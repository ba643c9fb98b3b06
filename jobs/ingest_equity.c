/*
 * ingest_equity: daily bars for a list of symbols from a source into the bars table.
 * Sources now: "synthetic" (feeds/synthetic.c, offline and deterministic) and "yahoo"
 * (feeds/yahoo.c: chart v8 with the cookie + crumb flow; dividends and splits go to
 * corporate_actions) and "csv" (files under the import directory: `path` is a file for one
 * symbol, or a directory holding <SYMBOL>.csv per symbol; optional `columns` mapping and
 * `extra`, as for PUT /v1/bars). Each symbol is
 * written in its own transaction by an idempotent upsert, so a job that crashes half-way and
 * runs again ends with exactly the same rows. One bad symbol does not fail the others: the
 * result lists every symbol's outcome. Worker thread.
 */
#include "common/date.h"
#include "common/log.h"
#include "core/bar.h"
#include "core/symbol.h"
#include "feeds/csv_file.h"
#include "feeds/feeds.h"
#include "feeds/synthetic.h"
#include "feeds/yahoo.h"
#include "jobs/job.h"
#include "storage/bars_db.h"
#include "storage/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QD_LOG_MODULE "ingest"
#define MAX_SYMBOLS 5000

job_validate_fn ingest_equity_validate;
job_run_fn ingest_equity_run;

static const char *const sources[] = {"synthetic", "yahoo", "csv", NULL};

enum qd_code
ingest_equity_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"symbols", "start_date", "end_date", "source", "path",
                                        "columns", "extra", NULL};
    static const char *const colnames[] = {"date", "open", "high", "low", "close", "adj_close",
                                           "volume", NULL};
    const json_t *syms = json_object_get(params, "symbols"), *src, *v;
    int32_t start, end;
    size_t i;
    enum qd_code rc;

    if ((rc = job_param_known(params, known, err)) != QD_OK)
        return rc;
    if (!json_is_array(syms) || json_array_size(syms) == 0)
        return qd_err_field(err, QD_EINVAL, "params.symbols",
                            "symbols must be a non-empty array of strings");
    if (json_array_size(syms) > MAX_SYMBOLS)
        return qd_err_field(err, QD_EINVAL, "params.symbols", "at most %d symbols per job",
                            MAX_SYMBOLS);
    json_array_foreach(syms, i, v)
    {
        if (!json_is_string(v) || !symbol_valid(json_string_value(v), json_string_length(v))) {
            char field[48];
            snprintf(field, sizeof(field), "params.symbols[%zu]", i);
            return qd_err_field(err, QD_EINVAL, field,
                                "a symbol is 1-32 letters, digits or .^=_- starting with a "
                                "letter or digit");
        }
    }
    if ((rc = job_param_date(params, "start_date", true, &start, err)) != QD_OK)
        return rc;
    if ((rc = job_param_date(params, "end_date", true, &end, err)) != QD_OK)
        return rc;
    if (end < start)
        return qd_err_field(err, QD_EINVAL, "params.end_date",
                            "end_date must not be before start_date");
    src = json_object_get(params, "source");
    if (src != NULL) {
        bool ok = false;
        for (const char *const *s = sources; *s && json_is_string(src); s++)
            ok |= strcmp(*s, json_string_value(src)) == 0;
        if (!ok)
            return qd_err_field(err, QD_EINVAL, "params.source",
                                "source must be \"synthetic\", \"yahoo\" or \"csv\"");
    }
    {
        bool csv = src != NULL && strcmp(json_string_value(src), "csv") == 0;
        const json_t *path = json_object_get(params, "path");
        const json_t *cols = json_object_get(params, "columns"), *extra;
        const char *k;
        if (csv && (!json_is_string(path) || json_string_length(path) == 0 ||
                    json_string_length(path) > 1024 || strstr(json_string_value(path), "\\")))
            return qd_err_field(err, QD_EINVAL, "params.path",
                                "source csv needs path: a file or directory under the import "
                                "directory");
        if (!csv && (path != NULL || cols != NULL || json_object_get(params, "extra") != NULL))
            return qd_err_field(err, QD_EINVAL, path ? "params.path" : cols ? "params.columns"
                                                                         : "params.extra",
                                "path, columns and extra are for source csv");
        if (cols != NULL && !json_is_object(cols))
            return qd_err_field(err, QD_EINVAL, "params.columns",
                                "columns maps our column names to the file's header names");
        json_object_foreach((json_t *)cols, k, v)
        {
            bool known_col = false;
            char field[96];
            for (const char *const *c = colnames; *c; c++)
                known_col |= strcmp(*c, k) == 0;
            snprintf(field, sizeof(field), "params.columns.%.60s", k);
            if (!known_col)
                return qd_err_field(err, QD_EINVAL, field,
                                    "one of date, open, high, low, close, adj_close, volume");
            if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 63 ||
                strchr(json_string_value(v), ','))
                return qd_err_field(err, QD_EINVAL, field,
                                    "a header name of 1-63 characters without commas");
        }
        extra = json_object_get(params, "extra");
        if (extra != NULL && (!json_is_string(extra) ||
                              (strcmp(json_string_value(extra), "ignore") != 0 &&
                               strcmp(json_string_value(extra), "refuse") != 0)))
            return qd_err_field(err, QD_EINVAL, "params.extra",
                                "extra is \"ignore\" or \"refuse\"");
    }
    return QD_OK;
}

static bool
stop_cb(void *arg)
{
    return job_should_stop(arg);
}

static int
cmp_action(const void *a, const void *b)
{
    const struct yahoo_action *x = a, *y = b;

    return x->day != y->day ? (x->day > y->day) - (x->day < y->day) : x->kind - y->kind;
}

/* One symbol from Yahoo: its bars in [start, end] into s, its dividends and splits stored,
 * and what the result row should say besides rows (*extra). */
static enum qd_code
from_yahoo(struct job_ctx *ctx, const char *sym, int32_t start, int32_t end,
           struct bar_series *s, json_t **extra, struct qd_err *e)
{
    struct yahoo_actions acts = {0};
    struct yahoo_stats st;
    size_t keep = 0, na = 0;
    long long written = 0;
    enum qd_code rc = yahoo_fetch(sym, start, end, stop_cb, ctx, s, &acts, &st, e);

    if (rc == QD_ENOTFOUND)
        qd_err_set(e, QD_ENOTFOUND, "%s: no data found, symbol may be delisted (Yahoo)", sym);
    if (rc != QD_OK) {
        yahoo_actions_release(&acts);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++)        /* the range asked for, by exchange date */
        if (s->day[i] >= start && s->day[i] <= end) {
            s->day[keep] = s->day[i];
            s->open[keep] = s->open[i];
            s->high[keep] = s->high[i];
            s->low[keep] = s->low[i];
            s->close[keep] = s->close[i];
            s->adj_close[keep] = s->adj_close[i];
            s->volume[keep++] = s->volume[i];
        }
    s->n = keep;
    if (acts.n > 1)
        qsort(acts.a, acts.n, sizeof(*acts.a), cmp_action);
    for (size_t i = 0; i < acts.n; i++)       /* one row per (date, kind): the last wins */
        if (acts.a[i].day >= start && acts.a[i].day <= end) {
            if (na > 0 && acts.a[na - 1].day == acts.a[i].day &&
                acts.a[na - 1].kind == acts.a[i].kind)
                na--;
            acts.a[na++] = acts.a[i];
        }
    if (na > 0) {
        int32_t *day = malloc(na * sizeof(*day));
        char *kind = malloc(na);
        double *val = malloc(na * sizeof(*val));
        if (day && kind && val) {
            for (size_t i = 0; i < na; i++) {
                day[i] = acts.a[i].day;
                kind[i] = acts.a[i].kind;
                val[i] = acts.a[i].value;
            }
            rc = bars_db_actions_upsert((PGconn *)job_conn(ctx), sym, "yahoo", day, kind, val, na,
                                        &written, e);
        } else {
            rc = qd_err_set(e, QD_ENOMEM, "out of memory");
        }
        free(day);
        free(kind);
        free(val);
    }
    *extra = json_pack("{s:I, s:I, s:I}", "actions", (json_int_t)na, "skipped_nulls",
                       (json_int_t)st.skipped_nulls, "skipped_bad", (json_int_t)st.skipped_bad);
    if (st.empty || s->n == 0)
        json_object_set_new(*extra, "note", json_string("no price data in the range"));
    yahoo_actions_release(&acts);
    return rc;
}

/* One symbol from a CSV file under the import directory (params.path: the file, or a
 * directory with <SYMBOL>.csv). */
static enum qd_code
from_csv(const json_t *params, const char *sym, int32_t start, int32_t end,
         struct bar_series *s, json_t **extra, struct qd_err *e)
{
    const char *aliases[16];
    const json_t *cols = json_object_get(params, "columns"), *v;
    const char *k, *ex = json_string_value(json_object_get(params, "extra"));
    char path[4096], file[4200];
    bool is_dir;
    size_t na = 0, skipped = 0, keep = 0;
    enum qd_code rc;

    json_object_foreach((json_t *)cols, k, v)
    {
        if (na + 2 < sizeof(aliases) / sizeof(aliases[0])) {
            aliases[na++] = k;
            aliases[na++] = json_string_value(v);
        }
    }
    aliases[na] = NULL;
    rc = csv_file_resolve(feeds_settings()->import_dir,
                          json_string_value(json_object_get(params, "path")), path, sizeof(path),
                          &is_dir, e);
    if (rc != QD_OK)
        return rc;
    if (is_dir) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s", path);
        snprintf(file, sizeof(file), "%s.csv", sym);
        /* resolved again: a symlinked <SYMBOL>.csv must not lead out of the directory */
        rc = csv_file_resolve(dir, file, path, sizeof(path), &is_dir, e);
        if (rc == QD_OK && is_dir)
            rc = qd_err_set(e, QD_EINVAL, "%s is a directory", file);
        if (rc != QD_OK)
            return rc;
    }
    rc = csv_file_read(path, aliases, ex != NULL && strcmp(ex, "ignore") == 0, s, &skipped, e);
    if (rc != QD_OK) {
        char msg[sizeof(e->msg)], line[sizeof(e->field)];
        snprintf(msg, sizeof(msg), "%s", e->msg);
        snprintf(line, sizeof(line), "%s", e->field);
        qd_err_set(e, rc, "%s: %s%s%s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
                   line, line[0] ? ": " : "", msg);
        return rc;
    }
    for (size_t i = 0; i < s->n; i++)         /* the requested range */
        if (s->day[i] >= start && s->day[i] <= end) {
            s->day[keep] = s->day[i];
            s->open[keep] = s->open[i];
            s->high[keep] = s->high[i];
            s->low[keep] = s->low[i];
            s->close[keep] = s->close[i];
            s->adj_close[keep] = s->adj_close[i];
            s->volume[keep++] = s->volume[i];
        }
    s->n = keep;
    *extra = json_pack("{s:I}", "skipped_nulls", (json_int_t)skipped);
    return QD_OK;
}

/* Symbols fetched and waiting to be stored together (bars_db_upsert_many). */
#define BATCH_SYMBOLS 64
#define BATCH_ROWS    200000
struct pending {
    const char       *sym[BATCH_SYMBOLS];
    struct bar_series s[BATCH_SYMBOLS];
    json_t           *row[BATCH_SYMBOLS];   /* borrowed: the result array holds them */
    size_t            n, rows;
};

/* Stores the pending symbols and completes their result rows. QD_EDB_RETRY and the like:
 * the database went away (the job is retried; the upserts make that safe). */
static enum qd_code
flush(struct job_ctx *ctx, const char *source, struct pending *pd, size_t *failed,
      long long *total, long long *changed, struct qd_err *err)
{
    struct bars_upsert_result up[BATCH_SYMBOLS];
    const struct bar_series *ss[BATCH_SYMBOLS];
    enum qd_code rc;

    if (pd->n == 0)
        return QD_OK;
    memset(up, 0, sizeof(up));
    for (size_t j = 0; j < pd->n; j++)
        ss[j] = &pd->s[j];
    rc = bars_db_upsert_many((PGconn *)job_conn(ctx), pd->sym, ss, pd->n, source, up, err);
    if (rc == QD_OK) {
        for (size_t j = 0; j < pd->n; j++) {
            json_t *row = pd->row[j];
            char first[11], last[11];
            json_object_set_new(row, "rows", json_integer(up[j].rows));
            if (up[j].code != QD_OK) {
                json_object_set_new(row, "error", json_string(up[j].error));
                (*failed)++;
                continue;
            }
            if (pd->s[j].n > 0) {
                qd_date_format(pd->s[j].day[0], first);
                qd_date_format(pd->s[j].day[pd->s[j].n - 1], last);
                json_object_set_new(row, "first", json_string(first));
                json_object_set_new(row, "last", json_string(last));
                json_object_set_new(row, "changed", json_integer(up[j].changed));
            }
            *total += up[j].rows;
            *changed += up[j].changed;
        }
    }
    pd->n = 0;
    pd->rows = 0;
    return rc;
}

enum qd_code
ingest_equity_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    const json_t *syms = json_object_get(params, "symbols"), *v;
    const char *source = json_string_value(json_object_get(params, "source"));
    struct pending *pd = calloc(1, sizeof(*pd));
    json_t *out = json_array();
    int32_t start, end;
    size_t i, nsym = json_array_size(syms), failed = 0, transient = 0;
    long long total = 0, changed = 0;
    enum qd_code rc = QD_OK;

    if (pd == NULL) {
        json_decref(out);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < BATCH_SYMBOLS; j++)
        bar_series_init(&pd->s[j], 0);
    if (source == NULL)
        source = "synthetic";
    job_param_date(params, "start_date", true, &start, err);
    job_param_date(params, "end_date", true, &end, err);
    json_array_foreach(syms, i, v)
    {
        const char *sym = json_string_value(v);
        struct bar_series *s = &pd->s[pd->n];
        struct qd_err e = {0};
        enum qd_code src;
        json_t *row, *extra = NULL;

        if (job_should_stop(ctx)) {
            rc = qd_err_set(err, QD_ECANCELED, "cancelled");
            break;
        }
        job_progress(ctx, (double)i / (double)nsym, "%s (%zu of %zu)", sym, i + 1, nsym);
        bar_series_clear(s);
        if (strcmp(source, "yahoo") == 0)
            src = from_yahoo(ctx, sym, start, end, s, &extra, &e);
        else if (strcmp(source, "csv") == 0)
            src = from_csv(params, sym, start, end, s, &extra, &e);
        else
            src = synthetic_bars(sym, start, end, s, &e);
        transient += src == QD_ETRANSIENT;
        if (src == QD_EDB_RETRY || src == QD_ETIMEOUT) {
            rc = qd_err_set(err, QD_EDB_RETRY, "%s: %s", sym, e.msg);
            json_decref(extra);
            break;
        }
        row = json_pack("{s:s, s:I}", "symbol", sym, "rows", (json_int_t)0);
        if (extra != NULL)
            json_object_update(row, extra);
        json_decref(extra);
        json_array_append_new(out, row);
        if (src != QD_OK) {
            json_object_set_new(row, "error", json_string(e.msg));
            failed++;
            continue;
        }
        pd->sym[pd->n] = sym;
        pd->row[pd->n++] = row;
        pd->rows += s->n;
        if ((pd->n == BATCH_SYMBOLS || pd->rows >= BATCH_ROWS) &&
            (rc = flush(ctx, source, pd, &failed, &total, &changed, err)) != QD_OK)
            break;
    }
    if (rc == QD_OK)
        rc = flush(ctx, source, pd, &failed, &total, &changed, err);
    for (size_t j = 0; j < BATCH_SYMBOLS; j++)
        bar_series_release(&pd->s[j]);
    free(pd);
    if (rc != QD_OK) {
        json_decref(out);
        return rc;
    }
    *result = json_pack("{s:o, s:I, s:I, s:I, s:s}", "symbols", out, "rows", (json_int_t)total,
                        "changed", (json_int_t)changed, "failed_symbols", (json_int_t)failed,
                        "source", source);
    if (failed == nsym) {
        json_t *first = json_array_get(json_object_get(*result, "symbols"), 0);
        qd_err_set(err, transient == nsym ? QD_ETRANSIENT : QD_EINVAL,
                   "every symbol failed%s; %s: %s", transient == nsym ? " for now" : "",
                   json_string_value(json_object_get(first, "symbol")),
                   json_string_value(json_object_get(first, "error")));
        json_decref(*result);
        *result = NULL;
        return err->code;
    }
    return QD_OK;
}

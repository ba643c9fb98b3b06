/* MLflow-shaped reads and writes of experiments and runs (see mlflow_db.h). */
#include "storage/mlflow_db.h"
#include "storage/pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* epoch ms of a timestamptz column, as a JSON number */
#define MS(col) "(extract(epoch FROM " col ") * 1000)::int8"

#define EXPERIMENT_JSON                                                                          \
    "json_build_object('experiment_id', e.id::text, 'name', e.name, 'artifact_location', "      \
    "e.artifact_location, 'lifecycle_stage', e.lifecycle, 'last_update_time', "                 \
    MS("e.last_update_time") ", 'creation_time', " MS("e.created_at") ", 'tags', "              \
    "coalesce((SELECT json_agg(json_build_object('key', t.key, 'value', t.value #>> '{}') "     \
    "ORDER BY t.key) FROM jsonb_each(e.tags) t), '[]'::json))"

#define RUN_ID_HEX "lpad(to_hex(r.id), 32, '0')"

#define RUN_INFO_JSON                                                                            \
    "json_strip_nulls(json_build_object('run_id', " RUN_ID_HEX ", 'run_uuid', " RUN_ID_HEX      \
    ", 'run_name', r.name, 'experiment_id', r.experiment_id::text, 'user_id', r.user_id, "      \
    "'status', upper(r.status), 'start_time', " MS("r.start_time") ", 'end_time', "             \
    MS("r.end_time") ", 'artifact_uri', '', 'lifecycle_stage', r.lifecycle))"

/* A metric value as MLflow's JSON: a number, or NaN / ±Infinity as the strings protobuf's JSON
 * reader takes for doubles. */
#define METRIC_VALUE(v)                                                                          \
    "CASE WHEN " v " = 'NaN'::float8 THEN to_json('NaN'::text) WHEN " v " = 'Infinity' THEN "   \
    "to_json('Infinity'::text) WHEN " v " = '-Infinity' THEN to_json('-Infinity'::text) ELSE "  \
    "to_json(" v ") END"

#define RUN_JSON                                                                                 \
    "json_build_object('info', " RUN_INFO_JSON ", 'data', json_build_object('metrics', "        \
    "coalesce((SELECT json_agg(json_build_object('key', m.key, 'value', " METRIC_VALUE("m.value") \
    ", 'timestamp', " MS("m.ts") ", 'step', m.step) ORDER BY m.key) FROM metrics m WHERE "     \
    "m.run_id = r.id AND m.step = 0), '[]'::json), 'params', coalesce((SELECT "                 \
    "json_agg(json_build_object('key', p.key, 'value', p.value #>> '{}') ORDER BY p.key) FROM " \
    "jsonb_each(r.params) p), '[]'::json), 'tags', coalesce((SELECT "                           \
    "json_agg(json_build_object('key', t.key, 'value', t.value #>> '{}') ORDER BY t.key) FROM " \
    "jsonb_each(r.tags) t), '[]'::json)), 'inputs', json_build_object('dataset_inputs', "       \
    "'[]'::json))"

void
mlflow_run_id(int64_t id, char out[33])
{
    snprintf(out, 33, "%032" PRIx64, (uint64_t)id);
}

bool
mlflow_parse_run_id(const char *s, int64_t *id)
{
    size_t n = s ? strlen(s) : 0;
    unsigned long long v;
    char *end;

    if (n == 0 || n > 32)
        return false;
    errno = 0;
    if (n == 32 && strspn(s, "0123456789abcdef") == 32) {
        if (strspn(s, "0") < 16)
            return false;           /* more than 64 bits: not one of ours */
        v = strtoull(s + 16, &end, 16);
    } else if (strspn(s, "0123456789") == n && n <= 18) {
        v = strtoull(s, &end, 10);
    } else {
        return false;
    }
    if (errno || *end != '\0' || v == 0 || v > INT64_MAX)
        return false;
    *id = (int64_t)v;
    return true;
}

/* One text value from a statement, or QD_ENOTFOUND naming what. */
enum qd_code
mlflow_db_experiment(PGconn *c, const char *id, const char *name, char **json,
                     struct qd_err *err)
{
    const char *p[2] = {id, name};

    return pg_one_text(c,
               "SELECT json_build_object('experiment', " EXPERIMENT_JSON ")::text FROM "
               "experiments e WHERE CASE WHEN $1::text IS NOT NULL THEN $1 ~ '^[0-9]{1,18}$' "
               "AND e.id = $1::bigint ELSE e.name = $2 END",
               2, p, json,
               id ? "No Experiment with id exists" : "Could not find experiment with name", err);
}

enum qd_code
mlflow_db_experiment_create(PGconn *c, const char *name, const char *artifact_loc,
                            const char *tags_json, char **json, struct qd_err *err)
{
    const char *p[3] = {name, artifact_loc ? artifact_loc : "", tags_json ? tags_json : "{}"};
    enum qd_code rc = pg_one_text(c,
                          "WITH ins AS (INSERT INTO experiments (name, artifact_location, tags) "
                          "VALUES ($1, $2, $3::jsonb) ON CONFLICT (name) DO NOTHING RETURNING "
                          "id) SELECT json_build_object('experiment_id', id::text)::text FROM ins",
                          3, p, json, "exists", err);

    if (rc == QD_ENOTFOUND)
        rc = qd_err_set(err, QD_ECONFLICT, "Experiment '%.200s' already exists.", name);
    return rc;
}

enum qd_code
mlflow_db_experiments_search(PGconn *c, int view, unsigned max_results, unsigned long offset,
                             char **json, struct qd_err *err)
{
    char v[4], lim[16], off[24];
    const char *p[3] = {v, lim, off};

    snprintf(v, sizeof(v), "%d", view);
    snprintf(lim, sizeof(lim), "%u", max_results);
    snprintf(off, sizeof(off), "%lu", offset);
    return pg_one_text(c,
               "WITH page AS (SELECT e.* FROM experiments e WHERE $1::int = 3 OR ($1::int = 1 AND "
               "e.lifecycle = 'active') OR ($1::int = 2 AND e.lifecycle = 'deleted') ORDER BY "
               "e.id DESC OFFSET $3::bigint LIMIT $2::int + 1) SELECT json_strip_nulls("
               "json_build_object('experiments', coalesce((SELECT json_agg(x.j ORDER BY x.rn) "
               "FROM (SELECT " EXPERIMENT_JSON " AS j, row_number() OVER (ORDER BY e.id DESC) AS "
               "rn FROM page e) x WHERE x.rn <= $2::int), '[]'::json), 'next_page_token', CASE "
               "WHEN (SELECT count(*) FROM page) > $2::int THEN ($3::bigint + $2::int)::text "
               "END))::text",
               3, p, json, "experiments", err);
}

enum qd_code
mlflow_db_run_create(PGconn *c, int64_t experiment_id, const char *user_id, const char *name,
                     int64_t start_ms, const char *tags_json, char **json, struct qd_err *err)
{
    char eid[24], st[24];
    const char *p[5] = {eid, user_id ? user_id : "", name && name[0] ? name : NULL, st,
                        tags_json ? tags_json : "{}"};
    enum qd_code rc;

    snprintf(eid, sizeof(eid), "%" PRId64, experiment_id);
    snprintf(st, sizeof(st), "%" PRId64, start_ms);
    /* the name defaults to run-<id>, and mlflow.runName always says the name */
    rc = pg_one_text(c,
             "WITH e AS (SELECT id FROM experiments WHERE id = $1::bigint AND lifecycle = "
             "'active'), nid AS (SELECT nextval(pg_get_serial_sequence('runs', 'id')) AS id "
             "FROM e), ins AS (INSERT INTO runs (id, experiment_id, name, strategy, status, "
             "user_id, start_time, tags) SELECT nid.id, e.id, coalesce($3, 'run-' || nid.id), "
             "'', 'running', $2, to_timestamp($4::int8 / 1000.0), $5::jsonb || "
             "jsonb_build_object('mlflow.runName', coalesce($3, 'run-' || nid.id)) FROM e, nid "
             "RETURNING *) "
             "SELECT json_build_object('run', " RUN_JSON ")::text FROM ins r",
             5, p, json, "No Experiment with id exists (or it is deleted)", err);
    return rc;
}

enum qd_code
mlflow_db_run_update(PGconn *c, int64_t run_id, const char *status, int64_t end_ms,
                     const char *name, char **json, struct qd_err *err)
{
    char id[24], end[24];
    const char *p[4] = {id, status, end_ms >= 0 ? end : NULL, name};

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    snprintf(end, sizeof(end), "%" PRId64, end_ms);
    return pg_one_text(c,
               "WITH upd AS (UPDATE runs SET status = coalesce(lower($2), status), end_time = "
               "coalesce(to_timestamp($3::int8 / 1000.0), end_time), name = coalesce($4, name), "
               "tags = CASE WHEN $4::text IS NULL THEN tags ELSE tags || "
               "jsonb_build_object('mlflow.runName', $4::text) END WHERE id = $1::bigint "
               "RETURNING *) SELECT json_build_object('run_info', " RUN_INFO_JSON ")::text FROM "
               "upd r",
               4, p, json, "Run not found", err);
}

enum qd_code
mlflow_db_run_get(PGconn *c, int64_t run_id, char **json, struct qd_err *err)
{
    char id[24];
    const char *p[1] = {id};

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    return pg_one_text(c,
                       "SELECT json_build_object('run', " RUN_JSON ")::text FROM runs r WHERE "
                       "r.id = $1::bigint",
               1, p, json, "Run not found", err);
}

enum qd_code
mlflow_db_log_params_tags(PGconn *c, int64_t run_id, const char *params_json,
                          const char *tags_json, struct qd_err *err)
{
    char id[24];
    const char *p[3] = {id, params_json ? params_json : "{}", tags_json ? tags_json : "{}"};
    PGresult *res;
    enum qd_code rc;

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    /* A param already there with another value (compared as text: a backtest's 7 is "7")
     * refuses the whole call; otherwise params are added and tags set, in one statement. */
    rc = pg_exec(c,
                 "WITH run AS (SELECT id, params FROM runs WHERE id = $1::bigint FOR UPDATE), "
                 "clash AS (SELECT n.key, o.value #>> '{}' AS old, n.value #>> '{}' AS new FROM "
                 "run, jsonb_each($2::jsonb) n JOIN LATERAL jsonb_each(run.params) o ON o.key = "
                 "n.key WHERE (o.value #>> '{}') IS DISTINCT FROM (n.value #>> '{}') LIMIT 1), "
                 "upd AS (UPDATE runs r SET params = r.params || $2::jsonb, tags = r.tags || "
                 "$3::jsonb FROM run WHERE r.id = run.id AND NOT EXISTS (SELECT 1 FROM clash) "
                 "RETURNING 1) SELECT (SELECT count(*) FROM run), (SELECT key FROM clash), "
                 "(SELECT old FROM clash), (SELECT new FROM clash)",
                 3, p, PGRES_TUPLES_OK, &res, err);
    if (rc != QD_OK)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        rc = qd_err_set(err, QD_ENOTFOUND, "Run not found");
    else if (!PQgetisnull(res, 0, 1))
        rc = qd_err_set(err, QD_EINVAL,
                        "Changing param values is not allowed. Param with key='%.250s' was "
                        "already logged with value='%.250s' for run ID='%032" PRIx64 "'. "
                        "Attempted logging new value '%.250s'.",
                        PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), (uint64_t)run_id,
                        PQgetvalue(res, 0, 3));
    PQclear(res);
    return rc;
}

enum qd_code
mlflow_db_metric_history(PGconn *c, int64_t run_id, const char *key, char **json,
                         struct qd_err *err)
{
    char id[24];
    const char *p[2] = {id, key};

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    return pg_one_text(c,
               "WITH pts AS (SELECT u.s, u.v, u.t, p.seq, u.o FROM metric_points p, "
               "unnest(p.steps, p.vals, p.ts_ms) WITH ORDINALITY AS u(s, v, t, o) WHERE "
               "p.run_id = $1::bigint AND p.key = $2 UNION ALL SELECT m.step, m.value, "
               MS("m.ts") ", 0, 0 FROM metrics m WHERE m.run_id = $1::bigint AND m.key = $2 AND "
               "NOT EXISTS (SELECT 1 FROM metric_points p WHERE p.run_id = $1::bigint AND "
               "p.key = $2)) SELECT json_build_object('metrics', coalesce((SELECT "
               "json_agg(json_build_object('key', $2::text, 'value', " METRIC_VALUE("v")
               ", 'timestamp', t, 'step', s) ORDER BY s, t, seq, o) FROM pts), '[]'::json))::text "
               "FROM runs r WHERE r.id = $1::bigint",
               2, p, json, "Run not found", err);
}

/*
 * runs/search ordered by a metric, as storage/runs_db.c's runs_db_list does it: the first N
 * summary values of the metric in order (metrics_summary_value, fenced so the planner walks
 * the index and stops), the visible matching runs among them ranked, N grown fourfold while a
 * page is short and the walk was cut; when the walk ran out, the runs without the metric
 * follow by id. sql (cap bytes) is the caller's buffer; parameters as mlflow_db_runs_search
 * numbers them, with the candidate count last ($k + 5).
 */
static enum qd_code
runs_search_walk(PGconn *c, char *sql, size_t cap, const char *where, bool desc, int k, int np,
                 const char **p, char *cand, size_t cand_n, unsigned long long want,
                 char **json, struct qd_err *err)
{
    const char *dir = desc ? "DESC" : "ASC";
    char vis[256];
    enum qd_code rc;

    snprintf(vis, sizeof(vis),
             "r.experiment_id = ANY ($1::bigint[]) AND ($%d::int = 3 OR ($%d::int = 1 AND "
             "r.lifecycle = 'active') OR ($%d::int = 2 AND r.lifecycle = 'deleted'))",
             k + 1, k + 1, k + 1);
    snprintf(sql, cap,
             "WITH cand AS MATERIALIZED (SELECT m.run_id, m.value FROM metrics m WHERE m.key = "
             "$%d AND m.step = 0 AND m.value <> 'NaN'::float8 ORDER BY m.value %s, m.run_id %s "
             "LIMIT $%d::bigint), "
             "matched AS (SELECT r.*, row_number() OVER (ORDER BY c.value %s, r.id %s) AS rn "
             "FROM cand c JOIN runs r ON r.id = c.run_id WHERE %s AND (%s)), "
             "walked AS (SELECT (SELECT count(*) FROM cand) < $%d::bigint AS all_seen, (SELECT "
             "count(*) FROM matched) AS n), "
             "rest AS (SELECT r.*, (SELECT n FROM walked) + row_number() OVER (ORDER BY r.id %s) "
             "AS rn FROM runs r WHERE (SELECT all_seen FROM walked) AND %s AND (%s) AND NOT "
             "EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id AND m.key = $%d AND m.step "
             "= 0 AND m.value <> 'NaN'::float8)), "
             "numbered AS (SELECT * FROM matched WHERE rn > $%d::bigint AND rn <= $%d::bigint + "
             "$%d::int + 1 UNION ALL SELECT * FROM rest WHERE rn > $%d::bigint AND rn <= "
             "$%d::bigint + $%d::int + 1), "
             "more AS (SELECT NOT all_seen AND n < $%d::bigint + $%d::int + 1 AS x FROM walked) "
             "SELECT json_strip_nulls(json_build_object('runs', coalesce((SELECT "
             "json_agg(" RUN_JSON " ORDER BY r.rn) FROM numbered r WHERE r.rn <= $%d::bigint + "
             "$%d::int), '[]'::json), 'next_page_token', CASE WHEN (SELECT count(*) FROM "
             "numbered) > $%d::int THEN ($%d::bigint + $%d::int)::text END))::text, (SELECT x "
             "FROM more)",
             k + 4, dir, dir, k + 5, dir, dir, vis, where, k + 5, dir, vis, where, k + 4, k + 3,
             k + 3, k + 2, k + 3, k + 3, k + 2, k + 3, k + 2, k + 3, k + 2, k + 2, k + 3, k + 2);
    rc = pg_candidate_walk(c, sql, np, p, cand, cand_n, want, json, err);
    return rc;
}

enum qd_code
mlflow_db_runs_search(PGconn *c, const char *experiment_ids_array, const struct run_filter *f,
                      const char *order_sql, const char *order_metric, int view,
                      unsigned max_results, unsigned long offset, char **json,
                      struct qd_err *err)
{
    const char *where = f != NULL && f->sql != NULL ? f->sql : "TRUE";
    int nf = f != NULL && f->sql != NULL ? f->nvalues : 0, np = 1 + nf + 5, k;
    const char **p = calloc((size_t)np, sizeof(*p));
    char v[4], lim[16], off[24], cand[24] = "0", *sql = NULL;
    size_t cap;
    enum qd_code rc;

    if (p == NULL)
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    p[0] = experiment_ids_array;
    for (int i = 0; i < nf; i++)
        p[1 + i] = f->values[i];
    k = 1 + nf;                     /* $k+1 view, $k+2 limit, $k+3 offset, $k+4 order metric */
    snprintf(v, sizeof(v), "%d", view);
    snprintf(lim, sizeof(lim), "%u", max_results);
    snprintf(off, sizeof(off), "%lu", offset);
    p[k] = v;
    p[k + 1] = lim;
    p[k + 2] = off;
    p[k + 3] = order_metric ? order_metric : "";
    p[k + 4] = cand;
    cap = 2 * strlen(where) + strlen(order_sql) + 8192;
    if ((sql = malloc(cap)) == NULL) {
        free(p);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    /* order_sql may use om (the order metric's value, NaN as NULL) */
    snprintf(sql, cap,
             "WITH page AS (SELECT r.*, (SELECT CASE WHEN m.value = 'NaN'::float8 THEN NULL "
             "ELSE m.value END FROM metrics m WHERE m.run_id = r.id AND m.key = $%d AND m.step "
             "= 0) AS om FROM runs r WHERE r.experiment_id = ANY ($1::bigint[]) AND ($%d::int = "
             "3 OR ($%d::int = 1 AND r.lifecycle = 'active') OR ($%d::int = 2 AND r.lifecycle = "
             "'deleted')) AND (%s) ORDER BY %s OFFSET $%d::bigint LIMIT $%d::int + 1), "
             "numbered AS (SELECT r.*, row_number() OVER (ORDER BY %s) AS rn FROM page r) "
             "SELECT json_strip_nulls(json_build_object('runs', coalesce((SELECT "
             "json_agg(" RUN_JSON " ORDER BY r.rn) FROM numbered r WHERE r.rn <= $%d::int), "
             "'[]'::json), 'next_page_token', CASE WHEN (SELECT count(*) FROM page) > $%d::int "
             "THEN ($%d::bigint + $%d::int)::text END))::text",
             k + 4, k + 1, k + 1, k + 1, where, order_sql, k + 3, k + 2, order_sql,
             k + 2, k + 2, k + 3, k + 2);
    if (order_metric != NULL)
        rc = runs_search_walk(c, sql, cap, where, strstr(order_sql, "DESC") != NULL, k, np, p,
                              cand, sizeof(cand), offset + max_results + 1ULL, json, err);
    else
        rc = pg_one_text(c, sql, np - 1, p, json, "runs", err);   /* no candidate count */
    free(sql);
    free(p);
    return rc;
}

/* ---- the model registry ---- */

#define MV_JSON                                                                                  \
    "json_build_object('name', v.model, 'version', v.version::text, 'creation_timestamp', "     \
    MS("v.created_at") ", 'last_updated_timestamp', " MS("v.updated_at") ", 'user_id', "       \
    "v.created_by, 'current_stage', v.stage, 'description', v.description, 'source', "         \
    "v.source, 'run_id', lpad(to_hex(v.run_id), 32, '0'), 'status', 'READY', "                 \
    "'status_message', '', 'tags', '[]'::json, 'run_link', '', 'aliases', '[]'::json)"

#define RM_JSON                                                                                  \
    "json_build_object('name', m.name, 'creation_timestamp', " MS("m.created_at") ", "         \
    "'last_updated_timestamp', " MS("m.updated_at") ", 'user_id', m.created_by, "              \
    "'description', m.description, 'latest_versions', coalesce((SELECT json_agg(x.j) FROM "    \
    "(SELECT DISTINCT ON (v.stage) " MV_JSON " AS j FROM model_versions v WHERE v.model = "     \
    "m.name ORDER BY v.stage, v.version DESC) x), '[]'::json), 'tags', '[]'::json, "            \
    "'aliases', '[]'::json)"

enum qd_code
mlflow_db_registered_model(PGconn *c, const char *name, char **json, struct qd_err *err)
{
    const char *p[1] = {name};

    return pg_one_text(c,
               "SELECT json_build_object('registered_model', " RM_JSON ")::text FROM "
               "registered_models m WHERE m.name = $1",
               1, p, json, "Registered Model not found", err);
}

enum qd_code
mlflow_db_registered_models_search(PGconn *c, const char *name, unsigned max_results,
                                   unsigned long offset, char **json, struct qd_err *err)
{
    char lim[16], off[24];
    const char *p[3] = {lim, off, name};

    snprintf(lim, sizeof(lim), "%u", max_results);
    snprintf(off, sizeof(off), "%lu", offset);
    return pg_one_text(c,
               "WITH page AS (SELECT * FROM registered_models WHERE $3::text IS NULL OR name = "
               "$3 ORDER BY name OFFSET $2::bigint LIMIT $1::int + 1) SELECT "
               "json_strip_nulls(json_build_object("
               "'registered_models', coalesce((SELECT json_agg(x.j ORDER BY x.name) FROM (SELECT "
               "m.name, " RM_JSON " AS j FROM page m ORDER BY m.name LIMIT $1::int) x), "
               "'[]'::json), 'next_page_token', CASE WHEN (SELECT count(*) FROM page) > $1::int "
               "THEN ($2::bigint + $1::int)::text END))::text",
               3, p, json, "models", err);
}

enum qd_code
mlflow_db_model_version(PGconn *c, const char *name, int version, char **json,
                        struct qd_err *err)
{
    char v[16];
    const char *p[2] = {name, v};

    snprintf(v, sizeof(v), "%d", version);
    return pg_one_text(c,
               "SELECT json_build_object('model_version', " MV_JSON ")::text FROM model_versions "
               "v WHERE v.model = $1 AND v.version = $2::int",
               2, p, json, "Model Version not found", err);
}

enum qd_code
mlflow_db_latest_versions(PGconn *c, const char *name, const char *stages_array, char **json,
                          struct qd_err *err)
{
    const char *p[2] = {name, stages_array};

    return pg_one_text(c,
               "SELECT json_build_object('model_versions', coalesce((SELECT json_agg(x.j) FROM "
               "(SELECT DISTINCT ON (v.stage) " MV_JSON " AS j FROM model_versions v WHERE "
               "v.model = m.name AND ($2::text[] IS NULL OR v.stage = ANY ($2::text[])) ORDER BY "
               "v.stage, v.version DESC) x), '[]'::json))::text FROM registered_models m WHERE "
               "m.name = $1",
               2, p, json, "Registered Model not found", err);
}

enum qd_code
mlflow_db_model_versions_search(PGconn *c, const char *name, unsigned max_results, char **json,
                                struct qd_err *err)
{
    char lim[16];
    const char *p[2] = {name, lim};

    snprintf(lim, sizeof(lim), "%u", max_results);
    return pg_one_text(c,
               "SELECT json_build_object('model_versions', coalesce((SELECT json_agg(x.j) FROM "
               "(SELECT " MV_JSON " AS j FROM model_versions v WHERE $1::text IS NULL OR v.model "
               "= $1 ORDER BY v.model, v.version DESC LIMIT $2::int) x), '[]'::json))::text",
               2, p, json, "versions", err);
}

enum qd_code
mlflow_db_lifecycle(PGconn *c, bool run, int64_t id, const char *lifecycle, struct qd_err *err)
{
    char ids[24];
    const char *p[2] = {ids, lifecycle};
    char *out = NULL;
    enum qd_code rc;

    snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = pg_one_text(c,
             run ? "UPDATE runs SET lifecycle = $2 WHERE id = $1::bigint RETURNING id::text"
                 : "UPDATE experiments SET lifecycle = $2, last_update_time = now() WHERE id = "
                   "$1::bigint RETURNING id::text",
             2, p, &out, run ? "Run not found" : "No Experiment with id exists", err);
    free(out);
    return rc;
}

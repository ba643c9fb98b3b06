/* The model registry (see models_db.h). */
#include "storage/models_db.h"
#include "storage/pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

#define VERSION_JSON                                                                             \
    "json_build_object('model', v.model, 'version', v.version, 'run_id', v.run_id, 'stage', "   \
    "v.stage, 'description', v.description, 'created_by', v.created_by, 'created_at', "         \
    TS("v.created_at") ", 'updated_at', " TS("v.updated_at") ")"

#define MODEL_JSON                                                                               \
    "json_build_object('name', m.name, 'description', m.description, 'created_by', "            \
    "m.created_by, 'created_at', " TS("m.created_at") ", 'updated_at', " TS("m.updated_at")    \
    ", 'latest_version', (SELECT max(version) FROM model_versions v WHERE v.model = m.name), " \
    "'production', (SELECT max(version) FROM model_versions v WHERE v.model = m.name AND "      \
    "v.stage = 'Production'))"

enum qd_code
models_db_create(PGconn *c, const char *name, const char *description, const char *actor,
                 char **json, struct qd_err *err)
{
    const char *p[3] = {name, description ? description : "", actor};
    enum qd_code rc = pg_one_text(c,
                          "WITH ins AS (INSERT INTO registered_models (name, description, "
                          "created_by) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING "
                          "RETURNING *) SELECT " MODEL_JSON "::text FROM ins m",
                          3, p, json, "taken", err);

    if (rc == QD_ENOTFOUND)
        rc = qd_err_set(err, QD_ECONFLICT, "a model named \"%.200s\" exists", name);
    return rc;
}

enum qd_code
models_db_list(PGconn *c, char **json, struct qd_err *err)
{
    return pg_one_text(c,
               "SELECT json_build_object('models', coalesce(json_agg(" MODEL_JSON " ORDER BY "
               "m.name), '[]'::json))::text FROM registered_models m",
               0, NULL, json, "models", err);
}

enum qd_code
models_db_get(PGconn *c, const char *name, const char *stage, char **json, struct qd_err *err)
{
    const char *p[2] = {name, stage};

    if (stage == NULL)
        return pg_one_text(c,
                   "SELECT (" MODEL_JSON "::jsonb || jsonb_build_object('versions', "
                   "coalesce((SELECT jsonb_agg(" VERSION_JSON "::jsonb || "
                   "jsonb_build_object('transitions', coalesce((SELECT jsonb_agg("
                   "jsonb_build_object('from', t.from_stage, 'to', t.to_stage, 'actor', t.actor, "
                   "'at', " TS("t.at") ") ORDER BY t.id) FROM model_transitions t WHERE t.model = "
                   "v.model AND t.version = v.version), '[]'::jsonb)) ORDER BY v.version) FROM "
                   "model_versions v WHERE v.model = m.name), '[]'::jsonb)))::text FROM "
                   "registered_models m WHERE m.name = $1",
                   1, p, json, "model not found", err);
    /* what a trading job needs to run the version: its run's strategy and params */
    return pg_one_text(c,
               "SELECT (" VERSION_JSON "::jsonb || jsonb_build_object('strategy', r.strategy, "
               "'params', r.params, 'experiment_id', r.experiment_id, 'data_hash', r.data_hash, "
               "'config_hash', r.config_hash, 'engine_version', r.engine_version))::text FROM "
               "model_versions v JOIN runs r ON r.id = v.run_id WHERE v.model = $1 AND v.stage = "
               "$2 ORDER BY v.version DESC LIMIT 1",
               2, p, json, "no version of the model is in that stage", err);
}

enum qd_code
models_db_version_create(PGconn *c, const char *name, int64_t run_id, const char *description,
                         const char *source, const char *actor, char **json,
                         struct qd_err *err)
{
    char id[24];
    const char *p[5] = {name, id, description ? description : "", actor, source ? source : ""};
    enum qd_code rc;

    snprintf(id, sizeof(id), "%" PRId64, run_id);
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    /* the model row is locked, so concurrent registrations number versions one after another */
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "INSERT INTO registered_models (name, created_by) VALUES ($1, $2) ON "
                     "CONFLICT (name) DO UPDATE SET updated_at = now()",
                     2, (const char *[]){name, actor}, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_one_text(c,
                 "WITH run AS (SELECT id FROM runs WHERE id = $2::bigint), v AS (INSERT INTO "
                 "model_versions (model, version, run_id, description, created_by, source) "
                 "SELECT $1, coalesce((SELECT max(version) FROM model_versions WHERE model = "
                 "$1), 0) + 1, run.id, $3, $4, $5 FROM run RETURNING *) SELECT " VERSION_JSON
                 "::text FROM v",
                 5, p, json, "run not found", err);
    rc = pg_end(c, rc, err);
    if (rc != QD_OK) {
        free(*json);
        *json = NULL;
    }
    return rc;
}

enum qd_code
models_db_transition(PGconn *c, const char *name, int version, const char *stage,
                     bool archive_existing, bool admin, const char *actor, char **json,
                     struct qd_err *err)
{
    char v[16];
    const char *p[5] = {name, v, stage, archive_existing ? "t" : "f", actor};
    enum qd_code rc;

    snprintf(v, sizeof(v), "%d", version);
    rc = pg_exec(c, "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_exec(c, "SELECT 1 FROM registered_models WHERE name = $1 FOR UPDATE", 1, p,
                     PGRES_TUPLES_OK, NULL, err);
    /* taking a version out of Production changes what trades, as putting one in does */
    if (rc == QD_OK && !admin) {
        PGresult *res;
        rc = pg_exec(c, "SELECT stage FROM model_versions WHERE model = $1 AND version = $2::int",
                     2, p, PGRES_TUPLES_OK, &res, err);
        if (rc == QD_OK) {
            if (PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "Production") == 0)
                rc = qd_err_set(err, QD_EFORBIDDEN, "moving a version out of Production needs "
                                "the admin scope");
            PQclear(res);
        }
    }
    /* the others in the target stage to Archived (audited), then this one (audited) */
    if (rc == QD_OK)
        rc = pg_exec(c,
                     "WITH old AS (UPDATE model_versions SET stage = 'Archived', updated_at = "
                     "now() WHERE $4::bool AND $3 <> 'Archived' AND $3 <> 'None' AND model = $1 "
                     "AND stage = $3 AND version <> $2::int AND EXISTS (SELECT 1 FROM "
                     "model_versions WHERE model = $1 AND version = $2::int) RETURNING version) "
                     "INSERT INTO model_transitions (model, version, from_stage, to_stage, actor) "
                     "SELECT $1, version, $3, 'Archived', $5 FROM old",
                     5, p, PGRES_COMMAND_OK, NULL, err);
    if (rc == QD_OK)
        rc = pg_one_text(c,
                 "WITH prev AS (SELECT stage FROM model_versions WHERE model = $1 AND version = "
                 "$2::int FOR UPDATE), upd AS (UPDATE model_versions v SET stage = $3, "
                 "updated_at = now() FROM prev WHERE v.model = $1 AND v.version = $2::int "
                 "RETURNING v.*, prev.stage AS from_stage), log AS (INSERT INTO "
                 "model_transitions (model, version, from_stage, to_stage, actor) SELECT $1, "
                 "$2::int, from_stage, $3, $4 FROM upd) SELECT " VERSION_JSON "::text FROM upd v",
                 4, (const char *[]){name, v, stage, actor}, json, "model version not found",
                 err);
    rc = pg_end(c, rc, err);
    if (rc != QD_OK) {
        free(*json);
        *json = NULL;
    }
    return rc;
}

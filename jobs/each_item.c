/* The per-item loop of the ingest jobs (see job.h). Worker thread. */
#include "jobs/job.h"

enum qd_code
job_each_item(struct job_ctx *ctx, const json_t *params, const char *list, const char *key,
              const char *const *defaults, job_item_fn *one, void *arg, json_t **result,
              struct qd_err *err)
{
    const json_t *given = json_object_get(params, list);
    size_t n = given ? json_array_size(given) : 0, ok = 0, transient = 0;
    json_t *out = json_array();
    enum qd_code rc = QD_OK;

    if (given == NULL && defaults != NULL)
        while (defaults[n])
            n++;
    for (size_t i = 0; i < n && rc == QD_OK; i++) {
        const char *id = given ? json_string_value(json_array_get(given, i)) : defaults[i];
        json_t *row = json_pack("{s:s}", key, id);
        struct qd_err e = {0};
        enum qd_code src;

        if (job_should_stop(ctx)) {
            json_decref(row);
            rc = qd_err_set(err, QD_ECANCELED, "cancelled");
            break;
        }
        job_progress(ctx, (double)i / (double)n, "%s", id);
        src = one(ctx, id, arg, row, &e);
        if (src == QD_EDB_RETRY || src == QD_ETIMEOUT || src == QD_ECANCELED) {
            json_decref(row);
            rc = src == QD_ECANCELED ? qd_err_set(err, src, "cancelled")
                                     : qd_err_set(err, src, "%s: %s", id, e.msg);
            break;
        }
        if (src == QD_OK) {
            ok++;
        } else {
            transient += src == QD_ETRANSIENT;
            json_object_set_new(row, "error", json_string(e.msg));
        }
        json_array_append_new(out, row);
    }
    if (rc == QD_OK && ok == 0 && n > 0) {
        /* nothing was stored: the job fails (for now, when every failure may heal) */
        rc = qd_err_set(err, transient == n ? QD_ETRANSIENT : QD_EINVAL, "%s%s: %s",
                        transient == n ? "every one failed for now; " : "",
                        json_string_value(json_object_get(json_array_get(out, 0), key)),
                        json_string_value(json_object_get(json_array_get(out, 0), "error")));
    }
    if (rc != QD_OK) {
        json_decref(out);
        return rc;
    }
    *result = json_pack("{s:o, s:I, s:I}", list, out, "ok", (json_int_t)ok, "failed",
                        (json_int_t)(n - ok));
    return QD_OK;
}

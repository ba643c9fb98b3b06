/*
 * report: builds an experiment's HTML report (storage/report_db.h, tracking/report.h) and
 * stores it as an artifact of the experiment's best run, content-addressed
 * (docs/tracking.md). Params: {"experiment": id or name, "metric"?: "sharpe_ratio",
 * "threshold"?: 0.95}. Result: {"experiment", "run_id", "path", "sha256", "size"}.
 */
#include "jobs/job.h"
#include "storage/artifact_files.h"
#include "storage/report_db.h"
#include "storage/tracking_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

job_validate_fn report_validate;
job_run_fn report_run;

enum qd_code
report_validate(const json_t *params, struct qd_err *err)
{
    static const char *const known[] = {"experiment", "metric", "threshold", NULL};
    const json_t *e = json_object_get(params, "experiment"), *m = json_object_get(params, "metric");
    const json_t *t = json_object_get(params, "threshold");
    enum qd_code rc = job_param_known(params, known, err);

    if (rc != QD_OK)
        return rc;
    if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 200)
        return qd_err_field(err, QD_EINVAL, "params.experiment",
                            "experiment is an experiment's id or name");
    if (m != NULL && (!json_is_string(m) || json_string_length(m) == 0 ||
                      json_string_length(m) > 64 ||
                      strspn(json_string_value(m), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR"
                                                   "STUVWXYZ0123456789_.-") !=
                          json_string_length(m)))
        return qd_err_field(err, QD_EINVAL, "params.metric",
                            "metric is a metric key, e.g. sharpe_ratio");
    if (t != NULL && (!json_is_number(t) || json_number_value(t) < 0 || json_number_value(t) > 1))
        return qd_err_field(err, QD_EINVAL, "params.threshold", "threshold is from 0 to 1");
    return QD_OK;
}

enum qd_code
report_run(struct job_ctx *ctx, const json_t *params, json_t **result, struct qd_err *err)
{
    const char *exp = json_string_value(json_object_get(params, "experiment"));
    const json_t *m = json_object_get(params, "metric"), *t = json_object_get(params, "threshold");
    const char *metric = m ? json_string_value(m) : "sharpe_ratio";
    struct qd_buf html = QD_BUF_INIT(REPORT_MAX_BYTES);
    int64_t best = 0;
    char sha[65], path[300], *art = NULL;
    enum qd_code rc;

    job_progress(ctx, 0.1, "building the report of %s", exp);
    rc = report_db_build((PGconn *)job_conn(ctx), exp, metric, t ? json_number_value(t) : 0.95,
                         &html, &best, err);
    if (rc == QD_OK && best == 0)
        rc = qd_err_set(err, QD_EINVAL, "experiment %s has no run with metric %s to attach the "
                        "report to", exp, metric);
    if (rc == QD_OK)
        rc = artifact_files_store(html.data, html.len, sha, err);
    if (rc == QD_OK) {
        snprintf(path, sizeof(path), "reports/%s.html", metric);
        rc = tracking_db_artifact_put((PGconn *)job_conn(ctx), best, path, sha,
                                      (int64_t)html.len, &art, err);
    }
    if (rc == QD_OK)
        *result = json_pack("{s:s, s:I, s:s, s:s, s:I}", "experiment", exp, "run_id",
                            (json_int_t)best, "path", path, "sha256", sha, "size",
                            (json_int_t)html.len);
    free(art);
    qd_buf_release(&html);
    return rc;
}

#ifndef FEEDS_CSV_FILE_H
#define FEEDS_CSV_FILE_H

/*
 * Daily-bar CSV files for ingest_equity's "csv" source: a path is resolved (symlinks too) and
 * must lie inside the configured import directory; the file is streamed through the CSV
 * parser (feeds/csv_bars.h) with an optional column mapping. Blocking; any thread.
 */

#include "common/err.h"
#include "core/bar.h"

#include <stdbool.h>
#include <stddef.h>

/* Resolves path (relative to dir, or absolute) into out (PATH_MAX) and checks that it is a
 * regular file or directory inside dir. QD_EFORBIDDEN when it is outside; QD_ENOTFOUND when
 * it does not exist. */
enum qd_code csv_file_resolve(const char *dir, const char *path, char *out, size_t n,
                              bool *is_dir, struct qd_err *err);

/* Reads a whole file into s (appended) through the CSV parser; aliases is NULL or a
 * NULL-terminated list of (column, header) pairs. A bad row fails the file with "line N: ..."
 * and s keeps nothing of it. */
enum qd_code csv_file_read(const char *file, const char *const *aliases, bool ignore_extra,
                           struct bar_series *s, size_t *skipped, struct qd_err *err);

#endif

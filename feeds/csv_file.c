/* CSV files under the import directory (see csv_file.h). */
#define _DEFAULT_SOURCE
#include "feeds/csv_file.h"
#include "feeds/csv_bars.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum qd_code
csv_file_resolve(const char *dir, const char *path, char *out, size_t n, bool *is_dir,
                 struct qd_err *err)
{
    char base[PATH_MAX], joined[PATH_MAX * 2], real[PATH_MAX];
    struct stat st;
    size_t bl;

    if (realpath(dir, base) == NULL)
        return qd_err_set(err, QD_ENOTFOUND, "the import directory %s: %s", dir,
                          strerror(errno));
    if (path[0] == '/')
        snprintf(joined, sizeof(joined), "%s", path);
    else
        snprintf(joined, sizeof(joined), "%s/%s", base, path);
    if (realpath(joined, real) == NULL)
        return qd_err_set(err, errno == ENOENT ? QD_ENOTFOUND : QD_EINVAL, "%s: %s", path,
                          strerror(errno));
    bl = strlen(base);
    /* inside: the directory itself or below it, after every symlink is resolved */
    if (strncmp(real, base, bl) != 0 || (real[bl] != '\0' && real[bl] != '/'))
        return qd_err_set(err, QD_EFORBIDDEN, "%s is outside the import directory", path);
    if (stat(real, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)))
        return qd_err_set(err, QD_EINVAL, "%s is not a file or directory", path);
    *is_dir = S_ISDIR(st.st_mode);
    if (strlen(real) >= n)
        return qd_err_set(err, QD_EINVAL, "%s: path too long", path);
    snprintf(out, n, "%s", real);
    return QD_OK;
}

enum qd_code
csv_file_read(const char *file, const char *const *aliases, bool ignore_extra,
              struct bar_series *s, size_t *skipped, struct qd_err *err)
{
    FILE *f = fopen(file, "rb");
    struct csv_bars *p;
    size_t keep = s->n, got;
    char buf[1 << 16];
    enum qd_code rc = QD_OK;

    *skipped = 0;
    if (f == NULL)
        return qd_err_set(err, QD_ENOTFOUND, "%s: %s", file, strerror(errno));
    p = csv_bars_create(s);
    if (p == NULL) {
        fclose(f);
        return qd_err_set(err, QD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; aliases && aliases[i] && rc == QD_OK; i += 2)
        rc = csv_bars_alias(p, aliases[i], aliases[i + 1], err);
    csv_bars_ignore_unknown(p, ignore_extra);
    while (rc == QD_OK && (got = fread(buf, 1, sizeof(buf), f)) > 0)
        rc = csv_bars_feed(p, buf, got, err);
    if (rc == QD_OK && ferror(f))
        rc = qd_err_set(err, QD_EIO, "%s: read error", file);
    if (rc == QD_OK)
        rc = csv_bars_finish(p, err);
    if (rc == QD_OK)
        *skipped = csv_bars_skipped(p);
    else
        s->n = keep;
    csv_bars_destroy(p);
    fclose(f);
    return rc;
}

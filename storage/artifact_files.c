/* Content-addressed artifact files (see artifact_files.h). */
#include "storage/artifact_files.h"

#include <openssl/evp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[900] = "artifacts";

void
artifact_files_root_set(const char *state_dir)
{
    snprintf(root, sizeof(root), "%.880s/artifacts", state_dir);
}

int
artifact_files_mkdir(const char *dir)
{
    char tmp[1024];

    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

void
artifact_files_dir(const char *sub, char *out, size_t n)
{
    snprintf(out, n, "%s%s%.8s", root, sub ? "/" : "", sub ? sub : "");
}

enum qd_code
artifact_files_store(const void *data, size_t len, char *sha, struct qd_err *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char dir[1000], tmp[1100], dst[1100], sub[3];
    FILE *f;
    int fd;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
        return qd_err_set(err, QD_EINTERNAL, "SHA-256 failed");
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(sha + 2 * i, 3, "%02x", md[i]);
    snprintf(sub, sizeof(sub), "%.2s", sha);
    artifact_files_dir(sub, dir, sizeof(dir));
    snprintf(dst, sizeof(dst), "%s/%s", dir, sha);
    if (artifact_files_mkdir(dir) != 0)
        return qd_err_set(err, QD_EIO, "cannot create %s: %s", dir, strerror(errno));
    if (access(dst, F_OK) == 0)
        return QD_OK;                   /* the same content is there */
    snprintf(tmp, sizeof(tmp), "%s/.%s-XXXXXX", dir, sha);
    if ((fd = mkstemp(tmp)) < 0)
        return qd_err_set(err, QD_EIO, "cannot create a file in %s: %s", dir, strerror(errno));
    if ((f = fdopen(fd, "wb")) == NULL) {
        close(fd);
        unlink(tmp);
        return qd_err_set(err, QD_EIO, "cannot write %s", tmp);
    }
    if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        unlink(tmp);
        return qd_err_set(err, QD_EIO, "cannot write the artifact: %s", strerror(errno));
    }
    fclose(f);
    if (rename(tmp, dst) != 0) {
        unlink(tmp);
        return qd_err_set(err, QD_EIO, "cannot store the artifact: %s", strerror(errno));
    }
    return QD_OK;
}

#ifndef STORAGE_ARTIFACT_FILES_H
#define STORAGE_ARTIFACT_FILES_H

/* The files behind run artifacts: <state_dir>/artifacts/<2 hex>/<sha256>, content-addressed
 * (docs/tracking.md). The root is set once at start; then any thread. */

#include "common/err.h"

#include <stddef.h>

void artifact_files_root_set(const char *state_dir);
/* mkdir -p with mode 0750. 0 or -1 (errno). */
int artifact_files_mkdir(const char *dir);
/* <root>/<sub> (sub NULL: the root) into out. */
void artifact_files_dir(const char *sub, char *out, size_t n);
/* Stores len bytes under their SHA-256 (hex into sha, 65 bytes): written to a temporary file,
 * synced, renamed into place; the same content already stored is kept. QD_EIO. */
enum qd_code artifact_files_store(const void *data, size_t len, char *sha, struct qd_err *err);

#endif

/*
 * File helpers shared by every stage: whole-file reads, atomic writes (temp file in the same
 * folder, fsync, rename: a reader never sees a half-written output), SHA-256 via nettle.
 */
#ifndef WF_CORE_FILEIO_H
#define WF_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/status.h"

/* Read all of path into a malloc'd buffer (NUL-terminated, *len excludes the NUL).
 * Caller frees *data with free(). */
wf_status wf_file_read_all(const char *path, char **data, size_t *len, wf_error *err);

/* Write len bytes to path atomically: path.tmp.XXXXXX in the same folder, fsync, rename. */
wf_status wf_file_write_atomic(const char *path, const void *data, size_t len, wf_error *err);

/* Create a temp file name beside `path` for writers that need a FILE* or a library that writes
 * by name (libharu, libxlsxwriter): fills tmp (size >= strlen(path) + 16) with "path.tmp.XXXXXX"
 * and creates it empty (mkstemp). Commit with wf_file_commit (rename) or discard with remove(). */
wf_status wf_file_temp_beside(const char *path, char *tmp, size_t tmp_size, wf_error *err);
wf_status wf_file_commit(const char *tmp, const char *path, wf_error *err);

/* SHA-256 of a buffer / a file, as 64 lowercase hex chars + NUL in hex (size >= 65). */
void wf_sha256_hex(const void *data, size_t len, char hex[65]);
wf_status wf_sha256_file_hex(const char *path, char hex[65], wf_error *err);

/* Incremental SHA-256 (for a reader that hashes the bytes it parses, as it reads them). */
typedef struct wf_hasher wf_hasher;
wf_hasher *wf_hasher_new(void); /* NULL when out of memory */
void wf_hasher_update(wf_hasher *h, const void *data, size_t len);
void wf_hasher_hex(const wf_hasher *h, char hex[65]); /* digest so far (h keeps going) */
void wf_hasher_free(wf_hasher *h);                    /* accepts NULL */

/* Join a directory and a relative path ("a/b" + "c.csv"); absolute rel is returned as is.
 * Writes into out (size out_size); returns WF_ERR_INVALID if it does not fit. */
wf_status wf_path_join(const char *dir, const char *rel, char *out, size_t out_size, wf_error *err);
/* Directory part of path ("." when there is none), into out. */
void wf_path_dirname(const char *path, char *out, size_t out_size);

#endif

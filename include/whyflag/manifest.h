/*
 * whyflag: manifest.json read back, for `whyflag verify`.
 *
 * The manifest (written by src/report) lists the SHA-256 and size of every input and output of a
 * run. Reading it is the io stage's (cJSON, the one JSON reader: wf_manifest_read); checking the
 * files it names against it is the report stage's (wf_manifest_check); wf_manifest_verify (the
 * audit stage) does both.
 */
#ifndef WHYFLAG_MANIFEST_H
#define WHYFLAG_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_manifest_entry {
    char role[32];   /* "model", "log", ..., "output" */
    char path[4096]; /* as recorded (absolute for inputs, relative to the manifest for outputs) */
    char sha256[65]; /* 64 lowercase hex */
    int64_t bytes;   /* -1 when absent */
} wf_manifest_entry;

typedef struct wf_manifest_doc {
    int64_t n;                /* inputs then outputs, in file order */
    wf_manifest_entry *entry; /* (n), owned */
    char *text;               /* the exact bytes of the file (the signature covers them), owned */
    size_t len;
} wf_manifest_doc;

/* Read path (src/io). A file that is not a manifest ("inputs" and "outputs" lists of {role, path,
 * bytes, sha256}) is WF_ERR_PARSE naming the file and the JSON path of the first problem. */
wf_status wf_manifest_read(const char *path, wf_manifest_doc *doc, wf_error *err);
void wf_manifest_doc_free(wf_manifest_doc *doc);

/* Recompute every hash the manifest lists (src/report). manifest_path locates the outputs (its
 * folder) and the signature (manifest_path + ".sig"). Each problem (missing file, hash mismatch,
 * bad or missing signature) is one line in report (may be NULL; truncated to size) and counted in
 * *n_problems. pubkey (32 bytes) or NULL: when given, the signature must exist and verify.
 * inputs_dir or NULL: where to look for an input, by its file name, when its recorded absolute
 * path does not exist. Returns WF_OK when everything matched; WF_ERR_VERIFY when a file changed
 * or the signature failed; WF_ERR_IO when the only problems are files not found (moved or
 * deleted, "NOT FOUND" lines), so that a moved input never reads as tampering ("CHANGED"). */
wf_status wf_manifest_check(const wf_manifest_doc *doc, const char *manifest_path,
                            const uint8_t *pubkey, const char *inputs_dir, char *report,
                            size_t report_size, int *n_problems, wf_error *err);

/* wf_manifest_read + wf_manifest_check (src/audit). */
wf_status wf_manifest_verify(const char *manifest_path, const uint8_t *pubkey,
                             const char *inputs_dir, char *report, size_t report_size,
                             int *n_problems, wf_error *err);

#ifdef __cplusplus
}
#endif
#endif

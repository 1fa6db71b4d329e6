/*
 * The identity of an audit run (the SHA-256 of every input and the tool's version: every shard
 * records it, and merge refuses shards whose identities differ) and of a shard (the turbines it
 * owns).
 *
 * Inputs are read once: each digest is taken from the bytes that are parsed, as they are read
 * (the config, model and explain files here, at open; the failure log where the part parses it;
 * the log on the first streaming pass), never by a separate hashing pass that a file swapped in
 * between could fool.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "core/fileio.h"
#include "core/version.h"

wf_status wf_audit_model_load_digest(const char *path, wf_model **model, char sha256_hex[65],
                                     wf_error *err) {
    char *data = NULL;
    size_t len = 0;
    *model = NULL;
    wf_status st = wf_file_read_all(path, &data, &len, err);
    if (st)
        return st;
    wf_sha256_hex(data, len, sha256_hex); /* the digest of exactly the bytes parsed */
    st = wf_model_load_mem(data, len, path, model, err);
    free(data);
    return st;
}

wf_status wf_audit_ident_config(const char *config_path, wf_config *cfg, wf_audit_ident *id,
                                wf_error *err) {
    memset(id, 0, sizeof *id);
    snprintf(id->tool, sizeof id->tool, "%s", WF_TOOL_NAME);
    char abs[PATH_MAX];
    const char *cp = realpath(config_path, abs) ? abs : config_path;
    if (strlen(cp) >= sizeof id->config_path)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", cp);
    memcpy(id->config_path, cp, strlen(cp) + 1);
    return wf_config_load_digest(config_path, cfg, id->config, err);
}

void wf_audit_ident_files(const wf_explain_files *f, wf_audit_ident *id) {
    memcpy(id->background, f->background_sha256, sizeof id->background);
    memcpy(id->baseline, f->baseline_sha256, sizeof id->baseline);
}

wf_status wf_audit_log_check(const wf_config *cfg, const wf_audit_ident *id, const char *hex,
                             const char *pass, wf_error *err) {
    if (!hex[0] || !id->log[0] || !strcmp(hex, id->log))
        return WF_OK;
    return wf_error_set(err, WF_ERR_VERIFY,
                        "%s (log.path) changed during the run: its SHA-256 was %s when the run "
                        "first read it, and the bytes read when the run %s give %s; nothing was "
                        "written; rerun when the log is no longer being written",
                        cfg->log.path, id->log, pass, hex);
}

wf_status wf_audit_log_digest(const wf_config *cfg, wf_audit_ident *id, const char *hex,
                              const char *pass, wf_error *err) {
    if (id->log[0])
        return wf_audit_log_check(cfg, id, hex, pass, err);
    if (!hex[0]) /* a pass that stopped early has no digest: the run would have no log hash */
        return wf_error_set(err, WF_ERR_IO,
                            "%s (log.path): the run %s but did not read the log to its end, so "
                            "its SHA-256 is unknown; nothing was written",
                            cfg->log.path, pass);
    memcpy(id->log, hex, sizeof id->log);
    return WF_OK;
}

/* ---------------------------------------------------------------- ownership */

static int cmp_id(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

int wf_audit_part_owns(const wf_audit_part *pt, const char *id) {
    if (pt->shard_n <= 1)
        return 1;
    const char *base = (const char *)pt->turbines;
    const char *hit = bsearch(id, base, (size_t)pt->n_turbines, sizeof *pt->turbines, cmp_id);
    return hit && pt->turbine_shard[(hit - base) / (ptrdiff_t)sizeof *pt->turbines] == pt->shard_k;
}

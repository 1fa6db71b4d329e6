/*
 * The identity of an audit run (the SHA-256 of every input and the tool's version: every shard
 * records it, and merge refuses shards whose identities differ) and of a shard (the turbines it
 * owns).
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

wf_status wf_audit_ident_compute(const wf_config *cfg, wf_audit_ident *id, wf_error *err) {
    memset(id, 0, sizeof *id);
    snprintf(id->tool, sizeof id->tool, "%s", WF_TOOL_NAME);
    char abs[PATH_MAX];
    const char *cp = realpath(cfg->config_path, abs) ? abs : cfg->config_path;
    if (strlen(cp) >= sizeof id->config_path)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", cp);
    memcpy(id->config_path, cp, strlen(cp) + 1);
    wf_status st = wf_sha256_file_hex(cfg->config_path, id->config, err);
    if (!st)
        st = wf_sha256_file_hex(cfg->model, id->model, err);
    if (!st)
        st = wf_sha256_file_hex(cfg->log.path, id->log, err);
    if (!st && cfg->failures.path[0])
        st = wf_sha256_file_hex(cfg->failures.path, id->failures, err);
    if (!st && cfg->explain.background == WF_BACKGROUND_FILE)
        st = wf_sha256_file_hex(cfg->explain.background_path, id->background, err);
    if (!st && cfg->explain.baseline == WF_BASELINE_FILE)
        st = wf_sha256_file_hex(cfg->explain.baseline_path, id->baseline, err);
    return st;
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

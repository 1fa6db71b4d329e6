/*
 * The identity of an audit run: the SHA-256 of every input and the tool's version. Every shard
 * records it, and merge refuses shards whose identities differ.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
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

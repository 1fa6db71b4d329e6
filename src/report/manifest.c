/*
 * manifest.json: SHA-256 and size of every input and output, the settings, versions, seed,
 * platform and time of a run; `whyflag verify` recomputes every digest. Optional Ed25519
 * signature (Ed25519, src/core/crypto.c) over the exact bytes of manifest.json, kept beside it in
 * manifest.json.sig (128 hex chars + newline): signing never changes the manifest, and verifying
 * needs no canonicalisation, only the same bytes.
 *
 * Paths: inputs are recorded as absolute paths (resolved when the manifest is written), outputs
 * relative to the manifest's folder, so a report folder can be moved or copied and still verify.
 * The manifest is read back by src/io (cJSON, the one JSON reader) and checked here.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/jw.h"
#include "core/crypto.h"
#include "whyflag/manifest.h"
#include "whyflag/versions.h"
#include "core/version.h"
#include "report/report_impl.h"

/* ---------------------------------------------------------------- keys */

static void hex_encode(const uint8_t *d, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_val(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode exactly n bytes of hex from s (surrounding whitespace allowed). */
static int hex_decode(const char *s, uint8_t *out, size_t n) {
    while (isspace((unsigned char)*s))
        s++;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_val((unsigned char)s[2 * i]),
            lo = hi < 0 ? -1 : hex_val((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi * 16 + lo);
    }
    s += 2 * n;
    while (isspace((unsigned char)*s))
        s++;
    return *s ? -1 : 0;
}

wf_status wf_key_write_hex(const char *path, const uint8_t key[32], unsigned mode, wf_error *err) {
    char tmp[4096], text[66];
    hex_encode(key, 32, text);
    text[64] = '\n';
    text[65] = '\0';
    /* mkstemp makes the file 0600 from the start, so a private key is never readable by others,
     * not even between write and rename. */
    wf_status st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st)
        return st;
    int fd = open(tmp, O_WRONLY | O_TRUNC);
    if (fd < 0 || fchmod(fd, (mode_t)mode) != 0 || write(fd, text, 65) != 65 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write key: %s", path, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot rename key into place: %s", path,
                            strerror(e));
    }
    return WF_OK;
}

wf_status wf_key_read_hex(const char *path, uint8_t key[32], wf_error *err) {
    char *text;
    size_t len;
    wf_status st = wf_file_read_all(path, &text, &len, err);
    if (st)
        return st;
    int bad = hex_decode(text, key, 32);
    free(text);
    if (bad)
        return wf_error_set(err, WF_ERR_PARSE,
                            "%s: not a key (expected 64 hex characters, as `whyflag keygen` "
                            "writes)",
                            path);
    return WF_OK;
}

/* ---------------------------------------------------------------- writing */

static void file_entry(wf_jw *w, const char *role, const char *shown, const char *path,
                       const char *known_sha, wf_status *st, wf_error *err) {
    char hex[65];
    struct stat sb;
    if (*st)
        return;
    if (known_sha && strlen(known_sha) == 64)
        memcpy(hex, known_sha, 65);
    else
        *st = wf_sha256_file_hex(path, hex, err);
    if (*st)
        return;
    if (stat(path, &sb) != 0) {
        *st = wf_error_set(err, WF_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        return;
    }
    wf_jw_obj_begin(w);
    wf_jw_kstr(w, "role", role);
    wf_jw_kstr(w, "path", shown);
    wf_jw_kint(w, "bytes", (int64_t)sb.st_size);
    wf_jw_kstr(w, "sha256", hex);
    wf_jw_obj_end(w);
}

wf_status wf_manifest_write(const char *out_dir, const wf_results *r, const wf_report_options *o,
                            const char *const *outputs, int n_outputs, wf_error *err) {
    wf_report_options def;
    if (o)
        def = *o;
    else
        wf_report_options_default(&def);
    wf_report_versions_complete(&def); /* a no-op when wf_report_write_all did it */
    o = &def;
    char path[4096], tpl[1024], font[1024], bold[1024], mono[1024];
    wf_status st = wf_path_join(out_dir, "manifest.json", path, sizeof path, err);
    if (st)
        return st;
    wf_report_paths(o, tpl, font, bold, mono);
    wf_jw w;
    wf_jw_init(&w, 1);
    wf_jw_obj_begin(&w);
    wf_jw_kint(&w, "manifest_version", 1);
    wf_jw_kstr(&w, "tool", r->tool ? r->tool : WF_TOOL_NAME);
    wf_jw_kstr(&w, "command", r->command ? r->command : "audit");
    char iso[32];
    wf_jw_kstr(&w, "generated_at", wf_time_format_iso(r->generated_at, iso));
    if (r->settings) {
        wf_jw_key(&w, "seed");
        wf_jw_int(&w, (int64_t)r->settings->seed);
    }
    wf_jw_key(&w, "threshold");
    if (r->threshold == r->threshold)
        wf_jw_double(&w, r->threshold);
    else
        wf_jw_null(&w);
    wf_jw_kstr(&w, "model_sha256", r->model_sha256);
    wf_jw_kbool(&w, "model_quantized", r->model_quantized);
    wf_results_json_settings(&w, r->settings);
    struct utsname u;
    char plat[400];
    if (uname(&u) == 0)
        snprintf(plat, sizeof plat, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
    else
        snprintf(plat, sizeof plat, "unknown");
    wf_jw_kstr(&w, "platform", plat);
    /* The program that wrote this: its version, the commit it was built from, and the SHA-256
     * of the running binary (/proc/self/exe), so a run can be tied to the exact build. */
    {
        char bin[65];
        wf_error e2;
        wf_jw_key(&w, "build");
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "version", WF_VERSION);
        wf_jw_kstr(&w, "git_commit", wf_build_commit());
        wf_jw_kstr(&w, "binary_sha256",
                   wf_sha256_file_hex("/proc/self/exe", bin, &e2) == WF_OK ? bin : "unknown");
        wf_jw_obj_end(&w);
    }
    wf_jw_key(&w, "versions");
    wf_jw_obj_begin(&w);
    for (int i = 0; i < o->n_versions; i++)
        wf_jw_kstr(&w, o->versions[i].name, o->versions[i].value);
    wf_jw_obj_end(&w);
    /* Inputs: the caller's, then the template and fonts the report used. */
    wf_jw_key(&w, "inputs");
    wf_jw_arr_begin(&w);
    int has_model = 0;
    for (int i = 0; i < o->n_inputs; i++)
        has_model |= strcmp(o->inputs[i].role, "model") == 0;
    const char *roles[WF_REPORT_MAX_INPUTS + 5];
    const char *paths[WF_REPORT_MAX_INPUTS + 5];
    const char *shas[WF_REPORT_MAX_INPUTS + 5] = {0};
    int n = 0;
    if (!has_model && r->model_path) {
        roles[n] = "model";
        paths[n++] = r->model_path;
    }
    for (int i = 0; i < o->n_inputs; i++) {
        roles[n] = o->inputs[i].role;
        shas[n] = o->inputs[i].sha256;
        paths[n++] = o->inputs[i].path;
    }
    roles[n] = "template";
    paths[n++] = tpl;
    roles[n] = "font";
    paths[n++] = font;
    roles[n] = "font";
    paths[n++] = bold;
    roles[n] = "font";
    paths[n++] = mono;
    for (int i = 0; i < n; i++) {
        char abs[PATH_MAX];
        const char *shown = realpath(paths[i], abs) ? abs : paths[i];
        file_entry(&w, roles[i], shown, paths[i], shas[i], &st, err);
    }
    wf_jw_arr_end(&w);
    wf_jw_key(&w, "outputs");
    wf_jw_arr_begin(&w);
    for (int i = 0; i < n_outputs; i++) {
        char full[4096];
        if (!st)
            st = wf_path_join(out_dir, outputs[i], full, sizeof full, err);
        file_entry(&w, "output", outputs[i], full, NULL, &st, err);
    }
    wf_jw_arr_end(&w);
    if (o->sign) {
        uint8_t pub[32];
        char hex[65];
        wf_ed25519_public_key(pub, o->sign_key);
        hex_encode(pub, 32, hex);
        wf_jw_key(&w, "signature");
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "algorithm", "ed25519");
        wf_jw_kstr(&w, "file", "manifest.json.sig");
        wf_jw_kstr(&w, "signed_bytes", "the exact bytes of manifest.json");
        wf_jw_kstr(&w, "public_key", hex);
        wf_jw_obj_end(&w);
    }
    wf_jw_obj_end(&w);
    wf_jw_finish(&w);
    if (!st && w.failed)
        st = wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", path);
    if (!st)
        st = wf_file_write_atomic(path, w.buf, w.len, err);
    wf_jw_free(&w);
    if (!st && o->sign)
        st = wf_manifest_sign(path, o->sign_key, err);
    return st;
}

wf_status wf_manifest_sign(const char *manifest_path, const uint8_t priv[32], wf_error *err) {
    char *text, sigpath[4096], hex[129];
    size_t len;
    wf_status st = wf_file_read_all(manifest_path, &text, &len, err);
    if (st)
        return st;
    uint8_t sig[64];
    wf_ed25519_sign(priv, text, len, sig);
    free(text);
    hex_encode(sig, 64, hex);
    hex[128] = '\n';
    snprintf(sigpath, sizeof sigpath, "%s.sig", manifest_path);
    return wf_file_write_atomic(sigpath, hex, 129, err);
}

/* ---------------------------------------------------------------- checking */

typedef struct vr {
    char *report;
    size_t size, len;
    int problems;
    int not_found; /* problems that are files not found (moved or deleted), not changed */
    wf_error *err;
} vr;

static void problem(vr *v, wf_status st, const char *fmt, const char *a1, const char *a2,
                    const char *a3) {
    char line[8400];
    snprintf(line, sizeof line, fmt, a1, a2, a3);
    if (v->problems == 0)
        wf_error_set(v->err, st, "%s", line);
    v->problems++;
    if (v->report && v->len + 1 < v->size) {
        int n = snprintf(v->report + v->len, v->size - v->len, "%s\n", line);
        if (n > 0)
            v->len += (size_t)n < v->size - v->len ? (size_t)n : v->size - v->len - 1;
    }
}

static void check_entry(vr *v, const char *dir, const char *inputs_dir,
                        const wf_manifest_entry *e) {
    char full[8300], hex[65];
    wf_error e2;
    if (e->path[0] == '/')
        snprintf(full, sizeof full, "%s", e->path);
    else
        snprintf(full, sizeof full, "%s/%s", dir, e->path);
    if (inputs_dir && strcmp(e->role, "output") != 0 && access(full, F_OK) != 0) {
        const char *base = strrchr(e->path, '/');
        snprintf(full, sizeof full, "%s/%s", inputs_dir, base ? base + 1 : e->path);
    }
    if (wf_sha256_file_hex(full, hex, &e2) != WF_OK) {
        /* Not found is not changed: inputs are often moved to an auditor's machine. */
        problem(v, WF_ERR_IO, "%s: NOT FOUND (%s): moved or deleted%s", full, e->role,
                strcmp(e->role, "output") && !inputs_dir
                    ? " (if the inputs were moved, give their folder with --inputs DIR)"
                    : "");
        v->not_found++;
        return;
    }
    if (strcmp(hex, e->sha256) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "sha256 %.16s... expected, %.16s... found", e->sha256, hex);
        problem(v, WF_ERR_VERIFY, "%s: CHANGED (%s): %s", full, e->role, msg);
    }
}

wf_status wf_manifest_check(const wf_manifest_doc *doc, const char *manifest_path,
                            const uint8_t *pubkey, const char *inputs_dir, char *report,
                            size_t report_size, int *n_problems, wf_error *err) {
    const char *text = doc->text;
    size_t len = doc->len;
    vr v = {report, report_size, 0, 0, 0, err};
    if (report && report_size)
        report[0] = '\0';
    if (n_problems)
        *n_problems = 0;
    char dir[4096];
    wf_path_dirname(manifest_path, dir, sizeof dir);
    for (int64_t i = 0; i < doc->n; i++)
        check_entry(&v, dir, inputs_dir, &doc->entry[i]);
    if (pubkey) {
        char sigpath[4200], *sigtext = NULL;
        size_t siglen;
        uint8_t sig[64];
        wf_error e2;
        snprintf(sigpath, sizeof sigpath, "%s.sig", manifest_path);
        if (wf_file_read_all(sigpath, &sigtext, &siglen, &e2) != WF_OK)
            problem(&v, WF_ERR_VERIFY, "%s: MISSING signature (a public key was given)%s%s",
                    sigpath, "", "");
        else if (hex_decode(sigtext, sig, 64) != 0)
            problem(&v, WF_ERR_VERIFY, "%s: malformed signature (expected 128 hex chars)%s%s",
                    sigpath, "", "");
        else if (!wf_ed25519_verify(pubkey, text, len, sig))
            problem(&v, WF_ERR_VERIFY,
                    "%s: SIGNATURE does not verify: the manifest was changed after signing, or "
                    "signed with another key%s%s",
                    manifest_path, "", "");
        free(sigtext);
    }
    if (n_problems)
        *n_problems = v.problems;
    if (!v.problems)
        return WF_OK;
    /* Something changed (or the signature failed): WF_ERR_VERIFY, whatever else was not found;
     * only files not found: WF_ERR_IO, so that a moved input never reads as tampering. */
    if (v.not_found == v.problems) {
        err->status = WF_ERR_IO;
        return WF_ERR_IO;
    }
    if (err->status != WF_ERR_VERIFY)
        wf_error_set(err, WF_ERR_VERIFY,
                     "%d file(s) changed or the signature failed (and %d not found)",
                     v.problems - v.not_found, v.not_found);
    return WF_ERR_VERIFY;
}

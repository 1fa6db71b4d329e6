/*
 * Windows file reader (windows.h): the output of `whyflag windows` and the fixture format.
 * Lives in src/io because cJSON has exactly one user module. Errors name the file and the
 * JSON path (windows[12].values[3]).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"
#include "core/fileio.h"
#include "whyflag/windows.h"

static wf_status bad(wf_error *err, const char *name, const char *path, const char *what) {
    return wf_error_set(err, WF_ERR_PARSE, "%s: %s: %s", name, path, what);
}

/* Time as an ISO 8601 string or integer seconds. */
static int get_time(const cJSON *v, int64_t *out) {
    if (cJSON_IsString(v))
        return wf_time_parse_iso(v->valuestring, out) == WF_OK ? 0 : -1;
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
        fabs(v->valuedouble) < 9e15) {
        *out = (int64_t)v->valuedouble;
        return 0;
    }
    return -1;
}

static void copy_id(char *dst, const char *src) {
    size_t n = strlen(src);
    if (n >= WF_ID_MAX)
        n = WF_ID_MAX - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static wf_status parse_doc(const cJSON *root, const char *name, wf_windows *ws, wf_error *err) {
    char path[96];
    if (!cJSON_IsObject(root))
        return bad(err, name, "(top level)", "expected an object");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(root, "channels");
    if (!cJSON_IsArray(ch) || cJSON_GetArraySize(ch) == 0)
        return bad(err, name, "channels", "expected a non-empty array of channel names");
    int C = cJSON_GetArraySize(ch);
    const cJSON *wins = cJSON_GetObjectItemCaseSensitive(root, "windows");
    if (!cJSON_IsArray(wins))
        return bad(err, name, "windows", "expected an array");
    int T = 0;
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(root, "T");
    if (tv) {
        if (!cJSON_IsNumber(tv) || tv->valuedouble < 1 || tv->valuedouble > 1e6 ||
            tv->valuedouble != floor(tv->valuedouble))
            return bad(err, name, "T", "expected a positive integer");
        T = (int)tv->valuedouble;
    } else if (wins->child) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(wins->child, "values");
        if (cJSON_IsArray(v) && cJSON_IsArray(v->child))
            T = cJSON_GetArraySize(v->child);
    }
    if (T <= 0)
        return bad(err, name, "T", "missing (and no window to infer it from)");
    const char **names = calloc((size_t)C, sizeof *names);
    const char **units = calloc((size_t)C, sizeof *units);
    if (!names || !units) {
        free(names);
        free(units);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    int i = 0;
    for (const cJSON *c = ch->child; c; c = c->next, i++) {
        if (!cJSON_IsString(c)) {
            free(names);
            free(units);
            snprintf(path, sizeof path, "channels[%d]", i);
            return bad(err, name, path, "expected a string");
        }
        names[i] = c->valuestring;
    }
    const cJSON *un = cJSON_GetObjectItemCaseSensitive(root, "units");
    if (cJSON_IsArray(un) && cJSON_GetArraySize(un) == C) {
        i = 0;
        for (const cJSON *u = un->child; u; u = u->next, i++)
            units[i] = cJSON_IsString(u) ? u->valuestring : NULL;
    }
    wf_status st = wf_windows_init(ws, C, T, names, units, err);
    free(names);
    free(units);
    if (st)
        return st;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(root, "stride");
    if (cJSON_IsNumber(sv))
        ws->stride = (int)sv->valuedouble;
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(root, "cadence_seconds");
    if (cJSON_IsNumber(cv))
        ws->cadence = (int64_t)cv->valuedouble;
    float *vals = malloc(sizeof(float) * (size_t)C * (size_t)T);
    if (!vals)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    int64_t wi = 0;
    for (const cJSON *w = wins->child; w; w = w->next, wi++) {
        wf_window x;
        memset(&x, 0, sizeof x);
        x.index = -1;
        x.label = -1;
        snprintf(path, sizeof path, "windows[%lld]", (long long)wi);
        if (!cJSON_IsObject(w)) {
            st = bad(err, name, path, "expected an object");
            break;
        }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(w, "turbine_id");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(w, "start");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(w, "end");
        const cJSON *lb = cJSON_GetObjectItemCaseSensitive(w, "label");
        const cJSON *co = cJSON_GetObjectItemCaseSensitive(w, "component");
        const cJSON *ip = cJSON_GetObjectItemCaseSensitive(w, "interpolated");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(w, "values");
        if (!cJSON_IsString(id)) {
            snprintf(path, sizeof path, "windows[%lld].turbine_id", (long long)wi);
            st = bad(err, name, path, "expected a string");
            break;
        }
        copy_id(x.turbine_id, id->valuestring);
        if (!s || get_time(s, &x.start)) {
            snprintf(path, sizeof path, "windows[%lld].start", (long long)wi);
            st = bad(err, name, path, "expected an ISO 8601 time or integer seconds");
            break;
        }
        if (!e)
            x.end = x.start;
        else if (get_time(e, &x.end)) {
            snprintf(path, sizeof path, "windows[%lld].end", (long long)wi);
            st = bad(err, name, path, "expected an ISO 8601 time or integer seconds");
            break;
        }
        if (lb) {
            if (!cJSON_IsNumber(lb) ||
                (lb->valuedouble != 0 && lb->valuedouble != 1 && lb->valuedouble != -1)) {
                snprintf(path, sizeof path, "windows[%lld].label", (long long)wi);
                st = bad(err, name, path, "expected 0, 1 or -1");
                break;
            }
            x.label = (int)lb->valuedouble;
        }
        if (cJSON_IsString(co))
            copy_id(x.component, co->valuestring);
        if (cJSON_IsNumber(ip))
            x.interpolated = (int)ip->valuedouble;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != C) {
            snprintf(path, sizeof path, "windows[%lld].values", (long long)wi);
            char what[96];
            snprintf(what, sizeof what, "expected an array of %d channels", C);
            st = bad(err, name, path, what);
            break;
        }
        int c = 0;
        for (const cJSON *row = v->child; row && !st; row = row->next, c++) {
            if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != T) {
                snprintf(path, sizeof path, "windows[%lld].values[%d]", (long long)wi, c);
                char what[96];
                snprintf(what, sizeof what, "expected an array of %d numbers", T);
                st = bad(err, name, path, what);
                break;
            }
            int t = 0;
            for (const cJSON *num = row->child; num; num = num->next, t++) {
                if (!cJSON_IsNumber(num)) {
                    snprintf(path, sizeof path, "windows[%lld].values[%d][%d]", (long long)wi, c,
                             t);
                    st = bad(err, name, path, "expected a number");
                    break;
                }
                vals[(size_t)c * (size_t)T + (size_t)t] = (float)num->valuedouble;
            }
        }
        if (st)
            break;
        x.values = vals;
        st = wf_windows_push(ws, &x, err);
        if (st)
            break;
        ws->w[ws->n - 1].index = ws->n - 1;
    }
    free(vals);
    if (st)
        return st;
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(root, "skipped");
    if (sk && !cJSON_IsArray(sk))
        return bad(err, name, "skipped", "expected an array");
    int64_t si = 0;
    for (const cJSON *k = sk ? sk->child : NULL; k; k = k->next, si++) {
        wf_skipped x;
        memset(&x, 0, sizeof x);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(k, "turbine_id");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(k, "start");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(k, "reason");
        if (!cJSON_IsString(id) || !s || get_time(s, &x.start) || !cJSON_IsString(r)) {
            snprintf(path, sizeof path, "skipped[%lld]", (long long)si);
            return bad(err, name, path,
                       "expected {\"turbine_id\": string, \"start\": time, \"reason\": string}");
        }
        copy_id(x.turbine_id, id->valuestring);
        size_t n = strlen(r->valuestring);
        if (n >= sizeof x.reason)
            n = sizeof x.reason - 1;
        memcpy(x.reason, r->valuestring, n);
        if ((st = wf_windows_push_skipped(ws, &x, err)))
            return st;
    }
    return WF_OK;
}

/* sha256_hex (may be NULL): the SHA-256 of exactly the bytes parsed. */
static wf_status read_json_digest(const char *path, wf_windows *ws, char *sha256_hex,
                                  wf_error *err) {
    memset(ws, 0, sizeof *ws);
    char *text = NULL;
    size_t len = 0;
    wf_status st = wf_file_read_all(path, &text, &len, err);
    if (st)
        return st;
    if (sha256_hex)
        wf_sha256_hex(text, len, sha256_hex);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line = 1;
        for (const char *p = text; end && p < end && *p; p++)
            line += *p == '\n';
        free(text);
        return wf_error_set(err, WF_ERR_PARSE, "%s:%d: invalid JSON", path, line);
    }
    free(text);
    st = parse_doc(root, path, ws, err);
    cJSON_Delete(root);
    if (st)
        wf_windows_free(ws);
    return st;
}

wf_status wf_windows_read_json(const char *path, wf_windows *ws, wf_error *err) {
    return read_json_digest(path, ws, NULL, err);
}

/* ---------------------------------------------------------------- explain's input files */

void wf_explain_files_free(wf_explain_files *f) {
    if (!f)
        return;
    wf_windows_free(&f->background);
    wf_windows_free(&f->baseline);
    wf_windows_free(&f->covers);
    memset(f, 0, sizeof *f);
}

wf_status wf_explain_files_load(wf_explain_settings *s, int C, int T, wf_explain_files *f,
                                wf_error *err) {
    wf_explain_files_free(f);
    s->background_windows = NULL;
    s->baseline_values = NULL;
    wf_status st = WF_OK;
    if (s->background == WF_BACKGROUND_FILE) {
        st = read_json_digest(s->background_path, &f->background, f->background_sha256, err);
        if (!st)
            s->background_windows = &f->background;
    }
    if (!st && s->baseline == WF_BASELINE_FILE) {
        st = read_json_digest(s->baseline_path, &f->baseline, f->baseline_sha256, err);
        if (!st && (f->baseline.n != 1 || f->baseline.C != C || f->baseline.T != T))
            st = wf_error_set(err, WF_ERR_SHAPE,
                              "%s: a baseline file must hold exactly one window of %d channels "
                              "x %d steps (found %lld windows of %d x %d)",
                              s->baseline_path, C, T, (long long)f->baseline.n, f->baseline.C,
                              f->baseline.T);
        if (!st)
            s->baseline_values = f->baseline.data;
    }
    s->treeshap_cover_windows = NULL;
    if (!st && s->treeshap_covers[0] && strcmp(s->treeshap_covers, "background")) {
        st = wf_windows_read_json(s->treeshap_covers, &f->covers, err);
        if (!st && (f->covers.n < 1 || f->covers.C != C || f->covers.T != T))
            st = wf_error_set(err, WF_ERR_SHAPE,
                              "%s (explain.treeshap_covers): expected windows of %d channels x "
                              "%d steps to count tree node covers, found %lld windows of %d x %d",
                              s->treeshap_covers, C, T, (long long)f->covers.n, f->covers.C,
                              f->covers.T);
        if (!st)
            s->treeshap_cover_windows = &f->covers;
    }
    if (st) {
        wf_explain_files_free(f);
        s->background_windows = NULL;
        s->baseline_values = NULL;
        s->treeshap_cover_windows = NULL;
    }
    return st;
}

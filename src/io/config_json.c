/*
 * config.json: loading and validation (cJSON's only user besides windows_json.c, same module).
 * Every error reads "<file>: <key path>: found <what>, expected <what>"; unknown keys are errors
 * with a "did you mean" hint; relative paths are resolved against the config file's folder.
 * Non-goals: comments in JSON, environment-variable expansion.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"
#include "core/text.h"
#include "core/fileio.h"
#include "whyflag/config.h"

typedef struct ctx {
    const char *name; /* file name for messages */
    const char *base; /* folder for relative paths */
    wf_error *err;
} ctx;

/* ---------------------------------------------------------------- helpers */

static wf_status expect(ctx *c, const char *path, const cJSON *v, const char *expected) {
    return wf_io_expect(c->err, c->name, path, v, expected);
}

static void join(char *out, size_t n, const char *path, const char *key) {
    if (path[0])
        snprintf(out, n, "%s.%s", path, key);
    else
        snprintf(out, n, "%s", key);
}

/* Unknown and duplicate keys are errors. */
static wf_status check_keys(ctx *c, const cJSON *obj, const char *path,
                            const char *const *allowed) {
    return wf_io_check_keys(c->err, c->name, obj, path, allowed);
}

static const cJSON *item(const cJSON *obj, const char *key) {
    return obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static wf_status need_object(ctx *c, const cJSON *v, const char *path) {
    if (!cJSON_IsObject(v))
        return expect(c, path, v, "an object");
    return WF_OK;
}

/* String into out (size n); absent -> keep out (if !required). */
static wf_status get_str(ctx *c, const cJSON *obj, const char *path, const char *key, int required,
                         char *out, size_t n) {
    char kp[256];
    join(kp, sizeof kp, path, key);
    const cJSON *v = item(obj, key);
    if (!v) {
        if (required)
            return wf_error_set(c->err, WF_ERR_CONFIG, "%s: %s: missing (required key)", c->name,
                                kp);
        return WF_OK;
    }
    if (!cJSON_IsString(v))
        return expect(c, kp, v, "a string");
    size_t len = strlen(v->valuestring);
    if (len >= n)
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: %s: string too long (%zu bytes, at most %zu)", c->name, kp, len,
                            n - 1);
    memcpy(out, v->valuestring, len + 1);
    return WF_OK;
}

static wf_status get_path(ctx *c, const cJSON *obj, const char *path, const char *key, int required,
                          char *out, size_t n) {
    char raw[WF_PATH_MAX] = "";
    wf_status st = get_str(c, obj, path, key, required, raw, sizeof raw);
    if (st || !item(obj, key))
        return st;
    char kp[256];
    join(kp, sizeof kp, path, key);
    if (!raw[0])
        return expect(c, kp, item(obj, key), "a non-empty path");
    st = wf_path_join(c->base, raw, out, n, c->err);
    if (st)
        return wf_error_prefix(c->err, "%s: %s: ", c->name, kp);
    return WF_OK;
}

static wf_status get_int(ctx *c, const cJSON *obj, const char *path, const char *key, int64_t lo,
                         int64_t hi, int64_t *out) {
    char kp[256];
    join(kp, sizeof kp, path, key);
    const cJSON *v = item(obj, key);
    if (!v)
        return WF_OK;
    char exp[128];
    if (hi == INT64_MAX)
        snprintf(exp, sizeof exp, "an integer >= %lld", (long long)lo);
    else
        snprintf(exp, sizeof exp, "an integer in [%lld, %lld]", (long long)lo, (long long)hi);
    if (!cJSON_IsNumber(v))
        return expect(c, kp, v, exp);
    double d = v->valuedouble;
    if (!(d == floor(d)) || d < (double)lo || d > (double)hi || fabs(d) > 9007199254740992.0)
        return expect(c, kp, v, exp);
    *out = (int64_t)d;
    return WF_OK;
}

static wf_status get_int32(ctx *c, const cJSON *obj, const char *path, const char *key, int lo,
                           int hi, int *out) {
    int64_t v = *out;
    wf_status st = get_int(c, obj, path, key, lo, hi, &v);
    if (!st)
        *out = (int)v;
    return st;
}

static wf_status get_num(ctx *c, const cJSON *obj, const char *path, const char *key, double lo,
                         int lo_open, double hi, double *out) {
    char kp[256];
    join(kp, sizeof kp, path, key);
    const cJSON *v = item(obj, key);
    if (!v)
        return WF_OK;
    char exp[128];
    snprintf(exp, sizeof exp, "a number %s %g%s", lo_open ? ">" : ">=", lo,
             isinf(hi) ? "" : " and <= max");
    if (!isinf(hi))
        snprintf(exp, sizeof exp, "a number in %s%g, %g]", lo_open ? "(" : "[", lo, hi);
    if (!cJSON_IsNumber(v))
        return expect(c, kp, v, exp);
    double d = v->valuedouble;
    if (!isfinite(d) || d < lo || (lo_open && d == lo) || d > hi)
        return expect(c, kp, v, exp);
    *out = d;
    return WF_OK;
}

static wf_status get_bool(ctx *c, const cJSON *obj, const char *path, const char *key, int *out) {
    char kp[256];
    join(kp, sizeof kp, path, key);
    const cJSON *v = item(obj, key);
    if (!v)
        return WF_OK;
    if (!cJSON_IsBool(v))
        return expect(c, kp, v, "true or false");
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return WF_OK;
}

/* A string option handled by one of the shared explain parsers: prefix the key path. */
static wf_status prefixed(ctx *c, wf_status st, const char *kp) {
    if (st)
        return wf_error_prefix(c->err, "%s: %s: ", c->name, kp);
    return WF_OK;
}

/* Validate a strptime-style pattern: only the directives wf_parse_time supports. */
static wf_status check_time_format(ctx *c, const char *fmt) {
    if (!strcmp(fmt, "iso8601"))
        return WF_OK;
    int have_date = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (!*p || !strchr("YmdHMSyb%", *p))
            return wf_error_set(c->err, WF_ERR_CONFIG,
                                "%s: log.time_format: found \"%s\", expected \"iso8601\" or a "
                                "pattern using %%Y %%m %%d %%H %%M %%S %%y %%b %%%% and literal "
                                "characters (bad directive %%%c)",
                                c->name, fmt, *p ? *p : ' ');
        if (*p == 'Y' || *p == 'y')
            have_date = 1;
    }
    if (!have_date)
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: log.time_format: found \"%s\", expected \"iso8601\" or a pattern "
                            "with a year (%%Y or %%y)",
                            c->name, fmt);
    return WF_OK;
}

/* ---------------------------------------------------------------- sections */

static wf_status one_char(ctx *c, const cJSON *obj, const char *key, const char *allowed,
                          const char *expected, char *out) {
    char kp[64];
    join(kp, sizeof kp, "log", key);
    const cJSON *v = item(obj, key);
    if (!v)
        return WF_OK;
    if (!cJSON_IsString(v))
        return expect(c, kp, v, expected);
    const char *s = v->valuestring;
    char ch;
    if (!strcmp(s, "\\t") || !strcmp(s, "tab"))
        ch = '\t';
    else if (strlen(s) == 1)
        ch = s[0];
    else
        return expect(c, kp, v, expected);
    if (allowed && !strchr(allowed, ch))
        return expect(c, kp, v, expected);
    if (ch == '"' || ch == '\n' || ch == '\r')
        return expect(c, kp, v, expected);
    *out = ch;
    return WF_OK;
}

static wf_status parse_log(ctx *c, const cJSON *log, wf_log_config *out) {
    static const char *const keys[] = {
        "path",        "delimiter",       "decimal",  "turbine_column", "time_column",
        "time_format", "cadence_seconds", "channels", "timezone",       NULL};
    wf_status st;
    if ((st = need_object(c, log, "log")) || (st = check_keys(c, log, "log", keys)))
        return st;
    if ((st = get_path(c, log, "log", "path", 1, out->path, sizeof out->path)) ||
        (st = one_char(c, log, "delimiter", NULL, "a single character such as \",\" or \";\"",
                       &out->delimiter)) ||
        (st = one_char(c, log, "decimal", ".,", "\".\" or \",\"", &out->decimal)) ||
        (st = get_str(c, log, "log", "turbine_column", 0, out->turbine_column,
                      sizeof out->turbine_column)) ||
        (st =
             get_str(c, log, "log", "time_column", 0, out->time_column, sizeof out->time_column)) ||
        (st =
             get_str(c, log, "log", "time_format", 0, out->time_format, sizeof out->time_format)) ||
        (st = get_int(c, log, "log", "cadence_seconds", 1, 366LL * 86400, &out->cadence_seconds)) ||
        (st = get_str(c, log, "log", "timezone", 0, out->timezone, sizeof out->timezone)))
        return st;
    { /* an unknown zone is a config error now, not at the first row */
        wf_tz *tz = NULL;
        st = wf_tz_load(out->timezone, &tz, c->err);
        wf_tz_free(tz);
        if (st) {
            wf_error_prefix(c->err, "%s: log.timezone: ", c->name);
            return st;
        }
    }
    if (out->delimiter == out->decimal)
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: log.decimal: found \"%c\", which is also log.delimiter; use "
                            "\";\" as the delimiter with a decimal comma",
                            c->name, out->decimal);
    if (!out->turbine_column[0] || !out->time_column[0])
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: log.turbine_column/log.time_column: found \"\", expected a "
                            "column name",
                            c->name);
    if ((st = check_time_format(c, out->time_format)))
        return st;
    const cJSON *ch = item(log, "channels");
    if (!ch)
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: log.channels: missing (required key: the model's channels in "
                            "order)",
                            c->name);
    if (!cJSON_IsArray(ch) || cJSON_GetArraySize(ch) == 0)
        return expect(c, "log.channels", ch,
                      "a non-empty array of {\"name\", \"column\", \"unit\"}");
    int n = cJSON_GetArraySize(ch);
    if (n > 4096)
        return expect(c, "log.channels", ch, "at most 4096 channels");
    out->channels = calloc((size_t)n, sizeof *out->channels);
    if (!out->channels)
        return wf_error_set(c->err, WF_ERR_NOMEM, "out of memory");
    out->n_channels = n;
    static const char *const ckeys[] = {"name", "column", "unit", NULL};
    int i = 0;
    for (const cJSON *e = ch->child; e; e = e->next, i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "log.channels[%d]", i);
        wf_channel_config *cc = &out->channels[i];
        if (cJSON_IsString(e)) { /* shorthand: "wind_speed" = name and column */
            size_t len = strlen(e->valuestring);
            if (!len || len >= sizeof cc->name)
                return expect(c, kp, e, "a channel name (1 to 63 bytes) or an object");
            memcpy(cc->name, e->valuestring, len + 1);
            memcpy(cc->column, e->valuestring, len + 1);
        } else {
            if ((st = need_object(c, e, kp)) || (st = check_keys(c, e, kp, ckeys)) ||
                (st = get_str(c, e, kp, "name", 1, cc->name, sizeof cc->name)) ||
                (st = get_str(c, e, kp, "column", 0, cc->column, sizeof cc->column)) ||
                (st = get_str(c, e, kp, "unit", 0, cc->unit, sizeof cc->unit)))
                return st;
            if (!cc->name[0])
                return expect(c, kp, item(e, "name"), "a non-empty channel name");
            if (!cc->column[0]) {
                if (item(e, "column")) {
                    char k2[80];
                    snprintf(k2, sizeof k2, "%s.column", kp);
                    return expect(c, k2, item(e, "column"), "a non-empty column name");
                }
                memcpy(cc->column, cc->name, sizeof cc->name);
            }
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(out->channels[j].name, cc->name))
                return wf_error_set(c->err, WF_ERR_CONFIG,
                                    "%s: %s.name: found \"%s\", already the name of "
                                    "log.channels[%d]; expected unique names",
                                    c->name, kp, cc->name, j);
    }
    return WF_OK;
}

static wf_status parse_window(ctx *c, const cJSON *w, wf_window_config *out) {
    static const char *const keys[] = {"length", "stride", "missing", NULL};
    wf_status st;
    if ((st = need_object(c, w, "window")) || (st = check_keys(c, w, "window", keys)))
        return st;
    if (!item(w, "length"))
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: window.length: missing (required key: grid points per window)",
                            c->name);
    int64_t len = 0, stride = 0;
    if ((st = get_int(c, w, "window", "length", 1, 1000000, &len)))
        return st;
    stride = len;
    if ((st = get_int(c, w, "window", "stride", 1, 1000000, &stride)))
        return st;
    out->length = (int)len;
    out->stride = (int)stride;
    out->missing = WF_MISSING_SKIP;
    out->interpolate_max = 0;
    const cJSON *m = item(w, "missing");
    static const char *expected = "\"skip\" or {\"interpolate\": K} with K >= 1";
    if (m) {
        if (cJSON_IsString(m)) {
            if (strcmp(m->valuestring, "skip"))
                return expect(c, "window.missing", m, expected);
        } else if (cJSON_IsObject(m)) {
            static const char *const mkeys[] = {"interpolate", NULL};
            if ((st = check_keys(c, m, "window.missing", mkeys)))
                return st;
            if (!item(m, "interpolate"))
                return expect(c, "window.missing", m, expected);
            int64_t k = 0;
            if ((st = get_int(c, m, "window.missing", "interpolate", 1, len, &k)))
                return st;
            out->missing = WF_MISSING_INTERPOLATE;
            out->interpolate_max = (int)k;
        } else {
            return expect(c, "window.missing", m, expected);
        }
    }
    return WF_OK;
}

static wf_status parse_failures(ctx *c, const cJSON *f, wf_failures_config *out) {
    static const char *const keys[] = {"path", "horizon_hours", NULL};
    wf_status st;
    if ((st = need_object(c, f, "failures")) || (st = check_keys(c, f, "failures", keys)) ||
        (st = get_path(c, f, "failures", "path", 1, out->path, sizeof out->path)) ||
        (st = get_num(c, f, "failures", "horizon_hours", 0, 1, INFINITY, &out->horizon_hours)))
        return st;
    return WF_OK;
}

static wf_status parse_report(ctx *c, const cJSON *r, wf_report_config *out) {
    static const char *const keys[] = {"template",
                                       "fonts_dir",
                                       "title",
                                       "max_episode_pages",
                                       "max_rejected_share",
                                       "episode_merge_gap_hours",
                                       "per_turbine",
                                       NULL};
    wf_status st;
    if ((st = need_object(c, r, "report")) || (st = check_keys(c, r, "report", keys)) ||
        (st = get_path(c, r, "report", "template", 0, out->template_path,
                       sizeof out->template_path)) ||
        (st = get_path(c, r, "report", "fonts_dir", 0, out->fonts_dir, sizeof out->fonts_dir)) ||
        (st = get_str(c, r, "report", "title", 0, out->title, sizeof out->title)) ||
        (st = get_int32(c, r, "report", "max_episode_pages", 0, 1500, &out->max_episode_pages)) ||
        (st = get_num(c, r, "report", "max_rejected_share", 0, 0, 1, &out->max_rejected_share)) ||
        (st = get_num(c, r, "report", "episode_merge_gap_hours", 0, 0, 24 * 366,
                      &out->episode_merge_gap_hours)) ||
        (st = get_bool(c, r, "report", "per_turbine", &out->per_turbine)))
        return st;
    return WF_OK;
}

/* Work limits of the explain settings: every explanation must finish. KernelSHAP costs about
 * nsamples x background.size model calls per window, IG steps x 2 passes (forward, backward). */
#define WF_MAX_NSAMPLES 1000000 /* coalitions per window (nsamples, max_samples) */
#define WF_MAX_IG_STEPS 100000  /* IG steps per window (steps, max_steps) */
#define WF_MAX_EG_SAMPLES 1000000

static wf_status limit(ctx *c, const char *key, int64_t v, int64_t lim, const char *why) {
    if (v <= lim)
        return WF_OK;
    return wf_error_set(c->err, WF_ERR_CONFIG,
                        "%s: %s: %lld is above the limit %lld (%s); a run this large would not "
                        "finish",
                        c->name, key, (long long)v, (long long)lim, why);
}

static wf_status parse_explain(ctx *c, const cJSON *e, const wf_config *cfg,
                               wf_explain_settings *s) {
    /* clang-format off */
    static const char *const keys[] = {
        "method",  "groups",     "nsamples",           "max_samples", "convergence",
        "link",    "background", "ig_method",          "steps",       "max_steps",
        "tol",     "baseline",   "expected_gradients", "eg_samples",  "seed",
        "threads", "treeshap_output", "treeshap_covers", "arithmetic", NULL};
    /* clang-format on */
    wf_status st;
    if ((st = need_object(c, e, "explain")) || (st = check_keys(c, e, "explain", keys)))
        return st;
    const cJSON *v;
    if ((v = item(e, "method"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.method", v,
                          "\"kernelshap\", \"ig\", \"treeshap\" or \"both\"");
        if ((st =
                 prefixed(c, wf_explain_parse_method(v->valuestring, s, c->err), "explain.method")))
            return st;
    }
    if ((v = item(e, "groups"))) {
        if (cJSON_IsString(v)) {
            if ((st = prefixed(c, wf_explain_parse_groups(v->valuestring, s, c->err),
                               "explain.groups")))
                return st;
        } else if (cJSON_IsArray(v)) {
            st = wf_config_parse_groups_array(v, c->name, &cfg->log, cfg->window.length, s, c->err);
            if (st)
                return st;
        } else {
            return expect(
                c, "explain.groups", v,
                "\"channel\", \"segments:K\", \"cell\", \"auto\", \"hierarchy\" or an array of "
                "groups");
        }
    }
    if ((v = item(e, "nsamples"))) {
        if (cJSON_IsString(v)) {
            if ((st = prefixed(c, wf_explain_parse_nsamples(v->valuestring, &s->nsamples, c->err),
                               "explain.nsamples")))
                return st;
        } else {
            double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
            if (!cJSON_IsNumber(v) || d != floor(d) || d < 1 || d > 9007199254740992.0)
                return expect(c, "explain.nsamples", v,
                              "a positive integer, \"auto\" or \"exact\"");
            s->nsamples = (int64_t)d;
        }
    }
    if ((st = get_int(c, e, "explain", "max_samples", 1, INT64_MAX, &s->max_samples)) ||
        (st = get_num(c, e, "explain", "convergence", 0, 1, INFINITY, &s->convergence)))
        return st;
    if ((v = item(e, "link"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.link", v, "\"identity\", \"logit\" or \"logit_output\"");
        if ((st = prefixed(c, wf_explain_parse_link(v->valuestring, &s->link, c->err),
                           "explain.link")))
            return st;
    }
    if ((v = item(e, "treeshap_output"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.treeshap_output", v, "\"margin\" or \"probability\"");
        if ((st = prefixed(
                 c, wf_explain_parse_treeshap_output(v->valuestring, &s->treeshap_output, c->err),
                 "explain.treeshap_output")))
            return st;
    }
    if ((v = item(e, "treeshap_covers"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.treeshap_covers", v,
                          "\"background\", \"none\" or the path of a windows file");
        if ((st = prefixed(c, wf_explain_parse_treeshap_covers(v->valuestring, s, c->err),
                           "explain.treeshap_covers")))
            return st;
        if (s->treeshap_covers[0] && strcmp(s->treeshap_covers, "background")) {
            char full[WF_PATH_MAX];
            if ((st = wf_path_join(c->base, s->treeshap_covers, full, sizeof full, c->err)))
                return prefixed(c, st, "explain.treeshap_covers");
            if (strlen(full) >= sizeof s->treeshap_covers)
                return prefixed(c, wf_error_set(c->err, WF_ERR_CONFIG, "path too long"),
                                "explain.treeshap_covers");
            memcpy(s->treeshap_covers, full, strlen(full) + 1);
        }
    }
    if ((v = item(e, "arithmetic"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.arithmetic", v, "\"shortcut\" or \"exact\"");
        if ((st = prefixed(c, wf_explain_parse_arithmetic(v->valuestring, &s->arithmetic, c->err),
                           "explain.arithmetic")))
            return st;
    }
    if ((v = item(e, "background"))) {
        static const char *const bkeys[] = {"source", "path", "size", "include_flagged", NULL};
        if ((st = need_object(c, v, "explain.background")) ||
            (st = check_keys(c, v, "explain.background", bkeys)))
            return st;
        const cJSON *src = item(v, "source");
        if (src) {
            if (!cJSON_IsString(src))
                return expect(c, "explain.background.source", src,
                              "\"sample\", \"file\" or \"kmeans\"");
            if ((st = prefixed(
                     c, wf_explain_parse_background(src->valuestring, &s->background, c->err),
                     "explain.background.source")))
                return st;
        }
        if ((st = get_path(c, v, "explain.background", "path", 0, s->background_path,
                           sizeof s->background_path)) ||
            (st = get_int32(c, v, "explain.background", "size", 1, 1000000, &s->background_size)) ||
            (st = get_bool(c, v, "explain.background", "include_flagged",
                           &s->background_include_flagged)))
            return st;
        if (s->background == WF_BACKGROUND_FILE && !s->background_path[0])
            return wf_error_set(c->err, WF_ERR_CONFIG,
                                "%s: explain.background.path: missing (required when source is "
                                "\"file\")",
                                c->name);
        if (s->background != WF_BACKGROUND_FILE && s->background_path[0])
            return wf_error_set(c->err, WF_ERR_CONFIG,
                                "%s: explain.background.path: given, but source is \"%s\"; "
                                "expected source \"file\"",
                                c->name, wf_background_name(s->background));
    }
    if ((v = item(e, "ig_method"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.ig_method", v, "a string such as \"gausslegendre\"");
        if ((st = prefixed(c, wf_explain_parse_ig_method(v->valuestring, &s->ig_rule, c->err),
                           "explain.ig_method")))
            return st;
    }
    if ((v = item(e, "steps"))) {
        if (cJSON_IsString(v)) {
            if ((st = prefixed(c, wf_explain_parse_steps(v->valuestring, &s->steps, c->err),
                               "explain.steps")))
                return st;
        } else if ((st = get_int32(c, e, "explain", "steps", 1, 1000000000, &s->steps))) {
            return st;
        }
    }
    if ((st = get_int32(c, e, "explain", "max_steps", 1, 1000000000, &s->max_steps)) ||
        (st = get_num(c, e, "explain", "tol", 0, 1, INFINITY, &s->ig_tol)))
        return st;
    if ((v = item(e, "baseline"))) {
        if (!cJSON_IsString(v))
            return expect(c, "explain.baseline", v,
                          "\"mean\", \"zeros\", \"median\" or the path of a windows file");
        if ((st = prefixed(c, wf_explain_parse_baseline(v->valuestring, s, c->err),
                           "explain.baseline")))
            return st;
        if (s->baseline == WF_BASELINE_FILE) {
            char full[WF_PATH_MAX];
            if ((st = wf_path_join(c->base, s->baseline_path, full, sizeof full, c->err)))
                return prefixed(c, st, "explain.baseline");
            memcpy(s->baseline_path, full, sizeof s->baseline_path);
        }
    }
    if ((st = get_bool(c, e, "explain", "expected_gradients", &s->expected_gradients)) ||
        (st = get_int32(c, e, "explain", "eg_samples", 1, 100000000, &s->eg_samples)) ||
        (st = get_int32(c, e, "explain", "threads", 0, 4096, &s->threads)))
        return st;
    if ((st = limit(c, "explain.nsamples", s->nsamples, WF_MAX_NSAMPLES,
                    "coalitions per window; each costs background.size model calls")) ||
        (st = limit(c, "explain.max_samples", s->max_samples, WF_MAX_NSAMPLES,
                    "coalitions per window; each costs background.size model calls")) ||
        (st = limit(c, "explain.steps", s->steps, WF_MAX_IG_STEPS,
                    "IG steps per window; each costs a forward and a backward pass")) ||
        (st = limit(c, "explain.max_steps", s->max_steps, WF_MAX_IG_STEPS,
                    "IG steps per window; each costs a forward and a backward pass")) ||
        (st = limit(c, "explain.eg_samples", s->eg_samples, WF_MAX_EG_SAMPLES,
                    "Expected Gradients draws per window")))
        return st;
    if ((v = item(e, "seed"))) {
        /* a JSON number up to 2^53, or a string of digits for the full 64-bit range */
        if (cJSON_IsString(v)) {
            const char *p = v->valuestring;
            uint64_t x = 0;
            int ok = *p != '\0';
            for (; *p && ok; p++) {
                if (*p < '0' || *p > '9' || x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                    ok = 0;
                else
                    x = x * 10 + (uint64_t)(*p - '0');
            }
            if (!ok)
                return expect(c, "explain.seed", v, "a non-negative integer");
            s->seed = x;
        } else {
            int64_t x = 0;
            if ((st = get_int(c, e, "explain", "seed", 0, 9007199254740992LL, &x)))
                return st;
            s->seed = (uint64_t)x;
        }
    }
    return WF_OK;
}

/* ---------------------------------------------------------------- entry points */

static void set_defaults(wf_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->log.delimiter = ',';
    cfg->log.decimal = '.';
    snprintf(cfg->log.turbine_column, sizeof cfg->log.turbine_column, "turbine_id");
    snprintf(cfg->log.time_column, sizeof cfg->log.time_column, "timestamp");
    snprintf(cfg->log.time_format, sizeof cfg->log.time_format, "iso8601");
    snprintf(cfg->log.timezone, sizeof cfg->log.timezone, "UTC");
    cfg->log.cadence_seconds = 600;
    cfg->failures.horizon_hours = 72;
    cfg->threshold = 0.5;
    cfg->report.max_episode_pages = 200;
    cfg->report.max_rejected_share = 0.5;
    wf_explain_settings_default(&cfg->explain);
}

static wf_status parse_root(ctx *c, const cJSON *root, wf_config *cfg) {
    static const char *const keys[] = {
        "model",   "layout", "log",          "window", "failures", "output_dir", "threshold",
        "explain", "report", "model_output", "drift",  "compare",  NULL};
    wf_status st;
    if (!cJSON_IsObject(root))
        return expect(c, "(top level)", root, "an object");
    if ((st = check_keys(c, root, "", keys)) ||
        (st = get_path(c, root, "", "model", 0, cfg->model, sizeof cfg->model)) ||
        (st = get_str(c, root, "", "layout", 0, cfg->layout, sizeof cfg->layout)) ||
        (st = get_str(c, root, "", "model_output", 0, cfg->model_output, sizeof cfg->model_output)))
        return st;
    if (cfg->layout[0] && strcmp(cfg->layout, "NCT") && strcmp(cfg->layout, "NTC"))
        return expect(c, "layout", item(root, "layout"), "\"NCT\" or \"NTC\"");
    if (!item(root, "log"))
        return wf_error_set(c->err, WF_ERR_CONFIG, "%s: log: missing (required section)", c->name);
    if ((st = parse_log(c, item(root, "log"), &cfg->log)))
        return st;
    if (!item(root, "window"))
        return wf_error_set(c->err, WF_ERR_CONFIG,
                            "%s: window: missing (required section: {\"length\": T, \"stride\": "
                            "S})",
                            c->name);
    if ((st = parse_window(c, item(root, "window"), &cfg->window)))
        return st;
    if (item(root, "failures") && (st = parse_failures(c, item(root, "failures"), &cfg->failures)))
        return st;
    if (item(root, "output_dir")) {
        if ((st = get_path(c, root, "", "output_dir", 0, cfg->output_dir, sizeof cfg->output_dir)))
            return st;
    } else if ((st = wf_path_join(c->base, "out", cfg->output_dir, sizeof cfg->output_dir,
                                  c->err))) {
        return st;
    }
    if ((st = get_num(c, root, "", "threshold", 0, 0, 1, &cfg->threshold)))
        return st;
    if (item(root, "explain")) {
        cfg->has_explain = 1;
        if ((st = parse_explain(c, item(root, "explain"), cfg, &cfg->explain)))
            return st;
    }
    if (item(root, "report") && (st = parse_report(c, item(root, "report"), &cfg->report)))
        return st;
    if (item(root, "drift")) {
        cfg->has_drift = 1;
        if ((st =
                 wf_config_parse_drift(item(root, "drift"), c->name, c->base, &cfg->drift, c->err)))
            return st;
    }
    if (item(root, "compare")) {
        cfg->has_compare = 1;
        if ((st = wf_config_parse_compare(item(root, "compare"), c->name, c->base, cfg->threshold,
                                          &cfg->compare, c->err)))
            return st;
    }
    return WF_OK;
}

wf_status wf_config_parse(const char *json, const char *name, const char *base_dir, wf_config *cfg,
                          wf_error *err) {
    set_defaults(cfg);
    ctx c = {name ? name : "config", base_dir ? base_dir : ".", err};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json, &end, 1);
    if (!root) {
        int line = 1, col = 1;
        for (const char *p = json; end && p < end && *p; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return wf_error_set(err, WF_ERR_CONFIG, "%s:%d:%d: invalid JSON near here", c.name, line,
                            col);
    }
    wf_status st = parse_root(&c, root, cfg);
    cJSON_Delete(root);
    if (st) {
        wf_config_deinit(cfg);
        return st;
    }
    return WF_OK;
}

wf_status wf_config_load(const char *path, wf_config *cfg, wf_error *err) {
    return wf_config_load_digest(path, cfg, NULL, err);
}

wf_status wf_config_load_digest(const char *path, wf_config *cfg, char sha256_hex[65],
                                wf_error *err) {
    set_defaults(cfg);
    char *text = NULL;
    size_t len = 0;
    wf_status st = wf_file_read_all(path, &text, &len, err);
    if (st)
        return st;
    if (sha256_hex)
        wf_sha256_hex(text, len, sha256_hex); /* the digest of exactly the bytes parsed */
    if (strlen(text) != len) {
        free(text);
        return wf_error_set(err, WF_ERR_CONFIG, "%s: contains a NUL byte; expected JSON text",
                            path);
    }
    char base[WF_PATH_MAX];
    wf_path_dirname(path, base, sizeof base);
    st = wf_config_parse(text, path, base, cfg, err);
    free(text);
    if (!st) {
        size_t n = strlen(path);
        if (n >= sizeof cfg->config_path)
            n = sizeof cfg->config_path - 1;
        memcpy(cfg->config_path, path, n);
        cfg->config_path[n] = '\0';
        memcpy(cfg->base_dir, base, sizeof cfg->base_dir);
    }
    return st;
}

void wf_config_deinit(wf_config *cfg) {
    if (!cfg)
        return;
    free(cfg->log.channels);
    cfg->log.channels = NULL;
    cfg->log.n_channels = 0;
    wf_explain_settings_deinit(&cfg->explain);
    free(cfg->compare.arm_b);
    cfg->compare.arm_b = NULL;
    cfg->compare.n_arm_b = 0;
}

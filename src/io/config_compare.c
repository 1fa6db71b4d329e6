/*
 * config.json's "compare" section (issue 15): a second model B run on the same windows as A.
 *
 *   "compare": {
 *     "model": "B.onnx",                      required, relative to the config's folder
 *     "name": "float teacher",                default: B's file name
 *     "relation": "challenger" | "teacher" | "student" | "previous",   what B is to A
 *     "layout": "NCT" | "NTC",                default: from B
 *     "model_output": "NAME" | "NAME:COLUMN", default: B's default score
 *     "threshold": 0.5,                       default: the main threshold
 *     "max_explained": 50,                    disagreements explained (by |score difference|)
 *     "bootstrap": 1000,                      resamples over turbines for the 95% intervals
 *     "arms": {"B": ["WT03", "WT07"]}          turbines that ran B in the field (optional)
 *   }
 *
 * Errors read "<file>: compare.<key>: found <what>, expected <what>", as in config_json.c;
 * unknown keys are errors naming the key and the known ones.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "io/io_impl.h"

typedef struct cctx {
    const char *name;
    wf_error *err;
} cctx;

static wf_status bad(cctx *c, const char *kp, const cJSON *v, const char *expected) {
    return wf_io_expect(c->err, c->name, kp, v, expected);
}

static wf_status keys_ok(cctx *c, const cJSON *obj, const char *path, const char *const *allowed) {
    return wf_io_check_keys(c->err, c->name, obj, path, allowed);
}

static wf_status str(cctx *c, const cJSON *obj, const char *key, char *out, size_t n) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return WF_OK;
    char kp[64];
    snprintf(kp, sizeof kp, "compare.%s", key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
        return bad(c, kp, v, "a string");
    snprintf(out, n, "%s", v->valuestring);
    return WF_OK;
}

static wf_status num(cctx *c, const cJSON *obj, const char *key, double lo, double hi, int integer,
                     double *out) {
    char kp[64];
    snprintf(kp, sizeof kp, "compare.%s", key);
    return wf_io_number(c->err, c->name, kp, cJSON_GetObjectItemCaseSensitive(obj, key), lo, 0, hi,
                        integer, out);
}

void wf_compare_config_default(wf_compare_config *c, double threshold) {
    memset(c, 0, sizeof *c);
    snprintf(c->relation, sizeof c->relation, "challenger");
    c->threshold = threshold;
    c->max_explained = 50;
    c->bootstrap = 1000;
}

static wf_status parse_arms(cctx *c, const cJSON *arms, wf_compare_config *out) {
    static const char *const keys[] = {"B", NULL};
    const char *exp = "{\"B\": [turbine ids that ran B]}";
    if (!cJSON_IsObject(arms))
        return bad(c, "compare.arms", arms, exp);
    wf_status st = keys_ok(c, arms, "compare.arms", keys);
    if (st)
        return st;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(arms, "B");
    if (!b)
        return wf_error_set(c->err, WF_ERR_CONFIG, "%s: compare.arms.B: missing (expected %s)",
                            c->name, exp);
    if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) < 1)
        return bad(c, "compare.arms.B", b, "a non-empty array of turbine ids");
    int n = cJSON_GetArraySize(b);
    out->arm_b = calloc((size_t)n, sizeof *out->arm_b);
    if (!out->arm_b)
        return wf_error_set(c->err, WF_ERR_NOMEM, "out of memory");
    int i = 0;
    for (const cJSON *it = b->child; it; it = it->next, i++) {
        char kp[64];
        snprintf(kp, sizeof kp, "compare.arms.B[%d]", i);
        if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= WF_ID_MAX)
            return bad(c, kp, it, "a turbine id (a non-empty string)");
        for (int j = 0; j < i; j++)
            if (!strcmp(out->arm_b[j], it->valuestring))
                return wf_error_set(c->err, WF_ERR_CONFIG, "%s: %s: turbine '%s' is listed twice",
                                    c->name, kp, it->valuestring);
        snprintf(out->arm_b[i], WF_ID_MAX, "%s", it->valuestring);
    }
    out->n_arm_b = n;
    out->has_arms = 1;
    return WF_OK;
}

wf_status wf_config_parse_compare(const cJSON *d, const char *name, const char *base_dir,
                                  double threshold, wf_compare_config *out, wf_error *err) {
    static const char *const keys[] = {"model",        "name",      "relation",      "layout",
                                       "model_output", "threshold", "max_explained", "bootstrap",
                                       "arms",         NULL};
    cctx c = {name, err};
    wf_compare_config_default(out, threshold);
    wf_status st;
    if (!cJSON_IsObject(d))
        return bad(&c, "compare", d, "an object");
    if ((st = keys_ok(&c, d, "compare", keys)))
        return st;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(d, "model");
    if (!m)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "%s: compare.model: missing (required key: the path of model B)", name);
    if (!cJSON_IsString(m) || !m->valuestring[0])
        return bad(&c, "compare.model", m, "a non-empty path");
    if ((st = wf_path_join(base_dir, m->valuestring, out->model, sizeof out->model, err)))
        return wf_error_prefix(err, "%s: compare.model: ", name);
    if ((st = str(&c, d, "name", out->name, sizeof out->name)) ||
        (st = str(&c, d, "relation", out->relation, sizeof out->relation)) ||
        (st = str(&c, d, "layout", out->layout, sizeof out->layout)) ||
        (st = str(&c, d, "model_output", out->model_output, sizeof out->model_output)))
        return st;
    const char *rel = out->relation;
    if (strcmp(rel, "challenger") && strcmp(rel, "teacher") && strcmp(rel, "student") &&
        strcmp(rel, "previous"))
        return bad(&c, "compare.relation", cJSON_GetObjectItemCaseSensitive(d, "relation"),
                   "\"challenger\", \"teacher\", \"student\" or \"previous\" (what B is to A)");
    if (out->layout[0] && strcmp(out->layout, "NCT") && strcmp(out->layout, "NTC"))
        return bad(&c, "compare.layout", cJSON_GetObjectItemCaseSensitive(d, "layout"),
                   "\"NCT\" or \"NTC\"");
    double mx = out->max_explained, nb = out->bootstrap;
    if ((st = num(&c, d, "threshold", 0, 1, 0, &out->threshold)) ||
        (st = num(&c, d, "max_explained", 0, 100000, 1, &mx)) ||
        (st = num(&c, d, "bootstrap", 0, 1000000, 1, &nb)))
        return st;
    out->max_explained = (int)mx;
    out->bootstrap = (int)nb;
    const cJSON *arms = cJSON_GetObjectItemCaseSensitive(d, "arms");
    if (arms && (st = parse_arms(&c, arms, out)))
        return st;
    return WF_OK;
}

/*
 * The config readers' shared checks (config_json.c, config_drift.c, config_compare.c): what a
 * JSON value is, in words; "<file>: <key path>: found <what>, expected <what>"; unknown and
 * duplicate keys; a bounded number. One copy, so that every section's errors read alike.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/text.h"
#include "io/io_impl.h"

void wf_io_found(const cJSON *v, char *buf, size_t n) {
    if (!v)
        snprintf(buf, n, "nothing");
    else if (cJSON_IsString(v))
        snprintf(buf, n, "\"%.60s\"%s", v->valuestring, strlen(v->valuestring) > 60 ? "..." : "");
    else if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.17g", v->valuedouble);
    else if (cJSON_IsBool(v))
        snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, n, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, n, "an array");
    else
        snprintf(buf, n, "an object");
}

wf_status wf_io_expect(wf_error *err, const char *name, const char *kp, const cJSON *v,
                       const char *expected) {
    char f[96];
    wf_io_found(v, f, sizeof f);
    return wf_error_set(err, WF_ERR_CONFIG, "%s: %s: found %s, expected %s", name, kp, f, expected);
}

wf_status wf_io_check_keys(wf_error *err, const char *name, const cJSON *obj, const char *path,
                           const char *const *allowed) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        char kp[256];
        if (path[0])
            snprintf(kp, sizeof kp, "%s.%s", path, it->string ? it->string : "");
        else
            snprintf(kp, sizeof kp, "%s", it->string ? it->string : "");
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(it->string, allowed[i]))
                ok = 1;
        if (!ok) {
            const char *best = NULL;
            int bd = 99;
            for (int i = 0; allowed[i]; i++) {
                int d = wf_edit_distance(it->string, allowed[i], 98);
                int cap = strlen(allowed[i]) > 8 ? 3 : 2;
                if (d <= cap && d < bd) {
                    bd = d;
                    best = allowed[i];
                }
            }
            char hint[128] = "";
            if (best)
                snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", best);
            char list[512] = "";
            size_t used = 0;
            for (int i = 0; allowed[i] && used + 40 < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                         allowed[i]);
            return wf_error_set(err, WF_ERR_CONFIG, "%s: %s: unknown key%s; known keys: %s", name,
                                kp, hint, list);
        }
        for (const cJSON *o = obj->child; o != it; o = o->next)
            if (!strcmp(o->string, it->string))
                return wf_error_set(err, WF_ERR_CONFIG, "%s: %s: duplicate key", name, kp);
    }
    return WF_OK;
}

wf_status wf_io_number(wf_error *err, const char *name, const char *kp, const cJSON *v, double lo,
                       int lo_open, double hi, int integer, double *out) {
    if (!v)
        return WF_OK;
    char exp[96];
    snprintf(exp, sizeof exp, "%s in %s%g, %g]", integer ? "an integer" : "a number",
             lo_open ? "(" : "[", lo, hi);
    if (!cJSON_IsNumber(v))
        return wf_io_expect(err, name, kp, v, exp);
    double d = v->valuedouble;
    if (!isfinite(d) || d < lo || (lo_open && d == lo) || d > hi || (integer && d != floor(d)))
        return wf_io_expect(err, name, kp, v, exp);
    *out = d;
    return WF_OK;
}

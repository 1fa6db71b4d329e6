/*
 * config.json's "drift" section (issue 16):
 *
 *   "drift": {
 *     "reference": {"from": "2024-03-01T00:00:00Z", "to": "2024-03-08T00:00:00Z"}
 *                | {"path": "training_log.csv"},
 *     "period": "day" | "week" | "month",          default "week"
 *     "ks_alpha": 0.05, "ks_max_reference": 1000, "wasserstein_threshold": 0.1,
 *     "psi_bins": 10, "out_of_range": [0.005, 0.995],
 *     "memory_mb": 64            one budget (MiB) for every drift accumulator of the run
 *     "ks_pvalue_max_n": 0       skip the KS p-value above this effective size (0: never)
 *     "unflagged_sample": 8      unflagged windows per period explained for the reliance trend
 *                                (the smallest seeded hashes of turbine and start; 0: none)
 *   }
 *
 * Errors read "<file>: drift.<key>: found <what>, expected <what>", as in config_json.c; unknown
 * keys are errors naming the key and the known ones.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fileio.h"
#include "io/io_impl.h"

typedef struct dctx {
    const char *name;
    wf_error *err;
} dctx;

static wf_status bad(dctx *c, const char *kp, const cJSON *v, const char *expected) {
    return wf_io_expect(c->err, c->name, kp, v, expected);
}

static wf_status keys_ok(dctx *c, const cJSON *obj, const char *path, const char *const *allowed) {
    return wf_io_check_keys(c->err, c->name, obj, path, allowed);
}

static wf_status num(dctx *c, const cJSON *obj, const char *key, double lo, double hi, int lo_open,
                     int integer, double *out) {
    char kp[64];
    snprintf(kp, sizeof kp, "drift.%s", key);
    return wf_io_number(c->err, c->name, kp, cJSON_GetObjectItemCaseSensitive(obj, key), lo,
                        lo_open, hi, integer, out);
}

static wf_status when(dctx *c, const cJSON *ref, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ref, key);
    char kp[64];
    snprintf(kp, sizeof kp, "drift.reference.%s", key);
    const char *exp = "an ISO 8601 time (\"2024-03-01T00:00:00Z\")";
    if (!cJSON_IsString(v))
        return bad(c, kp, v, exp);
    if (wf_time_parse_iso(v->valuestring, out) != WF_OK)
        return bad(c, kp, v, exp);
    return WF_OK;
}

wf_status wf_config_parse_drift(const cJSON *d, const char *name, const char *base_dir,
                                wf_drift_config *out, wf_error *err) {
    static const char *const keys[] = {
        "reference", "period",       "ks_alpha",  "ks_max_reference", "wasserstein_threshold",
        "psi_bins",  "out_of_range", "memory_mb", "ks_pvalue_max_n",  "unflagged_sample",
        NULL};
    dctx c = {name, err};
    memset(out, 0, sizeof *out);
    wf_drift_settings_init(&out->settings);
    out->period = WF_DRIFT_PERIOD_WEEK;
    out->memory_mb = 64;
    out->unflagged_sample = 8;
    wf_status st;
    if (!cJSON_IsObject(d))
        return bad(&c, "drift", d, "an object");
    if ((st = keys_ok(&c, d, "drift", keys)))
        return st;

    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(d, "reference");
    const char *ref_exp = "{\"from\": time, \"to\": time} or {\"path\": \"a log with the same "
                          "columns\"}";
    if (!ref)
        return wf_error_set(err, WF_ERR_CONFIG, "%s: drift.reference: missing (required key: %s)",
                            name, ref_exp);
    if (!cJSON_IsObject(ref))
        return bad(&c, "drift.reference", ref, ref_exp);
    static const char *const rkeys[] = {"from", "to", "path", NULL};
    if ((st = keys_ok(&c, ref, "drift.reference", rkeys)))
        return st;
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(ref, "path");
    if (path) {
        if (cJSON_GetObjectItemCaseSensitive(ref, "from") ||
            cJSON_GetObjectItemCaseSensitive(ref, "to"))
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s: drift.reference: found both \"path\" and a period, expected "
                                "one of %s",
                                name, ref_exp);
        if (!cJSON_IsString(path) || !path->valuestring[0])
            return bad(&c, "drift.reference.path", path, "a non-empty path");
        out->ref_kind = WF_DRIFT_REF_LOG;
        if ((st = wf_path_join(base_dir, path->valuestring, out->ref_path, sizeof out->ref_path,
                               err)))
            return wf_error_prefix(err, "%s: drift.reference.path: ", name);
    } else {
        out->ref_kind = WF_DRIFT_REF_PERIOD;
        if ((st = when(&c, ref, "from", &out->ref_from)) ||
            (st = when(&c, ref, "to", &out->ref_to)))
            return st;
        if (out->ref_to <= out->ref_from)
            return bad(&c, "drift.reference.to", cJSON_GetObjectItemCaseSensitive(ref, "to"),
                       "a time after drift.reference.from");
    }

    const cJSON *per = cJSON_GetObjectItemCaseSensitive(d, "period");
    if (per) {
        const char *exp = "\"day\", \"week\" or \"month\"";
        if (!cJSON_IsString(per))
            return bad(&c, "drift.period", per, exp);
        if (!strcmp(per->valuestring, "day"))
            out->period = WF_DRIFT_PERIOD_DAY;
        else if (!strcmp(per->valuestring, "week"))
            out->period = WF_DRIFT_PERIOD_WEEK;
        else if (!strcmp(per->valuestring, "month"))
            out->period = WF_DRIFT_PERIOD_MONTH;
        else
            return bad(&c, "drift.period", per, exp);
    }
    wf_drift_settings *s = &out->settings;
    double ks_max = (double)s->ks_max_ref, bins = s->psi_bins, mem = (double)out->memory_mb;
    double pmax = (double)s->ks_pvalue_max_n, ufs = (double)out->unflagged_sample;
    if ((st = num(&c, d, "ks_alpha", 0, 1, 1, 0, &s->ks_alpha)) ||
        (st = num(&c, d, "ks_max_reference", 0, 1e12, 0, 1, &ks_max)) ||
        (st = num(&c, d, "wasserstein_threshold", 0, 1e12, 1, 0, &s->wasserstein_threshold)) ||
        (st = num(&c, d, "psi_bins", 1, 1000, 0, 1, &bins)) ||
        (st = num(&c, d, "memory_mb", 1, 1048576, 0, 1, &mem)) ||
        (st = num(&c, d, "ks_pvalue_max_n", 0, 1e12, 0, 1, &pmax)) ||
        (st = num(&c, d, "unflagged_sample", 0, 100000, 0, 1, &ufs)))
        return st;
    if (pmax > 0 && pmax < ks_max)
        return bad(&c, "drift.ks_pvalue_max_n",
                   cJSON_GetObjectItemCaseSensitive(d, "ks_pvalue_max_n"),
                   "0 or at least drift.ks_max_reference (the KS rule needs its p-value)");
    s->ks_pvalue_max_n = (size_t)pmax;
    s->ks_max_ref = (size_t)ks_max;
    s->psi_bins = (int)bins;
    out->memory_mb = (int64_t)mem;
    out->unflagged_sample = (int64_t)ufs;
    const cJSON *oor = cJSON_GetObjectItemCaseSensitive(d, "out_of_range");
    if (oor) {
        const char *exp = "[low, high] quantiles with 0 <= low < high <= 1";
        if (!cJSON_IsArray(oor) || cJSON_GetArraySize(oor) != 2 ||
            !cJSON_IsNumber(cJSON_GetArrayItem(oor, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(oor, 1)))
            return bad(&c, "drift.out_of_range", oor, exp);
        double lo = cJSON_GetArrayItem(oor, 0)->valuedouble;
        double hi = cJSON_GetArrayItem(oor, 1)->valuedouble;
        if (!(lo >= 0 && lo < hi && hi <= 1))
            return bad(&c, "drift.out_of_range", oor, exp);
        s->oor_q_lo = lo;
        s->oor_q_hi = hi;
    }
    return WF_OK;
}

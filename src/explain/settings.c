/*
 * Explain settings: defaults, deinit, and the string parsers shared by config.json and the CLI
 * flags, so that "segments:4" means the same thing in both places.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/explain.h"

void wf_explain_settings_default(wf_explain_settings *s) {
    memset(s, 0, sizeof *s);
    s->do_kernelshap = 1;
    s->do_ig = 1;
    s->groups = WF_GROUPS_CHANNEL;
    s->segments = 0;
    s->nsamples = WF_NSAMPLES_AUTO;
    s->max_samples = 65536;
    s->convergence = 0.01;
    s->link = WF_LINK_IDENTITY;
    s->background = WF_BACKGROUND_SAMPLE;
    s->background_size = 50;
    s->background_include_flagged = 0;
    s->ig_rule = WF_IG_AUTO;
    s->steps = 0;
    s->max_steps = 1024;
    s->ig_tol = 0.01;
    s->baseline = WF_BASELINE_MEAN;
    s->expected_gradients = 0;
    s->eg_samples = 200;
    s->seed = 0;
    s->threads = 0;
    s->do_treeshap = WF_TREESHAP_AUTO;
    s->treeshap_output = WF_TREESHAP_MARGIN;
    s->arithmetic = WF_ARITHMETIC_SHORTCUT;
}

void wf_explain_settings_deinit(wf_explain_settings *s) {
    if (!s)
        return;
    for (int i = 0; i < s->n_groups; i++)
        free(s->explicit_groups ? s->explicit_groups[i].cells : NULL);
    free(s->explicit_groups);
    s->explicit_groups = NULL;
    s->n_groups = 0;
}

static wf_status bad(wf_error *err, const char *v, const char *expected) {
    return wf_error_set(err, WF_ERR_CONFIG, "found \"%.80s\", expected %s", v ? v : "(null)",
                        expected);
}

/* A positive decimal integer that fits in int64 (no sign, no spaces). */
static int parse_pos_int(const char *v, int64_t *out) {
    if (!v || !*v)
        return -1;
    int64_t x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (x > (INT64_MAX - 9) / 10)
            return -1;
        x = x * 10 + (*p - '0');
    }
    if (x <= 0)
        return -1;
    *out = x;
    return 0;
}

/* The one table of methods: name, KernelSHAP, IG, TreeSHAP. */
static const struct {
    const char *name;
    int kshap, ig, tshap;
} method_table[] = {{"kernelshap", 1, 0, WF_TREESHAP_OFF},
                    {"ig", 0, 1, WF_TREESHAP_OFF},
                    {"treeshap", 0, 0, WF_TREESHAP_ON},
                    {"both", 1, 1, WF_TREESHAP_AUTO}};
#define N_METHODS ((int)(sizeof method_table / sizeof method_table[0]))

wf_status wf_explain_parse_method(const char *v, wf_explain_settings *s, wf_error *err) {
    for (int i = 0; v && i < N_METHODS; i++)
        if (!strcmp(v, method_table[i].name)) {
            s->do_kernelshap = method_table[i].kshap;
            s->do_ig = method_table[i].ig;
            s->do_treeshap = method_table[i].tshap;
            return WF_OK;
        }
    return bad(err, v, "\"kernelshap\", \"ig\", \"treeshap\" or \"both\"");
}

wf_status wf_explain_parse_groups(const char *v, wf_explain_settings *s, wf_error *err) {
    static const char *expected =
        "\"channel\", \"segments:K\" (K >= 1), \"cell\", \"auto\" or \"hierarchy\"";
    if (v && !strcmp(v, "channel")) {
        s->groups = WF_GROUPS_CHANNEL;
        s->segments = 0;
    } else if (v && !strcmp(v, "auto")) {
        s->groups = WF_GROUPS_AUTO;
        s->segments = 0;
    } else if (v && !strcmp(v, "hierarchy")) {
        s->groups = WF_GROUPS_HIERARCHY;
        s->segments = 0;
    } else if (v && !strcmp(v, "cell")) {
        s->groups = WF_GROUPS_CELL;
        s->segments = 0;
    } else if (v && !strncmp(v, "segments:", 9)) {
        int64_t k;
        if (parse_pos_int(v + 9, &k) || k > 1000000)
            return bad(err, v, expected);
        s->groups = WF_GROUPS_SEGMENTS;
        s->segments = (int)k;
    } else {
        return bad(err, v, expected);
    }
    return WF_OK;
}

wf_status wf_explain_parse_nsamples(const char *v, int64_t *out, wf_error *err) {
    if (v && !strcmp(v, "auto")) {
        *out = WF_NSAMPLES_AUTO;
        return WF_OK;
    }
    if (v && !strcmp(v, "exact")) {
        *out = WF_NSAMPLES_EXACT;
        return WF_OK;
    }
    if (parse_pos_int(v, out))
        return bad(err, v, "a positive integer, \"auto\" or \"exact\"");
    return WF_OK;
}

static const char *const link_names[] = {"identity", "logit", "logit_output"};
static const char *const rule_names[] = {
    "gausslegendre",     "riemann_left",    "riemann_right", "riemann_middle",
    "riemann_trapezoid", "clenshaw_curtis", "auto"};
static const char *const baseline_names[] = {"mean", "zeros", "median", "file"};
static const char *const background_names[] = {"sample", "file", "kmeans"};
static const char *const treeshap_output_names[] = {"margin", "probability"};
static const char *const arithmetic_names[] = {"shortcut", "exact"};

static int lookup(const char *v, const char *const *names, int n) {
    for (int i = 0; v && i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

wf_status wf_explain_parse_link(const char *v, wf_link *out, wf_error *err) {
    int i = lookup(v, link_names, 3);
    if (i < 0)
        return bad(err, v, "\"identity\", \"logit\" or \"logit_output\"");
    *out = (wf_link)i;
    return WF_OK;
}

wf_status wf_explain_parse_ig_method(const char *v, wf_ig_rule *out, wf_error *err) {
    int i = lookup(v, rule_names, 7);
    if (i < 0)
        return bad(err, v,
                   "\"gausslegendre\", \"riemann_left\", \"riemann_right\", \"riemann_middle\", "
                   "\"riemann_trapezoid\", \"clenshaw_curtis\" or \"auto\"");
    *out = (wf_ig_rule)i;
    return WF_OK;
}

wf_status wf_explain_parse_steps(const char *v, int *out, wf_error *err) {
    if (v && !strcmp(v, "auto")) {
        *out = 0;
        return WF_OK;
    }
    int64_t k;
    if (parse_pos_int(v, &k) || k > 1000000000)
        return bad(err, v, "a positive integer or \"auto\"");
    *out = (int)k;
    return WF_OK;
}

wf_status wf_explain_parse_baseline(const char *v, wf_explain_settings *s, wf_error *err) {
    if (!v || !*v)
        return bad(err, v, "\"mean\", \"zeros\", \"median\" or the path of a windows file");
    int i = lookup(v, baseline_names, 3);
    if (i >= 0) {
        s->baseline = (wf_baseline_kind)i;
        s->baseline_path[0] = '\0';
        return WF_OK;
    }
    size_t n = strlen(v);
    if (n >= sizeof s->baseline_path)
        return wf_error_set(err, WF_ERR_CONFIG, "baseline path too long (%zu bytes)", n);
    s->baseline = WF_BASELINE_FILE;
    memcpy(s->baseline_path, v, n + 1);
    return WF_OK;
}

wf_status wf_explain_parse_background(const char *v, wf_background_kind *out, wf_error *err) {
    int i = lookup(v, background_names, 3);
    if (i < 0)
        return bad(err, v, "\"sample\", \"file\" or \"kmeans\"");
    *out = (wf_background_kind)i;
    return WF_OK;
}

wf_status wf_explain_parse_treeshap_output(const char *v, wf_treeshap_output *out, wf_error *err) {
    int i = lookup(v, treeshap_output_names, 2);
    if (i < 0)
        return bad(err, v, "\"margin\" or \"probability\"");
    *out = (wf_treeshap_output)i;
    return WF_OK;
}

wf_status wf_explain_parse_treeshap_covers(const char *v, wf_explain_settings *s, wf_error *err) {
    if (!v)
        return bad(err, v, "\"background\", \"none\" or the path of a windows file");
    if (!strcmp(v, "none"))
        v = "";
    size_t n = strlen(v);
    if (n >= sizeof s->treeshap_covers)
        return wf_error_set(err, WF_ERR_CONFIG, "treeshap_covers path too long (%zu bytes)", n);
    memcpy(s->treeshap_covers, v, n + 1);
    return WF_OK;
}

wf_status wf_explain_parse_arithmetic(const char *v, wf_arithmetic *out, wf_error *err) {
    int i = lookup(v, arithmetic_names, 2);
    if (i < 0)
        return bad(err, v, "\"shortcut\" or \"exact\"");
    *out = (wf_arithmetic)i;
    return WF_OK;
}

const char *wf_arithmetic_name(wf_arithmetic a) {
    return (int)a >= 0 && (int)a < 2 ? arithmetic_names[a] : "unknown";
}

const char *wf_explain_method_name(const wf_explain_settings *s) {
    for (int i = 0; i < N_METHODS; i++)
        if (s->do_kernelshap == method_table[i].kshap && s->do_ig == method_table[i].ig &&
            s->do_treeshap == method_table[i].tshap)
            return method_table[i].name;
    /* older callers set only the first two */
    if (s->do_kernelshap && s->do_ig)
        return "both";
    return s->do_kernelshap ? "kernelshap" : s->do_ig ? "ig" : s->do_treeshap ? "treeshap" : "none";
}

const char *wf_treeshap_output_name(wf_treeshap_output o) {
    return (int)o >= 0 && (int)o < 2 ? treeshap_output_names[o] : "unknown";
}

const char *wf_groups_name(const wf_explain_settings *s) {
    switch (s->groups) {
    case WF_GROUPS_CHANNEL:
        return "channel";
    case WF_GROUPS_SEGMENTS:
        return "segments";
    case WF_GROUPS_CELL:
        return "cell";
    case WF_GROUPS_EXPLICIT:
        return "explicit";
    case WF_GROUPS_AUTO:
        return "auto";
    case WF_GROUPS_HIERARCHY:
        return "hierarchy";
    }
    return "unknown";
}

const char *wf_ig_rule_name(wf_ig_rule r) {
    return (int)r >= 0 && (int)r < 7 ? rule_names[r] : "unknown";
}

const char *wf_link_name(wf_link l) {
    return (int)l >= 0 && (int)l < 3 ? link_names[l] : "unknown";
}

const char *wf_baseline_name(wf_baseline_kind b) {
    return (int)b >= 0 && (int)b < 4 ? baseline_names[b] : "unknown";
}

const char *wf_background_name(wf_background_kind b) {
    return (int)b >= 0 && (int)b < 3 ? background_names[b] : "unknown";
}

int wf_explain_uses_treeshap(const wf_explain_settings *s) {
    return s->do_treeshap == WF_TREESHAP_ON ||
           (s->do_treeshap == WF_TREESHAP_AUTO && s->tree_model != NULL);
}

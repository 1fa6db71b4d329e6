/*
 * results.json read back (whyflag/results_read.h, issue 19) with cJSON. The inverse of
 * src/report/results_json.c and results_checks.c for everything a report prints; the turbines,
 * episodes and review are not read, the report recomputes them from the windows, scores and
 * failures (and the run id, which is checked against the recorded one by the caller).
 * Numbers: the writer prints the shortest text that reads back as the same double, and "NaN" /
 * "Infinity" as strings; both read back exactly here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "io/io_impl.h"
#include "whyflag/explain_checks.h"
#include "whyflag/model.h"
#include "whyflag/results_read.h"

typedef struct rd {
    const char *path;
    wf_results_doc *doc;
    wf_error *err;
    wf_status st;
} rd;

static wf_status bad(rd *c, const char *where, const char *what) {
    if (!c->st)
        c->st = wf_error_set(c->err, WF_ERR_PARSE, "%s: %s: %s", c->path, where, what);
    return c->st;
}

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* A number: JSON number, or "NaN" / "Infinity" / "-Infinity"; null reads as NaN. */
static double num(rd *c, const cJSON *o, const char *k, const char *where) {
    const cJSON *v = get(o, k);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsNull(v))
        return NAN;
    if (cJSON_IsString(v)) {
        if (!strcmp(v->valuestring, "NaN"))
            return NAN;
        if (!strcmp(v->valuestring, "Infinity"))
            return INFINITY;
        if (!strcmp(v->valuestring, "-Infinity"))
            return -INFINITY;
    }
    char w[200];
    snprintf(w, sizeof w, "%s.%s", where, k);
    bad(c, w, v ? "expected a number" : "missing");
    return NAN;
}

static double num_of(rd *c, const cJSON *v, const char *where) {
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsNull(v))
        return NAN;
    if (cJSON_IsString(v) && !strcmp(v->valuestring, "NaN"))
        return NAN;
    bad(c, where, "expected a number");
    return NAN;
}

static int64_t inum(rd *c, const cJSON *o, const char *k, const char *where) {
    double v = num(c, o, k, where);
    return isfinite(v) ? (int64_t)v : 0;
}

static int flag(const cJSON *o, const char *k) {
    return cJSON_IsTrue(get(o, k));
}

/* A string the doc keeps (NULL for null or absent). */
static const char *pstr(rd *c, const cJSON *v) {
    if (!cJSON_IsString(v))
        return NULL;
    wf_results_doc *d = c->doc;
    if (d->n_pool == d->cap_pool) {
        int nc = d->cap_pool ? d->cap_pool * 2 : 64;
        char **np = realloc(d->pool, sizeof *np * (size_t)nc);
        if (!np) {
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
            return NULL;
        }
        d->pool = np;
        d->cap_pool = nc;
    }
    char *s = strdup(v->valuestring);
    if (!s) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return NULL;
    }
    d->pool[d->n_pool++] = s;
    return s;
}

static void cpy(rd *c, char *dst, size_t n, const cJSON *o, const char *k, const char *where) {
    const cJSON *v = get(o, k);
    if (!v || cJSON_IsNull(v)) {
        dst[0] = '\0';
        return;
    }
    if (!cJSON_IsString(v)) {
        char w[200];
        snprintf(w, sizeof w, "%s.%s", where, k);
        bad(c, w, "expected a string");
        return;
    }
    snprintf(dst, n, "%s", v->valuestring);
}

static int64_t itime(rd *c, const cJSON *o, const char *k, const char *where) {
    const cJSON *v = get(o, k);
    int64_t t = 0;
    if (!cJSON_IsString(v) || wf_time_parse_iso(v->valuestring, &t) != WF_OK) {
        char w[200];
        snprintf(w, sizeof w, "%s.%s", where, k);
        bad(c, w, "expected an ISO-8601 time");
    }
    return t;
}

/* A number array of n into a new array (NULL when absent and !need). */
static double *darr(rd *c, const cJSON *a, int n, const char *where) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) {
        bad(c, where, "expected a list of numbers of the right length");
        return NULL;
    }
    double *v = malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
    if (!v) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return NULL;
    }
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        v[i++] = num_of(c, x, where);
    }
    return v;
}

static char **names(rd *c, const cJSON *a, int *n, const char *where) {
    if (!cJSON_IsArray(a)) {
        bad(c, where, "expected a list of names");
        return NULL;
    }
    *n = cJSON_GetArraySize(a);
    char **v = calloc((size_t)(*n > 0 ? *n : 1), sizeof *v);
    if (!v) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return NULL;
    }
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) {
        v[i] = strdup(cJSON_IsString(x) ? x->valuestring : "");
        if (!v[i++])
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
    }
    return v;
}

/* ---------------------------------------------------------------- parts */

static void read_settings(rd *c, const cJSON *s, wf_explain_settings *o) {
    wf_explain_settings_default(o);
    if (!cJSON_IsObject(s))
        return;
    const cJSON *v;
    wf_error e2;
    if (cJSON_IsString(v = get(s, "method")) && wf_explain_parse_method(v->valuestring, o, &e2))
        bad(c, "settings.method", e2.msg);
    /* groups "channel", "segments:K", "cell"; the named sets ("explicit", "auto", ...) only
     * tell the report that the players are not the channels */
    if (cJSON_IsString(v = get(s, "groups")) &&
        wf_explain_parse_groups(v->valuestring, o, &e2) != WF_OK)
        o->groups = WF_GROUPS_EXPLICIT;
    if (cJSON_IsString(v = get(s, "link")))
        wf_explain_parse_link(v->valuestring, &o->link, &e2);
    if (cJSON_IsString(v = get(s, "ig_method")))
        wf_explain_parse_ig_method(v->valuestring, &o->ig_rule, &e2);
    if (get(s, "max_steps"))
        o->max_steps = (int)inum(c, s, "max_steps", "settings");
    if (get(s, "max_samples"))
        o->max_samples = inum(c, s, "max_samples", "settings");
    if (get(s, "seed"))
        o->seed = (uint64_t)inum(c, s, "seed", "settings");
    o->expected_gradients = flag(s, "expected_gradients");
}

static void read_card(rd *c, const cJSON *m, wf_model_card *k) {
    memset(k, 0, sizeof *k);
    cpy(c, k->name, sizeof k->name, m, "file", "model_card");
    cpy(c, k->producer, sizeof k->producer, m, "producer", "model_card");
    k->ir_version = inum(c, m, "ir_version", "model_card");
    k->opset = (int)inum(c, m, "opset", "model_card");
    k->quantized = flag(m, "quantized");
    k->differentiable = flag(m, "differentiable");
    const cJSON *x;
    cJSON_ArrayForEach(x, get(m, "inputs")) {
        if (k->n_inputs < 4 && cJSON_IsString(x))
            snprintf(k->inputs[k->n_inputs++], sizeof k->inputs[0], "%s", x->valuestring);
    }
    cJSON_ArrayForEach(x, get(m, "outputs")) {
        if (k->n_outputs < 4 && cJSON_IsString(x))
            snprintf(k->outputs[k->n_outputs++], sizeof k->outputs[0], "%s", x->valuestring);
    }
    k->n_nodes = (int)inum(c, m, "nodes", "model_card");
    cJSON_ArrayForEach(x, get(m, "op_counts")) {
        if (k->n_ops < WF_CARD_MAX && cJSON_IsNumber(x)) {
            snprintf(k->op_name[k->n_ops], sizeof k->op_name[0], "%s", x->string);
            k->op_count[k->n_ops++] = (int)x->valuedouble;
        }
    }
    k->parameters = inum(c, m, "parameters", "model_card");
    k->zero_parameters = inum(c, m, "zero_parameters", "model_card");
    const cJSON *fl = get(m, "flops_per_window");
    k->flops = cJSON_IsNumber(fl) ? (int64_t)fl->valuedouble : -1;
    cJSON_ArrayForEach(x, get(m, "metadata")) {
        if (k->n_meta < WF_CARD_MAX && cJSON_IsString(x)) {
            snprintf(k->meta_key[k->n_meta], sizeof k->meta_key[0], "%s", x->string);
            snprintf(k->meta_value[k->n_meta++], sizeof k->meta_value[0], "%s", x->valuestring);
        }
    }
}

static int channel_index(const wf_windows *ws, const char *name) {
    for (int i = 0; i < ws->C; i++)
        if (!strcmp(ws->channels[i], name))
            return i;
    return -1;
}

static void read_dependence(rd *c, const cJSON *d, wf_dependence *o, const wf_windows *ws) {
    memset(o, 0, sizeof *o);
    int C = ws->C;
    o->C = C;
    o->names = calloc((size_t)C, sizeof *o->names);
    o->corr = calloc((size_t)C * (size_t)C, sizeof *o->corr);
    o->merges = calloc((size_t)(C > 1 ? C - 1 : 1), sizeof *o->merges);
    o->group_of = calloc((size_t)C, sizeof *o->group_of);
    if (!o->names || !o->corr || !o->merges || !o->group_of) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return;
    }
    for (int i = 0; i < C; i++)
        o->names[i] = strdup(ws->channels[i]);
    o->cells.rank = (int)inum(c, d, "rank_cells", "dependence");
    o->means.rank = (int)inum(c, d, "rank_means", "dependence");
    o->cells.rows = inum(c, d, "rows_cells", "dependence");
    o->means.rows = inum(c, d, "rows_means", "dependence");
    const cJSON *rels = get(d, "relations"), *x;
    int n_rel = cJSON_GetArraySize(rels);
    o->cells.relations = calloc((size_t)(n_rel > 0 ? n_rel : 1), sizeof(wf_dep_relation));
    o->means.relations = calloc((size_t)(n_rel > 0 ? n_rel : 1), sizeof(wf_dep_relation));
    if (!o->cells.relations || !o->means.relations) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return;
    }
    cJSON_ArrayForEach(x, rels) {
        const cJSON *over = get(x, "over");
        wf_dep_linear *l =
            cJSON_IsString(over) && !strcmp(over->valuestring, "means") ? &o->means : &o->cells;
        wf_dep_relation *r = &l->relations[l->n_relations++];
        const cJSON *ch = get(x, "channel");
        r->channel = cJSON_IsString(ch) ? channel_index(ws, ch->valuestring) : -1;
        if (r->channel < 0) {
            bad(c, "dependence.relations[].channel", "not one of the channels");
            return;
        }
        const cJSON *terms = get(x, "terms"), *t;
        r->n_terms = cJSON_GetArraySize(terms);
        r->basis = calloc((size_t)(r->n_terms + 1), sizeof *r->basis);
        r->coef = calloc((size_t)(r->n_terms + 1), sizeof *r->coef);
        if (!r->basis || !r->coef) {
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
            return;
        }
        int k = 0;
        cJSON_ArrayForEach(t, terms) {
            const cJSON *tc = get(t, "channel");
            r->basis[k] = cJSON_IsString(tc) ? channel_index(ws, tc->valuestring) : 0;
            r->coef[k++] = num(c, t, "coef", "dependence.relations[].terms[]");
        }
        r->intercept = num(c, x, "intercept", "dependence.relations[]");
        r->residual_rms = num(c, x, "residual_rms", "dependence.relations[]");
        r->residual_rel = num(c, x, "residual_rel", "dependence.relations[]");
        r->sd = num(c, x, "sd", "dependence.relations[]");
    }
    int i = 0;
    cJSON_ArrayForEach(x, get(d, "correlation")) {
        const cJSON *y;
        int j = 0;
        cJSON_ArrayForEach(y, x) {
            if (i < C && j < C)
                o->corr[i * C + j] = num_of(c, y, "dependence.correlation");
            j++;
        }
        i++;
    }
    int k = 0;
    cJSON_ArrayForEach(x, get(d, "linkage")) {
        if (k < C - 1) {
            o->merges[k].a = (int)inum(c, x, "a", "dependence.linkage[]");
            o->merges[k].b = (int)inum(c, x, "b", "dependence.linkage[]");
            o->merges[k].height = num(c, x, "height", "dependence.linkage[]");
            o->merges[k].size = (int)inum(c, x, "size", "dependence.linkage[]");
        }
        k++;
    }
    int g = 0;
    cJSON_ArrayForEach(x, get(d, "groups")) {
        const cJSON *y;
        cJSON_ArrayForEach(y, x) {
            int ch = cJSON_IsString(y) ? channel_index(ws, y->valuestring) : -1;
            if (ch >= 0)
                o->group_of[ch] = g;
        }
        g++;
    }
    o->n_groups = g;
    wf_dep_options_default(&o->options);
    o->options.cut = num(c, d, "cut", "dependence");
    o->options.exact_tol = num(c, d, "exact_tol", "dependence");
    o->options.merge_exact = flag(d, "merge_exact");
}

static void read_agreement(rd *c, const cJSON *a, wf_agreement *g) {
    memset(g, 0, sizeof *g);
    g->l1 = g->sign_agreement = g->spearman = NAN;
    if (!cJSON_IsObject(a))
        return;
    g->l1 = num(c, a, "l1", "agreement");
    g->sign_agreement = num(c, a, "sign_agreement", "agreement");
    g->n_material = (int)inum(c, a, "material", "agreement");
    g->n_sign_agree = (int)inum(c, a, "sign_agree", "agreement");
    g->n = (int)inum(c, a, "n", "agreement");
    g->topk_overlap = (int)inum(c, a, "topk_overlap", "agreement");
    g->k = (int)inum(c, a, "k", "agreement");
    g->spearman = num(c, a, "spearman", "agreement");
    g->disagree = flag(a, "disagree");
    cpy(c, g->reason, sizeof g->reason, a, "reason", "agreement");
}

static void read_why(rd *c, const cJSON *y, wf_why *o) {
    memset(o, 0, sizeof *o);
    cpy(c, o->text, sizeof o->text, y, "text", "why");
    const cJSON *cl = get(y, "claim");
    for (int k = 0; k < 3; k++)
        if (cJSON_IsString(cl) && !strcmp(cl->valuestring, wf_why_claim_str((wf_why_claim)k)))
            o->claim = (wf_why_claim)k;
    const cJSON *x;
    cJSON_ArrayForEach(x, get(y, "drivers")) {
        if (o->n_drivers >= WF_WHY_MAX_DRIVERS)
            break;
        wf_why_driver *d = &o->drivers[o->n_drivers];
        d->index = o->n_drivers++;
        cpy(c, d->name, sizeof d->name, x, "name", "why.drivers[]");
        cpy(c, d->channels, sizeof d->channels, x, "channels", "why.drivers[]");
        d->share = num(c, x, "share", "why.drivers[]");
        d->kernelshap = num(c, x, "kernelshap", "why.drivers[]");
        d->ig = num(c, x, "ig", "why.drivers[]");
    }
}

static void read_explanation(rd *c, const cJSON *x, wf_explanation *e, wf_why *y, int *has_why) {
    const wf_windows *ws = &c->doc->ws;
    memset(e, 0, sizeof *e);
    e->agreement = e->ts_ks_max_diff = e->ts_ks_spearman = NAN;
    e->window_index = inum(c, x, "index", "windows[]");
    if (e->window_index < 0 || e->window_index >= ws->n) {
        bad(c, "windows[].index", "not a window of this run");
        return;
    }
    e->score = num(c, x, "score", "windows[]");
    const cJSON *st = get(x, "status");
    e->status = WF_OK;
    for (int s = 1; cJSON_IsString(st) && s <= 16; s++)
        if (!strcmp(st->valuestring, wf_status_str((wf_status)s)))
            e->status = (wf_status)s;
    cpy(c, e->error, sizeof e->error, x, "error", "windows[]");
    const cJSON *k = get(x, "kernelshap");
    if (cJSON_IsObject(k)) {
        wf_kshap_result *r = &e->kshap;
        e->has_kshap = 1;
        r->players = names(c, get(k, "players"), &r->M, "windows[].kernelshap.players");
        r->base_value = num(c, k, "base_value", "windows[].kernelshap");
        r->f_x = num(c, k, "f_x", "windows[].kernelshap");
        r->values = darr(c, get(k, "values"), r->M, "windows[].kernelshap.values");
        r->std_err = darr(c, get(k, "std_err"), r->M, "windows[].kernelshap.std_err");
        r->samples = inum(c, k, "samples", "windows[].kernelshap");
        r->exact = flag(k, "exact");
        r->converged = flag(k, "converged");
        const cJSON *l = get(k, "link");
        wf_error e2;
        if (cJSON_IsString(l))
            wf_explain_parse_link(l->valuestring, &r->link, &e2);
        r->efficiency_gap = num(c, k, "efficiency_gap", "windows[].kernelshap");
    }
    const cJSON *g = get(x, "ig");
    const cJSON *gst = get(g, "status");
    if (cJSON_IsObject(g) && cJSON_IsString(gst) && !strcmp(gst->valuestring, "not_applicable")) {
        e->ig_not_applicable = 1;
        e->ig_reason = pstr(c, get(g, "reason"));
    } else if (cJSON_IsObject(g)) {
        wf_ig_result *r = &e->ig;
        e->has_ig = 1;
        r->C = ws->C;
        r->T = ws->T;
        wf_error e2;
        const cJSON *m = get(g, "method");
        if (cJSON_IsString(m))
            wf_explain_parse_ig_method(m->valuestring, &r->rule, &e2);
        r->expected_gradients = flag(g, "expected_gradients");
        r->steps = (int)inum(c, g, "steps", "windows[].ig");
        r->converged = flag(g, "converged");
        r->baseline = pstr(c, get(g, "baseline"));
        r->surrogate = pstr(c, get(g, "surrogate"));
        r->values = malloc(sizeof *r->values * (size_t)ws->C * (size_t)ws->T);
        if (!r->values) {
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
            return;
        }
        const cJSON *row;
        int ci = 0;
        cJSON_ArrayForEach(row, get(g, "values")) {
            double *v = ci < ws->C ? darr(c, row, ws->T, "windows[].ig.values[]") : NULL;
            if (v)
                memcpy(r->values + (size_t)ci * (size_t)ws->T, v, sizeof *v * (size_t)ws->T);
            free(v);
            ci++;
        }
        if (ci != ws->C)
            bad(c, "windows[].ig.values", "expected C rows");
        r->channel_sums = darr(c, get(g, "channel_sums"), ws->C, "windows[].ig.channel_sums");
        r->f_x = num(c, g, "f_x", "windows[].ig");
        r->f_baseline = num(c, g, "f_baseline", "windows[].ig");
        r->delta = num(c, g, "delta", "windows[].ig");
    }
    const cJSON *t = get(x, "treeshap");
    if (cJSON_IsObject(t)) {
        wf_treeshap_result *r = &e->treeshap;
        e->has_treeshap = 1;
        r->players = names(c, get(t, "players"), &r->M, "windows[].treeshap.players");
        r->base_value = num(c, t, "base_value", "windows[].treeshap");
        r->f_x = num(c, t, "f_x", "windows[].treeshap");
        r->values = darr(c, get(t, "values"), r->M, "windows[].treeshap.values");
        const cJSON *o = get(t, "output");
        r->output = cJSON_IsString(o) && !strcmp(o->valuestring, "probability")
                        ? WF_TREESHAP_PROBABILITY
                        : WF_TREESHAP_MARGIN;
        r->efficiency_gap = num(c, t, "efficiency_gap", "windows[].treeshap");
    }
    const cJSON *tk = get(x, "treeshap_vs_kernelshap");
    if (cJSON_IsObject(tk)) {
        e->ts_ks_max_diff = num(c, tk, "max_abs_difference", "windows[].treeshap_vs_kernelshap");
        e->ts_ks_spearman = num(c, tk, "spearman", "windows[].treeshap_vs_kernelshap");
        e->ts_ks_same_sign = (int)inum(c, tk, "same_sign", "windows[].treeshap_vs_kernelshap");
    }
    const cJSON *yj = get(x, "why");
    memset(y, 0, sizeof *y);
    if (cJSON_IsObject(yj)) {
        *has_why = 1;
        read_why(c, yj, y);
        read_agreement(c, get(x, "agreement"), &y->agreement);
        e->agreement = y->agreement.spearman; /* the Spearman correlation, as it was computed */
    } else {
        const cJSON *ag = get(x, "agreement");
        e->agreement = ag ? num_of(c, ag, "windows[].agreement") : NAN;
    }
}

/* ---------------------------------------------------------------- the document */

void wf_results_doc_free(wf_results_doc *d) {
    if (!d)
        return;
    for (int64_t i = 0; d->expl && i < d->r.n_explained; i++)
        wf_explanation_deinit(&d->expl[i]);
    free(d->expl);
    free(d->why);
    wf_windows_free(&d->ws);
    free(d->scores);
    free(d->flagged);
    free(d->failures);
    wf_background_deinit(&d->bg);
    if (d->has_dep)
        wf_dependence_deinit(&d->dep);
    free(d->card);
    free(d->ch_min);
    free(d->ch_max);
    free(d->values);
    for (int i = 0; i < d->n_pool; i++)
        free(d->pool[i]);
    free(d->pool);
    memset(d, 0, sizeof *d);
}

/* scores.csv, the file results.json names ("scores_file"): a plain name in results.json's own
 * folder (never a path: a results.json must not make the reader open another file). The exact
 * turbine ids and components its neutralised cells stand for come from "turbines" and
 * "failures". */
static void read_scores_file(rd *c, const cJSON *root, const char *name, int64_t n) {
    wf_results_doc *d = c->doc;
    size_t nl = strlen(name);
    if (!nl || strchr(name, '/') || strchr(name, '\\') || name[0] == '.' || nl < 5 ||
        strcmp(name + nl - 4, ".csv") != 0) {
        bad(c, "scores_file", "expected the name of a .csv file beside results.json");
        return;
    }
    char path[WF_PATH_MAX + 300];
    const char *slash = strrchr(c->path, '/');
    int dl = slash ? (int)(slash - c->path) : 1;
    if (snprintf(path, sizeof path, "%.*s/%s", dl, slash ? c->path : ".", name) >=
        (int)sizeof path) {
        bad(c, "scores_file", "path too long");
        return;
    }
    const cJSON *tj = get(root, "turbines"), *fj = get(root, "failures"), *x;
    int nt = cJSON_GetArraySize(tj), nf = cJSON_GetArraySize(fj), k = 0, m = 0;
    const char **ids = calloc((size_t)nt + 1, sizeof *ids);
    const char **comps = calloc((size_t)nf + 1, sizeof *comps);
    if (!ids || !comps) {
        free(ids);
        free(comps);
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return;
    }
    cJSON_ArrayForEach(x, tj) {
        const cJSON *v = get(x, "turbine_id");
        if (cJSON_IsString(v))
            ids[k++] = v->valuestring;
    }
    cJSON_ArrayForEach(x, fj) {
        const cJSON *v = get(x, "component");
        if (cJSON_IsString(v))
            comps[m++] = v->valuestring;
    }
    c->st =
        wf_io_scores_csv_read(path, n, ids, k, comps, m, d->ws.w, d->scores, d->flagged, c->err);
    snprintf(d->scores_file, sizeof d->scores_file, "%s", name);
    free(ids);
    free(comps);
}

static void read_doc(rd *c, const cJSON *root) {
    wf_results_doc *d = c->doc;
    wf_results *r = &d->r;
    const cJSON *v = get(root, "results_version");
    if (!v) {
        c->st = wf_error_set(c->err, WF_ERR_UNSUPPORTED,
                             "%s: written by an older whyflag (no \"results_version\"): it lacks "
                             "what a report prints besides the numbers (window stride and "
                             "cadence, the methods text, the report's title); rerun the audit "
                             "with this whyflag to re-render it",
                             c->path);
        return;
    }
    d->version = cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
    if (d->version < 2 || d->version > WF_RESULTS_VERSION) {
        c->st = wf_error_set(c->err, WF_ERR_UNSUPPORTED,
                             "%s: results_version %d: this whyflag reads version %d", c->path,
                             d->version, WF_RESULTS_VERSION);
        return;
    }
    const cJSON *cmd = get(root, "command");
    if (!cJSON_IsString(cmd) || strcmp(cmd->valuestring, "audit") != 0) {
        c->st = wf_error_set(c->err, WF_ERR_UNSUPPORTED,
                             "%s: the results of `whyflag %s`: only an audit's results are "
                             "re-rendered into a report",
                             c->path, cJSON_IsString(cmd) ? cmd->valuestring : "?");
        return;
    }
    if (get(root, "drift")) {
        c->st = wf_error_set(c->err, WF_ERR_UNSUPPORTED,
                             "%s: this run has a drift chapter, which `whyflag report` does not "
                             "re-render yet (its reference statistics are not in results.json); "
                             "rerun the audit to get its report",
                             c->path);
        return;
    }
    if (get(root, "comparison")) {
        c->st = wf_error_set(c->err, WF_ERR_UNSUPPORTED,
                             "%s: this run compares two models, and `whyflag report` does not "
                             "re-render the comparison chapter yet; rerun the audit to get its "
                             "report",
                             c->path);
        return;
    }
    const cJSON *schema = get(root, "schema"); /* issue 14; absent in files written before */
    if (schema && (!cJSON_IsString(schema) || strcmp(schema->valuestring, WF_RESULTS_SCHEMA))) {
        c->st = wf_error_set(c->err, WF_ERR_UNSUPPORTED,
                             "%s: schema \"%s\": this whyflag reads \"%s\"", c->path,
                             cJSON_IsString(schema) ? schema->valuestring : "?", WF_RESULTS_SCHEMA);
        return;
    }
    r->tool = pstr(c, get(root, "tool"));
    r->command = "audit";
    r->generated_at = itime(c, root, "generated_at", "");
    cpy(c, d->run_id, sizeof d->run_id, root, "run_id", "");
    const cJSON *m = get(root, "model");
    r->model_path = pstr(c, get(m, "path"));
    cpy(c, r->model_sha256, sizeof r->model_sha256, m, "sha256", "model");
    r->model_quantized = flag(m, "quantized");
    r->surrogate = pstr(c, get(m, "surrogate"));
    const cJSON *out = get(m, "output");
    if (cJSON_IsObject(out)) {
        r->output_name = pstr(c, get(out, "name"));
        r->output_column = (int)inum(c, out, "column", "model.output");
        r->output_kind = pstr(c, get(out, "kind"));
    }
    int C = 0, nu = 0;
    char **ch = names(c, get(root, "channels"), &C, "channels");
    char **un = names(c, get(root, "units"), &nu, "units");
    int T = (int)inum(c, root, "T", "");
    if (!c->st && (C < 1 || nu != C || T < 1))
        bad(c, "channels", "expected C channels, C units and T >= 1");
    if (!c->st)
        c->st =
            wf_windows_init(&d->ws, C, T, (const char *const *)ch, (const char *const *)un, c->err);
    for (int i = 0; ch && i < C; i++)
        free(ch[i]);
    for (int i = 0; un && i < nu; i++)
        free(un[i]);
    free(ch);
    free(un);
    if (c->st)
        return;
    const cJSON *win = get(root, "window");
    d->ws.stride = (int)inum(c, win, "stride", "window");
    d->ws.cadence = inum(c, win, "cadence_seconds", "window");
    const cJSON *rep = get(root, "report");
    if (cJSON_IsObject(rep)) {
        r->report_title = pstr(c, get(rep, "title"));
        r->max_episode_pages = (int)inum(c, rep, "max_episode_pages", "report");
        r->per_turbine = flag(rep, "per_turbine");
        r->methods_text = pstr(c, get(rep, "methods_text"));
    }
    read_settings(c, get(root, "settings"), &d->settings);
    r->settings = &d->settings;
    if (cJSON_IsObject(get(root, "model_card"))) {
        d->card = malloc(sizeof *d->card);
        if (!d->card) {
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
            return;
        }
        read_card(c, get(root, "model_card"), d->card);
        r->model_card = d->card;
    }
    const cJSON *oc = get(root, "outcomes"); /* the episode rule's merge gap (issue 14) */
    if (cJSON_IsObject(oc) && get(oc, "episode_merge_gap_hours"))
        r->episode_merge_gap_hours = num(c, oc, "episode_merge_gap_hours", "outcomes");
    const cJSON *in = get(root, "input");
    if (cJSON_IsObject(in)) { /* the counts of the log's pass (the cover prints them) */
        wf_data_stats *ds = &d->input;
        const cJSON *rj = get(in, "rejected"), *wj = get(in, "windows");
        ds->bytes = inum(c, in, "bytes", "input");
        ds->rows = inum(c, in, "rows", "input");
        ds->malformed_rows = inum(c, rj, "malformed", "input.rejected");
        ds->unnamed_rows = inum(c, rj, "without_turbine_id", "input.rejected");
        ds->off_grid_rows = inum(c, rj, "off_grid", "input.rejected");
        ds->outlier_rows = inum(c, rj, "time_outlier", "input.rejected");
        ds->duplicate_conflicting = inum(c, rj, "duplicate_conflicting", "input.rejected");
        ds->duplicate_identical = inum(c, in, "duplicate_identical_ignored", "input");
        ds->bad_cells = inum(c, in, "bad_cells", "input");
        ds->reordered_rows = inum(c, in, "reordered_rows", "input");
        ds->turbines = inum(c, in, "turbines", "input");
        ds->windows_valid = inum(c, wj, "valid", "input.windows");
        ds->windows_skipped = inum(c, wj, "skipped", "input.windows");
        ds->windows_interpolated = inum(c, wj, "interpolated", "input.windows");
        /* issue 14 (absent from older results): log.timezone and the cadence check */
        if (get(rj, "nonexistent_local_time"))
            ds->nonexistent_time_rows = inum(c, rj, "nonexistent_local_time", "input.rejected");
        if (get(in, "ambiguous_local_time_rows"))
            ds->ambiguous_time_rows = inum(c, in, "ambiguous_local_time_rows", "input");
        const cJSON *tzj = get(in, "timezone");
        snprintf(ds->timezone, sizeof ds->timezone, "%s",
                 cJSON_IsString(tzj) ? tzj->valuestring : "UTC");
        const cJSON *cj = get(in, "cadence");
        if (cJSON_IsObject(cj)) {
            ds->cadence_seconds = inum(c, cj, "configured_seconds", "input.cadence");
            ds->cadence_turbines = inum(c, cj, "turbines_checked", "input.cadence");
            ds->cadence_mismatched = inum(c, cj, "turbines_mismatched", "input.cadence");
            ds->cadence_median_min = inum(c, cj, "median_step_min_seconds", "input.cadence");
            ds->cadence_median_max = inum(c, cj, "median_step_max_seconds", "input.cadence");
            ds->cadence_approximate = flag(cj, "approximate");
        }
        const cJSON *kj = get(wj, "skipped_by_kind");
        for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
            ds->skipped_by_kind[k] = inum(c, kj, wf_skip_kind_str((wf_skip_kind)k), "input");
        r->input = ds;
    }
    r->threshold = num(c, root, "threshold", "");
    r->horizon_hours = num(c, root, "horizon_hours", "");
    /* every window, in order: from scores.csv beside results.json ("scores_file", issue 14),
     * or inline ("scores") in a file written before */
    const cJSON *sc = get(root, "scores"), *sf = get(root, "scores_file"), *x;
    int64_t n = cJSON_IsArray(sc) ? cJSON_GetArraySize(sc) : inum(c, root, "scores_count", "");
    if (!cJSON_IsArray(sc) && !cJSON_IsString(sf)) {
        bad(c, "scores_file", "missing (the audit's scores are in scores.csv, which it names)");
        return;
    }
    if (c->st || n < 0) {
        bad(c, "scores_count", "expected the number of scored windows");
        return;
    }
    d->ws.w = calloc((size_t)(n > 0 ? n : 1), sizeof *d->ws.w);
    d->scores = malloc(sizeof *d->scores * (size_t)(n > 0 ? n : 1));
    d->flagged = calloc((size_t)(n > 0 ? n : 1), 1);
    if (!d->ws.w || !d->scores || !d->flagged) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return;
    }
    d->ws.cap = n;
    int64_t i = 0;
    if (!cJSON_IsArray(sc)) {
        read_scores_file(c, root, sf->valuestring, n);
        if (c->st)
            return;
    }
    cJSON_ArrayForEach(x, sc) {
        wf_window *w = &d->ws.w[i];
        w->index = i;
        cpy(c, w->turbine_id, sizeof w->turbine_id, x, "turbine_id", "scores[]");
        w->start = itime(c, x, "start", "scores[]");
        w->end = itime(c, x, "end", "scores[]");
        w->label = (int)inum(c, x, "label", "scores[]");
        cpy(c, w->component, sizeof w->component, x, "component", "scores[]");
        w->interpolated = get(x, "interpolated") ? (int)inum(c, x, "interpolated", "scores[]") : 0;
        d->scores[i] = num(c, x, "score", "scores[]");
        d->flagged[i] = (uint8_t)flag(x, "flagged");
        i++;
        if (c->st)
            return;
    }
    d->ws.n = n;
    r->windows = &d->ws;
    r->scores = d->scores;
    r->flagged = d->flagged;
    cJSON_ArrayForEach(x, get(root, "skipped")) {
        wf_skipped s;
        memset(&s, 0, sizeof s);
        cpy(c, s.turbine_id, sizeof s.turbine_id, x, "turbine_id", "skipped[]");
        s.start = itime(c, x, "start", "skipped[]");
        cpy(c, s.reason, sizeof s.reason, x, "reason", "skipped[]");
        if (c->st || (c->st = wf_windows_push_skipped(&d->ws, &s, c->err)))
            return;
    }
    const cJSON *fl = get(root, "failures");
    int64_t nf = cJSON_GetArraySize(fl);
    if (nf > 0) {
        d->failures = calloc((size_t)nf, sizeof *d->failures);
        if (!d->failures) {
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
            return;
        }
        i = 0;
        cJSON_ArrayForEach(x, fl) {
            wf_failure *f = &d->failures[i++];
            cpy(c, f->turbine_id, sizeof f->turbine_id, x, "turbine_id", "failures[]");
            f->time = itime(c, x, "time", "failures[]");
            cpy(c, f->component, sizeof f->component, x, "component", "failures[]");
        }
        r->failures = d->failures;
        r->n_failures = nf;
    }
    /* channel ranges: what the methods page prints */
    d->ch_min = malloc(sizeof(double) * (size_t)C);
    d->ch_max = malloc(sizeof(double) * (size_t)C);
    if (!d->ch_min || !d->ch_max) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return;
    }
    for (int k = 0; k < C; k++) {
        d->ch_min[k] = INFINITY;
        d->ch_max[k] = -INFINITY;
    }
    cJSON_ArrayForEach(x, get(root, "channel_ranges")) {
        const cJSON *cn = get(x, "channel");
        int k = cJSON_IsString(cn) ? channel_index(&d->ws, cn->valuestring) : -1;
        if (k < 0)
            continue;
        double lo = num(c, x, "min", "channel_ranges[]"), hi = num(c, x, "max", "channel_ranges[]");
        d->ch_min[k] = isnan(lo) ? INFINITY : lo;
        d->ch_max[k] = isnan(hi) ? -INFINITY : hi;
    }
    r->channel_min = d->ch_min;
    r->channel_max = d->ch_max;
    /* background: its windows and weights (values from the log, by the caller) */
    const cJSON *bg = get(root, "background");
    if (cJSON_IsObject(bg)) {
        wf_background *b = &d->bg;
        d->has_bg = 1;
        b->C = C;
        b->T = T;
        b->n = inum(c, bg, "n", "background");
        cpy(c, b->description, sizeof b->description, bg, "description", "background");
        const cJSON *bw = get(bg, "windows");
        b->n_src = cJSON_GetArraySize(bw);
        b->src = calloc((size_t)(b->n_src > 0 ? b->n_src : 1), sizeof *b->src);
        if (!b->src) {
            c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
            return;
        }
        i = 0;
        cJSON_ArrayForEach(x, bw) {
            cpy(c, b->src[i].turbine_id, sizeof b->src[i].turbine_id, x, "turbine_id",
                "background.windows[]");
            b->src[i++].start = itime(c, x, "start", "background.windows[]");
        }
        if (get(bg, "weights"))
            b->weight = darr(c, get(bg, "weights"), (int)b->n, "background.weights");
        r->background = b;
    }
    if (cJSON_IsObject(get(root, "dependence"))) {
        d->has_dep = 1;
        read_dependence(c, get(root, "dependence"), &d->dep, &d->ws);
        r->dependence = &d->dep;
    }
    /* explanations */
    const cJSON *ex = get(root, "windows");
    int64_t ne = cJSON_GetArraySize(ex);
    d->expl = calloc((size_t)(ne > 0 ? ne : 1), sizeof *d->expl);
    d->why = calloc((size_t)(ne > 0 ? ne : 1), sizeof *d->why);
    if (!d->expl || !d->why) {
        c->st = wf_error_set(c->err, WF_ERR_NOMEM, "%s: out of memory", c->path);
        return;
    }
    int has_why = 0;
    i = 0;
    cJSON_ArrayForEach(x, ex) {
        r->n_explained = i + 1;
        read_explanation(c, x, &d->expl[i], &d->why[i], &has_why);
        i++;
        if (c->st)
            return;
    }
    r->expl = d->expl;
    /* the checks were built (an IG-only run builds them too, with no sentence): the report then
     * prints their rule, as the audit's did */
    r->why = has_why || get(root, "explanation_checks") ? d->why : NULL;
}

wf_status wf_results_read_json(const char *path, wf_results_doc *doc, wf_error *err) {
    memset(doc, 0, sizeof *doc);
    char *text = NULL;
    size_t len = 0;
    wf_status st = wf_file_read_all(path, &text, &len, err);
    if (st)
        return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!cJSON_IsObject(root)) {
        st = wf_error_set(err, WF_ERR_PARSE, "%s: not a results.json (invalid JSON near byte %ld)",
                          path, end ? (long)(end - text) : (long)len);
        cJSON_Delete(root);
        free(text);
        return st;
    }
    rd c = {path, doc, err, WF_OK};
    read_doc(&c, root);
    cJSON_Delete(root);
    free(text);
    if (c.st)
        wf_results_doc_free(doc);
    return c.st;
}

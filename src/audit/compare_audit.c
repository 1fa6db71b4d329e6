/*
 * The comparison of two models in the audit (issue 15): see compare_audit.h.
 */
#define _XOPEN_SOURCE 700
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit_impl.h"
#include "audit/compare_audit.h"
#include "core/clock.h"
#include "core/fileio.h"
#include "whyflag/explain_compare.h"

/* ---------------------------------------------------------------- model B */

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

wf_status wf_audit_cmp_model_open(const wf_config *cfg, wf_audit_cmp_model *cm, wf_error *err) {
    memset(cm, 0, sizeof *cm);
    const wf_compare_config *cc = &cfg->compare;
    const char *path = cc->model;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return wf_error_set(err, WF_ERR_IO,
                            "%s (compare.model) is not a regular file; copy it to a file first",
                            path);
    /* read once: the digest is of the bytes parsed */
    wf_status st = wf_audit_model_load_digest(path, &cm->model, cm->sha256, err);
    if (st)
        return wf_error_prefix(err, "compare.model %s: ", path);
    int C = cfg->log.n_channels, T = cfg->window.length;
    const char *const *mchan = NULL;
    int n = wf_model_channels(cm->model, &mchan);
    if (n > 0 && n != C) {
        st = wf_error_set(err, WF_ERR_CONFIG,
                          "compare.model %s takes %d channels, but model A and log.channels "
                          "take %d: model B must take the same channels as A",
                          path, n, C);
        goto fail;
    }
    for (int c = 0; c < n && c < C; c++)
        if (strcmp(mchan[c], cfg->log.channels[c].name) != 0) {
            st = wf_error_set(err, WF_ERR_CONFIG,
                              "compare.model %s: its channel %d is '%s' but model A's (and "
                              "log.channels[%d]) is '%s': model B must take the same channels, "
                              "in the same order",
                              path, c, mchan[c], c, cfg->log.channels[c].name);
            goto fail;
        }
    int mt = wf_model_window_length(cm->model);
    if (mt > 0 && mt != T) {
        st = wf_error_set(err, WF_ERR_CONFIG,
                          "compare.model %s was trained on windows of %d steps, but the run cuts "
                          "windows of %d (window.length): model B must take the same window",
                          path, mt, T);
        goto fail;
    }
    wf_layout layout = WF_LAYOUT_AUTO;
    if (!strcmp(cc->layout, "NCT"))
        layout = WF_LAYOUT_NCT;
    else if (!strcmp(cc->layout, "NTC"))
        layout = WF_LAYOUT_NTC;
    char what[WF_PATH_MAX + 32];
    snprintf(what, sizeof what, "%s: compare.model_output", cfg->config_path);
    st = wf_model_predictor_spec(cm->model, C, T, layout, cc->model_output, what, &cm->pred, err);
    if (st) {
        wf_error_prefix(err,
                        "compare.model %s: no score for windows of %d channels x %d steps "
                        "(model B must take A's channels and window and give one score per "
                        "window): ",
                        path, C, T);
        goto fail;
    }
    return WF_OK;
fail:
    wf_audit_cmp_model_close(cm);
    return st;
}

void wf_audit_cmp_model_close(wf_audit_cmp_model *cm) {
    if (!cm)
        return;
    wf_predictor_deinit(&cm->pred);
    wf_model_free(cm->model);
    memset(cm, 0, sizeof *cm);
}

/* ---------------------------------------------------------------- the pass */

wf_status wf_audit_cmp_new(const wf_config *cfg, const wf_audit_cmp_model *cm, size_t CT,
                           int64_t batch, wf_audit_cmp **out, wf_error *err) {
    wf_audit_cmp *c = calloc(1, sizeof *c);
    if (!c || !(c->by = malloc(sizeof(double) * (size_t)(batch > 0 ? batch : 1)))) {
        free(c);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    c->CT = CT;
    c->threshold_a = cfg->threshold;
    c->threshold_b = cfg->compare.threshold;
    snprintf(c->model, sizeof c->model, "%s", cfg->compare.model);
    memcpy(c->sha256, cm->sha256, sizeof c->sha256);
    *out = c;
    return WF_OK;
}

void wf_audit_cmp_free(wf_audit_cmp *c) {
    if (!c)
        return;
    free(c->score_b);
    free(c->vslot);
    free(c->vals);
    free(c->by);
    free(c);
}

static wf_status grow_windows(wf_audit_cmp *c, int64_t need, wf_error *err) {
    if (need <= c->cap)
        return WF_OK;
    int64_t nc = c->cap ? c->cap : 4096;
    while (nc < need)
        nc *= 2;
    double *s = realloc(c->score_b, sizeof *s * (size_t)nc);
    if (s)
        c->score_b = s;
    int64_t *v = s ? realloc(c->vslot, sizeof *v * (size_t)nc) : NULL;
    if (!v)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (%lld windows)", (long long)nc);
    c->vslot = v;
    c->cap = nc;
    return WF_OK;
}

static wf_status add_vals(wf_audit_cmp *c, const float *x, int64_t *slot, wf_error *err) {
    if (c->nv == c->vcap) {
        int64_t nc = c->vcap ? c->vcap * 2 : 64;
        float *q = realloc(c->vals, sizeof(float) * c->CT * (size_t)nc);
        if (!q)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        c->vals = q;
        c->vcap = nc;
    }
    memcpy(c->vals + (size_t)c->nv * c->CT, x, sizeof(float) * c->CT);
    *slot = c->nv++;
    return WF_OK;
}

wf_status wf_audit_cmp_batch(wf_audit_cmp *c, const wf_predictor *pb, const float *x,
                             const int64_t *idx, const double *ya, int64_t nb, int threads,
                             const wf_window *w, wf_error *err) {
    if (nb <= 0)
        return WF_OK;
    double t0 = wf_now_seconds();
    wf_status st = wf_audit_score_array(pb, x, nb, threads, c->by, err);
    c->seconds_score += wf_now_seconds() - t0;
    if (st)
        return wf_error_prefix(err, "compare.model %s: ", c->model);
    int64_t top = 0;
    for (int64_t i = 0; i < nb; i++)
        if (idx[i] + 1 > top)
            top = idx[i] + 1;
    if ((st = grow_windows(c, top, err)))
        return st;
    for (int64_t i = 0; i < nb; i++) {
        int64_t wi = idx[i];
        double yb = c->by[i];
        if (!isfinite(yb)) {
            char iso[32];
            wf_time_format_iso(w[wi].start, iso);
            return wf_error_set(err, WF_ERR_NUMERIC,
                                "compare.model %s returned a non-finite score (%g) for the window "
                                "of turbine %s starting %s",
                                c->model, yb, w[wi].turbine_id, iso);
        }
        c->score_b[wi] = yb;
        c->vslot[wi] = -1;
        int fa = isfinite(ya[i]) && ya[i] >= c->threshold_a;
        if (yb >= c->threshold_b && !fa &&
            (st = add_vals(c, x + (size_t)i * c->CT, &c->vslot[wi], err)))
            return st;
    }
    if (top > c->n)
        c->n = top;
    return WF_OK;
}

void wf_audit_cmp_move(wf_audit_cmp *c, int64_t to, int64_t from) {
    if (!c || from >= c->n)
        return;
    c->score_b[to] = c->score_b[from];
    c->vslot[to] = c->vslot[from];
}

wf_status wf_audit_cmp_permute(wf_audit_cmp *c, const int64_t *perm, int64_t n, wf_error *err) {
    if (n <= 0)
        return WF_OK;
    wf_status st = grow_windows(c, n, err);
    if (st)
        return st;
    double *s = malloc(sizeof *s * (size_t)n);
    int64_t *v = malloc(sizeof *v * (size_t)n);
    if (!s || !v) {
        free(s);
        free(v);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int64_t j = 0; j < n; j++) {
        s[j] = c->score_b[perm[j]];
        v[j] = c->vslot[perm[j]];
    }
    memcpy(c->score_b, s, sizeof *s * (size_t)n);
    memcpy(c->vslot, v, sizeof *v * (size_t)n);
    free(s);
    free(v);
    c->n = n;
    return WF_OK;
}

/* ---------------------------------------------------------------- shard.bin */

static void put_f64(wf_bw *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    wf_bw_u64(b, u);
}

static double get_f64(wf_br *b) {
    uint64_t u = wf_br_u64(b);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static void put_str(wf_bw *b, const char *s) {
    size_t n = strlen(s);
    wf_bw_u64(b, n);
    wf_bw_put(b, s, n);
}

static void get_str(wf_br *b, char *out, size_t size) {
    uint64_t n = wf_br_u64(b);
    if (n >= size) {
        b->bad = 1;
        out[0] = 0;
        return;
    }
    wf_br_get(b, out, (size_t)n);
    out[n] = 0;
}

static void put_f32s(wf_bw *b, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        unsigned char c[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                              (unsigned char)(u >> 24)};
        wf_bw_put(b, c, 4);
    }
}

static void get_f32s(wf_br *b, float *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c[4];
        wf_br_get(b, c, 4);
        uint32_t u =
            (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
        memcpy(&x[i], &u, 4);
    }
}

wf_status wf_audit_cmp_encode(const wf_audit_cmp *c, const wf_audit_part *pt, char **p, size_t *n,
                              wf_error *err) {
    wf_bw b = {0};
    put_str(&b, c->model);
    put_str(&b, c->sha256);
    put_f64(&b, c->threshold_a);
    put_f64(&b, c->threshold_b);
    wf_bw_u64(&b, (uint64_t)c->CT);
    wf_bw_u64(&b, (uint64_t)pt->ws.n);
    for (int64_t i = 0; i < pt->ws.n; i++) {
        put_f64(&b, c->score_b[i]);
        int keep = c->vslot[i] >= 0;
        wf_bw_u64(&b, (uint64_t)keep);
        if (keep)
            put_f32s(&b, c->vals + (size_t)c->vslot[i] * c->CT, c->CT);
    }
    if (b.failed) {
        free(b.p);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    *p = b.p;
    *n = b.n;
    return WF_OK;
}

wf_status wf_audit_cmp_decode(const unsigned char *p, size_t n, const wf_audit_part *pt,
                              wf_audit_cmp **out, wf_error *err) {
    wf_br b = {p, n, 0, 0};
    wf_audit_cmp *c = calloc(1, sizeof *c);
    if (!c)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    get_str(&b, c->model, sizeof c->model);
    get_str(&b, c->sha256, sizeof c->sha256);
    c->threshold_a = get_f64(&b);
    c->threshold_b = get_f64(&b);
    c->CT = (size_t)wf_br_u64(&b);
    int64_t nw = (int64_t)wf_br_u64(&b);
    wf_status st = WF_OK;
    if (b.bad || nw != pt->ws.n || c->CT != (size_t)pt->ws.C * (size_t)pt->ws.T)
        b.bad = 1;
    else
        st = grow_windows(c, nw > 0 ? nw : 1, err);
    for (int64_t i = 0; !st && !b.bad && i < nw; i++) {
        c->score_b[i] = get_f64(&b);
        c->vslot[i] = -1;
        uint64_t keep = wf_br_u64(&b);
        if (keep > 1 || (keep && (size_t)(b.n - b.at) < c->CT * 4)) {
            b.bad = 1;
            break;
        }
        if (keep) {
            if (c->nv == c->vcap) {
                int64_t nc = c->vcap ? c->vcap * 2 : 64;
                float *q = realloc(c->vals, sizeof(float) * c->CT * (size_t)nc);
                if (!q) {
                    st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                    break;
                }
                c->vals = q;
                c->vcap = nc;
            }
            get_f32s(&b, c->vals + (size_t)c->nv * c->CT, c->CT);
            c->vslot[i] = c->nv++;
        }
    }
    c->n = nw;
    if (!st && (b.bad || b.at != b.n))
        st = wf_error_set(err, WF_ERR_PARSE, "the comparison block is damaged");
    if (st) {
        wf_audit_cmp_free(c);
        return st;
    }
    *out = c;
    return WF_OK;
}

wf_status wf_audit_cmp_combine(wf_audit_part *parts, const char *const *names, int np,
                               const int64_t *base, const int64_t *newpos, int64_t total,
                               wf_audit_cmp **out, wf_error *err) {
    *out = NULL;
    int have = 0;
    for (int i = 0; i < np; i++)
        have += parts[i].cmp != NULL;
    if (have == 0)
        return WF_OK;
    for (int i = 0; i < np; i++) {
        const wf_audit_cmp *ci = parts[i].cmp, *c0 = NULL;
        for (int k = 0; k < np && !c0; k++)
            c0 = parts[k].cmp;
        if (!ci)
            return wf_error_set(err, WF_ERR_VERIFY,
                                "%s was run without the comparison (compare.model) the other "
                                "shards ran: rerun it with the same config and --compare",
                                names[i]);
        if (strcmp(ci->sha256, c0->sha256) || ci->threshold_b != c0->threshold_b)
            return wf_error_set(err, WF_ERR_VERIFY,
                                "%s compared another model B (%s, SHA-256 %.16s...) than the "
                                "other shards (%s, %.16s...)",
                                names[i], ci->model, ci->sha256, c0->model, c0->sha256);
    }
    const wf_audit_cmp *c0 = NULL;
    for (int k = 0; k < np && !c0; k++)
        c0 = parts[k].cmp;
    wf_audit_cmp *c = calloc(1, sizeof *c);
    wf_status st = c ? grow_windows(c, total > 0 ? total : 1, err)
                     : wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (st) {
        wf_audit_cmp_free(c);
        return st;
    }
    c->CT = c0->CT;
    c->threshold_a = c0->threshold_a;
    c->threshold_b = c0->threshold_b;
    memcpy(c->model, c0->model, sizeof c->model);
    memcpy(c->sha256, c0->sha256, sizeof c->sha256);
    c->n = total;
    /* values in canonical order: first pass places the scores, second the values by window */
    int64_t *src_part = malloc(sizeof *src_part * (size_t)(total > 0 ? total : 1));
    int64_t *src_slot = malloc(sizeof *src_slot * (size_t)(total > 0 ? total : 1));
    if (!src_part || !src_slot) {
        free(src_part);
        free(src_slot);
        wf_audit_cmp_free(c);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < np; i++) {
        const wf_audit_cmp *ci = parts[i].cmp;
        for (int64_t j = 0; j < ci->n; j++) {
            int64_t k = newpos[base[i] + j];
            c->score_b[k] = ci->score_b[j];
            src_part[k] = i;
            src_slot[k] = ci->vslot[j];
        }
    }
    for (int64_t k = 0; k < total && !st; k++) {
        c->vslot[k] = -1;
        if (src_slot[k] >= 0) {
            const wf_audit_cmp *ci = parts[src_part[k]].cmp;
            st = add_vals(c, ci->vals + (size_t)src_slot[k] * ci->CT, &c->vslot[k], err);
        }
    }
    free(src_part);
    free(src_slot);
    if (st) {
        wf_audit_cmp_free(c);
        return st;
    }
    c->seconds_score = 0;
    for (int i = 0; i < np; i++)
        c->seconds_score += parts[i].cmp->seconds_score;
    *out = c;
    return WF_OK;
}

/* ---------------------------------------------------------------- arms */

wf_status wf_audit_cmp_check_arms(const wf_config *cfg, const wf_audit_part *pt, wf_error *err) {
    const wf_compare_config *cc = &cfg->compare;
    const wf_windows *ws = &pt->ws;
    for (int k = 0; k < cc->n_arm_b; k++) {
        int found = 0;
        for (int64_t i = 0; i < pt->n_turbines && !found; i++)
            found = !strcmp(pt->turbines[i], cc->arm_b[k]);
        for (int64_t i = 0; i < ws->n && !found; i++)
            found = !strcmp(ws->w[i].turbine_id, cc->arm_b[k]);
        for (int64_t i = 0; i < ws->n_skipped && !found; i++)
            found = !strcmp(ws->skipped[i].turbine_id, cc->arm_b[k]);
        if (!found && (pt->shard_n == 1 || pt->n_turbines > 0))
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s: compare.arms.B[%d]: turbine '%s' is not in the log %s",
                                cfg->config_path, k, cc->arm_b[k], cfg->log.path);
    }
    return WF_OK;
}

/* ---------------------------------------------------------------- report */

/* Engine time per window of predictor p over the background's rows, one thread, batches of the
 * background's size, repeated for at least 0.2 s. */
static double time_per_window(const wf_predictor *p, const wf_background *bg) {
    if (!bg || bg->n <= 0)
        return NAN;
    void *ctx = NULL;
    wf_error err = {0};
    if (p->ctx_new(p->user, bg->n, &ctx, &err))
        return NAN;
    float *y = malloc(sizeof(float) * (size_t)bg->n);
    double t0 = wf_now_seconds(), el = 0;
    int64_t rows = 0;
    while (y && el < 0.2) {
        if (p->predict(ctx, bg->x, bg->n, y, &err))
            break;
        rows += bg->n;
        el = wf_now_seconds() - t0;
    }
    free(y);
    p->ctx_free(ctx);
    return rows > 0 ? el / (double)rows : NAN;
}

static int64_t file_bytes(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

typedef struct pick {
    int64_t i;
    double key;
} pick;

static int cmp_pick(const void *a, const void *b) {
    const pick *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int top_abs(const double *v, int M) {
    int best = -1;
    for (int p = 0; p < M; p++)
        if (best < 0 || fabs(v[p]) > fabs(v[best]))
            best = p;
    return best;
}

/* The players a window's explanations would have, when small enough for every coalition. */
static int players_small(const wf_explain_settings *s, int C) {
    switch (s->groups) {
    case WF_GROUPS_CHANNEL:
        return C <= WF_DIFF_GAME_MAX_M;
    case WF_GROUPS_SEGMENTS:
        return (int64_t)C * s->segments <= WF_DIFF_GAME_MAX_M;
    case WF_GROUPS_EXPLICIT:
        return s->n_groups <= WF_DIFF_GAME_MAX_M;
    default:
        return 0;
    }
}

static void model_info(wf_compare_model *m, const char *name, const char *path, const char *sha,
                       const wf_model_card *card, int quantized, double threshold,
                       const wf_predictor *p) {
    m->name = name;
    m->path = path;
    memcpy(m->sha256, sha, 65);
    m->card = card;
    m->file_bytes = file_bytes(path);
    m->quantized = quantized;
    m->threshold = threshold;
    m->output_name = p->output_name[0] ? p->output_name : NULL;
    m->output_column = p->output_column;
    m->output_kind = p->output_kind;
    m->seconds_per_window = NAN;
}

wf_status wf_audit_cmp_report_build(const wf_config *cfg, const wf_model *ma,
                                    const wf_predictor *pa, const wf_audit_cmp_model *cm,
                                    const wf_audit_part *all, int threads, wf_audit_cmp_report *out,
                                    wf_error *err) {
    memset(out, 0, sizeof *out);
    const wf_audit_cmp *c = all->cmp;
    const wf_compare_config *cc = &cfg->compare;
    const wf_windows *ws = &all->ws;
    wf_results_compare *r = &out->r;
    int64_t n = ws->n;
    double t0 = wf_now_seconds();
    if (!c || c->n != n || !cm->model)
        return wf_error_set(err, WF_ERR_INVALID, "comparison: the part holds no scores of B");
    out->flagged_b = malloc((size_t)(n > 0 ? n : 1));
    out->card_a = malloc(sizeof *out->card_a);
    out->card_b = malloc(sizeof *out->card_b);
    if (!out->flagged_b || !out->card_a || !out->card_b) {
        wf_audit_cmp_report_free(out);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    wf_model_card_build(ma, out->card_a);
    wf_model_card_build(cm->model, out->card_b);
    snprintf(out->name_a, sizeof out->name_a, "%s", base_name(cfg->model));
    snprintf(out->name_b, sizeof out->name_b, "%s", cc->name[0] ? cc->name : base_name(c->model));
    r->relation = cc->relation;
    model_info(&r->a, out->name_a, cfg->model, all->id.model, out->card_a,
               wf_model_is_quantized(ma), cfg->threshold, pa);
    model_info(&r->b, out->name_b, c->model, c->sha256, out->card_b,
               wf_model_is_quantized(cm->model), c->threshold_b, &cm->pred);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!(sde && *sde) && all->has_bg) { /* timings are not reproducible: not under SDE */
        r->a.seconds_per_window = time_per_window(pa, &all->bg);
        r->b.seconds_per_window = time_per_window(&cm->pred, &all->bg);
    }
    r->scores_b = c->score_b;
    r->flagged_b = out->flagged_b;
    r->n_arm_b = cc->n_arm_b;
    r->arm_b = (const char(*)[WF_ID_MAX])cc->arm_b;
    r->bootstrap = cc->bootstrap;
    r->seed = cfg->explain.seed;
    r->max_explained = cc->max_explained;
    r->max_diff_check = NAN;

    /* which windows to explain: the disagreements with the largest |score_a - score_b|, then
     * the windows both flag with the highest score of A */
    pick *dis = malloc(sizeof *dis * (size_t)(n > 0 ? n : 1));
    pick *both = malloc(sizeof *both * (size_t)(n > 0 ? n : 1));
    if (!dis || !both) {
        free(dis);
        free(both);
        wf_audit_cmp_report_free(out);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    int64_t nd = 0, nbth = 0;
    for (int64_t i = 0; i < n; i++) {
        out->flagged_b[i] = c->score_b[i] >= c->threshold_b;
        int fa = all->flagged[i], fb = out->flagged_b[i];
        if (fa != fb)
            dis[nd++] = (pick){i, fabs(all->scores[i] - c->score_b[i])};
        else if (fa)
            both[nbth++] = (pick){i, all->scores[i]};
    }
    r->n_disagree = nd;
    r->n_both = nbth;
    qsort(dis, (size_t)nd, sizeof *dis, cmp_pick);
    qsort(both, (size_t)nbth, sizeof *both, cmp_pick);
    int64_t kd = nd < cc->max_explained ? nd : cc->max_explained;
    int64_t kb = nbth < cc->max_explained ? nbth : cc->max_explained;
    int64_t k = kd + kb;
    int can_explain = all->has_bg && k > 0;
    if (!can_explain) {
        free(dis);
        free(both);
        snprintf(out->settings_text, sizeof out->settings_text, "%s",
                 k > 0 ? "no background: the disagreements were not explained" : "");
        r->settings_text = out->settings_text;
        out->seconds_explain = wf_now_seconds() - t0;
        return WF_OK;
    }

    /* the windows to explain, with their values (A's flagged ones from the part, the others
     * from the comparison's kept values) */
    wf_windows ex;
    memset(&ex, 0, sizeof ex);
    ex.C = ws->C;
    ex.T = ws->T;
    ex.channels = ws->channels;
    ex.units = ws->units;
    ex.n = ex.cap = k;
    ex.w = malloc(sizeof *ex.w * (size_t)k);
    out->win = calloc((size_t)k, sizeof *out->win);
    wf_explanation *ea = calloc((size_t)k, sizeof *ea), *eb = calloc((size_t)k, sizeof *eb);
    wf_status st = WF_OK;
    if (!ex.w || !out->win || !ea || !eb)
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int64_t j = 0; !st && j < k; j++) {
        int64_t i = j < kd ? dis[j].i : both[j - kd].i;
        ex.w[j] = ws->w[i];
        ex.w[j].index = j;
        if (!all->flagged[i])
            ex.w[j].values = c->vals + (size_t)c->vslot[i] * c->CT;
        if (!ex.w[j].values)
            st = wf_error_set(err, WF_ERR_INVALID, "comparison: window %lld has no values",
                              (long long)i);
        wf_compare_window *cw = &out->win[j];
        cw->window_index = i;
        cw->kind = all->flagged[i] && out->flagged_b[i] ? 3 : all->flagged[i] ? 1 : 2;
        cw->score_a = all->scores[i];
        cw->score_b = c->score_b[i];
        cw->diff_check = cw->diff_efficiency = NAN;
    }
    free(dis);
    free(both);
    r->n_windows = k;
    r->win = out->win;

    /* the settings: the run's players and background, identity link, plain Shapley values */
    wf_explain_plan plan;
    memset(&plan, 0, sizeof plan);
    if (!st)
        st = wf_explain_plan_build(&cfg->explain, &all->bg, ws->channels, &plan, err);
    wf_explain_settings s;
    if (!st) {
        s = plan.s;
        s.do_kernelshap = 1;
        s.link = WF_LINK_IDENTITY;
        s.hierarchy = NULL;
        s.do_treeshap = WF_TREESHAP_OFF;
        s.tree_model = NULL;
        if (s.groups == WF_GROUPS_HIERARCHY || s.groups == WF_GROUPS_AUTO)
            s.groups = plan.s.explicit_groups ? WF_GROUPS_EXPLICIT : WF_GROUPS_CHANNEL;
        int exact = players_small(&s, ws->C);
        if (exact)
            s.nsamples = WF_NSAMPLES_EXACT;
        s.threads = threads;
        snprintf(out->settings_text, sizeof out->settings_text,
                 "KernelSHAP of A, of B and of the difference game f_A - f_B with the run's "
                 "players and background, identity link, %s; %s",
                 exact ? "every coalition enumerated" : "sampled coalitions (no difference game)",
                 s.do_ig ? "Integrated Gradients of each model with the run's baseline"
                         : "no Integrated Gradients");
        r->settings_text = out->settings_text;
        st = wf_explain_run(&s, pa, &all->bg, &ex, NULL, k, ea, err);
        if (!st)
            st = wf_explain_run(&s, &cm->pred, &all->bg, &ex, NULL, k, eb, err);
        for (int64_t j = 0; !st && j < k; j++) {
            wf_compare_window *cw = &out->win[j];
            const wf_explanation *xa = &ea[j], *xb = &eb[j];
            if (xa->status || xb->status) {
                cw->status = xa->status ? xa->status : xb->status;
                snprintf(cw->error, sizeof cw->error, "%s", xa->status ? xa->error : xb->error);
                continue;
            }
            if (xa->has_kshap && xb->has_kshap && xa->kshap.M == xb->kshap.M) {
                int M = xa->kshap.M;
                if (!out->players) {
                    out->players = calloc((size_t)M, sizeof *out->players);
                    int bad = !out->players;
                    for (int p = 0; !bad && p < M; p++)
                        bad = !(out->players[p] = strdup(xa->kshap.players[p]));
                    if (bad) {
                        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                        break;
                    }
                    r->M = M;
                    r->players = (const char *const *)out->players;
                }
                cw->has_kshap = M == r->M;
                cw->M = M;
                cw->players = r->players;
                cw->phi_a = malloc(sizeof(double) * (size_t)M);
                cw->phi_b = malloc(sizeof(double) * (size_t)M);
                if (!cw->phi_a || !cw->phi_b) {
                    st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                    break;
                }
                memcpy(cw->phi_a, xa->kshap.values, sizeof(double) * (size_t)M);
                memcpy(cw->phi_b, xb->kshap.values, sizeof(double) * (size_t)M);
                cw->base_a = xa->kshap.base_value;
                cw->fx_a = xa->kshap.f_x;
                cw->base_b = xb->kshap.base_value;
                cw->fx_b = xb->kshap.f_x;
                wf_agreement_compute(cw->phi_a, cw->phi_b, M, &cw->agree);
                cw->top_a = top_abs(cw->phi_a, M);
                cw->top_b = top_abs(cw->phi_b, M);
                if (cw->kind != 3 && exact) {
                    cw->phi_diff = malloc(sizeof(double) * (size_t)M);
                    if (!cw->phi_diff) {
                        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                        break;
                    }
                    st = wf_explain_difference_game(&s, pa, &cm->pred, &all->bg, &ex,
                                                    ex.w[j].values, M, cw->phi_diff, &cw->base_diff,
                                                    &cw->fx_diff, err);
                    if (st)
                        break;
                    double mx = 0, sum = 0;
                    for (int p = 0; p < M; p++) {
                        mx = fmax(mx, fabs(cw->phi_diff[p] - (cw->phi_a[p] - cw->phi_b[p])));
                        sum += cw->phi_diff[p];
                    }
                    cw->diff_check = mx;
                    cw->diff_efficiency = sum - (cw->fx_diff - cw->base_diff);
                    r->max_diff_check = isnan(r->max_diff_check) ? mx : fmax(r->max_diff_check, mx);
                }
            }
            if (xa->has_ig && xb->has_ig && xa->ig.C == ws->C && xb->ig.C == ws->C) {
                cw->ig_a = malloc(sizeof(double) * (size_t)ws->C);
                cw->ig_b = malloc(sizeof(double) * (size_t)ws->C);
                if (!cw->ig_a || !cw->ig_b) {
                    st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                    break;
                }
                memcpy(cw->ig_a, xa->ig.channel_sums, sizeof(double) * (size_t)ws->C);
                memcpy(cw->ig_b, xb->ig.channel_sums, sizeof(double) * (size_t)ws->C);
                cw->ig_delta_a = xa->ig.delta;
                cw->ig_delta_b = xb->ig.delta;
                cw->has_ig = 1;
            }
        }
    }
    wf_explain_plan_deinit(&plan);
    for (int64_t j = 0; j < k; j++) {
        if (ea)
            wf_explanation_deinit(&ea[j]);
        if (eb)
            wf_explanation_deinit(&eb[j]);
    }
    free(ea);
    free(eb);
    free(ex.w);
    out->seconds_explain = wf_now_seconds() - t0;
    if (st)
        wf_audit_cmp_report_free(out);
    return st;
}

void wf_audit_cmp_report_free(wf_audit_cmp_report *out) {
    if (!out)
        return;
    for (int64_t j = 0; out->win && j < out->r.n_windows; j++) {
        wf_compare_window *w = &out->win[j];
        free(w->phi_a);
        free(w->phi_b);
        free(w->phi_diff);
        free(w->ig_a);
        free(w->ig_b);
    }
    free(out->win);
    for (int p = 0; out->players && p < out->r.M; p++)
        free(out->players[p]);
    free(out->players);
    free(out->flagged_b);
    free(out->card_a);
    free(out->card_b);
    memset(out, 0, sizeof *out);
}

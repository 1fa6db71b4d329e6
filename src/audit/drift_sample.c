/*
 * The seeded sample of unflagged windows for the concept-drift signals (issue 16, item 4): per
 * period, the drift.unflagged_sample windows with the smallest seeded hash of (turbine id,
 * start) among the unflagged windows whose end lies in the period, so that quiet periods have
 * attributions too. They are explained with the run's settings and background, like the flagged
 * windows, but are never episodes.
 *
 * A bottom-k sample per period: a part keeps the k smallest of its own windows; the union of the
 * parts' samples holds the k smallest of the fleet, so combining gives the one-machine sample
 * (any shards, any thread count). The values of the candidates are kept as they are offered
 * (after scoring, before the part is finished); a window offered again after its turbine's rows
 * were reordered replaces the stale copy.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "whyflag/rng.h"

uint64_t wf_audit_ufs_hash(uint64_t seed, const char *turbine_id, int64_t start) {
    /* another stream than the background draw's wf_seeded_hash(seed, key) */
    return wf_seeded_hash(seed ^ 0x756E666C61676765ull /* "unflagge" */,
                          wf_window_key(turbine_id, start));
}

void wf_audit_ufs_free(wf_audit_ufs *u) {
    if (!u)
        return;
    if (u->expl)
        for (int64_t i = 0; i < u->ws.n; i++)
            wf_explanation_deinit(&u->expl[i]);
    free(u->expl);
    wf_windows_free(&u->ws);
    free(u->hash);
    free(u->period);
    free(u->score);
    memset(u, 0, sizeof *u);
}

static wf_status grow(wf_audit_ufs *u, wf_error *err) {
    if (u->ws.n < u->cap)
        return WF_OK;
    int64_t nc = u->cap ? u->cap * 2 : 64;
    uint64_t *h = realloc(u->hash, sizeof *h * (size_t)nc);
    if (h)
        u->hash = h;
    int64_t *p = h ? realloc(u->period, sizeof *p * (size_t)nc) : NULL;
    if (p)
        u->period = p;
    double *s = p ? realloc(u->score, sizeof *s * (size_t)nc) : NULL;
    if (!s)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (unflagged sample)");
    u->score = s;
    u->cap = nc;
    return WF_OK;
}

/* (period, hash, turbine id, start) order */
static int before(const wf_audit_ufs *u, int64_t i, int64_t j) {
    if (u->period[i] != u->period[j])
        return u->period[i] < u->period[j];
    if (u->hash[i] != u->hash[j])
        return u->hash[i] < u->hash[j];
    int c = strcmp(u->ws.w[i].turbine_id, u->ws.w[j].turbine_id);
    if (c)
        return c < 0;
    return u->ws.w[i].start < u->ws.w[j].start;
}

static void put(wf_audit_ufs *u, int64_t at, int64_t period, uint64_t hash, const wf_window *w,
                double score) {
    size_t CT = (size_t)u->ws.C * (size_t)u->ws.T;
    float *dst = u->ws.data + (size_t)at * CT;
    memcpy(dst, w->values, sizeof(float) * CT);
    u->ws.w[at] = *w;
    u->ws.w[at].values = dst;
    u->ws.w[at].index = at;
    u->period[at] = period;
    u->hash[at] = hash;
    u->score[at] = score;
}

wf_status wf_audit_ufs_offer(wf_audit_ufs *u, int64_t k, int64_t period, uint64_t hash,
                             const wf_window *w, double score, wf_error *err) {
    if (k <= 0)
        return WF_OK;
    /* the candidates of the period: the same window again, the count and the largest hash */
    int64_t count = 0, worst = -1;
    for (int64_t i = u->ws.n; i-- > 0;) {
        if (u->period[i] != period)
            continue;
        if (u->ws.w[i].start == w->start && !strcmp(u->ws.w[i].turbine_id, w->turbine_id)) {
            put(u, i, period, hash, w, score); /* offered again after a reorder: fresh values */
            return WF_OK;
        }
        count++;
        if (worst < 0 || u->hash[i] > u->hash[worst])
            worst = i;
    }
    if (count >= k) {
        if (hash >= u->hash[worst])
            return WF_OK;
        put(u, worst, period, hash, w, score);
        return WF_OK;
    }
    wf_status st = grow(u, err);
    if (!st)
        st = wf_windows_push(&u->ws, w, err);
    if (!st)
        put(u, u->ws.n - 1, period, hash, w, score);
    return st;
}

wf_status wf_audit_ufs_select(wf_audit_ufs *u, int64_t k, wf_error *err) {
    int64_t n = u->ws.n;
    if (n == 0)
        return WF_OK;
    int64_t *ord = malloc(sizeof *ord * (size_t)n);
    if (!ord)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (unflagged sample)");
    for (int64_t i = 0; i < n; i++) /* insertion sort: a few hundred entries */
    {
        int64_t j = i;
        while (j > 0 && before(u, i, ord[j - 1])) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = i;
    }
    wf_audit_ufs o;
    memset(&o, 0, sizeof o);
    wf_status st = wf_windows_init(&o.ws, u->ws.C, u->ws.T, (const char *const *)u->ws.channels,
                                   (const char *const *)u->ws.units, err);
    int64_t run = 0;
    for (int64_t r = 0; !st && r < n; r++) {
        int64_t i = ord[r];
        run = (r > 0 && u->period[ord[r - 1]] == u->period[i]) ? run + 1 : 0;
        if (run >= k)
            continue;
        if (!(st = grow(&o, err)) && !(st = wf_windows_push(&o.ws, &u->ws.w[i], err)))
            put(&o, o.ws.n - 1, u->period[i], u->hash[i], &u->ws.w[i], u->score[i]);
    }
    free(ord);
    if (st) {
        wf_audit_ufs_free(&o);
        return st;
    }
    o.ws.stride = u->ws.stride;
    o.ws.cadence = u->ws.cadence;
    wf_audit_ufs_free(u);
    *u = o;
    return WF_OK;
}

wf_status wf_audit_drift_explain_sample(const wf_config *cfg, const wf_predictor *pred,
                                        const wf_audit_part *all, wf_audit_drift *d, int threads,
                                        wf_error *err) {
    wf_audit_ufs *u = &d->ufs;
    if (u->ws.n == 0 || u->expl)
        return WF_OK;
    const wf_explain_settings *es = &cfg->explain;
    u->expl = calloc((size_t)u->ws.n, sizeof *u->expl);
    if (!u->expl)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (unflagged sample)");
    wf_explain_plan plan;
    wf_status st =
        wf_explain_plan_build(es, all->has_bg ? &all->bg : NULL, all->ws.channels, &plan, err);
    if (st)
        return st;
    plan.s.threads = threads;
    st = wf_explain_run(&plan.s, pred, all->has_bg ? &all->bg : NULL, &u->ws, NULL, u->ws.n,
                        u->expl, err);
    wf_explain_plan_deinit(&plan);
    if (st)
        wf_error_prefix(err, "unflagged sample: ");
    return st;
}

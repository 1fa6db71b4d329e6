/*
 * From a combined part's drift accumulators to the numbers the report prints
 * (wf_results_drift): fleet-wide, per turbine and per period comparisons, the periods of the
 * windows, and the out-of-reference judgement of every explained window.
 *
 * Fleet reference = every turbine's reference rows plus the reference rows of turbines absent
 * from the audited log; fleet current = every turbine's current rows (accumulated in the pass as
 * tables of their own, so that they stay exact when the per-turbine tables are compacted). A
 * turbine is compared with its own reference rows (not evaluated when it has none); a period with
 * the fleet reference.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"

static void *keep(wf_audit_drift_report *o, size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    for (size_t i = 0; p && i < sizeof o->mem / sizeof o->mem[0]; i++)
        if (!o->mem[i]) {
            o->mem[i] = p;
            return p;
        }
    free(p);
    return NULL;
}

void wf_audit_drift_report_free(wf_audit_drift_report *o) {
    if (!o)
        return;
    for (size_t i = 0; i < sizeof o->mem / sizeof o->mem[0]; i++)
        free(o->mem[i]);
    memset(o, 0, sizeof *o);
}

static const char *period_name(wf_drift_period p) {
    return p == WF_DRIFT_PERIOD_DAY ? "day" : p == WF_DRIFT_PERIOD_MONTH ? "month" : "week";
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

wf_status wf_audit_drift_report_build(const wf_config *cfg, const wf_audit_part *all,
                                      wf_audit_drift_report *o, wf_error *err) {
    memset(o, 0, sizeof *o);
    const wf_audit_drift *d = all->drift;
    const wf_drift_config *dc = &cfg->drift;
    const wf_drift_settings *s = &dc->settings;
    int C = d->C;
    wf_results_drift *r = &o->r;
    r->settings = *s;
    r->C = C;
    r->period = period_name(dc->period);
    r->reference_is_log = dc->ref_kind == WF_DRIFT_REF_LOG;
    if (r->reference_is_log) {
        r->ref_path = dc->ref_path;
        snprintf(o->ref_text, sizeof o->ref_text, "every row of %s", dc->ref_path);
    } else {
        char a[32], b[32];
        r->ref_from = dc->ref_from;
        r->ref_to = dc->ref_to;
        wf_time_format_iso(dc->ref_from, a);
        wf_time_format_iso(dc->ref_to, b);
        snprintf(o->ref_text, sizeof o->ref_text, "the rows from %s to %s (excluded)", a, b);
    }
    r->reference = o->ref_text;

    /* fleet-wide */
    const wf_drift_acc *ref = d->fleet_ref, *cur = d->fleet_cur;
    wf_drift_profile *prof = NULL;
    wf_status st = WF_OK;
    wf_drift_channel *fleet = keep(o, sizeof *fleet * (size_t)C);
    wf_drift_channel *bt = keep(o, sizeof *bt * (size_t)C * (size_t)(d->n_tb ? d->n_tb : 1));
    if (!st && (!fleet || !bt))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (!st)
        st = wf_drift_acc_compare(ref, cur, s, fleet, err);
    for (int64_t t = 0; !st && t < d->n_tb; t++)
        st = wf_drift_acc_compare(d->tb_ref[t], d->tb_cur[t], s, bt + (size_t)t * (size_t)C, err);
    uint8_t *fc = keep(o, (size_t)C);
    uint8_t *tc = keep(o, (size_t)C * (size_t)(d->n_tb ? d->n_tb : 1));
    if (!st && (!fc || !tc))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int c = 0; !st && c < C; c++) {
        fc[c] = wf_drift_acc_level(ref, c, NULL) || wf_drift_acc_level(cur, c, NULL);
        for (int64_t t = 0; t < d->n_tb; t++)
            tc[(size_t)t * (size_t)C + (size_t)c] = wf_drift_acc_level(d->tb_ref[t], c, NULL) ||
                                                    wf_drift_acc_level(d->tb_cur[t], c, NULL);
    }
    r->fleet_compacted = fc;
    r->turbine_compacted = tc;
    r->memory_mb = dc->memory_mb;
    r->cap_fleet = d->cap_fleet;
    r->cap_table = d->cap_table;
    r->fleet = fleet;
    r->by_turbine = bt;
    r->n_turbines = d->n_tb;
    r->turbine = (const char(*)[WF_ID_MAX])d->tb_id;

    /* periods: those with current rows and those holding a window's end */
    const wf_windows *ws = &all->ws;
    int64_t np = 0, cap = d->n_per + ws->n;
    int64_t *starts = keep(o, sizeof(int64_t) * (size_t)(cap ? cap : 1));
    int32_t *wper = keep(o, sizeof(int32_t) * (size_t)(ws->n ? ws->n : 1));
    if (!st && (!starts || !wper))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (!st) {
        for (int64_t k = 0; k < d->n_per; k++)
            starts[np++] = d->per_start[k];
        for (int64_t i = 0; i < ws->n; i++)
            starts[np++] = wf_drift_period_start(ws->w[i].end, dc->period);
        qsort(starts, (size_t)np, sizeof *starts, cmp_i64);
        int64_t u = 0;
        for (int64_t i = 0; i < np; i++)
            if (u == 0 || starts[i] != starts[u - 1])
                starts[u++] = starts[i];
        np = u;
        for (int64_t i = 0; i < ws->n; i++) {
            int64_t ps = wf_drift_period_start(ws->w[i].end, dc->period);
            int64_t lo = 0, hi = np - 1;
            while (lo < hi) {
                int64_t mid = (lo + hi) / 2;
                if (starts[mid] < ps)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            wper[i] = (int32_t)lo;
        }
    }
    char(*labels)[16] = keep(o, sizeof *labels * (size_t)(np ? np : 1));
    uint8_t *pc = keep(o, (size_t)C * (size_t)(np ? np : 1));
    if (!st && !pc)
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    r->period_compacted = pc;
    wf_drift_channel *bp = keep(o, sizeof *bp * (size_t)C * (size_t)(np ? np : 1));
    if (!st && (!labels || !bp))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; !st && k < np; k++) {
        wf_drift_period_label(starts[k], dc->period, labels[k], sizeof labels[k]);
        int64_t j = -1;
        for (int64_t q = 0; q < d->n_per; q++)
            if (d->per_start[q] == starts[k])
                j = q;
        if (j >= 0) {
            st = wf_drift_acc_compare(ref, d->per_cur[j], s, bp + (size_t)k * (size_t)C, err);
            for (int c = 0; c < C; c++)
                pc[(size_t)k * (size_t)C + (size_t)c] =
                    wf_drift_acc_level(ref, c, NULL) || wf_drift_acc_level(d->per_cur[j], c, NULL);
        } else {
            for (int c = 0; c < C; c++) {
                wf_drift_channel *x = &bp[(size_t)k * (size_t)C + (size_t)c];
                memset(x, 0, sizeof *x);
                x->ks_statistic = x->ks_pvalue = x->ks_pvalue_auto = x->wasserstein = NAN;
                x->ref_std = x->wasserstein_normed = x->psi = NAN;
            }
        }
    }
    r->n_periods = np;
    r->period_start = starts;
    r->period_label = (const char(*)[16])labels;
    r->by_period = bp;
    r->window_period = wper;

    /* out of the validated range, per explained window */
    r->n_ref_windows = d->n_ref_windows;
    double *b4 = keep(o, sizeof(double) * 4 * (size_t)C);
    int64_t ne = all->n_expl;
    int64_t *widx = keep(o, sizeof(int64_t) * (size_t)(ne ? ne : 1));
    int *outside = keep(o, sizeof(int) * (size_t)(ne ? ne : 1));
    double *pct = keep(o, sizeof(double) * (size_t)C * (size_t)(ne ? ne : 1));
    double *share = keep(o, sizeof(double) * (size_t)C * (size_t)(ne ? ne : 1));
    int *chout = keep(o, sizeof(int) * (size_t)C * (size_t)(ne ? ne : 1));
    if (!st && (!b4 || !widx || !outside || !pct || !share || !chout))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (!st)
        st = wf_drift_profile_new(&prof, d->ref_means, ref, s, err);
    for (int c = 0; !st && c < C; c++)
        wf_drift_profile_bounds(prof, c, &b4[c], &b4[C + c], &b4[2 * C + c], &b4[3 * C + c]);
    int64_t nw = 0;
    for (int64_t i = 0; !st && i < ne; i++) {
        const wf_window *w = &ws->w[all->expl[i].window_index];
        if (!w->values)
            continue;
        wf_drift_window j = {pct + (size_t)nw * (size_t)C, share + (size_t)nw * (size_t)C,
                             chout + (size_t)nw * (size_t)C, 0};
        st = wf_drift_window_judge(prof, w->values, C, ws->T, &j, err);
        widx[nw] = all->expl[i].window_index;
        outside[nw] = j.outside;
        nw++;
    }
    r->mean_lo = b4;
    r->mean_hi = b4 + C;
    r->value_lo = b4 + 2 * C;
    r->value_hi = b4 + 3 * C;
    r->n_windows = nw;
    r->window_index = widx;
    r->outside = outside;
    r->percentile = pct;
    r->share_out = share;
    r->channel_out = chout;

    /* the sample of unflagged windows: each one's period among the report's periods */
    const wf_audit_ufs *u = &d->ufs;
    int32_t *sper = keep(o, sizeof(int32_t) * (size_t)(u->ws.n ? u->ws.n : 1));
    if (!st && !sper)
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; !st && i < u->ws.n; i++) {
        int64_t lo = 0, hi = np - 1;
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (starts[mid] < u->period[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (np == 0 || starts[lo] != u->period[i])
            st = wf_error_set(err, WF_ERR_DATA,
                              "unflagged sample: window of %s at %lld lies in no period of the "
                              "run",
                              u->ws.w[i].turbine_id, (long long)u->ws.w[i].start);
        else
            sper[i] = (int32_t)lo;
    }
    r->unflagged_per_period = d->ufs_k;
    r->n_sample = u->expl ? u->ws.n : 0;
    r->sample = u->ws.w;
    r->sample_period = sper;
    r->sample_score = u->score;
    r->sample_expl = u->expl;

    wf_drift_profile_free(prof);
    if (st)
        wf_audit_drift_report_free(o);
    return st;
}

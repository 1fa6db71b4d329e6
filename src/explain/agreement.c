/*
 * Agreement of KernelSHAP and Integrated Gradients per driver (a channel or a group of
 * channels), in sign and magnitude, and IG sums over player groups.
 *
 * The two methods answer different questions (KernelSHAP: against the background distribution,
 * values summing to f(x) - E f(b), possibly in log-odds; IG: along a path from one baseline
 * window, summing to f(x) - f(baseline), in score units), so magnitudes are compared after
 * normalising each side to unit total absolute attribution:
 *   l1 = 1/2 sum_i | a_i / sum_j |a_j| - b_i / sum_j |b_j| |,
 * which is 0 when both put the same signed fraction of their attribution on every driver and 1
 * when they share nothing (opposite signs everywhere, or disjoint drivers).
 * Material drivers carry at least WF_AGREE_MATERIAL of either side's total absolute
 * attribution; the methods are flagged as disagreeing when l1 > WF_AGREE_L1_MAX or any material
 * driver has opposite signs (a zero on one side against a material value on the other counts as
 * opposite). Top-k overlap (k = min(3, n), by absolute value) and Spearman are reported beside.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "explain/checks_impl.h"

/* indices of the k largest |v| (ties: lower index first) */
static void topk(const double *v, int n, int k, int *idx) {
    for (int r = 0; r < k; r++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int used = 0;
            for (int q = 0; q < r; q++)
                used |= idx[q] == i;
            if (!used && (best < 0 || fabs(v[i]) > fabs(v[best])))
                best = i;
        }
        idx[r] = best;
    }
}

static int sign_of(double v) {
    return v > 0 ? 1 : v < 0 ? -1 : 0;
}

void wf_agreement_compute(const double *a, const double *b, int n, wf_agreement *out) {
    memset(out, 0, sizeof *out);
    out->n = n;
    out->sign_agreement = NAN;
    out->l1 = NAN;
    out->spearman = NAN;
    if (n < 1 || !a || !b)
        return;
    double sa = 0, sb = 0;
    for (int i = 0; i < n; i++) {
        sa += fabs(a[i]);
        sb += fabs(b[i]);
    }
    int first_bad = -1;
    for (int i = 0; i < n; i++) {
        int mat = (sa > 0 && fabs(a[i]) >= WF_AGREE_MATERIAL * sa) ||
                  (sb > 0 && fabs(b[i]) >= WF_AGREE_MATERIAL * sb);
        if (!mat)
            continue;
        out->n_material++;
        if (sign_of(a[i]) == sign_of(b[i]))
            out->n_sign_agree++;
        else if (first_bad < 0)
            first_bad = i;
    }
    if (out->n_material)
        out->sign_agreement = (double)out->n_sign_agree / out->n_material;
    out->k = n < WF_AGREE_TOPK ? n : WF_AGREE_TOPK;
    int ia[WF_AGREE_TOPK], ib[WF_AGREE_TOPK];
    topk(a, n, out->k, ia);
    topk(b, n, out->k, ib);
    for (int r = 0; r < out->k; r++)
        for (int q = 0; q < out->k; q++)
            out->topk_overlap += ia[r] == ib[q];
    if (sa > 0 && sb > 0) {
        double l1 = 0;
        for (int i = 0; i < n; i++)
            l1 += fabs(a[i] / sa - b[i] / sb);
        out->l1 = 0.5 * l1;
    }
    out->spearman = wf_spearman(a, b, n);
    if (!(out->l1 <= WF_AGREE_L1_MAX)) { /* NaN (a side all zero) is a disagreement too */
        out->disagree = 1;
        if (isnan(out->l1))
            snprintf(out->reason, sizeof out->reason, "one method attributes nothing");
        else
            snprintf(out->reason, sizeof out->reason,
                     "normalised L1 distance %.2f above %.2f: the methods place the attribution "
                     "differently",
                     out->l1, WF_AGREE_L1_MAX);
    } else if (first_bad >= 0) {
        out->disagree = 1;
        snprintf(out->reason, sizeof out->reason,
                 "opposite signs on %d of %d material drivers (first: driver %d, KernelSHAP "
                 "%.3g, IG %.3g)",
                 out->n_material - out->n_sign_agree, out->n_material, first_bad, a[first_bad],
                 b[first_bad]);
    }
}

void wf_ig_group_sums(const double *ig_cells, int C, int T, const wf_group *groups, int n_groups,
                      double *out) {
    int64_t CT = (int64_t)C * T;
    for (int g = 0; g < n_groups; g++) {
        double s = 0;
        for (int64_t k = 0; k < groups[g].n_cells; k++) {
            int64_t c = groups[g].cells[k];
            if (c >= 0 && c < CT)
                s += ig_cells[c];
        }
        out[g] = s;
    }
}

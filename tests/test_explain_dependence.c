/*
 * Dependence among channels, KernelSHAP/IG agreement and the why sentence (issue 13):
 *   - constructed windows with exact linear combinations (c2 = c0 - c1, c6 = 0.5 c0 + 3) and a
 *     near duplicate (c4 = c3 + 1% noise): the combinations with their coefficients, the rank,
 *     the groups (with and without merging exact sets), the groups as KernelSHAP players;
 *   - numpy references (tests/data/explain_dep/gen_explain_dep.py): weighted correlation, weighted
 *     least-squares coefficients and residuals of the dependent channels, on cells and window
 *     means; scipy's complete linkage;
 *   - agreement measures on vectors worked out by hand;
 *   - the sentence rule on constructed cases: a clear single driver, two cancelling drivers,
 *     methods disagreeing, a dependent pair (as channels and as a group), no IG, a fall.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/checks_impl.h"
#include "testutil.h"

#include "test_explain_json.h"

static uint64_t lcg = 4242;
static double urand(void) { /* test data only */
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

static double nrand(void) {
    double u = urand() + 1e-12, v = urand();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

#define DC 7
#define DT 8
#define DN 30

/* c0 ~ N(5, 2), c1 ~ N(-1, 1.5), c2 = c0 - c1, c3 ~ N(20, 4), c4 = c3 + 1% noise, c5 ~ U,
 * c6 = 0.5 c0 + 3 */
static void make_dep_windows(float *x) {
    for (int b = 0; b < DN; b++)
        for (int t = 0; t < DT; t++) {
            float *w = x + (size_t)b * DC * DT;
            float c0 = (float)(5 + 2 * nrand()), c1 = (float)(-1 + 1.5 * nrand());
            float c3 = (float)(20 + 4 * nrand());
            w[0 * DT + t] = c0;
            w[1 * DT + t] = c1;
            w[2 * DT + t] = c0 - c1;
            w[3 * DT + t] = c3;
            w[4 * DT + t] = (float)(c3 + 0.04 * nrand());
            w[5 * DT + t] = (float)urand();
            w[6 * DT + t] = 0.5f * c0 + 3.0f;
        }
}

static const char *dep_names[DC] = {"env", "hub", "diff", "p", "gp", "wind", "half"};

static const wf_dep_relation *find_rel(const wf_dep_linear *l, int channel) {
    for (int k = 0; k < l->n_relations; k++)
        if (l->relations[k].channel == channel)
            return &l->relations[k];
    return NULL;
}

static void check_rel(const wf_dep_linear *l, int channel, int n_terms, const int *basis,
                      const double *coef, double intercept, double tol) {
    const wf_dep_relation *r = find_rel(l, channel);
    ck_assert_msg(r != NULL, "channel %d not found dependent", channel);
    ck_assert_int_eq(r->n_terms, n_terms);
    for (int t = 0; t < n_terms; t++) {
        ck_assert_int_eq(r->basis[t], basis[t]);
        ck_assert_msg(fabs(r->coef[t] - coef[t]) < tol, "channel %d coef %d: %.12g vs %.12g",
                      channel, t, r->coef[t], coef[t]);
    }
    ck_assert_msg(fabs(r->intercept - intercept) < tol * 10, "channel %d intercept %.12g vs %.12g",
                  channel, r->intercept, intercept);
    ck_assert(r->residual_rel <= WF_DEP_EXACT_TOL);
}

START_TEST(test_dep_constructed) {
    float *x = malloc(sizeof(float) * DN * DC * DT);
    make_dep_windows(x);
    wf_dependence d;
    wf_error err = {0};
    ck_assert_msg(wf_dependence_measure(x, NULL, DN, DC, DT, (char *const *)dep_names, NULL, &d,
                                        &err) == WF_OK,
                  "%s", err.msg);
    /* cells: c2 = c0 - c1, c6 = 0.5 c0 + 3; rank 5 */
    ck_assert_int_eq(d.cells.rows, DN * DT);
    ck_assert_int_eq(d.cells.rank, 5);
    ck_assert_int_eq(d.cells.n_relations, 2);
    int b01[] = {0, 1}, b0[] = {0};
    double c2[] = {1, -1}, c6[] = {0.5};
    check_rel(&d.cells, 2, 2, b01, c2, 0, 1e-6);
    check_rel(&d.cells, 6, 1, b0, c6, 3, 1e-6);
    /* the near duplicate is kept: its residual is about 1% of its spread */
    ck_assert(find_rel(&d.cells, 4) == NULL);
    ck_assert(d.corr[3 * DC + 4] > 0.99 && d.corr[3 * DC + 4] < 0.99999);
    /* the same relations hold on window means */
    ck_assert_int_eq(d.means.rows, DN);
    ck_assert_int_eq(d.means.rank, 5);
    check_rel(&d.means, 2, 2, b01, c2, 0, 1e-6);
    check_rel(&d.means, 6, 1, b0, c6, 3, 1e-6);
    /* two (numerically) zero singular values out of 7 */
    for (int i = 0; i < DC; i++)
        ck_assert_msg(i < 5 ? d.cells.singular[i] > 1e-3 : d.cells.singular[i] < 1e-5,
                      "singular %d = %g", i, d.cells.singular[i]);
    /* groups: the exact set {env, hub, diff, half}, the near duplicates {p, gp}, {wind} */
    ck_assert_int_eq(d.n_groups, 3);
    int want[DC] = {0, 0, 0, 1, 1, 2, 0};
    for (int c = 0; c < DC; c++)
        ck_assert_int_eq(d.group_of[c], want[c]);
    for (int k = 1; k < DC - 1; k++) /* heights non-decreasing */
        ck_assert(d.merges[k].height >= d.merges[k - 1].height);
    ck_assert_int_eq(d.merges[DC - 2].size, DC);
    char text[4096];
    wf_dependence_describe(&d, text, sizeof text);
    ck_assert_msg(strstr(text, "Rank of the cell matrix: 5 of 7") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "diff = 1 env - 1 hub") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "half = 0.5 env + 3") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "{p, gp}") != NULL, "%s", text);
    /* the groups as KernelSHAP players */
    wf_group *g;
    int ng;
    ck_assert(wf_dependence_groups(&d, DT, &g, &ng, &err) == WF_OK);
    ck_assert_int_eq(ng, 3);
    ck_assert_str_eq(g[0].name, "env+hub+diff+half");
    ck_assert_str_eq(g[1].name, "p+gp");
    ck_assert_str_eq(g[2].name, "wind");
    ck_assert_int_eq(g[0].n_cells, 4 * DT);
    ck_assert_int_eq(g[0].cells[DT], 1 * DT); /* hub's first cell after env's row */
    ck_assert_int_eq(g[0].cells[3 * DT], 6 * DT);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.groups = WF_GROUPS_EXPLICIT;
    s.n_groups = ng;
    s.explicit_groups = g; /* owned by s now */
    wf_players pl;
    ck_assert_msg(wf_players_build(&s, DC, DT, (char *const *)dep_names, &pl, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_int_eq(pl.M, 3);
    ck_assert_str_eq(pl.names[1], "p+gp");
    wf_players_free(&pl);
    wf_explain_settings_deinit(&s);
    wf_dependence_deinit(&d);

    /* without merging exact sets: correlation alone (|r(diff, env)| = 0.8) */
    wf_dep_options o;
    wf_dep_options_default(&o);
    o.merge_exact = 0;
    ck_assert(wf_dependence_measure(x, NULL, DN, DC, DT, NULL, &o, &d, &err) == WF_OK);
    int want2[DC] = {0, 1, 2, 3, 3, 4, 0}; /* {c0, c6} (r = 1), {c1}, {c2}, {c3, c4}, {c5} */
    ck_assert_int_eq(d.n_groups, 5);
    for (int c = 0; c < DC; c++)
        ck_assert_int_eq(d.group_of[c], want2[c]);
    ck_assert_str_eq(d.names[6], "c6");
    wf_hierarchy h;
    ck_assert(wf_hierarchy_from_merges(DC, d.merges, &h, &err) == WF_OK);
    ck_assert_int_eq(h.n_internal, DC - 1);
    wf_hierarchy_deinit(&h);
    wf_dependence_deinit(&d);

    /* long names: "a+b+N more" within WF_ID_MAX */
    char *longn[DC];
    for (int c = 0; c < DC; c++) {
        longn[c] = malloc(40);
        snprintf(longn[c], 40, "a_rather_long_channel_name_%d", c);
    }
    ck_assert(wf_dependence_measure(x, NULL, DN, DC, DT, longn, NULL, &d, &err) == WF_OK);
    ck_assert(wf_dependence_groups(&d, DT, &g, &ng, &err) == WF_OK);
    ck_assert_msg(strstr(g[0].name, "more") != NULL && strlen(g[0].name) < WF_ID_MAX, "%s",
                  g[0].name);
    ck_assert_str_eq(g[2].name, "a_rather_long_channel_name_5");
    for (int k = 0; k < ng; k++)
        free(g[k].cells);
    free(g);
    for (int c = 0; c < DC; c++)
        free(longn[c]);
    wf_dependence_deinit(&d);
    /* errors */
    ck_assert(wf_dependence_measure(x, NULL, 1, DC, DT, NULL, NULL, &d, &err) == WF_ERR_INVALID);
    free(x);
}
END_TEST

static void check_numpy_rel(const wf_dep_linear *l, tj *ref, const char *what) {
    for (int k = 0; k < ref->n; k++) {
        tj *r = tj_at(ref, k);
        int ch = (int)tj_num(tj_get(r, "channel"));
        const wf_dep_relation *got = find_rel(l, ch);
        ck_assert_msg(got != NULL, "%s: channel %d not dependent", what, ch);
        double basis[8], coef[8];
        int nb = tj_flat(tj_get(r, "basis"), basis, 8);
        tj_flat(tj_get(r, "coef"), coef, 8);
        ck_assert_int_eq(got->n_terms, nb);
        for (int t = 0; t < nb; t++)
            ck_assert_int_eq(got->basis[t], (int)basis[t]);
        char lab[96];
        snprintf(lab, sizeof lab, "%s channel %d coefficients", what, ch);
        tu_check_close_d(lab, got->coef, coef, (size_t)nb, 1e-6, 1e-9);
        double icpt = tj_num(tj_get(r, "intercept"));
        ck_assert_msg(fabs(got->intercept - icpt) < 1e-6, "%s %d intercept %.12g vs %.12g", what,
                      ch, got->intercept, icpt);
        double rel = tj_num(tj_get(r, "residual_rel"));
        /* the Cholesky route resolves residuals down to about 3e-8 of the spread */
        ck_assert_msg(fabs(got->residual_rel - rel) < 1e-3 * rel + 5e-8,
                      "%s %d residual %.6g vs %.6g", what, ch, got->residual_rel, rel);
        ck_assert_msg(fabs(got->residual_rms - tj_num(tj_get(r, "residual_rms"))) <
                          1e-3 * tj_num(tj_get(r, "residual_rms")) + 1e-6,
                      "%s %d residual rms", what, ch);
    }
}

START_TEST(test_dep_numpy) {
    tj *root = tj_load(tu_data("explain_dep/explain_dep_ref.json"));
    tj *dj = tj_get(root, "dependence");
    int n = (int)tj_num(tj_get(dj, "n")), C = (int)tj_num(tj_get(dj, "C")),
        T = (int)tj_num(tj_get(dj, "T"));
    double *xd = malloc(sizeof(double) * (size_t)n * C * T), w[64], corr[64];
    float *x = malloc(sizeof(float) * (size_t)n * C * T);
    ck_assert_int_eq(tj_flat(tj_get(dj, "x"), xd, n * C * T), n * C * T);
    for (int i = 0; i < n * C * T; i++)
        x[i] = (float)xd[i];
    tj_flat(tj_get(dj, "w"), w, 64);
    ck_assert_int_eq(tj_flat(tj_get(dj, "corr"), corr, 64), C * C);
    wf_dep_options o;
    wf_dep_options_default(&o);
    o.coef_min = 0; /* keep every term, as lstsq does */
    wf_dependence d;
    wf_error err = {0};
    ck_assert(wf_dependence_measure(x, w, n, C, T, NULL, &o, &d, &err) == WF_OK);
    tu_check_close_d("weighted correlation vs numpy", d.corr, corr, (size_t)C * C, 0, 1e-9);
    check_numpy_rel(&d.cells, tj_get(dj, "cells"), "cells");
    check_numpy_rel(&d.means, tj_get(dj, "means"), "means");
    ck_assert_int_eq(d.cells.rank, 4);
    wf_dependence_deinit(&d);
    free(xd);
    free(x);
    tj_free(root);
}
END_TEST

START_TEST(test_linkage_scipy) {
    tj *root = tj_load(tu_data("explain_dep/explain_dep_ref.json"));
    tj *cases = tj_get(root, "linkage");
    ck_assert(cases && cases->n >= 2);
    for (int k = 0; k < cases->n; k++) {
        tj *c = tj_at(cases, k);
        double D[100], Z[40];
        int nn = tj_flat(tj_get(c, "D"), D, 100);
        int n = (int)lround(sqrt(nn));
        ck_assert_int_eq(tj_flat(tj_get(c, "Z"), Z, 40), 4 * (n - 1));
        wf_dep_merge mg[10];
        wf_error err = {0};
        ck_assert(wf_dep_complete_linkage(D, n, mg, &err) == WF_OK);
        double hg[10], hw[10];
        for (int m = 0; m < n - 1; m++) {
            int za = (int)Z[4 * m], zb = (int)Z[4 * m + 1];
            int lo = za < zb ? za : zb, hi = za ^ zb ^ lo;
            ck_assert_msg(mg[m].a == lo && mg[m].b == hi, "case %d merge %d: (%d, %d) vs (%d, %d)",
                          k, m, mg[m].a, mg[m].b, lo, hi);
            ck_assert_int_eq(mg[m].size, (int)Z[4 * m + 3]);
            hg[m] = mg[m].height;
            hw[m] = Z[4 * m + 2];
        }
        tu_check_close_d("complete linkage heights vs scipy", hg, hw, (size_t)n - 1, 0, 1e-12);
    }
    tj_free(root);
}
END_TEST

START_TEST(test_agreement) {
    wf_agreement a;
    double k1[] = {0.5, -0.3, 0.1, 0.1}, g1[] = {0.4, -0.2, 0.15, 0.05};
    wf_agreement_compute(k1, g1, 4, &a);
    /* normalised: (.5, -.3, .1, .1) vs (.5, -.25, .1875, .0625): 0.5 (0 + .05 + .0875 + .0375) */
    ck_assert(fabs(a.l1 - 0.0875) < 1e-12);
    ck_assert_int_eq(a.n_material, 4);
    ck_assert_int_eq(a.n_sign_agree, 4);
    ck_assert(a.sign_agreement == 1.0);
    ck_assert_int_eq(a.k, 3);
    ck_assert_int_eq(a.topk_overlap, 3);
    ck_assert_int_eq(a.disagree, 0);
    ck_assert_str_eq(a.reason, "");
    /* ranks (4, 1, 2.5, 2.5) vs (4, 1, 3, 2): 4.5 / sqrt(4.5 * 5) */
    ck_assert(fabs(a.spearman - sqrt(0.9)) < 1e-12);
    /* a material driver with the opposite sign */
    double g2[] = {0.4, 0.2, 0.15, 0.05};
    wf_agreement_compute(k1, g2, 4, &a);
    ck_assert_int_eq(a.n_sign_agree, 3);
    ck_assert(fabs(a.sign_agreement - 0.75) < 1e-12);
    ck_assert_int_eq(a.disagree, 1);
    ck_assert_msg(strstr(a.reason, "opposite signs on 1 of 4") != NULL, "%s", a.reason);
    /* all the mass in different places */
    double k3[] = {1, 0, 0}, g3[] = {0, 0, 1};
    wf_agreement_compute(k3, g3, 3, &a);
    ck_assert(fabs(a.l1 - 1.0) < 1e-12);
    ck_assert_int_eq(a.disagree, 1);
    ck_assert_msg(strstr(a.reason, "L1") != NULL, "%s", a.reason);
    /* top-2 differs but the tail is immaterial */
    double k4[] = {0.5, 0.4, 0.05, 0.05, 0}, g4[] = {0.45, 0.4, 0.0, 0.05, 0.15};
    wf_agreement_compute(k4, g4, 5, &a);
    ck_assert_int_eq(a.topk_overlap, 2); /* {0, 1, 2} vs {0, 1, 4} */
    ck_assert_int_eq(a.n_material, 3);   /* 0, 1 and 4 (IG 14%) */
    ck_assert_int_eq(a.disagree, 1);     /* driver 4: KernelSHAP 0, IG material */
    /* one side all zero */
    double z[] = {0, 0, 0};
    wf_agreement_compute(k3, z, 3, &a);
    ck_assert(isnan(a.l1));
    ck_assert_int_eq(a.disagree, 1);
    /* IG cells summed per group */
    double cells[] = {1, 2, 3, 10, 20, 30};
    int64_t g0c[] = {0, 1, 2}, g1c[] = {3, 5};
    wf_group gr[2];
    memset(gr, 0, sizeof gr);
    gr[0].n_cells = 3;
    gr[0].cells = g0c;
    gr[1].n_cells = 2;
    gr[1].cells = g1c;
    double sums[2];
    wf_ig_group_sums(cells, 2, 3, gr, 2, sums);
    ck_assert(sums[0] == 6 && sums[1] == 40);
}
END_TEST

START_TEST(test_why_rule) {
    wf_why w;
    char *n3[] = {"wind", "rpm", "temp"};
    /* a clear single driver */
    double k1[] = {0.6, 0.1, 0.05}, g1[] = {0.5, 0.08, 0.02};
    wf_why_input in = {3, n3, NULL, k1, g1, 0.75, "log-odds"};
    wf_why_build(&in, &w);
    ck_assert_int_eq(w.claim, WF_WHY_MAIN);
    ck_assert_str_eq(wf_why_claim_str(w.claim), "main");
    ck_assert_int_eq(w.n_drivers, 1);
    ck_assert_str_eq(w.drivers[0].name, "wind");
    ck_assert(fabs(w.drivers[0].share - 0.8) < 1e-12);
    ck_assert(w.drivers[0].ig == 0.5);
    ck_assert_msg(strstr(w.text, "above the background level (+0.75 log-odds) mainly because of "
                                 "wind: 80% of the change") != NULL,
                  "%s", w.text);
    ck_assert_msg(strstr(w.text, "Integrated Gradients agrees") != NULL, "%s", w.text);
    /* without IG: the same claim, no word on IG */
    in.ig = NULL;
    wf_why_build(&in, &w);
    ck_assert_int_eq(w.claim, WF_WHY_MAIN);
    ck_assert(isnan(w.drivers[0].ig));
    ck_assert(strstr(w.text, "Integrated") == NULL);
    ck_assert_int_eq(w.agreement.n, 0);
    /* two cancelling drivers: wind +360%, rpm -280% of the change: no "mainly" */
    double k2[] = {0.9, -0.7, 0.05}, g2[] = {0.8, -0.6, 0.04};
    wf_why_input in2 = {3, n3, NULL, k2, g2, 0.25, "log-odds"};
    wf_why_build(&in2, &w);
    ck_assert_int_eq(w.agreement.disagree, 0);
    ck_assert_int_eq(w.claim, WF_WHY_SEVERAL);
    ck_assert_int_eq(w.n_drivers, 2); /* 1.6 of 1.65 covered by two */
    ck_assert_str_eq(w.drivers[0].name, "wind");
    ck_assert_str_eq(w.drivers[1].name, "rpm");
    ck_assert(fabs(w.drivers[1].share + 2.8) < 1e-12);
    ck_assert_msg(strstr(w.text, "rpm (-280% of the change, pushing against it)") != NULL, "%s",
                  w.text);
    /* drivers that cancel (|delta| = 0.05 < 10% of A = 1.55): no shares of the remainder, even
     * though wind alone would pass the "main" tests (share 1000%, 65% of A, rival at 0.78) */
    double k2c[] = {1.0, -0.45, -0.1}, g2c[] = {0.9, -0.4, -0.08};
    wf_why_input in2c = {3, n3, NULL, k2c, g2c, 0.45, "score"};
    in2c.delta = 0.45; /* first: not cancelling (29% of A): the usual rules */
    wf_why_build(&in2c, &w);
    ck_assert_int_eq(w.claim, WF_WHY_MAIN);
    in2c.delta = 0.05; /* the phi do not sum to delta here; the rule reads delta only */
    wf_why_build(&in2c, &w);
    ck_assert_int_eq(w.claim, WF_WHY_SEVERAL);
    ck_assert_int_eq(w.n_drivers, 2);
    ck_assert_msg(strstr(w.text, "near the background level (+0.05 score) because its drivers "
                                 "largely cancel: wind raises it by 1 and rpm lowers it by 0.45 "
                                 "(KernelSHAP, score).") != NULL,
                  "%s", w.text);
    ck_assert_msg(strstr(w.text, "%") == NULL, "%s", w.text);
    /* the methods disagree */
    double g3[] = {-0.2, 0.5, 0.1};
    wf_why_input in3 = {3, n3, NULL, k1, g3, 0.75, "score"};
    wf_why_build(&in3, &w);
    ck_assert_int_eq(w.claim, WF_WHY_DISAGREE);
    ck_assert_str_eq(wf_why_claim_str(w.claim), "disagree");
    ck_assert_int_eq(w.n_drivers, 2);
    ck_assert_str_eq(w.drivers[0].name, "wind");
    ck_assert_str_eq(w.drivers[1].name, "rpm");
    ck_assert_msg(strstr(w.text, "KernelSHAP and Integrated Gradients disagree") != NULL &&
                      strstr(w.text, "Neither account") != NULL,
                  "%s", w.text);
    /* a dependent pair as separate channels: the credit is split, no single channel is named */
    char *np[] = {"power", "grid_power", "wind"};
    double k4[] = {0.35, 0.3, 0.1}, g4[] = {0.6, 0.02, 0.08};
    wf_why_input in4 = {3, np, NULL, k4, g4, 0.75, "score"};
    wf_why_build(&in4, &w);
    ck_assert_int_eq(w.agreement.disagree, 0);
    ck_assert_int_eq(w.claim, WF_WHY_SEVERAL);
    ck_assert_int_eq(w.n_drivers, 2);
    ck_assert_msg(
        strstr(w.text, "power (+47% of the change) and grid_power (+40% of the change)") != NULL,
        "%s", w.text);
    /* ... and explained as one group: now one driver carries the change */
    char *ng[] = {"power+grid_power", "wind"}, *cg[] = {"power, grid_power", "wind"};
    double k5[] = {0.65, 0.1}, g5[] = {0.62, 0.08};
    wf_why_input in5 = {2, ng, cg, k5, g5, 0.75, "score"};
    wf_why_build(&in5, &w);
    ck_assert_int_eq(w.claim, WF_WHY_MAIN);
    ck_assert_str_eq(w.drivers[0].channels, "power, grid_power");
    ck_assert_msg(strstr(w.text, "mainly because of the group {power, grid_power}: 87% of the "
                                 "change") != NULL,
                  "%s", w.text);
    /* a group with a name of its own */
    char *nn[] = {"temperatures", "wind"}, *cn[] = {"f_temp, b_temp", "wind"};
    wf_why_input in5b = {2, nn, cn, k5, g5, 0.75, "score"};
    wf_why_build(&in5b, &w);
    ck_assert_msg(strstr(w.text, "temperatures (channels f_temp, b_temp)") != NULL, "%s", w.text);
    /* a fall below the background */
    double k6[] = {-0.5, -0.05}, g6[] = {-0.3, -0.01};
    wf_why_input in6 = {2, ng, cg, k6, g6, -0.55, "score"};
    wf_why_build(&in6, &w);
    ck_assert_int_eq(w.claim, WF_WHY_MAIN);
    ck_assert_msg(strstr(w.text, "below the background level (-0.55 score)") != NULL, "%s", w.text);
    /* many small drivers pushing both ways: X has 60% of the change but not half of A */
    char *n5[] = {"a", "b", "c", "d", "e"};
    double k7[] = {0.3, 0.14, -0.14, 0.1, 0.1};
    wf_why_input in7 = {5, n5, NULL, k7, NULL, 0.5, "score"};
    wf_why_build(&in7, &w);
    ck_assert_int_eq(w.claim, WF_WHY_SEVERAL);
    ck_assert_int_eq(w.n_drivers, 3);
    /* the rule for the methods page carries the constants */
    char rule[4096];
    wf_why_describe(rule, sizeof rule);
    ck_assert_msg(strstr(rule, "at least 50% of the change") != NULL &&
                      strstr(rule, "exceeds 0.5") != NULL && strstr(rule, "cover 75% of A") != NULL,
                  "%s", rule);
    /* nothing moved */
    double k8[] = {0, 0};
    wf_why_input in8 = {2, ng, cg, k8, NULL, 0, "score"};
    wf_why_build(&in8, &w);
    ck_assert_int_eq(w.claim, WF_WHY_SEVERAL);
    ck_assert_int_eq(w.n_drivers, 0);
    ck_assert_msg(strstr(w.text, "at the background level") != NULL, "%s", w.text);
}
END_TEST

START_TEST(test_why_from_explanation) {
    /* 3 channels x 2 steps, players: explicit groups {a, b} and {c} */
    char *names[] = {"a", "b", "c"};
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.groups = WF_GROUPS_EXPLICIT;
    s.n_groups = 2;
    s.explicit_groups = calloc(2, sizeof(wf_group));
    snprintf(s.explicit_groups[0].name, WF_ID_MAX, "a+b");
    s.explicit_groups[0].n_cells = 4;
    s.explicit_groups[0].cells = malloc(4 * sizeof(int64_t));
    for (int i = 0; i < 4; i++)
        s.explicit_groups[0].cells[i] = i;
    snprintf(s.explicit_groups[1].name, WF_ID_MAX, "c");
    s.explicit_groups[1].n_cells = 2;
    s.explicit_groups[1].cells = malloc(2 * sizeof(int64_t));
    s.explicit_groups[1].cells[0] = 4;
    s.explicit_groups[1].cells[1] = 5;
    wf_explanation e;
    memset(&e, 0, sizeof e);
    e.has_kshap = e.has_ig = 1;
    e.kshap.M = 2;
    char *pn[] = {"a+b", "c"};
    double kv[] = {0.7, 0.1}, igc[] = {0.2, 0.1, 0.3, 0.05, 0.02, 0.03};
    e.kshap.players = pn;
    e.kshap.values = kv;
    e.kshap.base_value = 0.1;
    e.kshap.f_x = 0.9;
    e.kshap.link = WF_LINK_IDENTITY;
    e.ig.C = 3;
    e.ig.T = 2;
    e.ig.values = igc;
    wf_why w;
    wf_error err = {0};
    ck_assert_msg(wf_explanation_why(&e, &s, 3, 2, names, &w, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(w.claim, WF_WHY_MAIN);
    ck_assert_str_eq(w.drivers[0].name, "a+b");
    ck_assert_str_eq(w.drivers[0].channels, "a, b");
    ck_assert(fabs(w.drivers[0].ig - 0.65) < 1e-12);
    ck_assert(fabs(w.drivers[0].share - 0.875) < 1e-12);
    ck_assert_msg(strstr(w.text, "the group {a, b}") != NULL, "%s", w.text);
    /* the players must match the settings */
    e.kshap.M = 1;
    ck_assert(wf_explanation_why(&e, &s, 3, 2, names, &w, &err) == WF_ERR_INVALID);
    e.has_kshap = 0;
    ck_assert(wf_explanation_why(&e, &s, 3, 2, names, &w, &err) == WF_ERR_INVALID);
    wf_explain_settings_deinit(&s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("explain_dependence");
    TCase *tc = tcase_create("dependence");
    tcase_add_test(tc, test_dep_constructed);
    tcase_add_test(tc, test_dep_numpy);
    tcase_add_test(tc, test_linkage_scipy);
    suite_add_tcase(s, tc);
    TCase *tw = tcase_create("why");
    tcase_add_test(tw, test_agreement);
    tcase_add_test(tw, test_why_rule);
    tcase_add_test(tw, test_why_from_explanation);
    suite_add_tcase(s, tw);
    return tu_run_suite(s);
}

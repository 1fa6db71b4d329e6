/*
 * Golden tests of the explain stage on the Aurora models (tests/data/aurora) against the peers'
 * references in tests/data/explain (from shared/fixtures/aurora/refs): shap 0.42.1's exact
 * Shapley values for 8 channel groups with the 50-window background, the exact linear Shapley
 * values of the logreg's log-odds per cell, captum 0.7.0's Integrated Gradients (Gauss-Legendre
 * and trapezoid, zeros and channel-mean baselines, 50 steps) and the 1,000-step integral. The
 * int8 model is explained as int8 against an enumeration written here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"
#include "testutil.h"
#include "test_background.h"
#include "test_explain_json.h"
#include "whyflag/config.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/results.h"

#define NC 8
#define NT 36
#define CT (NC * NT)
#define NREF 20

static wf_windows W;
static wf_background BG;
static int64_t ref_idx[NREF];

static void setup(void) {
    if (W.n)
        return;
    tu_reference_windows(&W);
    tu_reference_background(&BG, NC, NT);
    tj *g = tj_load(tu_data("explain/shap_groups_mlp.json"));
    double ix[NREF];
    ck_assert_int_eq(tj_flat(tj_get(g, "windows"), ix, NREF), NREF);
    for (int i = 0; i < NREF; i++)
        ref_idx[i] = (int64_t)ix[i];
    tj_free(g);
}

static void load(const char *name, wf_model **m, wf_predictor *p) {
    char path[256];
    wf_error err = {0};
    snprintf(path, sizeof path, "aurora/%s.onnx", name);
    ck_assert_msg(wf_model_load(tu_data(path), m, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_model_predictor(*m, NC, NT, WF_LAYOUT_AUTO, p, &err) == WF_OK, "%s", err.msg);
}

static void run(const wf_predictor *p, wf_explain_settings *s, wf_explanation *out) {
    wf_error err = {0};
    ck_assert_msg(wf_explain_run(s, p, &BG, &W, ref_idx, NREF, out, &err) == WF_OK, "%s", err.msg);
    for (int i = 0; i < NREF; i++)
        ck_assert_msg(out[i].status == WF_OK, "window %d: %s", i, out[i].error);
}

static void exact_groups(const char *name) {
    setup();
    wf_model *m;
    wf_predictor p;
    load(name, &m, &p);
    char ref[256];
    snprintf(ref, sizeof ref, "explain/shap_groups_%s.json", name);
    tj *r = tj_load(tu_data(ref));
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.do_ig = 0;
    s.nsamples = WF_NSAMPLES_EXACT;
    wf_explanation out[NREF];
    run(&p, &s, out);
    double maxd = 0, want[NC];
    double ef = tj_num(tj_get(r, "E_f_background"));
    for (int i = 0; i < NREF; i++) {
        ck_assert_int_eq(tj_flat(tj_at(tj_get(r, "exact"), i), want, NC), NC);
        ck_assert(out[i].kshap.exact && out[i].kshap.M == NC);
        for (int c = 0; c < NC; c++)
            maxd = fmax(maxd, fabs(out[i].kshap.values[c] - want[c]));
        ck_assert(fabs(out[i].kshap.f_x - tj_num(tj_at(tj_get(r, "f_x"), i))) < 1e-6);
        ck_assert(fabs(out[i].kshap.base_value - ef) < 1e-6);
        ck_assert(fabs(out[i].kshap.efficiency_gap) < 1e-12);
        wf_explanation_deinit(&out[i]);
    }
    fprintf(
        stderr,
        "%s: exact 8-group Shapley vs shap's exact: max abs diff %.3g (affine first layer: %s)\n",
        name, maxd, p.hidden ? "yes" : "no");
    ck_assert_msg(maxd <= 1e-6, "%s: max diff %g", name, maxd);
    tj_free(r);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}

START_TEST(test_exact_logreg) {
    exact_groups("logreg");
}
END_TEST
START_TEST(test_exact_mlp) {
    exact_groups("mlp");
}
END_TEST
START_TEST(test_exact_cnn1d) {
    exact_groups("cnn1d");
}
END_TEST
START_TEST(test_exact_mlp_pruned) {
    exact_groups("mlp_pruned");
}
END_TEST

/* The affine shortcut against the plain path on the Aurora models (8 channel groups, exact):
 * equal within 1e-6 of the largest value (float rounding of the first layer differs). */
START_TEST(test_affine_vs_plain) {
    setup();
    const char *names[3] = {"mlp", "cnn1d", "logreg"};
    for (int mi = 0; mi < 3; mi++) {
        wf_model *m;
        wf_predictor p;
        wf_error err = {0};
        load(names[mi], &m, &p);
        ck_assert_msg(p.hidden > 0, "%s has no affine first layer", names[mi]);
        wf_explain_settings s;
        wf_explain_settings_default(&s);
        wf_players pl;
        ck_assert(wf_players_build(&s, NC, NT, W.channels, &pl, &err) == WF_OK);
        wf_coal_eval ev[2];
        for (int a = 0; a < 2; a++) {
            ck_assert(wf_coal_eval_init(&ev[a], &p, &BG, &pl, WF_LINK_IDENTITY, 2 * a, 8192,
                                        &err) == WF_OK);
            ck_assert_int_eq(ev[a].affine, a);
        }
        double worst = 0;
        for (int i = 0; i < 4; i++) {
            wf_kshap_result r[2];
            for (int a = 0; a < 2; a++) {
                wf_rng rng;
                wf_rng_init_stream(&rng, 0, (uint64_t)i);
                ck_assert(wf_coal_eval_window(&ev[a], W.w[ref_idx[i]].values, &err) == WF_OK);
                ck_assert(wf_kshap_window(&ev[a], WF_NSAMPLES_EXACT, 0, 0.01, &rng, &r[a], &err) ==
                          WF_OK);
            }
            double mx = 0, d = 0;
            for (int c = 0; c < NC; c++) {
                mx = fmax(mx, fabs(r[0].values[c]));
                d = fmax(d, fabs(r[0].values[c] - r[1].values[c]));
            }
            worst = fmax(worst, d / mx);
            wf_kshap_result_free(&r[0]);
            wf_kshap_result_free(&r[1]);
        }
        /* single-cell players (the transposed-layer form), sampled with the same stream */
        wf_players pc;
        s.groups = WF_GROUPS_CELL;
        ck_assert(wf_players_build(&s, NC, NT, W.channels, &pc, &err) == WF_OK);
        wf_coal_eval ec[2];
        for (int a = 0; a < 2; a++) {
            ck_assert(wf_coal_eval_init(&ec[a], &p, &BG, &pc, WF_LINK_IDENTITY, 2 * a, 8192,
                                        &err) == WF_OK);
            ck_assert_int_eq(ec[a].affine, a);
        }
        double worst_cells = 0;
        for (int i = 0; i < 2; i++) {
            wf_kshap_result r[2];
            for (int a = 0; a < 2; a++) {
                wf_rng rng;
                wf_rng_init_stream(&rng, 0, (uint64_t)i);
                ck_assert(wf_coal_eval_window(&ec[a], W.w[ref_idx[i]].values, &err) == WF_OK);
                ck_assert(wf_kshap_window(&ec[a], 1024, 0, 0.01, &rng, &r[a], &err) == WF_OK);
            }
            double mx = 0, d = 0;
            for (int c = 0; c < CT; c++) {
                mx = fmax(mx, fabs(r[0].values[c]));
                d = fmax(d, fabs(r[0].values[c] - r[1].values[c]));
            }
            worst_cells = fmax(worst_cells, d / mx);
            wf_kshap_result_free(&r[0]);
            wf_kshap_result_free(&r[1]);
        }
        wf_coal_eval_free(&ec[0]);
        wf_coal_eval_free(&ec[1]);
        wf_players_free(&pc);
        fprintf(stderr,
                "%s: affine shortcut vs plain path, max diff / largest value: 8 groups %.3g, "
                "288 cells (1024 samples) %.3g\n",
                names[mi], worst, worst_cells);
        ck_assert_msg(worst_cells <= 1e-6, "%g", worst_cells);
        ck_assert(worst <= 1e-6);
        wf_coal_eval_free(&ev[0]);
        wf_coal_eval_free(&ev[1]);
        wf_players_free(&pl);
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
}
END_TEST

/* int8: the library's exact values against an enumeration written here (plain predict calls,
 * Shapley by the permutation formula over all 8! orders from the 256 coalition values), with
 * explain.arithmetic "exact" (every coalition row through the deployed graph, as the
 * enumeration does). The default first-layer shortcut is compared in test_explain_int8.c. */
START_TEST(test_exact_int8) {
    setup();
    wf_model *m;
    wf_predictor p;
    wf_error err = {0};
    load("mlp_int8_qdq", &m, &p);
    ck_assert(wf_model_is_quantized(m));
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.do_ig = 0;
    s.nsamples = WF_NSAMPLES_EXACT;
    s.arithmetic = WF_ARITHMETIC_EXACT;
    wf_explanation out[NREF];
    run(&p, &s, out);
    void *ctx;
    ck_assert(p.ctx_new(p.user, 50, &ctx, &err) == WF_OK);
    float *xb = malloc(sizeof(float) * 50 * CT), y[50];
    double maxd = 0;
    for (int i = 0; i < 4; i++) { /* four windows keep the test fast */
        const float *x = W.w[ref_idx[i]].values;
        double v[256];
        for (int S = 0; S < 256; S++) {
            memcpy(xb, BG.x, sizeof(float) * 50 * CT);
            for (int b = 0; b < 50; b++)
                for (int c = 0; c < NC; c++)
                    if (S >> c & 1)
                        memcpy(xb + b * CT + c * NT, x + c * NT, sizeof(float) * NT);
            ck_assert(p.predict(ctx, xb, 50, y, &err) == WF_OK);
            double a = 0;
            for (int b = 0; b < 50; b++)
                a += y[b];
            v[S] = a / 50;
        }
        double phi[NC] = {0};
        int perm[NC] = {0, 1, 2, 3, 4, 5, 6, 7};
        double np = 0;
        for (;;) {
            int S = 0;
            for (int k = 0; k < NC; k++) {
                phi[perm[k]] += v[S | 1 << perm[k]] - v[S];
                S |= 1 << perm[k];
            }
            np++;
            int a = NC - 2;
            while (a >= 0 && perm[a] > perm[a + 1])
                a--;
            if (a < 0)
                break;
            int b = NC - 1;
            while (perm[b] < perm[a])
                b--;
            int t = perm[a];
            perm[a] = perm[b];
            perm[b] = t;
            for (int l = a + 1, h = NC - 1; l < h; l++, h--) {
                t = perm[l];
                perm[l] = perm[h];
                perm[h] = t;
            }
        }
        double sum = 0;
        for (int c = 0; c < NC; c++) {
            phi[c] /= np;
            sum += phi[c];
            maxd = fmax(maxd, fabs(out[i].kshap.values[c] - phi[c]));
        }
        ck_assert(fabs(sum - (v[255] - v[0])) < 1e-12); /* efficiency of the reference */
        ck_assert(fabs(out[i].kshap.f_x - v[255]) < 1e-6);
    }
    double gap = 0;
    for (int i = 0; i < NREF; i++) {
        gap = fmax(gap, fabs(out[i].kshap.efficiency_gap));
        wf_explanation_deinit(&out[i]);
    }
    fprintf(stderr, "mlp_int8_qdq: exact vs enumeration max abs diff %.3g, efficiency gap %.3g\n",
            maxd, gap);
    ck_assert(maxd <= 1e-6 && gap < 1e-12);
    /* and it is not the float mlp's answer: int8 is explained as int8 */
    tj *r = tj_load(tu_data("explain/shap_groups_mlp.json"));
    double fx_float = tj_num(tj_at(tj_get(r, "f_x"), 0));
    fprintf(stderr, "  window 0: f_x int8 %.6f, float mlp %.6f\n", out[0].score, fx_float);
    tj_free(r);
    free(xb);
    p.ctx_free(ctx);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* Per-cell logreg (288 players, 2048 samples): the log-odds output is linear, so its exact
 * Shapley values are w (x - E b) (logit_exact, computed by the fixture generator). */
START_TEST(test_cells_logreg_logit) {
    setup();
    wf_model *m;
    wf_predictor p;
    load("logreg", &m, &p);
    tj *r = tj_load(tu_data("explain/shap_cells_logreg.json"));
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.do_ig = 0;
    s.groups = WF_GROUPS_CELL;
    s.nsamples = 2048;
    s.link = WF_LINK_LOGIT_OUTPUT;
    wf_explanation out[NREF];
    wf_error err = {0};
    int n = 6; /* six windows keep the test fast */
    ck_assert(wf_explain_run(&s, &p, &BG, &W, ref_idx, n, out, &err) == WF_OK);
    double *want = malloc(sizeof(double) * CT), maxd = 0, maxv = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_msg(out[i].status == WF_OK, "%s", out[i].error);
        ck_assert_int_eq(tj_flat(tj_at(tj_get(r, "logit_exact"), i), want, CT), CT);
        ck_assert_str_eq(out[i].kshap.players[37], "rotor_rpm@1");
        double wd = 0;
        for (int k = 0; k < CT; k++) {
            wd = fmax(wd, fabs(out[i].kshap.values[k] - want[k]));
            maxv = fmax(maxv, fabs(want[k]));
        }
        maxd = fmax(maxd, wd);
        /* The model's output is a float32 probability: near 0 or 1 its log-odds are resolved
         * only to about 2^-24 / min(p, 1 - p). Within 1e-5 where that resolution is finer than
         * 1e-6 (min(p, 1-p) >= 0.06); else 1e-5 plus 1e-9 / min(p, 1-p). */
        double q = fmin(out[i].score, 1 - out[i].score);
        double tol = q >= 0.06 ? 1e-5 : 1e-5 + 1e-9 / q;
        fprintf(stderr, "  window %d score %.9g: max diff %.3g (tolerance %.3g), %lld samples\n", i,
                out[i].score, wd, tol, (long long)out[i].kshap.samples);
        ck_assert_msg(wd <= tol, "window %d: %g > %g", i, wd, tol);
        wf_explanation_deinit(&out[i]);
    }
    fprintf(stderr, "logreg per cell, log-odds output: max abs diff %.3g (largest value %.3g)\n",
            maxd, maxv);
    /* shap's link="logit" (link on the expected probability) is a different quantity: its
     * efficiency holds in its own terms */
    s.link = WF_LINK_LOGIT;
    ck_assert(wf_explain_run(&s, &p, &BG, &W, ref_idx, 1, out, &err) == WF_OK);
    ck_assert_msg(out[0].status == WF_OK, "%s", out[0].error);
    ck_assert(fabs(out[0].kshap.efficiency_gap) < 1e-9);
    double lf = log(out[0].score / (1 - out[0].score));
    ck_assert_msg(fabs(out[0].kshap.f_x - lf) < 1e-4, "f_x %g vs logit(score) %g", out[0].kshap.f_x,
                  lf);
    wf_explanation_deinit(&out[0]);
    free(want);
    tj_free(r);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* Sampled mode on the mlp, segments:2 = 16 players: exact values by enumeration (2^16
 * coalitions), error against budget and SE coverage. */
START_TEST(test_sampled_mlp_16) {
    setup();
    wf_model *m;
    wf_predictor p;
    wf_error err = {0};
    load("mlp", &m, &p);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.groups = WF_GROUPS_SEGMENTS;
    s.segments = 2;
    wf_players pl;
    ck_assert(wf_players_build(&s, NC, NT, W.channels, &pl, &err) == WF_OK);
    ck_assert_int_eq(pl.M, 16);
    ck_assert_str_eq(pl.names[1], "wind_speed[18:36)");
    wf_coal_eval ev;
    ck_assert(wf_coal_eval_init(&ev, &p, &BG, &pl, WF_LINK_IDENTITY, 2, 16384, &err) == WF_OK);
    enum { NB = 5, NW = 4, REPS = 3 };
    const int budgets[NB] = {256, 512, 1024, 2048, 4096};
    double rms[NB] = {0};
    int inside = 0, total = 0;
    for (int i = 0; i < NW; i++) {
        const float *x = W.w[ref_idx[i]].values;
        ck_assert(wf_coal_eval_window(&ev, x, &err) == WF_OK);
        wf_rng rng;
        wf_rng_init_stream(&rng, 3, (uint64_t)i);
        wf_kshap_result ex;
        ck_assert(wf_kshap_window(&ev, WF_NSAMPLES_EXACT, 0, 0.01, &rng, &ex, &err) == WF_OK);
        double range = 0;
        for (int q = 0; q < 16; q++)
            range = fmax(range, fabs(ex.values[q]));
        for (int rep = 0; rep < REPS; rep++)
            for (int bi = 0; bi < NB; bi++) {
                wf_kshap_result r;
                ck_assert(wf_kshap_window(&ev, budgets[bi], 0, 0.01, &rng, &r, &err) == WF_OK);
                ck_assert(!r.exact && fabs(r.efficiency_gap) < 1e-10);
                double e2 = 0;
                for (int q = 0; q < 16; q++) {
                    double d = r.values[q] - ex.values[q];
                    e2 += d * d;
                    inside += fabs(d) <= 3 * r.std_err[q];
                    total++;
                }
                rms[bi] += sqrt(e2 / 16) / (range * NW * REPS);
                wf_kshap_result_free(&r);
            }
        wf_kshap_result_free(&ex);
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int bi = 0; bi < NB; bi++) {
        double lx = log(budgets[bi]), ly = log(rms[bi]);
        sx += lx;
        sy += ly;
        sxx += lx * lx;
        sxy += lx * ly;
    }
    double slope = (NB * sxy - sx * sy) / (NB * sxx - sx * sx);
    fprintf(stderr, "mlp segments:2 (16 players): relative rms error");
    for (int bi = 0; bi < NB; bi++)
        fprintf(stderr, " %d:%.3g", budgets[bi], rms[bi]);
    fprintf(stderr, "; log-log slope %.3f; %d/%d (%.1f%%) within 3 SE\n", slope, inside, total,
            100.0 * inside / total);
    ck_assert_msg(slope < -0.35 && slope > -0.8, "slope %g", slope);
    ck_assert_msg(inside >= 0.95 * total, "%d/%d", inside, total);
    wf_coal_eval_free(&ev);
    wf_players_free(&pl);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

/* captum IG: attr within 1e-5 of the window's largest attribution */
static void ig_model(const char *name) {
    setup();
    wf_model *m;
    wf_predictor p;
    wf_error err = {0};
    load(name, &m, &p);
    char ref[256];
    snprintf(ref, sizeof ref, "explain/ig_%s.json", name);
    tj *r = tj_load(tu_data(ref));
    float base[2][CT];
    for (int i = 0; i < CT; i++)
        base[0][i] = 0;
    tu_channel_mean_baseline(base[1], NC, NT);
    const char *bname[2] = {"zeros", "channel_mean"};
    const char *rname[2] = {"gausslegendre", "riemann_trapezoid"};
    wf_ig_rule rules[2] = {WF_IG_GAUSS_LEGENDRE, WF_IG_RIEMANN_TRAPEZOID};
    wf_ig_eval ev;
    ck_assert(wf_ig_eval_init(&ev, &p, 8192, 1024, &err) == WF_OK);
    double *want = malloc(sizeof(double) * CT);
    for (int bi = 0; bi < 2; bi++)
        for (int ri = 0; ri < 2; ri++) {
            char key[64];
            snprintf(key, sizeof key, "%s/%s", bname[bi], rname[ri]);
            tj *res = tj_get(tj_get(r, "results"), key);
            ck_assert_msg(res, "%s missing", key);
            double worst = 0, worst_f = 0, worst_set = 0, largest = 0;
            for (int i = 0; i < NREF; i++) {
                ck_assert_int_eq(tj_flat(tj_at(tj_get(res, "attr"), i), want, CT), CT);
                for (int k = 0; k < CT; k++)
                    largest = fmax(largest, fabs(want[k]));
            }
            for (int i = 0; i < NREF; i++) {
                wf_ig_result g;
                ck_assert(wf_ig_window(&ev, W.w[ref_idx[i]].values, base[bi], rules[ri], 50, 0, 0,
                                       &g, &err) == WF_OK);
                ck_assert_int_eq(tj_flat(tj_at(tj_get(res, "attr"), i), want, CT), CT);
                double mx = 0, d = 0;
                for (int k = 0; k < CT; k++) {
                    mx = fmax(mx, fabs(want[k]));
                    d = fmax(d, fabs(g.values[k] - want[k]));
                }
                worst = fmax(worst, d / mx);
                /* Per window: 1e-5 of the window's largest attribution. Except cnn1d from the
                 * channel-mean baseline, which is constant over time: near alpha = 0 the path
                 * is nearly constant too, so MaxPool sees near-ties that float32 (our engine)
                 * and float64 (captum's reference) break differently; a local deviation of a
                 * few 1e-6 (2 of the 20 windows at 1.6e-5 relative); 5e-5 there. */
                double tol = strcmp(name, "cnn1d") || bi == 0 ? 1e-5 : 5e-5;
                /* The trapezoid evaluates the gradient at alpha = 0, the baseline itself. The
                 * channel-mean baseline is constant over time, so the cnn1d's MaxPool sees exact
                 * mathematical ties there: the gradient is not defined, and float64 PyTorch
                 * and our float32 engine break the ties differently (both take the first
                 * maximum, but rounding decides which one is first). That endpoint has weight
                 * 1/(2n) and moves attributions by up to ~1.3% of the largest: that combination
                 * is reported, not compared (the Gauss-Legendre rule never evaluates alpha = 0). */
                int tie = !strcmp(name, "cnn1d") && bi == 1 && ri == 1;
                if (tie)
                    tol = INFINITY;
                else
                    worst_set = fmax(worst_set, d / largest);
                ck_assert_msg(d <= tol * mx, "%s %s window %d: %g of the largest attribution %g",
                              name, key, i, d / mx, mx);
                double fx = tj_num(tj_at(tj_get(res, "f_x"), i));
                double fb = tj_num(tj_at(tj_get(res, "f_baseline"), i));
                double dl = tj_num(tj_at(tj_get(res, "convergence_delta"), i));
                worst_f = fmax(worst_f, fmax(fabs(g.f_x - fx), fabs(g.f_baseline - fb)));
                ck_assert_msg(fabs(g.delta - dl) < (tie ? INFINITY : 1e-5),
                              "%s %s window %d: delta %g vs %g", name, key, i, g.delta, dl);
                double cs = 0; /* completeness bookkeeping */
                for (int c = 0; c < NC; c++)
                    cs += g.channel_sums[c];
                ck_assert(fabs(cs - (g.f_x - g.f_baseline) - g.delta) < 1e-9);
                wf_ig_result_free(&g);
            }
            fprintf(stderr,
                    "%s IG %s: max diff / window's largest attribution %.3g, / the set's largest "
                    "%.3g, f diff %.3g%s\n",
                    name, key, worst, worst_set, worst_f,
                    !strcmp(name, "cnn1d") && bi == 1 && ri == 1
                        ? " (not compared: MaxPool ties at the constant baseline, see the comment)"
                        : "");
            /* cnn1d: see the MaxPool note above; mlp and logreg are held to 1e-5 */
            ck_assert_msg(worst_set <= (strcmp(name, "cnn1d") || bi == 0 ? 1e-5 : 5e-5),
                          "%s %s: %g", name, key, worst_set);
            ck_assert(worst_f < 2e-6);
        }
    /* near-exact integral (1,000 steps) and the adaptive mode */
    tj *cv = tj_load(tu_data("explain/ig_converged.json"));
    for (int bi = 0; bi < 2; bi++) {
        char key[64];
        snprintf(key, sizeof key, "%s/%s", name, bname[bi]);
        tj *a = tj_get(tj_get(cv, "attr_n1000"), key);
        ck_assert_msg(a, "%s missing", key);
        double worst = 0, worst_ad = 0;
        int max_steps = 0;
        for (int i = 0; i < NREF; i++) {
            ck_assert_int_eq(tj_flat(tj_at(a, i), want, CT), CT);
            wf_ig_result g;
            ck_assert(wf_ig_window(&ev, W.w[ref_idx[i]].values, base[bi], WF_IG_GAUSS_LEGENDRE,
                                   1000, 0, 0, &g, &err) == WF_OK);
            double mx = 0, d = 0;
            for (int k = 0; k < CT; k++) {
                mx = fmax(mx, fabs(want[k]));
                d = fmax(d, fabs(g.values[k] - want[k]));
            }
            worst = fmax(worst, d / mx);
            wf_ig_result_free(&g);
            /* adaptive (tolerance 1%) reaches it on every window. The cap is raised to 8192
             * steps: on cnn1d window 19 (f(x) - f(x') = 6e-4, so the target is 6e-6) the ReLU
             * and MaxPool kinks slow Gauss-Legendre down and 4096 steps are needed. */
            ck_assert(wf_ig_window(&ev, W.w[ref_idx[i]].values, base[bi], WF_IG_GAUSS_LEGENDRE, 0,
                                   8192, 0.01, &g, &err) == WF_OK);
            ck_assert_msg(g.converged,
                          "%s window %d: adaptive IG stopped at %d steps, delta %g "
                          "(f(x) - f(x') = %g)",
                          key, i, g.steps, g.delta, g.f_x - g.f_baseline);
            ck_assert(fabs(g.delta) <= 0.01 * fabs(g.f_x - g.f_baseline) && g.steps <= 8192);
            double dmax = 0;
            for (int k = 0; k < CT; k++)
                dmax = fmax(dmax, fabs(g.values[k] - want[k]));
            worst_ad = fmax(worst_ad, dmax);
            max_steps = g.steps > max_steps ? g.steps : max_steps;
            wf_ig_result_free(&g);
        }
        fprintf(stderr,
                "%s: 1000-step IG vs ig_converged max diff / largest %.3g; adaptive "
                "converged on all 20 windows, at most %d steps, max abs diff to the "
                "1000-step integral %.3g\n",
                key, worst, max_steps, worst_ad);
        /* cnn1d from the constant baseline: near-ties in MaxPool close to alpha = 0 (see above);
         * the 1,000 points sample that stretch densely */
        ck_assert_msg(worst <= (strcmp(name, "cnn1d") || bi == 0 ? 1e-5 : 5e-5), "%s: %g", key,
                      worst);
    }
    tj_free(cv);
    free(want);
    wf_ig_eval_free(&ev);
    tj_free(r);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}

START_TEST(test_ig_mlp) {
    ig_model("mlp");
}
END_TEST
START_TEST(test_ig_cnn1d) {
    ig_model("cnn1d");
}
END_TEST
START_TEST(test_ig_logreg) {
    ig_model("logreg");
}
END_TEST

/* Same seed, 1 and 2 threads: identical structs and identical results.json bytes. */
/* int8, IG with adaptive steps: the straight-through surrogate leaves a gap that no step count
 * removes, so the adaptive rule also stops when two doublings in a row each move the gap by less
 * than half the tolerance (one calm doubling is not enough: measured, a window stopped at 64
 * steps moved by 3x the tolerance at 256). Check against the integral with twice and four times
 * the steps it chose: the gap there is within the tolerance of the reported one, so the stop lost
 * nothing; and it stopped early on some windows. */
START_TEST(test_ig_int8_adaptive_stops) {
    setup();
    wf_model *m;
    wf_predictor p;
    load("mlp_int8_qdq", &m, &p);
    ck_assert(p.surrogate != NULL);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.do_kernelshap = 0;
    s.steps = 0; /* adaptive */
    wf_explanation out[NREF], fixed[NREF];
    run(&p, &s, out);
    int below_max = 0;
    for (int i = 0; i < NREF; i++) {
        ck_assert_int_eq(out[i].status, WF_OK);
        const wf_ig_result *g = &out[i].ig;
        double span = fabs(g->f_x - g->f_baseline), tol = s.ig_tol * span;
        below_max += g->steps < s.max_steps;
        if (g->converged || g->steps >= s.max_steps)
            continue;
        for (int mult = 2; mult <= 4; mult *= 2) {
            wf_explain_settings s2 = s;
            s2.steps = g->steps * mult;
            wf_error err = {0};
            ck_assert(wf_explain_run(&s2, &p, &BG, &W, &ref_idx[i], 1, &fixed[i], &err) == WF_OK);
            ck_assert_msg(fabs(fixed[i].ig.delta - g->delta) <= 2 * tol,
                          "window %d: gap %.4g at %d steps, %.4g at %d steps (tol %.3g)", i,
                          g->delta, g->steps, fixed[i].ig.delta, s2.steps, tol);
            wf_explanation_deinit(&fixed[i]);
        }
    }
    fprintf(stderr, "mlp_int8_qdq adaptive IG: %d of %d windows stopped below %d steps\n",
            below_max, NREF, s.max_steps);
    ck_assert_int_ge(below_max * 4, NREF); /* measured: 8 of 20 */
    for (int i = 0; i < NREF; i++)
        wf_explanation_deinit(&out[i]);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

START_TEST(test_threads_identical) {
    setup();
    wf_model *m;
    wf_predictor p;
    wf_error err = {0};
    load("mlp", &m, &p);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    s.groups = WF_GROUPS_SEGMENTS;
    s.segments = 3; /* 24 players: sampled (auto) */
    s.max_samples = 2048;
    s.steps = 0;
    s.seed = 17;
    enum { N = 8 };
    wf_explanation a[N], b[N];
    char *json[2];
    for (int pass = 0; pass < 2; pass++) {
        s.threads = pass + 1;
        wf_explanation *o = pass ? b : a;
        ck_assert(wf_explain_run(&s, &p, &BG, &W, ref_idx, N, o, &err) == WF_OK);
        wf_results res;
        memset(&res, 0, sizeof res);
        res.tool = "whyflag test";
        res.command = "explain";
        res.model_path = "mlp.onnx";
        res.threshold = NAN;
        res.generated_at = 0;
        res.settings = &s;
        res.background = &BG;
        res.windows = &W;
        res.n_explained = N;
        res.expl = o;
        char path[512];
        snprintf(path, sizeof path, "%s/r%d.json", tu_tmpdir(), pass);
        ck_assert_msg(wf_results_write_json(path, &res, &err) == WF_OK, "%s", err.msg);
        json[pass] = tu_read(path, NULL);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(a[i].status, WF_OK);
        ck_assert(!a[i].kshap.exact && a[i].kshap.samples > 0);
        ck_assert(memcmp(a[i].kshap.values, b[i].kshap.values, sizeof(double) * 24) == 0);
        ck_assert(memcmp(a[i].kshap.std_err, b[i].kshap.std_err, sizeof(double) * 24) == 0);
        ck_assert(memcmp(a[i].ig.values, b[i].ig.values, sizeof(double) * CT) == 0);
        ck_assert(a[i].ig.steps == b[i].ig.steps && a[i].kshap.samples == b[i].kshap.samples);
        wf_explanation_deinit(&a[i]);
        wf_explanation_deinit(&b[i]);
    }
    ck_assert_msg(!strcmp(json[0], json[1]), "results.json differs between 1 and 2 threads");
    ck_assert(strstr(json[0], "\"std_err\""));
    free(json[0]);
    free(json[1]);
    wf_predictor_deinit(&p);
    wf_model_free(m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("explain_aurora");
    TCase *tk = tcase_create("kernelshap");
    tcase_add_test(tk, test_exact_logreg);
    tcase_add_test(tk, test_exact_mlp);
    tcase_add_test(tk, test_exact_cnn1d);
    tcase_add_test(tk, test_exact_mlp_pruned);
    tcase_add_test(tk, test_exact_int8);
    tcase_add_test(tk, test_affine_vs_plain);
    tcase_add_test(tk, test_cells_logreg_logit);
    tcase_add_test(tk, test_sampled_mlp_16);
    suite_add_tcase(s, tk);
    TCase *ti = tcase_create("ig");
    tcase_add_test(ti, test_ig_mlp);
    tcase_add_test(ti, test_ig_cnn1d);
    tcase_add_test(ti, test_ig_logreg);
    tcase_add_test(ti, test_ig_int8_adaptive_stops);
    suite_add_tcase(s, ti);
    TCase *tt = tcase_create("threads");
    tcase_add_test(tt, test_threads_identical);
    suite_add_tcase(s, tt);
    return tu_run_suite(s);
}

/*
 * Model comparison (issue 15): the statistics against scipy / sklearn references and hand
 * computations (tests/data/compare/gen_compare_refs.py: scipy 1.10.1 binomtest, sklearn 1.2.1
 * cohen_kappa_score), the difference game's KernelSHAP against phi_A - phi_B and against a
 * brute-force enumeration written here, model B's scores against ONNX Runtime
 * (tests/data/compare/ort_float_scores.csv), the bootstrap's reproducibility, and the errors for
 * a bad model B or an unknown arm turbine.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare_impl.h"
#include "testutil.h"
#include "whyflag/audit.h"
#include "whyflag/explain_compare.h"
#include "whyflag/model.h"

/* ---------------------------------------------------------------- statistics */

START_TEST(mcnemar_scipy) {
    char *t = tu_read(tu_data("compare/mcnemar_ref.csv"), NULL);
    char *line = strchr(t, '\n') + 1;
    int n = 0;
    double worst = 0;
    while (*line) {
        long long b, c;
        double p;
        ck_assert_int_eq(sscanf(line, "%lld,%lld,%lf", &b, &c, &p), 3);
        double got = wf_cmp_mcnemar_p(b, c);
        double rel = fabs(got - p) / p;
        worst = fmax(worst, rel);
        ck_assert_msg(rel < 1e-10, "McNemar b=%lld c=%lld: %.17g, scipy %.17g", b, c, got, p);
        n++;
        line = strchr(line, '\n') + 1;
    }
    ck_assert_int_ge(n, 10);
    printf("McNemar: %d cases, max relative error vs scipy.stats.binomtest %.3g\n", n, worst);
    free(t);
    /* by hand: b = 1, c = 5: n = 6, P(X <= 1) = (1 + 6) / 64, doubled = 14 / 64 */
    ck_assert_double_eq_tol(wf_cmp_mcnemar_p(1, 5), 14.0 / 64.0, 1e-15);
    ck_assert_double_eq_tol(wf_cmp_mcnemar_p(5, 1), 14.0 / 64.0, 1e-15);
    ck_assert_double_eq(wf_cmp_mcnemar_p(0, 0), 1.0);
}
END_TEST

START_TEST(kappa_sklearn) {
    char *t = tu_read(tu_data("compare/kappa_ref.csv"), NULL);
    char *line = strchr(t, '\n') + 1;
    int n = 0;
    while (*line) {
        long long both, oa, ob, nei;
        double k;
        ck_assert_int_eq(sscanf(line, "%lld,%lld,%lld,%lld,%lf", &both, &oa, &ob, &nei, &k), 5);
        double got = wf_cmp_kappa(both, oa, ob, nei);
        ck_assert_msg(fabs(got - k) < 1e-12, "kappa %lld %lld %lld %lld: %.17g, sklearn %.17g",
                      both, oa, ob, nei, got, k);
        n++;
        line = strchr(line, '\n') + 1;
    }
    ck_assert_int_ge(n, 5);
    free(t);
    /* by hand: po = 0.92, pe = 0.15 * 0.13 + 0.85 * 0.87 = 0.759 */
    ck_assert_double_eq_tol(wf_cmp_kappa(10, 5, 3, 82), (0.92 - 0.759) / (1 - 0.759), 1e-14);
    ck_assert(isnan(wf_cmp_kappa(0, 0, 0, 7))); /* both raters constant: undefined */
}
END_TEST

START_TEST(quantile_type7) {
    double x[] = {1, 2, 3, 4};
    /* numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.9]) = 1.75, 2.5, 3.7 */
    ck_assert_double_eq_tol(wf_cmp_quantile(x, 4, 0.25), 1.75, 1e-15);
    ck_assert_double_eq_tol(wf_cmp_quantile(x, 4, 0.5), 2.5, 1e-15);
    ck_assert_double_eq_tol(wf_cmp_quantile(x, 4, 0.9), 3.7, 1e-15);
    ck_assert_double_eq(wf_cmp_quantile(x, 4, 1.0), 4);
}
END_TEST

START_TEST(bootstrap_seeded) {
    wf_cmp_counts x[6] = {{3, 1, 1, 1}, {0, 2, 0, 0}, {1, 0, 1, 1},
                          {2, 2, 2, 1}, {0, 0, 1, 0}, {1, 1, 0, 0}};
    wf_cmp_counts y[6] = {{2, 1, 1, 1}, {0, 1, 0, 0}, {1, 1, 1, 1},
                          {2, 0, 2, 2}, {0, 1, 1, 1}, {1, 0, 0, 0}};
    double a[4][2], b[4][2], c[4][2];
    wf_cmp_bootstrap(x, y, 6, 500, 42, a[0], a[1], a[2], a[3]);
    wf_cmp_bootstrap(x, y, 6, 500, 42, b[0], b[1], b[2], b[3]);
    wf_cmp_bootstrap(x, y, 6, 500, 43, c[0], c[1], c[2], c[3]);
    ck_assert(memcmp(a, b, sizeof a) == 0); /* same seed: the same bits */
    ck_assert(memcmp(a, c, sizeof a) != 0); /* another seed: other draws */
    for (int k = 0; k < 2; k++) {
        ck_assert(a[0][k] <= a[1][k] && a[2][k] <= a[3][k]);
        ck_assert(a[0][k] >= 0 && a[1][k] <= 1);
    }
    /* the same model twice: the same interval (paired draws) */
    wf_cmp_bootstrap(x, x, 6, 500, 42, b[0], b[1], b[2], b[3]);
    ck_assert(memcmp(b[0], b[2], sizeof b[0]) == 0 && memcmp(b[1], b[3], sizeof b[1]) == 0);
    ck_assert(memcmp(a[0], b[0], sizeof a[0]) == 0);
}
END_TEST

/* ---------------------------------------------------------------- the difference game */

static const char *sample(const char *f) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/samples/%s", WF_SOURCE_DIR, f);
    return buf[k];
}

/* Shapley values of the difference game by brute force: d(S) = mean_b f_A(x_S, b) - f_B(x_S, b)
 * from direct model calls on masked rows, phi_i = sum_S |S|!(M-|S|-1)!/M! (d(S+i) - d(S)),
 * players = channels. */
static void brute_force(const wf_predictor *pa, const wf_predictor *pb, const wf_background *bg,
                        const float *x, int C, int T, double *phi) {
    int N = 1 << C;
    double *d = malloc(sizeof(double) * (size_t)N);
    float *rows = malloc(sizeof(float) * (size_t)(bg->n * C * T));
    float *ya = malloc(sizeof(float) * (size_t)bg->n), *yb = malloc(sizeof(float) * (size_t)bg->n);
    void *ca, *cb;
    wf_error err = {0};
    ck_assert(pa->ctx_new(pa->user, bg->n, &ca, &err) == WF_OK);
    ck_assert(pb->ctx_new(pb->user, bg->n, &cb, &err) == WF_OK);
    for (int S = 0; S < N; S++) {
        for (int64_t b = 0; b < bg->n; b++)
            for (int c = 0; c < C; c++)
                memcpy(rows + (b * C + c) * T, ((S >> c) & 1) ? x + c * T : bg->x + (b * C + c) * T,
                       sizeof(float) * T);
        ck_assert(pa->predict(ca, rows, bg->n, ya, &err) == WF_OK);
        ck_assert(pb->predict(cb, rows, bg->n, yb, &err) == WF_OK);
        double s = 0;
        for (int64_t b = 0; b < bg->n; b++)
            s += bg->weight[b] * ((double)ya[b] - (double)yb[b]);
        d[S] = s;
    }
    double fact[32];
    fact[0] = 1;
    for (int i = 1; i < 32; i++)
        fact[i] = fact[i - 1] * i;
    for (int i = 0; i < C; i++) {
        phi[i] = 0;
        for (int S = 0; S < N; S++) {
            if ((S >> i) & 1)
                continue;
            int s = __builtin_popcount((unsigned)S);
            phi[i] += fact[s] * fact[C - s - 1] / fact[C] * (d[S | (1 << i)] - d[S]);
        }
    }
    pa->ctx_free(ca);
    pb->ctx_free(cb);
    free(d);
    free(rows);
    free(ya);
    free(yb);
}

START_TEST(difference_game) {
    wf_error err = {0};
    wf_audit *au = NULL;
    ck_assert_msg(wf_audit_open(sample("config_compare.json"), &au, &err) == WF_OK, "%s", err.msg);
    const wf_config *cfg = wf_audit_config(au);
    wf_background bg;
    ck_assert_msg(wf_audit_background(au, NULL, 2, &bg, &err) == WF_OK, "%s", err.msg);
    wf_model *mb = NULL;
    wf_predictor pb;
    int C = cfg->log.n_channels, T = cfg->window.length;
    ck_assert_msg(wf_model_load(cfg->compare.model, &mb, &err) == WF_OK, "%s", err.msg);
    ck_assert(wf_model_predictor(mb, C, T, WF_LAYOUT_AUTO, &pb, &err) == WF_OK);
    const wf_predictor *pa = wf_audit_predictor(au);

    /* three windows to explain: background rows 0, 7, 21 (values of the log) */
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    ws.C = C;
    ws.T = T;
    char *names[16];
    for (int c = 0; c < C; c++)
        names[c] = (char *)cfg->log.channels[c].name;
    ws.channels = names;
    wf_window w[3];
    int pick[3] = {0, 7, 21};
    memset(w, 0, sizeof w);
    for (int k = 0; k < 3; k++) {
        snprintf(w[k].turbine_id, sizeof w[k].turbine_id, "WT%02d", k + 1);
        w[k].start = 1709251200 + 3600 * k;
        w[k].index = k;
        w[k].values = bg.x + (size_t)pick[k] * C * T;
    }
    ws.w = w;
    ws.n = ws.cap = 3;
    wf_explain_settings s = cfg->explain;
    s.do_ig = 0;
    s.do_treeshap = WF_TREESHAP_OFF;
    s.link = WF_LINK_IDENTITY;
    s.nsamples = WF_NSAMPLES_EXACT;
    /* every coalition row through the deployed graphs, as the brute force below evaluates them
     * (the int8 first-layer shortcut, the default, moves values by up to ~2e-5: its own bound is
     * tested in test_explain_int8) */
    s.arithmetic = WF_ARITHMETIC_EXACT;
    s.threads = 2;
    wf_explanation ea[3], eb[3];
    ck_assert_msg(wf_explain_run(&s, pa, &bg, &ws, NULL, 3, ea, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_explain_run(&s, &pb, &bg, &ws, NULL, 3, eb, &err) == WF_OK, "%s", err.msg);
    double worst = 0, worst_eff = 0, worst_bf = 0;
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(ea[k].status, WF_OK);
        ck_assert_int_eq(eb[k].status, WF_OK);
        int M = ea[k].kshap.M;
        ck_assert_int_eq(M, C);
        double phi[16], base, fx, bf[16];
        ck_assert_msg(wf_explain_difference_game(&s, pa, &pb, &bg, &ws, w[k].values, M, phi, &base,
                                                 &fx, &err) == WF_OK,
                      "%s", err.msg);
        double sum = 0;
        for (int p = 0; p < M; p++) {
            double want = ea[k].kshap.values[p] - eb[k].kshap.values[p];
            worst = fmax(worst, fabs(phi[p] - want));
            sum += phi[p];
        }
        worst_eff = fmax(worst_eff, fabs(sum - (fx - base)));
        /* f_A(x) - f_B(x) and E f_A - E f_B are the games' ends */
        ck_assert_double_eq_tol(fx, ea[k].kshap.f_x - eb[k].kshap.f_x, 1e-12);
        ck_assert_double_eq_tol(base, ea[k].kshap.base_value - eb[k].kshap.base_value, 1e-12);
        brute_force(pa, &pb, &bg, w[k].values, C, T, bf);
        for (int p = 0; p < M; p++)
            worst_bf = fmax(worst_bf, fabs(phi[p] - bf[p]));
        wf_explanation_deinit(&ea[k]);
        wf_explanation_deinit(&eb[k]);
    }
    printf("difference game: max |phi_diff - (phi_A - phi_B)| = %.3g, efficiency gap %.3g, "
           "vs brute-force enumeration %.3g\n",
           worst, worst_eff, worst_bf);
    ck_assert(worst <= 1e-9);
    ck_assert(worst_eff <= 1e-12);
    ck_assert(worst_bf <= 1e-6); /* float model rows evaluated in other batches */
    /* the default arithmetic (the int8 shortcut): the game still equals phi_A - phi_B, each
     * computed with the same shortcut */
    s.arithmetic = WF_ARITHMETIC_SHORTCUT;
    double worst_sc = 0;
    for (int k = 0; k < 3; k++) {
        ck_assert_msg(wf_explain_run(&s, pa, &bg, &ws, NULL, 3, ea, &err) == WF_OK, "%s", err.msg);
        ck_assert_msg(wf_explain_run(&s, &pb, &bg, &ws, NULL, 3, eb, &err) == WF_OK, "%s", err.msg);
        double phi[16], base, fx;
        ck_assert(wf_explain_difference_game(&s, pa, &pb, &bg, &ws, w[k].values, C, phi, &base, &fx,
                                             &err) == WF_OK);
        for (int p = 0; p < C; p++)
            worst_sc =
                fmax(worst_sc, fabs(phi[p] - (ea[k].kshap.values[p] - eb[k].kshap.values[p])));
        for (int j = 0; j < 3; j++) {
            wf_explanation_deinit(&ea[j]);
            wf_explanation_deinit(&eb[j]);
        }
    }
    printf("difference game with the shortcut: max |phi_diff - (phi_A - phi_B)| = %.3g\n",
           worst_sc);
    ck_assert(worst_sc <= 1e-9);
    wf_predictor_deinit(&pb);
    wf_model_free(mb);
    wf_background_deinit(&bg);
    wf_audit_close(au);
}
END_TEST

/* ---------------------------------------------------------------- B's scores vs ORT */

START_TEST(scores_b_ort) {
    wf_error err = {0};
    wf_audit *au = NULL;
    ck_assert_msg(wf_audit_open(tu_data("compare/config_fast.json"), &au, &err) == WF_OK, "%s",
                  err.msg);
    wf_audit_opts o;
    wf_audit_opts_default(&o);
    char out[1024];
    snprintf(out, sizeof out, "%s", tu_tmpdir());
    o.out_dir = out;
    o.threads = 2;
    ck_assert_msg(wf_audit_run(au, &o, NULL, &err) == WF_OK, "%s", err.msg);
    wf_audit_close(au);
    char path[1100];
    snprintf(path, sizeof path, "%s/scores.csv", out);
    char *got = tu_read(path, NULL);
    char *ref = tu_read(tu_data("compare/ort_float_scores.csv"), NULL);
    ck_assert(strncmp(got,
                      "turbine_id,start,end,score,flagged,label,component,interpolated,"
                      "score_b,flagged_b\n",
                      80) == 0);
    /* both files list the windows in (turbine, start) order */
    char *g = strchr(got, '\n') + 1, *r = strchr(ref, '\n') + 1;
    int n = 0;
    double worst = 0;
    while (*g && *r) {
        char gt[32], gs[32], rt[32], rs[32];
        double rsc, gsb;
        int gfb;
        ck_assert_int_eq(sscanf(r, "%31[^,],%31[^,],%lf", rt, rs, &rsc), 3);
        ck_assert_int_eq(sscanf(g, "%31[^,],%31[^,],", gt, gs), 2);
        ck_assert_str_eq(gt, rt);
        ck_assert_str_eq(gs, rs);
        const char *q = strchr(g, '\n');
        const char *c2 = q;
        for (int k = 0; k < 2; k++)
            do
                c2--;
            while (*c2 != ',');
        ck_assert_int_eq(sscanf(c2 + 1, "%lf,%d", &gsb, &gfb), 2);
        worst = fmax(worst, fabs(gsb - rsc));
        ck_assert_int_eq(gfb, gsb >= 0.5);
        n++;
        g = strchr(g, '\n') + 1;
        r = strchr(r, '\n') + 1;
    }
    printf("model B (float teacher) on %d windows: max |score_b - ONNX Runtime| = %.3g\n", n,
           worst);
    ck_assert_int_eq(n, 1716);
    ck_assert(worst <= 2e-6);
    free(got);
    free(ref);
}
END_TEST

/* ---------------------------------------------------------------- bad input */

static void bad_b(const char *file, const char *want) {
    wf_error err = {0};
    wf_audit *au = NULL;
    ck_assert_msg(wf_audit_open(sample("config.json"), &au, &err) == WF_OK, "%s", err.msg);
    char p[1024];
    snprintf(p, sizeof p, "%s", tu_data(file));
    ck_assert_int_ne(wf_audit_set_compare(au, p, &err), WF_OK);
    ck_assert_msg(strstr(err.msg, strrchr(file, '/') + 1) && strstr(err.msg, want),
                  "message '%s' should name %s and say '%s'", err.msg, file, want);
    wf_audit_close(au);
}

START_TEST(bad_models) {
    bad_b("compare/bad_channels.onnx", "takes 7 channels, but model A and log.channels take 8");
    bad_b("compare/bad_T.onnx", "windows of 24 steps, but the run cuts windows of 36");
    bad_b("compare/bad_output.onnx", "288 values per window");
}
END_TEST

START_TEST(bad_arm) {
    wf_error err = {0};
    wf_audit *au = NULL;
    ck_assert_msg(wf_audit_open(tu_data("compare/config_arms_bad.json"), &au, &err) == WF_OK, "%s",
                  err.msg);
    wf_audit_opts o;
    wf_audit_opts_default(&o);
    char out[1024];
    snprintf(out, sizeof out, "%s", tu_tmpdir());
    o.out_dir = out;
    ck_assert_int_eq(wf_audit_run(au, &o, NULL, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "compare.arms.B[1]") && strstr(err.msg, "'WT99'"), "%s", err.msg);
    wf_audit_close(au);
    /* and the config loader: a turbine listed twice, an unknown key */
    wf_config cfg;
    const char *base = "{\"model\": \"m.onnx\", \"log\": {\"path\": \"l.csv\", \"channels\": "
                       "[{\"name\": \"a\", \"column\": \"a\"}]}, \"window\": {\"length\": 4, "
                       "\"stride\": 2}, \"compare\": %s}";
    char js[1024];
    snprintf(js, sizeof js, base, "{\"model\": \"b.onnx\", \"arms\": {\"B\": [\"x\", \"x\"]}}");
    ck_assert_int_eq(wf_config_parse(js, "c.json", "/tmp", &cfg, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "compare.arms.B[1]") && strstr(err.msg, "twice"), "%s", err.msg);
    snprintf(js, sizeof js, base, "{\"model\": \"b.onnx\", \"relation\": \"cousin\"}");
    ck_assert_int_eq(wf_config_parse(js, "c.json", "/tmp", &cfg, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "compare.relation"), "%s", err.msg);
    snprintf(js, sizeof js, base, "{\"model\": \"b.onnx\", \"thershold\": 0.4}");
    ck_assert_int_eq(wf_config_parse(js, "c.json", "/tmp", &cfg, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "compare.thershold: unknown key"), "%s", err.msg);
    snprintf(js, sizeof js, base, "{\"model\": \"b.onnx\", \"threshold\": 0.4}");
    ck_assert_msg(wf_config_parse(js, "c.json", "/tmp", &cfg, &err) == WF_OK, "%s", err.msg);
    ck_assert(cfg.has_compare && cfg.compare.threshold == 0.4 && cfg.compare.max_explained == 50);
    ck_assert_str_eq(cfg.compare.model, "/tmp/b.onnx");
    ck_assert_str_eq(cfg.compare.relation, "challenger");
    wf_config_deinit(&cfg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("compare");
    TCase *t = tcase_create("stats");
    tcase_add_test(t, mcnemar_scipy);
    tcase_add_test(t, kappa_sklearn);
    tcase_add_test(t, quantile_type7);
    tcase_add_test(t, bootstrap_seeded);
    suite_add_tcase(s, t);
    TCase *m = tcase_create("models");
    tcase_set_timeout(m, 600);
    tcase_add_test(m, difference_game);
    tcase_add_test(m, bad_models);
    tcase_add_test(m, bad_arm);
    tcase_add_test(m, scores_b_ort);
    suite_add_tcase(s, m);
    return tu_run_suite(s);
}

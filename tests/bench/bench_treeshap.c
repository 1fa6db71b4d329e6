/*
 * Interventional TreeSHAP speed: a random 100-tree depth-6 ensemble over 288 features (8 x 36
 * window cells), a 50-row background, players = 8 channels and 288 cells. Random thresholds
 * split uniform features, so x and a background row disagree at about half of the splits: a
 * harder case than real windows. Prints ms per window. Run by hand: ./bench_treeshap [windows].
 *
 * On a real model (the 100-tree depth-6 XGBoost model of gen_bench_trees.py, generated at bench
 * time), with the 50 background windows of tests/data/explain/background.json and 288 cell
 * players, one thread:
 *   ./bench_treeshap --vs-kernelshap MODEL.onnx [windows]
 *     interventional TreeSHAP (exact) against whyflag's sampled KernelSHAP of the same game
 *     (link logit_output: the margin), nsamples "auto" (until max SE <= 1% of the value range,
 *     at most 65,536 coalitions) and fixed budgets, each with its measured max |error| against
 *     the exact values;
 *   ./bench_treeshap --same-run MODEL.onnx windows PHI_OUT
 *     TreeSHAP of windows.json windows k * (1716 / windows), per tree feature, timed, values
 *     written as float64 (windows, 288) to PHI_OUT: bench_shap_trees.py runs shap's C extension
 *     on the same windows in the same run and compares.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/treeshap.h"
#include "whyflag/windows.h"

#define NTREES 100
#define DEPTH 6
#define F 288
#define NB 50

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int real_model(int argc, char **argv);

int main(int argc, char **argv) {
    if (argc > 2 && argv[1][0] == '-')
        return real_model(argc, argv);
    int windows = argc > 1 ? atoi(argv[1]) : 20;
    int per_tree = (1 << (DEPTH + 1)) - 1, N = NTREES * per_tree;
    int32_t *roots = malloc(sizeof(int32_t) * NTREES), *feat = malloc(sizeof(int32_t) * N);
    int32_t *ct = malloc(sizeof(int32_t) * N), *cf = malloc(sizeof(int32_t) * N);
    uint8_t *mode = malloc(N), *miss = calloc(N, 1);
    float *thr = malloc(sizeof(float) * N);
    double *val = calloc(N, sizeof(double));
    for (int t = 0; t < NTREES; t++) {
        int b = t * per_tree;
        roots[t] = b;
        for (int i = 0; i < per_tree; i++) { /* heap order: children of i are 2i+1, 2i+2 */
            int g = b + i;
            if (2 * i + 1 < per_tree) {
                feat[g] = (int32_t)(urand() * F);
                thr[g] = (float)urand();
                mode[g] = WF_TREE_LEQ;
                ct[g] = b + 2 * i + 1;
                cf[g] = b + 2 * i + 2;
            } else {
                feat[g] = 0;
                mode[g] = WF_TREE_LEAF;
                ct[g] = cf[g] = -1;
                val[g] = urand() - 0.5;
            }
        }
    }
    wf_tree_ensemble te = {F, NTREES, N, roots, feat, ct, cf, mode, miss, thr, val, 0.0};
    float *bg = malloc(sizeof(float) * NB * F), *x = malloc(sizeof(float) * F);
    for (int i = 0; i < NB * F; i++)
        bg[i] = (float)urand();
    int32_t ch[F], cell[F];
    for (int f = 0; f < F; f++) {
        ch[f] = f / 36;
        cell[f] = f;
    }
    double phi[F], fx, base, sink = 0;
    wf_error err = {0};
    for (int pass = 0; pass < 2; pass++) {
        const int32_t *map = pass ? cell : ch;
        int M = pass ? F : 8;
        double t0 = now();
        for (int w = 0; w < windows; w++) {
            for (int f = 0; f < F; f++)
                x[f] = (float)urand();
            if (wf_treeshap_rows(&te, x, bg, NULL, NB, map, M, phi, &fx, &base, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            sink += phi[0];
        }
        double dt = now() - t0;
        printf("TreeSHAP %d trees depth %d, %d features, %d background rows, %3d players: "
               "%.2f ms per window (%d windows)\n",
               NTREES, DEPTH, F, NB, M, 1e3 * dt / windows, windows);
    }
    if (argc > 2) { /* end to end on a model, background from tests/data/explain */
        enum { C = 8, T = 36, CT = C * T };
        FILE *f = fopen(WF_SOURCE_DIR "/tests/data/explain/background.json", "rb");
        if (!f)
            return 1;
        static char buf[1 << 21];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *p = strstr(buf, "\"values\"");
        static float bgw[NB * CT];
        for (int i = 0; p && i < NB * CT; i++) {
            while (*p && !(*p == '-' || (*p >= '0' && *p <= '9')))
                p++;
            bgw[i] = strtof(p, &p);
        }
        wf_model *m = NULL;
        wf_tree_model *tm = NULL;
        wf_treeshap *ts = NULL;
        if (wf_model_load(argv[2], &m, &err) ||
            wf_tree_model_new(m, C, T, WF_LAYOUT_AUTO, &tm, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        int64_t start[CT + 1], cells[CT];
        for (int i = 0; i < CT; i++)
            cells[i] = i;
        for (int pass = 0; pass < 2; pass++) {
            int M = pass ? CT : C;
            for (int q = 0; q <= M; q++)
                start[q] = pass ? q : q * T;
            double t0 = now();
            if (wf_treeshap_new(tm, bgw, NULL, NB, M, start, cells, &ts, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double t1 = now();
            for (int w = 0; w < windows; w++) {
                if (wf_treeshap_explain(ts, bgw + (size_t)(w % NB) * CT, phi, &fx, &base, &err)) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 1;
                }
                sink += phi[0];
            }
            double t2 = now();
            const wf_tree_ensemble *te = wf_tree_model_ensemble(tm);
            printf("%s (%d trees, %d nodes), %d background windows, %3d players: setup %.2f ms, "
                   "%.2f ms per window end to end (%d windows)\n",
                   argv[2], te->n_trees, te->n_nodes, NB, M, 1e3 * (t1 - t0),
                   1e3 * (t2 - t1) / windows, windows);
            wf_treeshap_free(ts);
        }
        wf_tree_model_free(tm);
        wf_model_free(m);
    }
    fprintf(stderr, "(checksum %g)\n", sink);
    free(roots);
    free(feat);
    free(ct);
    free(cf);
    free(mode);
    free(miss);
    free(thr);
    free(val);
    free(bg);
    free(x);
    return 0;
}

/* ---- real model: TreeSHAP against KernelSHAP, and the same run as shap's C extension ---- */

static int fail(const wf_error *err) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
}

static int real_model(int argc, char **argv) {
    enum { C = 8, T = 36, CT = C * T };
    const int vs_ks = !strcmp(argv[1], "--vs-kernelshap");
    int n = argc > 3 ? atoi(argv[3]) : (vs_ks ? 5 : 100);
    wf_error err = {0};
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    if (wf_windows_read_json(WF_SOURCE_DIR "/tests/data/data/windows.json", &ws, &err))
        return fail(&err);
    /* the 50 background windows: indices listed in background.json */
    FILE *f = fopen(WF_SOURCE_DIR "/tests/data/explain/background.json", "rb");
    if (!f)
        return 1;
    static char buf[1 << 21];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *p = strstr(buf, "\"indices\"");
    wf_background bg;
    memset(&bg, 0, sizeof bg);
    bg.C = C;
    bg.T = T;
    bg.n = NB;
    bg.x = malloc(sizeof(float) * NB * CT);
    bg.weight = malloc(sizeof(double) * NB);
    for (int i = 0; p && i < NB; i++) {
        while (*p && !(*p >= '0' && *p <= '9'))
            p++;
        long k = strtol(p, &p, 10);
        memcpy(bg.x + (size_t)i * CT, ws.data + (size_t)k * CT, sizeof(float) * CT);
        bg.weight[i] = 1.0 / NB;
    }
    wf_model *m = NULL;
    wf_predictor pr;
    wf_tree_model *tm = NULL;
    if (wf_model_load(argv[2], &m, &err) ||
        wf_model_predictor(m, C, T, WF_LAYOUT_AUTO, &pr, &err) ||
        wf_tree_model_new(m, C, T, WF_LAYOUT_AUTO, &tm, &err))
        return fail(&err);
    const wf_tree_ensemble *te = wf_tree_model_ensemble(tm);
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
    for (int i = 0; i < n; i++)
        idx[i] = (int64_t)i * (ws.n / n);
    int64_t start[CT + 1], cells[CT];
    for (int i = 0; i <= CT; i++)
        start[i] = i;
    for (int i = 0; i < CT; i++)
        cells[i] = i;
    wf_treeshap *ts = NULL;
    double t0 = now();
    if (wf_treeshap_new(tm, bg.x, bg.weight, NB, CT, start, cells, &ts, &err))
        return fail(&err);
    double t1 = now();
    double *phi = malloc(sizeof(double) * (size_t)n * CT), fx, base;
    for (int i = 0; i < n; i++)
        if (wf_treeshap_explain(ts, ws.data + (size_t)idx[i] * CT, phi + (size_t)i * CT, &fx, &base,
                                &err))
            return fail(&err);
    double t2 = now();
    double ts_ms = 1e3 * (t2 - t1) / n;
    printf("model %s: %d trees, %d nodes, %d features; background %d windows; 288 cell "
           "players; 1 thread\n",
           argv[2], te->n_trees, te->n_nodes, te->n_features, NB);
    printf("TreeSHAP interventional (exact): setup %.2f ms, %.3f ms per window (%d windows)\n",
           1e3 * (t1 - t0), ts_ms, n);
    printf("WHYFLAG_TREESHAP_MS %.6f\n", ts_ms);
    if (!vs_ks) {
        FILE *o = fopen(argv[4], "wb");
        if (!o || fwrite(phi, sizeof(double), (size_t)n * CT, o) != (size_t)n * CT)
            return 1;
        fclose(o);
    } else {
        /* KernelSHAP of the same game: the margin (logit of the LOGISTIC score), same players,
         * same background; auto (default convergence) and fixed budgets */
        const int64_t budgets[] = {WF_NSAMPLES_AUTO, 2048, 8192, 32768};
        wf_explanation *ex = calloc((size_t)n, sizeof *ex);
        for (int b = 0; b < 4; b++) {
            wf_explain_settings s;
            wf_explain_settings_default(&s);
            s.do_kernelshap = 1;
            s.do_ig = 0;
            s.do_treeshap = WF_TREESHAP_OFF;
            s.groups = WF_GROUPS_CELL;
            s.link = WF_LINK_LOGIT_OUTPUT;
            s.nsamples = budgets[b];
            s.threads = 1;
            double k0 = now();
            if (wf_explain_run(&s, &pr, &bg, &ws, idx, n, ex, &err))
                return fail(&err);
            double k1 = now();
            double worst = 0, worst_rel = 0, samples = 0;
            int conv = 0;
            for (int i = 0; i < n; i++) {
                if (ex[i].status) {
                    fprintf(stderr, "window %d: %s\n", i, ex[i].error);
                    return 1;
                }
                double lo = 0, hi = 0, e = 0;
                for (int c = 0; c < CT; c++) {
                    double v = phi[(size_t)i * CT + c];
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                    double d = fabs(ex[i].kshap.values[c] - v);
                    e = d > e ? d : e;
                }
                worst = e > worst ? e : worst;
                worst_rel = e / (hi - lo) > worst_rel ? e / (hi - lo) : worst_rel;
                samples += (double)ex[i].kshap.samples;
                conv += ex[i].kshap.converged;
                wf_explanation_deinit(&ex[i]);
            }
            double ks_ms = 1e3 * (k1 - k0) / n;
            char label[32];
            if (budgets[b] == WF_NSAMPLES_AUTO)
                snprintf(label, sizeof label, "auto");
            else
                snprintf(label, sizeof label, "%lld", (long long)budgets[b]);
            printf("KernelSHAP nsamples %-6s: %9.1f ms per window (%.0f coalitions, %d of %d "
                   "converged), max |error| vs exact %.3g (%.2g of the value range): TreeSHAP "
                   "%.0fx faster\n",
                   label, ks_ms, samples / n, conv, n, worst, worst_rel, ks_ms / ts_ms);
            fflush(stdout);
        }
        free(ex);
    }
    free(phi);
    free(idx);
    wf_treeshap_free(ts);
    wf_tree_model_free(tm);
    wf_predictor_deinit(&pr);
    wf_model_free(m);
    wf_background_deinit(&bg);
    wf_windows_free(&ws);
    return 0;
}

/*
 * Interventional TreeSHAP speed: a random 100-tree depth-6 ensemble over 288 features (8 x 36
 * window cells), a 50-row background, players = 8 channels and 288 cells. Random thresholds
 * split uniform features, so x and a background row disagree at about half of the splits: a
 * harder case than real windows. Prints ms per window. Run by hand: ./bench_treeshap [windows].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whyflag/model.h"
#include "whyflag/treeshap.h"

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

int main(int argc, char **argv) {
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

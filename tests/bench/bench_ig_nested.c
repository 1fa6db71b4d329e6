/*
 * Adaptive Integrated Gradients: Gauss-Legendre (every doubling evaluates a new node set) against
 * nested Clenshaw-Curtis (a doubling reuses every earlier gradient), one thread, on one model and
 * a windows file. Prints, per rule:
 *   - adaptive mode (explain.steps "auto", tol 0.01, max_steps 1024): gradient rows evaluated
 *     (path nodes plus the x, x' rows), CPU seconds, windows converged, the step counts, the
 *     completeness gap |delta| / |f(x) - f(x')|, and the error of the attributions against a
 *     fine reference (the same integral with 8,193 Clenshaw-Curtis nodes; a second reference with
 *     8,192 Gauss-Legendre nodes bounds the reference's own error): sum_cells |attr - ref| /
 *     sum_cells |ref|;
 *   - accuracy per evaluation: at fixed step counts 16 .. 1024 (Clenshaw-Curtis: one node more),
 *     the mean and max of the same two errors over the windows.
 * Baseline: the per-channel mean of the background (the default). CPU time is the process's
 * (one thread, meaningful on a shared machine).
 *
 * usage: bench_ig_nested [model [windows.json [background.json [n_windows]]]]
 *   defaults: tests/data/aurora/mlp.onnx, tests/data/data/windows.json (124 windows spread over
 *   the file), a 50-window background drawn from the windows file with seed 0 (or the given
 *   background windows file, as `whyflag explain --background`). bench_ig_sample.sh runs it on
 *   the sample audit's 124 flagged windows and background.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explain/explain_impl.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define NLEV 7 /* 16 .. 1024 */
#define REF_N 8192

static double rel_err(const double *a, const double *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += fabs(a[i] - ref[i]);
        den += fabs(ref[i]);
    }
    return den > 0 ? num / den : num;
}

static int die(const wf_error *err) {
    fprintf(stderr, "%s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    const char *mpath =
        argc > 1 && argv[1][0] ? argv[1] : WF_SOURCE_DIR "/tests/data/aurora/mlp.onnx";
    const char *wpath =
        argc > 2 && argv[2][0] ? argv[2] : WF_SOURCE_DIR "/tests/data/data/windows.json";
    const char *bpath = argc > 3 && argv[3][0] ? argv[3] : NULL;
    int nwin = argc > 4 ? atoi(argv[4]) : 124;
    wf_error err = {0};
    wf_windows ws, bws;
    memset(&ws, 0, sizeof ws);
    memset(&bws, 0, sizeof bws);
    if (wf_windows_read_json(wpath, &ws, &err))
        return die(&err);
    if (bpath && wf_windows_read_json(bpath, &bws, &err))
        return die(&err);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    if (bpath) {
        s.background = WF_BACKGROUND_FILE;
        s.background_windows = &bws;
    }
    wf_background bg;
    if (wf_background_build(&s, &ws, NULL, &bg, &err))
        return die(&err);
    wf_model *m;
    wf_predictor p;
    if (wf_model_load(mpath, &m, &err) ||
        wf_model_predictor(m, ws.C, ws.T, WF_LAYOUT_AUTO, &p, &err))
        return die(&err);
    size_t CT = (size_t)ws.C * (size_t)ws.T;
    float *base = malloc(sizeof(float) * CT);
    if (wf_ig_baseline(WF_BASELINE_MEAN, &bg, ws.C, ws.T, base, &err))
        return die(&err);
    if (nwin > ws.n || nwin < 1)
        nwin = (int)ws.n;
    printf("model %s, %d windows of %s, %s background, 1 thread\n", mpath, nwin, wpath,
           bpath ? bpath : "50-window sample");

    const wf_ig_rule rules[2] = {WF_IG_GAUSS_LEGENDRE, WF_IG_CLENSHAW_CURTIS};
    const char *rname[2] = {"gausslegendre", "clenshaw_curtis"};
    double *ref = malloc(sizeof(double) * CT * (size_t)nwin);
    double ref_gap = 0; /* max over windows: |ref(CC 8193) - ref(GL 8192)| relative */
    /* fixed-level errors: [rule][level] mean and max over windows */
    double lev_err[2][NLEV] = {{0}}, lev_err_max[2][NLEV] = {{0}}, lev_gap[2][NLEV] = {{0}},
           lev_gap_max[2][NLEV] = {{0}};
    wf_ig_eval ev;
    if (wf_ig_eval_init(&ev, &p, REF_N + 1, 1024, &err))
        return die(&err);
    for (int w = 0; w < nwin; w++) {
        const float *x = ws.w[(int64_t)w * (ws.n / nwin)].values;
        wf_ig_result r, r2;
        if (wf_ig_window(&ev, x, base, WF_IG_CLENSHAW_CURTIS, REF_N + 1, 0, 0, &r, &err) ||
            wf_ig_window(&ev, x, base, WF_IG_GAUSS_LEGENDRE, REF_N, 0, 0, &r2, &err))
            return die(&err);
        memcpy(ref + (size_t)w * CT, r.values, sizeof(double) * CT);
        double g = rel_err(r2.values, r.values, CT);
        ref_gap = g > ref_gap ? g : ref_gap;
        wf_ig_result_free(&r);
        wf_ig_result_free(&r2);
        for (int ri = 0; ri < 2; ri++)
            for (int l = 0; l < NLEV; l++) {
                int n = 16 << l;
                if (wf_ig_window(&ev, x, base, rules[ri], ri ? n + 1 : n, 0, 0, &r, &err))
                    return die(&err);
                double e = rel_err(r.values, ref + (size_t)w * CT, CT);
                double gap = fabs(r.delta) / fabs(r.f_x - r.f_baseline);
                lev_err[ri][l] += e / nwin;
                lev_err_max[ri][l] = e > lev_err_max[ri][l] ? e : lev_err_max[ri][l];
                lev_gap[ri][l] += gap / nwin;
                lev_gap_max[ri][l] = gap > lev_gap_max[ri][l] ? gap : lev_gap_max[ri][l];
                wf_ig_result_free(&r);
            }
    }
    wf_ig_eval_free(&ev);
    printf("reference: %d Clenshaw-Curtis nodes; against %d Gauss-Legendre nodes it differs by "
           "at most %.2e (sum |diff| / sum |ref|)\n\n",
           REF_N + 1, REF_N, ref_gap);
    printf("accuracy per evaluation (fixed steps; error = sum |attr - ref| / sum |ref|, "
           "gap = |delta| / |f(x) - f(x')|), mean (max) over windows:\n");
    printf("%-16s %6s %22s %22s\n", "rule", "grads", "error", "gap");
    for (int l = 0; l < NLEV; l++)
        for (int ri = 0; ri < 2; ri++)
            printf("%-16s %6d %10.2e (%9.2e) %10.2e (%9.2e)\n", rname[ri], (16 << l) + ri,
                   lev_err[ri][l], lev_err_max[ri][l], lev_gap[ri][l], lev_gap_max[ri][l]);

    printf("\nadaptive (steps auto, tol %.2g, max_steps %d):\n", s.ig_tol, s.max_steps);
    printf("%-16s %10s %8s %9s %14s %14s %22s\n", "rule", "grad rows", "CPU s", "converged",
           "mean steps", "max gap", "error mean (max)");
    for (int ri = 0; ri < 2; ri++) {
        if (wf_ig_eval_init(&ev, &p, s.max_steps, s.max_steps, &err))
            return die(&err);
        double t0 = cpu(), tsteps = 0, gmax = 0, emean = 0, emax = 0;
        int conv = 0;
        wf_ig_result *res = calloc((size_t)nwin, sizeof *res);
        for (int w = 0; w < nwin; w++) {
            const float *x = ws.w[(int64_t)w * (ws.n / nwin)].values;
            if (wf_ig_window(&ev, x, base, rules[ri], 0, s.max_steps, s.ig_tol, &res[w], &err))
                return die(&err);
        }
        double dt = cpu() - t0;
        for (int w = 0; w < nwin; w++) {
            wf_ig_result *r = &res[w];
            conv += r->converged;
            tsteps += r->steps;
            double gap = fabs(r->delta) / fabs(r->f_x - r->f_baseline);
            gmax = gap > gmax ? gap : gmax;
            double e = rel_err(r->values, ref + (size_t)w * CT, CT);
            emean += e / nwin;
            emax = e > emax ? e : emax;
            wf_ig_result_free(r);
        }
        free(res);
        printf("%-16s %10lld %8.3f %5d/%-3d %14.1f %14.2e %10.2e (%9.2e)\n", rname[ri],
               (long long)ev.grad_rows, dt, conv, nwin, tsteps / nwin, gmax, emean, emax);
        wf_ig_eval_free(&ev);
    }
    free(ref);
    free(base);
    wf_predictor_deinit(&p);
    wf_model_free(m);
    wf_background_deinit(&bg);
    wf_windows_free(&ws);
    wf_windows_free(&bws);
    return 0;
}

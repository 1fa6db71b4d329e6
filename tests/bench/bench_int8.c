/*
 * The int8 explanation path against the float MLP: KernelSHAP over 8 channel groups with a
 * 50-window background (every coalition, exact) and Integrated Gradients (50 Gauss-Legendre
 * steps, and adaptive), one thread, on the float Aurora mlp (tests/data/aurora/mlp.onnx) and the
 * deployed int8 QDQ MLP (samples/aurora_int8.onnx). Prints ms per window and the int8/float
 * ratio. Run by hand; for before/after comparisons on a loaded machine run it under
 * `valgrind --tool=callgrind` (instruction counts) as tests/bench/README.md says.
 *
 * usage: bench_int8 [windows [method [model]]]   (windows for KernelSHAP, default 8; IG uses 5x
 *   as many; method 0 KernelSHAP, 1 IG 50 steps, 2 IG adaptive, model 0 float, 1 int8, 2 int8
 *   with explain.arithmetic "exact" (KernelSHAP only), 3 and 4 the QOperator twins of the int8
 *   MLP (tests/data/int8ms/mlp_qgemm.onnx: QGemm; mlp_qlinear.onnx: QLinearMatMul + QLinearAdd,
 *   gen_qop_twins.py): only those, for instruction counts under callgrind; method 9 runs none,
 *   the setup to subtract). The last lines print each QOperator twin's time over the QDQ
 *   model's and a side-by-side table (issue 12: within 1.5x), with the adaptive IG's steps per
 *   window (the twins are timing twins, not bit twins: their functions, hence the steps the
 *   adaptive rule takes, differ).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whyflag/config.h"
#include "whyflag/explain.h"
#include "whyflag/model.h"
#include "whyflag/windows.h"

/* Process CPU time: the runs use one thread, and CPU time stays meaningful on a shared, loaded
 * machine where wall time does not. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int nk = argc > 1 ? atoi(argv[1]) : 8;
    if (nk < 1)
        nk = 1;
    int only_m = argc > 2 ? atoi(argv[2]) : -1, only_model = argc > 3 ? atoi(argv[3]) : -1;
    /* model 2: the int8 MLP with explain.arithmetic "exact" (every coalition row through the
     * deployed graph: the int8 KernelSHAP path before the shortcut through the quantization) */
    const char *paths[5] = {WF_SOURCE_DIR "/tests/data/aurora/mlp.onnx",
                            WF_SOURCE_DIR "/samples/aurora_int8.onnx",
                            WF_SOURCE_DIR "/samples/aurora_int8.onnx",
                            WF_SOURCE_DIR "/tests/data/int8ms/mlp_qgemm.onnx",
                            WF_SOURCE_DIR "/tests/data/int8ms/mlp_qlinear.onnx"};
    const char *names[5] = {"float mlp", "int8 mlp", "int8 exact", "qop qgemm", "qop qlinear"};
    wf_error err = {0};
    wf_windows ws;
    memset(&ws, 0, sizeof ws);
    if (wf_windows_read_json(WF_SOURCE_DIR "/tests/data/data/windows.json", &ws, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_background bg;
    if (wf_background_build(&s, &ws, NULL, &bg, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double ms[5][3], steps[5][3];
    const char *methods[3] = {"KernelSHAP 8 groups exact", "IG 50 steps", "IG adaptive"};
    for (int mi = 0; mi < 5; mi++) {
        if (only_model >= 0 && mi != only_model)
            continue;
        wf_model *m;
        wf_predictor p;
        if (wf_model_load(paths[mi], &m, &err) ||
            wf_model_predictor(m, ws.C, ws.T, WF_LAYOUT_AUTO, &p, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        for (int ci = 0; ci < 3; ci++) {
            ms[mi][ci] = 0;
            if ((only_m >= 0 && ci != only_m) || (mi == 2 && ci != 0))
                continue;
            int n = ci == 0 ? nk : 5 * nk;
            if (n > ws.n)
                n = (int)ws.n;
            int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
            for (int i = 0; i < n; i++)
                idx[i] = (int64_t)i * (ws.n / n);
            wf_explanation *ex = calloc((size_t)n, sizeof *ex);
            wf_explain_settings_default(&s);
            s.do_kernelshap = ci == 0;
            s.do_ig = ci != 0;
            s.groups = WF_GROUPS_CHANNEL;
            s.nsamples = 2048;
            s.steps = ci == 1 ? 50 : 0;
            s.threads = 1;
            s.arithmetic = mi == 2 ? WF_ARITHMETIC_EXACT : WF_ARITHMETIC_SHORTCUT;
            double t0 = now();
            if (wf_explain_run(&s, &p, &bg, &ws, idx, n, ex, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            ms[mi][ci] = 1e3 * (now() - t0) / n;
            steps[mi][ci] = 0;
            for (int i = 0; i < n; i++) {
                steps[mi][ci] += ex[i].has_ig ? (double)ex[i].ig.steps / n : 0.0;
                wf_explanation_deinit(&ex[i]);
            }
            free(ex);
            free(idx);
            printf("%-10s %-28s %9.3f ms/window (CPU)", names[mi], methods[ci], ms[mi][ci]);
            if (ci == 2)
                printf(", %.1f IG steps per window", steps[mi][ci]);
            printf("\n");
            fflush(stdout);
        }
        wf_predictor_deinit(&p);
        wf_model_free(m);
    }
    for (int ci = 0; ci < 3 && only_m < 0 && only_model < 0; ci++)
        printf("int8/float %-28s %6.2fx\n", methods[ci], ms[1][ci] / ms[0][ci]);
    if (only_m < 0 && only_model < 0)
        printf("int8 exact arithmetic/float %-11s %6.2fx; exact/shortcut %.2fx\n", "KernelSHAP",
               ms[2][0] / ms[0][0], ms[2][0] / ms[1][0]);
    for (int mi = 3; mi < 5 && only_m < 0 && only_model < 0; mi++)
        for (int ci = 0; ci < 3; ci++)
            printf("%s/QDQ int8 %-28s %6.2fx\n", names[mi], methods[ci], ms[mi][ci] / ms[1][ci]);
    /* issue 12: the QOperator twins side by side with the QDQ model (target: within 1.5x) */
    if (only_m < 0 && only_model < 0) {
        printf("\n| ms per window (CPU) | QDQ | QGemm twin | QLinearMatMul+Add twin |\n");
        printf("|---|---|---|---|\n");
        for (int ci = 0; ci < 3; ci++)
            printf("| %s | %.3f | %.3f (%.2fx) | %.3f (%.2fx) |\n", methods[ci], ms[1][ci],
                   ms[3][ci], ms[3][ci] / ms[1][ci], ms[4][ci], ms[4][ci] / ms[1][ci]);
        printf("| IG adaptive: steps per window | %.1f | %.1f | %.1f |\n", steps[1][2], steps[3][2],
               steps[4][2]);
    }
    wf_background_deinit(&bg);
    wf_windows_free(&ws);
    return 0;
}

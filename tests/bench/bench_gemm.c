/*
 * bench_gemm: the machine's sgemm throughput through wf_k_gemm (OpenBLAS), for square and
 * tall-skinny shapes like the batched model layers, with 1 and 2 BLAS threads; plus the
 * im2col + GEMM convolution of a cnn1d-like layer (windows per second).
 *
 * Usage: bench_gemm [--quick]
 *   --quick  small shapes and short timings (a smoke test of a few seconds)
 *
 * Each figure is the best of repeated runs lasting at least `min_time` seconds in total;
 * GFLOP/s counts 2*M*N*K. Run it on a quiet machine: numbers from a busy one mean little.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/kernels/kernels.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *alloc_fill(size_t n, unsigned seed) {
    float *p = malloc(n * sizeof(float));
    if (p == NULL) {
        fprintf(stderr, "bench_gemm: out of memory (%zu floats)\n", n);
        exit(1);
    }
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u; /* LCG: only needs to be non-degenerate */
        p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

/* Best time of one C = A B (M x K times K x N), repeated for at least min_time seconds. */
static double time_gemm(int M, int N, int K, int transB, double min_time) {
    float *A = alloc_fill((size_t)M * (size_t)K, 1);
    float *B = alloc_fill((size_t)K * (size_t)N, 2);
    float *C = alloc_fill((size_t)M * (size_t)N, 3);
    wf_k_gemm(C, A, B, M, N, K, 0, transB, 1.0f, 0.0f); /* warm-up (threads, pages) */
    double best = 1e30, total = 0.0;
    int reps = 0;
    while (total < min_time || reps < 3) {
        double t0 = now();
        wf_k_gemm(C, A, B, M, N, K, 0, transB, 1.0f, 0.0f);
        double dt = now() - t0;
        best = dt < best ? dt : best;
        total += dt;
        reps++;
    }
    free(A);
    free(B);
    free(C);
    return best;
}

/* Best time of one batched conv forward over n windows (cin x T, kernel k, same padding). */
static double time_conv(int n, int cin, int cout, int T, int k, double min_time) {
    wf_k_conv_geom g;
    memset(&g, 0, sizeof g);
    g.n = n;
    g.cin = cin;
    g.cout = cout;
    g.group = 1;
    g.ndim = 1;
    g.in[0] = T;
    g.k[0] = k;
    g.pad_begin[0] = k / 2;
    g.pad_end[0] = k - 1 - k / 2;
    g.stride[0] = 1;
    g.dilation[0] = 1;
    if (wf_k_conv_geom_finish(&g) != 0) {
        fprintf(stderr, "bench_gemm: bad conv geometry\n");
        exit(1);
    }
    float *x = alloc_fill((size_t)n * (size_t)cin * (size_t)T, 4);
    float *w = alloc_fill((size_t)cout * (size_t)cin * (size_t)k, 5);
    float *b = alloc_fill((size_t)cout, 6);
    float *y = alloc_fill((size_t)n * (size_t)cout * (size_t)g.out[0], 7);
    float *scratch = alloc_fill(wf_k_conv_forward_scratch_size(&g), 8);
    wf_k_conv_forward(y, x, w, b, &g, scratch);
    double best = 1e30, total = 0.0;
    int reps = 0;
    while (total < min_time || reps < 3) {
        double t0 = now();
        wf_k_conv_forward(y, x, w, b, &g, scratch);
        double dt = now() - t0;
        best = dt < best ? dt : best;
        total += dt;
        reps++;
    }
    free(x);
    free(w);
    free(b);
    free(y);
    free(scratch);
    return best;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    double min_time = quick ? 0.05 : 1.0;
    int big = quick ? 4000 : 100000; /* rows of the tall-skinny (batched-layer) shapes */
    struct {
        const char *what;
        int M, N, K, transB;
    } shapes[] = {
        {"square 256", 256, 256, 256, 0},
        {"square 512", 512, 512, 512, 0},
        {"square 1024", 1024, 1024, 1024, 0},
        {"tall-skinny x @ W (N x 288 @ 288 x 128)", big, 128, 288, 0},
        {"mlp fc1 x @ W^T (N x 288 @ (64 x 288)^T)", big, 64, 288, 1},
        {"mlp fc2 x @ W^T (N x 64 @ (32 x 64)^T)", big, 32, 64, 1},
    };
    int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    if (quick) {
        nshapes = 4; /* skip the larger layers in a smoke test */
        shapes[2].M = shapes[2].N = shapes[2].K = 384;
        shapes[2].what = "square 384";
    }
    printf("sgemm through wf_k_gemm (OpenBLAS), best of repeated runs, GFLOP/s = 2MNK / time\n");
    printf("%-44s %8s %8s %8s %10s %10s\n", "shape", "M", "N", "K", "1 thread", "2 threads");
    for (int i = 0; i < nshapes; i++) {
        double gf[2];
        for (int t = 1; t <= 2; t++) {
            wf_k_blas_set_threads(t);
            double dt =
                time_gemm(shapes[i].M, shapes[i].N, shapes[i].K, shapes[i].transB, min_time);
            gf[t - 1] = 2.0 * shapes[i].M * (double)shapes[i].N * shapes[i].K / dt * 1e-9;
        }
        printf("%-44s %8d %8d %8d %10.1f %10.1f\n", shapes[i].what, shapes[i].M, shapes[i].N,
               shapes[i].K, gf[0], gf[1]);
    }
    /* A cnn1d-like convolution layer: 8 -> 16 channels, T = 36, kernel 5, batch of windows. */
    int nwin = quick ? 256 : 4096;
    printf("\nconv1d forward (im2col + sgemm), %d windows of 8 x 36, 8 -> 16 channels, kernel 5\n",
           nwin);
    printf("%-44s %10s %10s\n", "", "1 thread", "2 threads");
    double rate[2], gfc[2];
    for (int t = 1; t <= 2; t++) {
        wf_k_blas_set_threads(t);
        double dt = time_conv(nwin, 8, 16, 36, 5, min_time);
        rate[t - 1] = nwin / dt;
        gfc[t - 1] = 2.0 * nwin * 16.0 * 36.0 * 8.0 * 5.0 / dt * 1e-9;
    }
    printf("%-44s %10.0f %10.0f\n", "windows/s", rate[0], rate[1]);
    printf("%-44s %10.1f %10.1f\n", "GFLOP/s", gfc[0], gfc[1]);
    wf_k_blas_set_threads(1);
    return 0;
}

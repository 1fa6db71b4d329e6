/*
 * GEMM kernels: the OpenBLAS fast path, the naive reference, and the backward helpers of a matrix
 * product. Row-major everywhere; see kernels.h for the contracts.
 */
#include <cblas.h>

#include "model/kernels/kernels.h"

void wf_k_gemm_ld(float *C, int ldc, const float *A, int lda, const float *B, int ldb, int M, int N,
                  int K, int transA, int transB, float alpha, float beta) {
    if (M <= 0 || N <= 0) {
        return;
    }
    if (K <= 0) {
        /* BLAS would do this too, but some implementations reject lda = 0: keep it explicit. */
        for (int i = 0; i < M; i++) {
            float *c = C + (size_t)i * (size_t)ldc;
            for (int j = 0; j < N; j++) {
                c[j] = beta == 0.0f ? 0.0f : beta * c[j];
            }
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void wf_k_transpose(float *restrict D, const float *restrict S, int64_t rows, int64_t cols) {
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            D[j * rows + i] = S[i * cols + j];
}

void wf_k_gemm(float *C, const float *A, const float *B, int M, int N, int K, int transA,
               int transB, float alpha, float beta) {
    int lda = transA ? M : K;
    int ldb = transB ? K : N;
    /* Leading dimensions must be >= 1 even for empty operands. */
    wf_k_gemm_ld(C, N > 0 ? N : 1, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, M, N, K, transA,
                 transB, alpha, beta);
}

void wf_k_gemm_naive(float *C, const float *A, const float *B, int M, int N, int K, int transA,
                     int transB, float alpha, float beta) {
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int p = 0; p < K; p++) {
                float a = transA ? A[(size_t)p * (size_t)M + (size_t)i]
                                 : A[(size_t)i * (size_t)K + (size_t)p];
                float b = transB ? B[(size_t)j * (size_t)K + (size_t)p]
                                 : B[(size_t)p * (size_t)N + (size_t)j];
                acc += (double)a * (double)b;
            }
            float *c = &C[(size_t)i * (size_t)N + (size_t)j];
            double v = (double)alpha * acc;
            if (beta != 0.0f) {
                v += (double)beta * (double)*c;
            }
            *c = (float)v;
        }
    }
}

void wf_k_gemm_backward_a(float *dA, const float *dC, const float *B, int M, int N, int K,
                          int transA, int transB, float alpha) {
    /* C = op(A) op(B), op(A): (M, K), op(B): (K, N).  d op(A) = dC @ op(B)^T: (M, K).
     * op(B)^T = B^T when B is stored (K, N) (transB == 0), or B itself when stored (N, K). */
    if (!transA) {
        /* dA (M, K) += alpha * dC (M, N) @ op(B)^T (N, K) */
        wf_k_gemm(dA, dC, B, M, K, N, 0, !transB, alpha, 1.0f);
    } else {
        /* A stored (K, M): dA (K, M) += alpha * op(B) (K, N) @ dC^T (N, M) */
        wf_k_gemm(dA, B, dC, K, M, N, transB, 1, alpha, 1.0f);
    }
}

void wf_k_gemm_backward_b(float *dB, const float *dC, const float *A, int M, int N, int K,
                          int transA, int transB, float alpha) {
    /* d op(B) = op(A)^T @ dC: (K, N). */
    if (!transB) {
        /* dB (K, N) += alpha * op(A)^T (K, M) @ dC (M, N) */
        wf_k_gemm(dB, A, dC, K, N, M, !transA, 0, alpha, 1.0f);
    } else {
        /* B stored (N, K): dB (N, K) += alpha * dC^T (N, M) @ op(A) (M, K) */
        wf_k_gemm(dB, dC, A, N, K, M, 1, transA, alpha, 1.0f);
    }
}

void wf_k_blas_set_threads(int n) {
    openblas_set_num_threads(n < 1 ? 1 : n);
}

int wf_k_blas_get_threads(void) {
    return openblas_get_num_threads();
}

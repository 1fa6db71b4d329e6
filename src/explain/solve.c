/*
 * The small dense linear algebra KernelSHAP needs, in double: Gaussian elimination with partial
 * pivoting, and shap's constrained weighted least squares (the last player is eliminated with
 * the efficiency constraint so that sum(phi) = f(x) - base holds exactly, as shap's
 * KernelExplainer.solve does).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "explain/explain_impl.h"

/* The elimination's row update A[i][k..] -= f A[k][..] is independent per element, so the
 * AVX-512 and AVX2 clones compute the same values as the baseline (no contraction in ISO C). */
WF_CLONES2("arch=x86-64-v4", "arch=x86-64-v3")
int wf_solve_dense(double *A, double *b, int n) {
    double scale = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            scale = fmax(scale, fabs(A[(size_t)i * n + j]));
    if (scale == 0)
        return n == 0 ? 0 : -1;
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int i = k + 1; i < n; i++)
            if (fabs(A[(size_t)i * n + k]) > fabs(A[(size_t)piv * n + k]))
                piv = i;
        if (fabs(A[(size_t)piv * n + k]) <= 1e-12 * scale)
            return -1;
        if (piv != k) {
            for (int j = 0; j < n; j++) {
                double t = A[(size_t)k * n + j];
                A[(size_t)k * n + j] = A[(size_t)piv * n + j];
                A[(size_t)piv * n + j] = t;
            }
            double t = b[k];
            b[k] = b[piv];
            b[piv] = t;
        }
        double inv = 1.0 / A[(size_t)k * n + k];
        for (int i = k + 1; i < n; i++) {
            double f = A[(size_t)i * n + k] * inv;
            if (f == 0)
                continue;
            for (int j = k; j < n; j++)
                A[(size_t)i * n + j] -= f * A[(size_t)k * n + j];
            b[i] -= f * b[k];
        }
    }
    for (int k = n - 1; k >= 0; k--) {
        double s = b[k];
        for (int j = k + 1; j < n; j++)
            s -= A[(size_t)k * n + j] * b[j];
        b[k] = s / A[(size_t)k * n + k];
    }
    return 0;
}

/*
 * With e = fx - base and the last player L = M-1 eliminated (phi_L = e - sum_{j<L} phi_j):
 *   y_k = v_k - base - z_kL e,   X_kj = z_kj - z_kL  (j < L)
 * and phi_{0..L-1} solves (X^T W X) phi = X^T W y. Each row of X is +1 on the players that are on
 * (when z_kL = 0) or -1 on the players that are off (when z_kL = 1): only that set is touched.
 */
int wf_kshap_wls(double *phi, const uint8_t *z, const double *w, const double *v, int64_t n, int M,
                 double base, double fx, double *gram) {
    double e = fx - base;
    if (M == 1) {
        phi[0] = e;
        return 0;
    }
    int L = M - 1;
    double *G = gram ? gram : calloc((size_t)L * (size_t)L, sizeof(double));
    if (gram)
        memset(G, 0, sizeof(double) * (size_t)L * (size_t)L);
    double *r = calloc((size_t)L, sizeof(double));
    int *idx = malloc(sizeof(int) * (size_t)L);
    if (!G || !r || !idx) {
        if (!gram)
            free(G);
        free(r);
        free(idx);
        return -2;
    }
    /* A row whose set is larger than half is written as 1 - (its complement): its outer product
     * is 11^T - 1 c^T - c 1^T + c c^T, so only the complement's pairs are touched, plus a scalar
     * (wall) and a vector (u) applied at the end. Cost per row: min(|set|, L - |set|)^2 / 2. */
    double wall = 0, rs = 0;
    double *u = calloc((size_t)L, sizeof(double));
    if (!u) {
        if (!gram)
            free(G);
        free(r);
        free(idx);
        return -2;
    }
    for (int64_t k = 0; k < n; k++) {
        const uint8_t *zk = z + (size_t)k * (size_t)M;
        int last = zk[L] != 0;
        double sg = last ? -1.0 : 1.0;
        double y = v[k] - base - (last ? e : 0.0);
        int m = 0;
        for (int j = 0; j < L; j++)
            if ((zk[j] != 0) != last)
                m++;
        int comp = 2 * m > L;
        m = 0;
        for (int j = 0; j < L; j++)
            if (((zk[j] != 0) != last) != comp)
                idx[m++] = j;
        double wk = w[k], ry = wk * sg * y;
        if (comp) {
            wall += wk;
            rs += ry;
            ry = -ry;
            for (int a = 0; a < m; a++)
                u[idx[a]] += wk;
        }
        for (int a = 0; a < m; a++) {
            double *Gi = G + (size_t)idx[a] * (size_t)L;
            for (int b = a; b < m; b++)
                Gi[idx[b]] += wk;
            r[idx[a]] += ry;
        }
    }
    for (int i = 0; i < L; i++) {
        for (int j = i; j < L; j++)
            G[(size_t)i * L + j] += wall - u[i] - u[j];
        r[i] += rs;
    }
    free(u);
    for (int i = 0; i < L; i++) /* mirror the upper triangle */
        for (int j = i + 1; j < L; j++)
            G[(size_t)j * L + i] = G[(size_t)i * L + j];
    int rc = wf_solve_dense(G, r, L);
    if (rc == 0) {
        double s = 0;
        for (int j = 0; j < L; j++) {
            phi[j] = r[j];
            s += r[j];
        }
        phi[L] = e - s;
    }
    if (!gram)
        free(G);
    free(r);
    free(idx);
    return rc;
}

int wf_kshap_wls_naive(double *phi, const uint8_t *z, const double *w, const double *v, int64_t n,
                       int M, double base, double fx) {
    double e = fx - base;
    if (M == 1) {
        phi[0] = e;
        return 0;
    }
    int L = M - 1;
    double *G = calloc((size_t)L * (size_t)L, sizeof(double));
    double *r = calloc((size_t)L, sizeof(double));
    double *x = malloc(sizeof(double) * (size_t)L);
    if (!G || !r || !x) {
        free(G);
        free(r);
        free(x);
        return -2;
    }
    for (int64_t k = 0; k < n; k++) {
        const uint8_t *zk = z + (size_t)k * (size_t)M;
        double zl = zk[L] != 0;
        double y = v[k] - base - zl * e;
        for (int j = 0; j < L; j++)
            x[j] = (double)(zk[j] != 0) - zl;
        for (int i = 0; i < L; i++) {
            for (int j = 0; j < L; j++)
                G[(size_t)i * L + j] += w[k] * x[i] * x[j];
            r[i] += w[k] * x[i] * y;
        }
    }
    int rc = wf_solve_dense(G, r, L);
    if (rc == 0) {
        double s = 0;
        for (int j = 0; j < L; j++) {
            phi[j] = r[j];
            s += r[j];
        }
        phi[L] = e - s;
    }
    free(G);
    free(r);
    free(x);
    return rc;
}

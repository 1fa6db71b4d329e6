/*
 * Dependence among channels, measured on windows (the KernelSHAP background, or the whole log):
 *
 *   - exact linear dependence, on two matrices: every cell (rows = windows x steps) and the
 *     window means (rows = windows). Channels are taken in the log's order; a channel is kept as
 *     independent when the weighted least-squares residual of its standardized values on the
 *     channels kept before it has an RMS above exact_tol (a fraction of its own standard
 *     deviation); otherwise it is reported as that combination, with coefficients, intercept
 *     and residual in its own units. The rank is the number of channels kept. This is a
 *     Gram-Schmidt (QR without pivoting, in channel order) carried out on the weighted
 *     correlation matrix with an incremental Cholesky factor, in double: one pass over the data
 *     for the covariance, so the whole log is cheap. Its floor is about 3e-8 relative residual,
 *     far below the tolerance;
 *   - Pearson correlation of the cell values (weighted);
 *   - complete-linkage agglomerative clustering on 1 - |r| (shap's partition_tree uses scipy's
 *     `complete` linkage too, on scipy's "correlation" distance 1 - r; we take |r| so that a
 *     channel and its negative, e.g. a - b and b - a, count as one), with the channels of an exact
 *     combination at distance 0 (option merge_exact); groups are the clusters of the dendrogram
 *     cut at height `cut`: every two channels of a group have |r| >= 1 - cut or are tied by an
 *     exact combination.
 * The eigenvalues of the correlation matrix are reported too (singular values of the
 * standardized matrix), as a check on the rank. Non-goals: nonlinear dependence.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/checks_impl.h"

void wf_dep_options_default(wf_dep_options *o) {
    o->exact_tol = WF_DEP_EXACT_TOL;
    o->cut = WF_DEP_CUT;
    o->merge_exact = 1;
    o->coef_min = 1e-6;
}

void wf_dep_linear_deinit(wf_dep_linear *l) {
    if (!l)
        return;
    for (int k = 0; k < l->n_relations; k++) {
        free(l->relations[k].basis);
        free(l->relations[k].coef);
    }
    free(l->relations);
    free(l->singular);
    memset(l, 0, sizeof *l);
}

void wf_dependence_deinit(wf_dependence *d) {
    if (!d)
        return;
    if (d->names)
        for (int c = 0; c < d->C; c++)
            free(d->names[c]);
    free(d->names);
    wf_dep_linear_deinit(&d->cells);
    wf_dep_linear_deinit(&d->means);
    free(d->corr);
    free(d->dist);
    free(d->merges);
    free(d->group_of);
    memset(d, 0, sizeof *d);
}

/* ---- symmetric eigenvalues (cyclic Jacobi) ---- */

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

void wf_dep_sym_eigenvalues(double *A, int n, double *eig) {
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                tot += A[i * n + j] * A[i * n + j];
                if (i != j)
                    off += A[i * n + j] * A[i * n + j];
            }
        if (off <= 1e-30 * tot || off == 0)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (apq == 0)
                    continue;
                double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
            }
    }
    for (int i = 0; i < n; i++)
        eig[i] = A[i * n + i];
    qsort(eig, (size_t)n, sizeof(double), cmp_desc);
}

/* ---- linear dependence from a covariance matrix ---- */

wf_status wf_dep_linear_from_cov(const double *cov, const double *mean, int64_t rows, int C,
                                 double exact_tol, double coef_min, wf_dep_linear *out,
                                 wf_error *err) {
    memset(out, 0, sizeof *out);
    out->rows = rows;
    double *sd = malloc(sizeof(double) * (size_t)C);
    double *R = malloc(sizeof(double) * (size_t)C * (size_t)C); /* correlation */
    double *L = calloc((size_t)C * (size_t)C, sizeof(double));  /* Cholesky of kept channels */
    double *y = malloc(sizeof(double) * (size_t)C);
    double *beta = malloc(sizeof(double) * (size_t)C);
    int *kept = malloc(sizeof(int) * (size_t)C);
    int *isconst = calloc((size_t)C, sizeof(int));
    out->singular = malloc(sizeof(double) * (size_t)C);
    out->relations = calloc((size_t)C, sizeof(wf_dep_relation));
    wf_status st = WF_OK;
    if (!sd || !R || !L || !y || !beta || !kept || !isconst || !out->singular || !out->relations) {
        st =
            wf_error_set(err, WF_ERR_NOMEM, "out of memory measuring dependence of %d channels", C);
        goto done;
    }
    for (int i = 0; i < C; i++) {
        double v = cov[i * C + i];
        sd[i] = v > 0 ? sqrt(v) : 0;
        /* constant: no spread beyond the rounding of its mean */
        if (!(sd[i] > 1e-12 * fmax(fabs(mean[i]), 1.0))) {
            isconst[i] = 1;
            out->n_constant++;
        }
    }
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++)
            R[i * C + j] = isconst[i] || isconst[j] ? (i == j) : cov[i * C + j] / (sd[i] * sd[j]);
    int r = 0; /* channels kept; L (r, r) lower triangular, row-major with stride C */
    for (int j = 0; j < C; j++) {
        wf_dep_relation *rel = &out->relations[out->n_relations];
        if (isconst[j]) { /* x_j = its mean: a combination of nothing */
            rel->channel = j;
            rel->intercept = mean[j];
            rel->residual_rms = sd[j];
            rel->residual_rel = 0;
            rel->sd = sd[j];
            out->n_relations++;
            continue;
        }
        /* y = L^-1 R[kept, j]; residual^2 = 1 - |y|^2 (standardized units) */
        double yy = 0;
        for (int a = 0; a < r; a++) {
            double s = R[kept[a] * C + j];
            for (int b = 0; b < a; b++)
                s -= L[a * C + b] * y[b];
            y[a] = s / L[a * C + a];
            yy += y[a] * y[a];
        }
        double res2 = 1 - yy;
        double res = res2 > 0 ? sqrt(res2) : 0;
        if (res > exact_tol) {
            for (int b = 0; b < r; b++)
                L[r * C + b] = y[b];
            L[r * C + r] = res;
            kept[r++] = j;
            continue;
        }
        /* beta = L^-T y: standardized coefficients on the kept channels */
        for (int a = r - 1; a >= 0; a--) {
            double s = y[a];
            for (int b = a + 1; b < r; b++)
                s -= L[b * C + a] * beta[b];
            beta[a] = s / L[a * C + a];
        }
        int nt = 0;
        for (int a = 0; a < r; a++)
            nt += fabs(beta[a]) >= coef_min;
        rel->channel = j;
        rel->basis = malloc(sizeof(int) * (size_t)(nt ? nt : 1));
        rel->coef = malloc(sizeof(double) * (size_t)(nt ? nt : 1));
        out->n_relations++;
        if (!rel->basis || !rel->coef) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto done;
        }
        double icpt = mean[j];
        for (int a = 0; a < r; a++) {
            if (fabs(beta[a]) < coef_min)
                continue;
            int k = kept[a];
            double c = beta[a] * sd[j] / sd[k]; /* back to the channels' own units */
            rel->basis[rel->n_terms] = k;
            rel->coef[rel->n_terms++] = c;
            icpt -= c * mean[k];
        }
        rel->intercept = icpt;
        rel->sd = sd[j];
        rel->residual_rel = res;
        rel->residual_rms = res * sd[j];
    }
    out->rank = r;
    wf_dep_sym_eigenvalues(R, C, out->singular);
    for (int i = 0; i < C; i++)
        out->singular[i] = out->singular[i] > 0 ? sqrt(out->singular[i]) : 0;
done:
    if (st)
        wf_dep_linear_deinit(out);
    free(sd);
    free(R);
    free(L);
    free(y);
    free(beta);
    free(kept);
    free(isconst);
    return st;
}

/* Weighted means and covariance of rows (rows, C) given by a row getter. */
typedef struct rows_src {
    const double *X; /* (rows, C) row-major, or NULL */
    const float *x;  /* windows (n, C, T), or NULL */
    int T;
    int window_means; /* 1: one row per window (its mean over steps) */
} rows_src;

static void get_row(const rows_src *s, int64_t r, int C, double *row) {
    if (s->X) {
        memcpy(row, s->X + (size_t)r * (size_t)C, sizeof(double) * (size_t)C);
        return;
    }
    size_t CT = (size_t)C * (size_t)s->T;
    if (s->window_means) {
        const float *xb = s->x + (size_t)r * CT;
        for (int c = 0; c < C; c++) {
            double m = 0;
            for (int t = 0; t < s->T; t++)
                m += xb[(size_t)c * (size_t)s->T + (size_t)t];
            row[c] = m / s->T;
        }
        return;
    }
    int64_t b = r / s->T, t = r % s->T;
    const float *xb = s->x + (size_t)b * CT;
    for (int c = 0; c < C; c++)
        row[c] = xb[(size_t)c * (size_t)s->T + (size_t)t];
}

/* weight of row r: w[r / per] / per (normalised by wsum) */
static wf_status moments(const rows_src *s, const double *w, int64_t rows, int64_t per, int C,
                         double *mean, double *cov, wf_error *err) {
    double *row = malloc(sizeof(double) * (size_t)C);
    if (!row)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    double wsum = 0;
    for (int64_t r = 0; r < rows; r += per)
        wsum += w ? w[r / per] : 1.0;
    if (!(wsum > 0)) {
        free(row);
        return wf_error_set(err, WF_ERR_INVALID, "dependence: the weights sum to %g (expected > 0)",
                            wsum);
    }
    for (int c = 0; c < C; c++)
        mean[c] = 0;
    for (int64_t r = 0; r < rows; r++) {
        double wr = (w ? w[r / per] : 1.0) / (wsum * (double)per);
        get_row(s, r, C, row);
        for (int c = 0; c < C; c++)
            mean[c] += wr * row[c];
    }
    memset(cov, 0, sizeof(double) * (size_t)C * (size_t)C);
    for (int64_t r = 0; r < rows; r++) { /* second pass on centered values */
        double wr = (w ? w[r / per] : 1.0) / (wsum * (double)per);
        get_row(s, r, C, row);
        for (int c = 0; c < C; c++)
            row[c] -= mean[c];
        for (int i = 0; i < C; i++) {
            double wi = wr * row[i];
            for (int j = i; j < C; j++)
                cov[i * C + j] += wi * row[j];
        }
    }
    for (int i = 0; i < C; i++)
        for (int j = 0; j < i; j++)
            cov[i * C + j] = cov[j * C + i];
    free(row);
    return WF_OK;
}

wf_status wf_dep_linear_measure(const double *X, const double *w, int64_t rows, int C,
                                double exact_tol, double coef_min, wf_dep_linear *out,
                                wf_error *err) {
    memset(out, 0, sizeof *out);
    if (rows < 2 || C < 1)
        return wf_error_set(err, WF_ERR_INVALID,
                            "dependence: %lld rows of %d channels (expected >= 2 rows, >= 1 "
                            "channel)",
                            (long long)rows, C);
    double *mean = malloc(sizeof(double) * (size_t)C);
    double *cov = malloc(sizeof(double) * (size_t)C * (size_t)C);
    wf_status st = !mean || !cov ? wf_error_set(err, WF_ERR_NOMEM, "out of memory") : WF_OK;
    rows_src s = {X, NULL, 1, 0};
    if (!st)
        st = moments(&s, w, rows, 1, C, mean, cov, err);
    if (!st)
        st = wf_dep_linear_from_cov(cov, mean, rows, C, exact_tol, coef_min, out, err);
    free(mean);
    free(cov);
    return st;
}

/* ---- complete linkage ---- */

wf_status wf_dep_complete_linkage(const double *D, int n, wf_dep_merge *merges, wf_error *err) {
    /* slots 0..n-1; a merge keeps the lower slot for the new cluster and retires the other */
    double *d = malloc(sizeof(double) * (size_t)n * (size_t)n);
    int *id = malloc(sizeof(int) * (size_t)n), *size = malloc(sizeof(int) * (size_t)n);
    uint8_t *alive = malloc((size_t)n);
    if (!d || !id || !size || !alive) {
        free(d);
        free(id);
        free(size);
        free(alive);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory clustering %d channels", n);
    }
    memcpy(d, D, sizeof(double) * (size_t)n * (size_t)n);
    for (int i = 0; i < n; i++) {
        id[i] = i;
        size[i] = 1;
        alive[i] = 1;
    }
    for (int k = 0; k < n - 1; k++) {
        int ba = -1, bb = -1;
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n && alive[a]; b++) {
                if (!alive[b])
                    continue;
                double v = d[a * n + b];
                /* ties: the pair with the smallest cluster ids (min id, then max id) */
                if (ba < 0 || v < d[ba * n + bb])
                    ba = a, bb = b;
                else if (v == d[ba * n + bb]) {
                    int lo = id[a] < id[b] ? id[a] : id[b], hi = id[a] ^ id[b] ^ lo;
                    int blo = id[ba] < id[bb] ? id[ba] : id[bb], bhi = id[ba] ^ id[bb] ^ blo;
                    if (lo < blo || (lo == blo && hi < bhi))
                        ba = a, bb = b;
                }
            }
        wf_dep_merge *m = &merges[k];
        m->a = id[ba] < id[bb] ? id[ba] : id[bb];
        m->b = id[ba] < id[bb] ? id[bb] : id[ba];
        m->height = d[ba * n + bb];
        m->size = size[ba] + size[bb];
        for (int c = 0; c < n; c++) { /* complete linkage: the farthest pair */
            if (!alive[c] || c == ba || c == bb)
                continue;
            double v = fmax(d[ba * n + c], d[bb * n + c]);
            d[ba * n + c] = d[c * n + ba] = v;
        }
        alive[bb] = 0;
        id[ba] = n + k;
        size[ba] = m->size;
    }
    free(d);
    free(id);
    free(size);
    free(alive);
    return WF_OK;
}

/* ---- union-find ---- */

static int uf_find(int *p, int i) {
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

static void uf_join(int *p, int a, int b) {
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b)
        p[a > b ? a : b] = a < b ? a : b;
}

/* ---- the whole measure ---- */

wf_status wf_dependence_measure(const float *x, const double *w, int64_t n, int C, int T,
                                char *const *names, const wf_dep_options *opt, wf_dependence *out,
                                wf_error *err) {
    memset(out, 0, sizeof *out);
    if (n < 2 || C < 1 || T < 1)
        return wf_error_set(err, WF_ERR_INVALID,
                            "dependence: %lld windows of %d x %d (expected >= 2 windows)",
                            (long long)n, C, T);
    if (opt)
        out->options = *opt;
    else
        wf_dep_options_default(&out->options);
    const wf_dep_options *o = &out->options;
    out->C = C;
    out->names = calloc((size_t)C, sizeof(char *));
    double *mean = malloc(sizeof(double) * (size_t)C);
    double *cov = malloc(sizeof(double) * (size_t)C * (size_t)C);
    int *uf = malloc(sizeof(int) * (size_t)(2 * C));
    out->corr = malloc(sizeof(double) * (size_t)C * (size_t)C);
    out->dist = malloc(sizeof(double) * (size_t)C * (size_t)C);
    out->merges = calloc((size_t)(C > 1 ? C - 1 : 1), sizeof(wf_dep_merge));
    out->group_of = malloc(sizeof(int) * (size_t)C);
    wf_status st = WF_OK;
    if (!out->names || !mean || !cov || !uf || !out->corr || !out->dist || !out->merges ||
        !out->group_of) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory measuring dependence");
        goto done;
    }
    for (int c = 0; c < C; c++) {
        char buf[32];
        const char *nm = names && names[c] ? names[c] : (snprintf(buf, sizeof buf, "c%d", c), buf);
        size_t len = strlen(nm) + 1;
        out->names[c] = malloc(len);
        if (!out->names[c]) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(out->names[c], nm, len);
    }
    /* window means */
    rows_src sm = {NULL, x, T, 1};
    st = moments(&sm, w, n, 1, C, mean, cov, err);
    if (!st)
        st = wf_dep_linear_from_cov(cov, mean, n, C, o->exact_tol, o->coef_min, &out->means, err);
    /* cells (last, so that cov holds the cells' covariance for the correlation) */
    rows_src sc = {NULL, x, T, 0};
    if (!st)
        st = moments(&sc, w, n * T, T, C, mean, cov, err);
    if (!st)
        st = wf_dep_linear_from_cov(cov, mean, n * T, C, o->exact_tol, o->coef_min, &out->cells,
                                    err);
    if (st)
        goto done;
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) {
            double si = cov[i * C + i], sj = cov[j * C + j];
            int ci = !(sqrt(si) > 1e-12 * fmax(fabs(mean[i]), 1.0));
            int cj = !(sqrt(sj) > 1e-12 * fmax(fabs(mean[j]), 1.0));
            double r = ci || cj ? NAN : cov[i * C + j] / sqrt(si * sj);
            if (!isnan(r))
                r = fmax(-1.0, fmin(1.0, r));
            out->corr[i * C + j] = i == j && !ci ? 1.0 : r;
            out->dist[i * C + j] = i == j ? 0.0 : isnan(r) ? 1.0 : 1.0 - fabs(r);
        }
    /* exact combinations: each dependent channel with the channels of its combination */
    for (int i = 0; i < C; i++)
        uf[i] = i;
    if (o->merge_exact)
        for (int k = 0; k < out->cells.n_relations; k++) {
            const wf_dep_relation *rel = &out->cells.relations[k];
            for (int t = 0; t < rel->n_terms; t++)
                uf_join(uf, rel->channel, rel->basis[t]);
        }
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++)
            if (i != j && uf_find(uf, i) == uf_find(uf, j))
                out->dist[i * C + j] = 0;
    if (C > 1) {
        st = wf_dep_complete_linkage(out->dist, C, out->merges, err);
        if (st)
            goto done;
    }
    /* flat clusters: the merges at height <= cut (as scipy's fcluster, criterion "distance") */
    for (int i = 0; i < 2 * C; i++)
        uf[i] = i;
    for (int k = 0; k < C - 1; k++)
        if (out->merges[k].height <= o->cut) {
            uf_join(uf, out->merges[k].a, C + k);
            uf_join(uf, out->merges[k].b, C + k);
        }
    out->n_groups = 0;
    for (int c = 0; c < C; c++) {
        int r = uf_find(uf, c), g = -1;
        for (int e = 0; e < c && g < 0; e++)
            if (uf_find(uf, e) == r)
                g = out->group_of[e];
        out->group_of[c] = g >= 0 ? g : out->n_groups++;
    }
done:
    free(mean);
    free(cov);
    free(uf);
    if (st)
        wf_dependence_deinit(out);
    return st;
}

/* ---- groups as players ---- */

wf_status wf_dependence_groups(const wf_dependence *d, int T, wf_group **out, int *n_out,
                               wf_error *err) {
    *out = NULL;
    *n_out = 0;
    wf_group *g = calloc((size_t)d->n_groups, sizeof *g);
    if (!g)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int k = 0; k < d->n_groups; k++) {
        int nc = 0;
        for (int c = 0; c < d->C; c++)
            nc += d->group_of[c] == k;
        g[k].n_cells = (int64_t)nc * T;
        g[k].cells = malloc(sizeof(int64_t) * (size_t)g[k].n_cells);
        if (!g[k].cells) {
            for (int j = 0; j <= k; j++)
                free(g[j].cells);
            free(g);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
        int64_t i = 0;
        size_t len = 0;
        int named = 0;
        char *nm = g[k].name;
        for (int c = 0; c < d->C; c++) {
            if (d->group_of[c] != k)
                continue;
            for (int t = 0; t < T; t++)
                g[k].cells[i++] = (int64_t)c * T + t;
            size_t l = strlen(d->names[c]);
            /* "a+b+c", or "a+b+3 more" when the next name would not fit with room for it */
            if (named == 0 || (named > 0 && len + 1 + l + 16 < sizeof g[k].name)) {
                /* the first name alone is cut to fit, leaving room for "+N more" */
                int room = (int)(sizeof g[k].name - len - (named || nc == 1 ? 1 : 16));
                len += (size_t)snprintf(nm + len, sizeof g[k].name - len, "%s%.*s",
                                        named ? "+" : "", room, d->names[c]);
                if (len >= sizeof g[k].name)
                    len = sizeof g[k].name - 1;
                named++;
            } else if (named >= 0) {
                snprintf(nm + len, sizeof g[k].name - len, "+%d more", nc - named);
                named = -1;
            }
        }
    }
    *out = g;
    *n_out = d->n_groups;
    return WF_OK;
}

/* ---- methods text ---- */

void wf_dependence_describe(const wf_dependence *d, char *buf, size_t size) {
    size_t o = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (o < size) {                                                                            \
            int n_ = snprintf(buf + o, size - o, __VA_ARGS__);                                     \
            if (n_ > 0)                                                                            \
                o += (size_t)n_;                                                                   \
        }                                                                                          \
    } while (0)
    if (size == 0)
        return;
    buf[0] = 0;
    const wf_dep_options *op = &d->options;
    ADD("Dependence among the %d channels was measured on %lld cells (%lld windows). Taking the "
        "channels in the log's order, a channel counts as an exact linear combination of the "
        "independent channels before it when its weighted least-squares residual has an RMS of "
        "at most %g of its standard deviation. Rank of the cell matrix: %d of %d; of the "
        "window-mean matrix: %d of %d. ",
        d->C, (long long)d->cells.rows, (long long)d->means.rows, op->exact_tol, d->cells.rank,
        d->C, d->means.rank, d->C);
    for (int k = 0; k < d->cells.n_relations; k++) {
        const wf_dep_relation *r = &d->cells.relations[k];
        if (r->n_terms == 0) {
            ADD("%s is constant (%g). ", d->names[r->channel], r->intercept);
            continue;
        }
        ADD("%s = ", d->names[r->channel]);
        for (int t = 0; t < r->n_terms; t++)
            ADD("%s%.6g %s", t ? (r->coef[t] < 0 ? " - " : " + ") : (r->coef[t] < 0 ? "-" : ""),
                fabs(r->coef[t]), d->names[r->basis[t]]);
        /* an intercept within the residual's size is noise: not printed */
        if (fabs(r->intercept) > fmax(r->residual_rms, 1e-7 * r->sd))
            ADD(" %s %.6g", r->intercept < 0 ? "-" : "+", fabs(r->intercept));
        if (r->residual_rel < 1e-7)
            ADD(" (residual below 1e-7 of its s.d., the resolution of the measure). ");
        else
            ADD(" (residual RMS %.3g, %.2g of its s.d.). ", r->residual_rms, r->residual_rel);
    }
    ADD("Channels were clustered by complete linkage on 1 - |r| (r the Pearson correlation of "
        "the cell values)%s; the groups are the clusters of that dendrogram cut at %g, so every "
        "two channels of a group have |r| >= %g%s. %d groups:",
        op->merge_exact ? ", with the channels of an exact combination at distance 0" : "", op->cut,
        1 - op->cut, op->merge_exact ? " or are tied by an exact combination" : "", d->n_groups);
    for (int k = 0; k < d->n_groups; k++) {
        ADD(" {");
        int first = 1;
        for (int c = 0; c < d->C; c++)
            if (d->group_of[c] == k) {
                ADD("%s%s", first ? "" : ", ", d->names[c]);
                first = 0;
            }
        ADD("}");
    }
    ADD(".");
#undef ADD
}

/*
 * Background sets for KernelSHAP and the IG baselines: a windows file (loaded by the caller:
 * the explain stage opens no file), windows drawn from the run (the unflagged ones by default,
 * those with the smallest seeded hash of turbine id and start), or a weighted k-means summary
 * (k-means++ seeding from the seed, Lloyd iterations on channel-standardized cells, centers in raw
 * units, weights = cluster sizes). Weights always sum to 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"

/* RNG stream of the k-means seeding: far from any window index. */
#define BG_STREAM 0xB4C6600D5EEDull
#define KMEANS_ITERS 100

void wf_background_deinit(wf_background *b) {
    if (!b)
        return;
    free(b->x);
    free(b->weight);
    free(b->src);
    memset(b, 0, sizeof *b);
}

wf_status wf_background_set_src(wf_background *b, const wf_window *const *w, const wf_window *wa,
                                int64_t n, wf_error *err) {
    free(b->src);
    b->src = malloc(sizeof *b->src * (size_t)(n > 0 ? n : 1));
    b->n_src = 0;
    if (!b->src)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        const wf_window *x = w ? w[i] : &wa[i];
        memcpy(b->src[i].turbine_id, x->turbine_id, WF_ID_MAX);
        b->src[i].start = x->start;
    }
    b->n_src = n;
    return WF_OK;
}

static wf_status bg_alloc(wf_background *b, int C, int T, int64_t n, wf_error *err) {
    memset(b, 0, sizeof *b);
    b->C = C;
    b->T = T;
    b->n = n;
    b->x = malloc(sizeof(float) * (size_t)n * (size_t)C * (size_t)T);
    b->weight = malloc(sizeof(double) * (size_t)n);
    if (!b->x || !b->weight) {
        wf_background_deinit(b);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory for %lld background windows",
                            (long long)n);
    }
    return WF_OK;
}

static wf_status from_file(const wf_explain_settings *s, const wf_windows *ws, wf_background *out,
                           wf_error *err) {
    const wf_windows *f = s->background_windows;
    if (!f)
        return wf_error_set(err, WF_ERR_INVALID,
                            "%s: the background file was not loaded (the caller loads it and "
                            "hands its windows in explain settings' background_windows)",
                            s->background_path);
    if (f->n < 1)
        return wf_error_set(err, WF_ERR_DATA, "%s: the background file holds no windows",
                            s->background_path);
    if (ws && (f->C != ws->C || f->T != ws->T))
        return wf_error_set(err, WF_ERR_SHAPE,
                            "%s: background windows are %d channels x %d steps, the windows to "
                            "explain are %d x %d",
                            s->background_path, f->C, f->T, ws->C, ws->T);
    wf_status st = bg_alloc(out, f->C, f->T, f->n, err);
    if (!st) {
        size_t CT = (size_t)f->C * (size_t)f->T;
        for (int64_t i = 0; i < f->n; i++) {
            memcpy(out->x + (size_t)i * CT, f->w[i].values, sizeof(float) * CT);
            out->weight[i] = 1.0 / (double)f->n;
        }
        const char *base = strrchr(s->background_path, '/');
        snprintf(out->description, sizeof out->description, "%lld windows from %.180s",
                 (long long)f->n, base ? base + 1 : s->background_path);
        st = wf_background_set_src(out, NULL, f->w, f->n, err);
        if (st)
            wf_background_deinit(out);
    }
    return st;
}

/* Candidate windows (unflagged unless include_flagged): indices into ws. */
static int64_t candidates(const wf_explain_settings *s, const wf_windows *ws, const uint8_t *flags,
                          int64_t *cand) {
    int64_t n = 0;
    for (int64_t i = 0; i < ws->n; i++)
        if (s->background_include_flagged || !flags || !flags[i])
            cand[n++] = i;
    return n;
}

typedef struct hkey {
    uint64_t h;
    int64_t i;
} hkey;

static int cmp_hkey(const void *a, const void *b) {
    const hkey *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static wf_status kmeans(const wf_explain_settings *s, const wf_windows *ws, const uint8_t *flags,
                        const int64_t *cand, int64_t n, int K, wf_background *out, wf_error *err) {
    int C = ws->C, T = ws->T;
    size_t CT = (size_t)C * (size_t)T;
    double *scale = malloc(sizeof(double) * (size_t)C);
    double *cent = malloc(sizeof(double) * (size_t)K * CT);
    double *dmin = malloc(sizeof(double) * (size_t)n);
    int *asg = malloc(sizeof(int) * (size_t)n);
    int64_t *cnt = malloc(sizeof(int64_t) * (size_t)K);
    wf_status st = WF_OK;
    if (!scale || !cent || !dmin || !asg || !cnt) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory for k-means");
        goto done;
    }
    /* per-channel standard deviation over all candidate cells: distances in std units */
    for (int c = 0; c < C; c++) {
        double m = 0, m2 = 0;
        for (int64_t i = 0; i < n; i++)
            for (int t = 0; t < T; t++) {
                double v = ws->w[cand[i]].values[(size_t)c * T + (size_t)t];
                m += v;
                m2 += v * v;
            }
        double N = (double)n * T;
        double var = m2 / N - (m / N) * (m / N);
        scale[c] = var > 0 ? 1.0 / sqrt(var) : 1.0;
    }
    wf_rng rng;
    wf_rng_init_stream(&rng, s->seed, BG_STREAM + 1);
    /* k-means++ seeding */
    int64_t first = (int64_t)wf_rng_below(&rng, (uint64_t)n);
    for (size_t i = 0; i < CT; i++)
        cent[i] = ws->w[cand[first]].values[i];
    for (int64_t i = 0; i < n; i++)
        dmin[i] = INFINITY;
    for (int k = 1; k <= K; k++) {
        const double *ck = cent + (size_t)(k - 1) * CT;
        double tot = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *xv = ws->w[cand[i]].values;
            double d = 0;
            for (size_t j = 0; j < CT; j++) {
                double e = ((double)xv[j] - ck[j]) * scale[j / (size_t)T];
                d += e * e;
            }
            if (d < dmin[i])
                dmin[i] = d;
            tot += dmin[i];
        }
        if (k == K)
            break;
        double u = wf_rng_uniform(&rng) * tot, c = 0;
        int64_t pick = n - 1;
        for (int64_t i = 0; i < n; i++) {
            c += dmin[i];
            if (u < c) {
                pick = i;
                break;
            }
        }
        for (size_t j = 0; j < CT; j++)
            cent[(size_t)k * CT + j] = ws->w[cand[pick]].values[j];
    }
    /* Lloyd */
    for (int it = 0; it < KMEANS_ITERS; it++) {
        int changed = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *xv = ws->w[cand[i]].values;
            double best = INFINITY;
            int bk = 0;
            for (int k = 0; k < K; k++) {
                const double *ck = cent + (size_t)k * CT;
                double d = 0;
                for (size_t j = 0; j < CT; j++) {
                    double e = ((double)xv[j] - ck[j]) * scale[j / (size_t)T];
                    d += e * e;
                }
                if (d < best) {
                    best = d;
                    bk = k;
                }
            }
            if (it == 0 || asg[i] != bk)
                changed = 1;
            asg[i] = bk;
        }
        if (!changed && it > 0)
            break;
        memset(cnt, 0, sizeof(int64_t) * (size_t)K);
        for (int64_t i = 0; i < n; i++)
            cnt[asg[i]]++;
        for (int k = 0; k < K; k++)
            if (cnt[k])
                memset(cent + (size_t)k * CT, 0, sizeof(double) * CT);
        for (int64_t i = 0; i < n; i++) {
            double *ck = cent + (size_t)asg[i] * CT;
            const float *xv = ws->w[cand[i]].values;
            for (size_t j = 0; j < CT; j++)
                ck[j] += xv[j];
        }
        for (int k = 0; k < K; k++)
            if (cnt[k])
                for (size_t j = 0; j < CT; j++)
                    cent[(size_t)k * CT + j] /= (double)cnt[k];
    }
    int used = 0;
    for (int k = 0; k < K; k++)
        used += cnt[k] > 0;
    st = bg_alloc(out, C, T, used, err);
    if (st)
        goto done;
    int o = 0;
    for (int k = 0; k < K; k++) {
        if (!cnt[k])
            continue;
        for (size_t j = 0; j < CT; j++)
            out->x[(size_t)o * CT + j] = (float)cent[(size_t)k * CT + j];
        out->weight[o++] = (double)cnt[k] / (double)n;
    }
    snprintf(out->description, sizeof out->description,
             "weighted k-means summary (%d clusters, k-means++ seeded with %llu, weights = "
             "cluster sizes) of %lld %s windows",
             used, (unsigned long long)s->seed, (long long)n,
             s->background_include_flagged || !flags ? "run" : "unflagged");
    {
        const wf_window **pw = malloc(sizeof *pw * (size_t)n);
        if (!pw) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        } else {
            for (int64_t i = 0; i < n; i++)
                pw[i] = &ws->w[cand[i]];
            st = wf_background_set_src(out, pw, NULL, n, err);
            free(pw);
        }
        if (st)
            wf_background_deinit(out);
    }
done:
    free(scale);
    free(cent);
    free(dmin);
    free(asg);
    free(cnt);
    return st;
}

wf_status wf_background_build(const wf_explain_settings *s, const wf_windows *ws,
                              const uint8_t *flags, wf_background *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    if (s->background == WF_BACKGROUND_FILE)
        return from_file(s, ws, out, err);
    if (!ws || ws->n < 1)
        return wf_error_set(err, WF_ERR_DATA, "no windows to draw a background from");
    if (s->background_size < 1)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "explain.background_size: found %d, expected a positive number",
                            s->background_size);
    int64_t *cand = malloc(sizeof(int64_t) * (size_t)ws->n);
    if (!cand)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    int64_t n = candidates(s, ws, flags, cand);
    wf_status st = WF_OK;
    if (n < 1) {
        st = wf_error_set(err, WF_ERR_DATA,
                          "every window is flagged: no unflagged window to draw the background "
                          "from (set explain.background_include_flagged or give a background "
                          "file)");
    } else if (s->background == WF_BACKGROUND_KMEANS) {
        int K = s->background_size < n ? s->background_size : (int)n;
        st = kmeans(s, ws, flags, cand, n, K, out, err);
    } else {
        /* The one "sample" rule (the audit's too, src/audit/stream.c): the k candidates with
         * the smallest seeded hash of (turbine id, start), in hash order. It depends only on
         * the windows, never on their order, the threads or the shards. */
        int64_t k = s->background_size < n ? s->background_size : n;
        hkey *hk = malloc(sizeof *hk * (size_t)n);
        if (!hk) {
            free(cand);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
        for (int64_t i = 0; i < n; i++) {
            const wf_window *w = &ws->w[cand[i]];
            hk[i] =
                (hkey){wf_seeded_hash(s->seed, wf_window_key(w->turbine_id, w->start)), cand[i]};
        }
        qsort(hk, (size_t)n, sizeof *hk, cmp_hkey);
        for (int64_t i = 0; i < k; i++)
            cand[i] = hk[i].i;
        free(hk);
        st = bg_alloc(out, ws->C, ws->T, k, err);
        if (!st) {
            size_t CT = (size_t)ws->C * (size_t)ws->T;
            const wf_window **pw = malloc(sizeof *pw * (size_t)k);
            for (int64_t i = 0; i < k; i++) {
                memcpy(out->x + (size_t)i * CT, ws->w[cand[i]].values, sizeof(float) * CT);
                out->weight[i] = 1.0 / (double)k;
                if (pw)
                    pw[i] = &ws->w[cand[i]];
            }
            st = pw ? wf_background_set_src(out, pw, NULL, k, err)
                    : wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            free(pw);
            if (st)
                wf_background_deinit(out);
            snprintf(out->description, sizeof out->description,
                     "%lld %s windows drawn by seeded hash (seed %llu) from %lld: those with "
                     "the smallest hash of turbine id and start",
                     (long long)k, s->background_include_flagged || !flags ? "run" : "unflagged",
                     (unsigned long long)s->seed, (long long)n);
        }
    }
    free(cand);
    return st;
}

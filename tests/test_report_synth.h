/*
 * Synthetic audit results for the report tests (written for these tests): 12 turbines WT01..WT12,
 * 8 SCADA channels with units, 10-minute cadence, windows of 36 steps (6 h) every 18 steps, a few
 * skipped windows, and alarm episodes:
 *   WT03  gearbox_oil_temp rises for a day, 4 flagged windows, gearbox failure 20 h later (true)
 *   WT07  vibration_rms spike, 2 flagged windows, no failure (false alarm)
 *   WT10  bearing_temp: a false alarm on day 2, a true alarm (bearing failure) on day 8
 *   WT05  one flagged window from a wind gust (false alarm)
 *   WT12  a generator failure with no alarm before it (missed)
 * Explanations are made up to be consistent: KernelSHAP values add up to score - base value and
 * the IG channel sums follow the same story. Everything is deterministic.
 */
#ifndef WF_TEST_REPORT_SYNTH_H
#define WF_TEST_REPORT_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/explain.h"
#include "whyflag/report.h"
#include "whyflag/results.h"

#define SY_C 8
#define SY_T 36
#define SY_STRIDE 18
#define SY_CAD 600
#define SY_DAYS 10
#define SY_T0 1709251200 /* 2024-03-01T00:00:00Z */

static const char *const sy_channels[SY_C] = {"wind_speed",   "rotor_rpm",        "power_kw",
                                              "pitch_deg",    "gearbox_oil_temp", "bearing_temp",
                                              "nacelle_temp", "vibration_rms"};
static const char *const sy_units[SY_C] = {"m/s",
                                           "rpm",
                                           "kW",
                                           "\xc2\xb0",
                                           "\xc2\xb0"
                                           "C",
                                           "\xc2\xb0"
                                           "C",
                                           "\xc2\xb0"
                                           "C",
                                           "mm/s"};

typedef struct sy_run {
    wf_windows ws;
    double *scores;
    uint8_t *flags;
    wf_failure failures[3];
    wf_explain_settings settings;
    wf_background bg;
    wf_explanation *expl;
    int64_t n_expl;
    wf_results r;
} sy_run;

static uint64_t sy_state;
static double sy_rand(void) { /* deterministic uniform [0,1) (LCG, test only) */
    sy_state = sy_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(sy_state >> 11) / 9007199254740992.0;
}

/* Anomaly of a turbine at time t: which channel drifts and by how much (0 = none). Turbines
 * past the twelfth (sy_build_n, larger fleets for tests/bench) repeat the four alarm stories in
 * turn, so every one of them is flagged. */
static double sy_anomaly(int tb, int64_t t, int *ch) {
    static const int story[4] = {2, 6, 9, 4};
    if (tb >= 12)
        tb = story[tb % 4];
    double day = (double)(t - SY_T0) / 86400.0;
    *ch = -1;
    if (tb == 2 && day > 6.0 && day < 7.6) { /* WT03 gearbox */
        *ch = 4;
        return (day - 6.0) / 1.6;
    }
    if (tb == 6 && day > 3.3 && day < 3.75) { /* WT07 vibration */
        *ch = 7;
        return 1.0;
    }
    if (tb == 9 && day > 1.5 && day < 1.8) { /* WT10 false */
        *ch = 5;
        return 0.8;
    }
    if (tb == 9 && day > 7.9 && day < 8.7) { /* WT10 true */
        *ch = 5;
        return (day - 7.9) / 0.8 + 0.3;
    }
    if (tb == 4 && day > 5.0 && day < 5.2) { /* WT05 gust */
        *ch = 0;
        return 1.0;
    }
    return 0;
}

static void sy_signal(int tb, int64_t t, float *v) {
    double hour = fmod((double)(t - SY_T0) / 3600.0, 24.0);
    double wind = 7.5 + 3.0 * sin((hour - 9) / 24.0 * 2 * 3.14159265) + 0.6 * (sy_rand() - 0.5) +
                  0.3 * tb / 12.0;
    int ch;
    double an = sy_anomaly(tb, t, &ch);
    if (ch == 0)
        wind += 9 * an;
    double rpm = fmin(16.0, 1.6 * wind) + 0.2 * (sy_rand() - 0.5);
    double power = fmin(2000.0, 1.9 * wind * wind * wind) + 20 * (sy_rand() - 0.5);
    double pitch = wind > 12 ? (wind - 12) * 2.5 : 0.5 + 0.2 * sy_rand();
    v[0] = (float)wind;
    v[1] = (float)rpm;
    v[2] = (float)power;
    v[3] = (float)pitch;
    v[4] = (float)(52 + 0.004 * power + (ch == 4 ? 14 * an : 0) + 0.5 * (sy_rand() - 0.5));
    v[5] = (float)(44 + 0.003 * power + (ch == 5 ? 11 * an : 0) + 0.5 * (sy_rand() - 0.5));
    v[6] = (float)(24 + 2 * sin(hour / 24 * 6.283) + 0.3 * (sy_rand() - 0.5));
    v[7] = (float)(1.6 + 0.05 * rpm + (ch == 7 ? 3.5 * an : 0) + 0.1 * (sy_rand() - 0.5));
}

static void sy_explain(sy_run *s, int64_t wi, wf_explanation *e) {
    const wf_window *w = &s->ws.w[wi];
    int tb = atoi(w->turbine_id + 2) - 1;
    int ch = -1;
    double an = 0;
    for (int64_t t = w->start; t <= w->end; t += SY_CAD) {
        int c;
        double a = sy_anomaly(tb, t, &c);
        if (c >= 0 && a >= an) {
            an = a;
            ch = c;
        }
    }
    memset(e, 0, sizeof *e);
    e->window_index = wi;
    e->score = s->scores[wi];
    e->status = WF_OK;
    e->has_kshap = e->has_ig = 1;
    wf_kshap_result *k = &e->kshap;
    k->M = SY_C;
    k->players = calloc(SY_C, sizeof(char *));
    k->values = calloc(SY_C, sizeof(double));
    k->std_err = calloc(SY_C, sizeof(double));
    k->base_value = 0.082;
    k->f_x = e->score;
    double total = k->f_x - k->base_value, rest = 0;
    /* the anomalous channel takes ~70%, a related one ~15%, the rest shares the remainder */
    double share[SY_C];
    for (int c = 0; c < SY_C; c++) {
        share[c] = 0.02 * (sy_rand() - 0.3);
        rest += share[c];
    }
    int rel = ch == 4 ? 2 : ch == 5 ? 7 : ch == 7 ? 1 : 2;
    share[ch] = 0.70;
    share[rel] = 0.15;
    rest = 0;
    for (int c = 0; c < SY_C; c++)
        rest += share[c];
    for (int c = 0; c < SY_C; c++) {
        k->players[c] = strdup(sy_channels[c]);
        k->values[c] = total * share[c] / rest;
        k->std_err[c] = 0.004 + 0.002 * sy_rand();
    }
    k->samples = 2048;
    k->exact = 0;
    k->converged = 1;
    k->link = WF_LINK_IDENTITY;
    k->efficiency_gap = 3.1e-9;
    wf_ig_result *g = &e->ig;
    g->C = SY_C;
    g->T = SY_T;
    g->values = calloc(SY_C * SY_T, sizeof(double));
    g->channel_sums = calloc(SY_C, sizeof(double));
    g->f_x = e->score;
    g->f_baseline = 0.095;
    double target = g->f_x - g->f_baseline, sum = 0;
    for (int c = 0; c < SY_C; c++) {
        double cs = target * share[c] / rest * (0.9 + 0.2 * sy_rand()), wsum = 0;
        double wt[SY_T];
        for (int t = 0; t < SY_T; t++) {
            wt[t] = c == ch ? 0.2 + (double)t / SY_T : 1.0 + 0.5 * sin(t * 0.7 + c);
            wsum += wt[t];
        }
        for (int t = 0; t < SY_T; t++)
            g->values[c * SY_T + t] = cs * wt[t] / wsum;
        g->channel_sums[c] = cs;
        sum += cs;
    }
    g->delta = sum - target;
    g->steps = 64;
    g->converged = 1;
    g->rule = WF_IG_GAUSS_LEGENDRE;
    g->baseline = "mean";
    e->agreement = 0.93 - 0.1 * sy_rand();
}

/* Build the run of n_turbines (12: the fleet above); generated_at fixed. */
static void sy_build_n(sy_run *s, int n_turbines) {
    memset(s, 0, sizeof *s);
    sy_state = 12345;
    wf_error err;
    wf_windows_init(&s->ws, SY_C, SY_T, sy_channels, sy_units, &err);
    s->ws.stride = SY_STRIDE;
    s->ws.cadence = SY_CAD;
    int64_t nwin = (SY_DAYS * 144 - SY_T) / SY_STRIDE + 1;
    float *vals = malloc(sizeof(float) * SY_C * SY_T);
    float *col = malloc(sizeof(float) * SY_C);
    size_t cap = (size_t)n_turbines * (size_t)nwin;
    s->scores = calloc(cap, sizeof(double));
    s->flags = calloc(cap, sizeof(uint8_t));
    s->failures[0] = (wf_failure){"WT03", SY_T0 + (int64_t)(7.6 * 86400) + 1200, "gearbox"};
    s->failures[1] = (wf_failure){"WT10", SY_T0 + (int64_t)(8.7 * 86400) + 600, "main bearing"};
    s->failures[2] = (wf_failure){"WT12", SY_T0 + (int64_t)(4.2 * 86400), "generator"};
    for (int tb = 0; tb < n_turbines; tb++) {
        char id[16];
        snprintf(id, sizeof id, "WT%02d", tb + 1);
        for (int64_t k = 0; k < nwin; k++) {
            int64_t start = SY_T0 + k * SY_STRIDE * SY_CAD;
            if ((tb == 1 && (k == 20 || k == 21)) || (tb == 8 && k == 33)) {
                wf_skipped sk = {0};
                snprintf(sk.turbine_id, sizeof sk.turbine_id, "%s", id);
                sk.start = start;
                char iso[32];
                snprintf(sk.reason, sizeof sk.reason,
                         "missing row at %s (scada_log.csv has no row for this grid point)",
                         wf_time_format_iso(start + 7 * SY_CAD, iso));
                wf_windows_push_skipped(&s->ws, &sk, &err);
                continue;
            }
            double amax = 0;
            for (int t = 0; t < SY_T; t++) {
                int64_t tt = start + t * SY_CAD;
                sy_signal(tb, tt, col);
                for (int c = 0; c < SY_C; c++)
                    vals[c * SY_T + t] = col[c];
                int ch;
                double an = sy_anomaly(tb, tt, &ch);
                if (an > amax)
                    amax = an;
            }
            wf_window w = {0};
            w.index = -1;
            snprintf(w.turbine_id, sizeof w.turbine_id, "%s", id);
            w.start = start;
            w.end = start + (SY_T - 1) * SY_CAD;
            w.values = vals;
            w.label = 0;
            for (int f = 0; f < 3; f++)
                if (strcmp(s->failures[f].turbine_id, id) == 0 && s->failures[f].time > w.end &&
                    s->failures[f].time <= w.end + 72 * 3600) {
                    w.label = 1;
                    snprintf(w.component, sizeof w.component, "%s", s->failures[f].component);
                }
            int64_t i = s->ws.n;
            wf_windows_push(&s->ws, &w, &err);
            double sc = 0.03 + 0.08 * sy_rand() + 0.9 * fmin(1.0, amax * 1.1);
            if (sc > 0.985)
                sc = 0.985;
            s->scores[i] = sc;
            s->flags[i] = sc >= 0.5;
        }
    }
    free(vals);
    free(col);
    /* background: 30 unflagged windows */
    s->bg.C = SY_C;
    s->bg.T = SY_T;
    s->bg.n = 30;
    s->bg.x = malloc(sizeof(float) * 30 * SY_C * SY_T);
    s->bg.weight = malloc(sizeof(double) * 30);
    for (int b = 0, i = 0; b < 30; i += 7) {
        if (s->flags[i])
            continue;
        memcpy(s->bg.x + (size_t)b * SY_C * SY_T, s->ws.w[i].values, sizeof(float) * SY_C * SY_T);
        s->bg.weight[b++] = 1.0 / 30;
    }
    snprintf(s->bg.description, sizeof s->bg.description,
             "30 unflagged windows drawn with seed 7 from the run's windows");
    /* the documented defaults (explain.h), set here so the test needs no explain module */
    memset(&s->settings, 0, sizeof s->settings);
    s->settings.max_samples = 65536;
    s->settings.convergence = 0.01;
    s->settings.max_steps = 1024;
    s->settings.ig_tol = 0.01;
    s->settings.eg_samples = 200;
    s->settings.do_kernelshap = s->settings.do_ig = 1;
    s->settings.nsamples = 2048;
    s->settings.steps = 64;
    s->settings.seed = 7;
    s->settings.background_size = 30;
    s->expl = calloc((size_t)s->ws.n, sizeof *s->expl);
    for (int64_t i = 0; i < s->ws.n; i++)
        if (s->flags[i])
            sy_explain(s, i, &s->expl[s->n_expl++]);
    wf_results *r = &s->r;
    r->tool = "whyflag 0.1.0";
    r->command = "audit";
    r->model_path = "models/aurora_cnn1d_int8.onnx";
    snprintf(r->model_sha256, sizeof r->model_sha256, "%s",
             "3f1a9c0d5e7b2a4c6d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e");
    r->model_quantized = 1;
    r->surrogate = "the float model the int8 model was quantized from";
    r->threshold = 0.5;
    r->generated_at = 1717200000; /* 2024-06-01T00:00:00Z */
    r->settings = &s->settings;
    r->background = &s->bg;
    r->windows = &s->ws;
    r->scores = s->scores;
    r->flagged = s->flags;
    r->n_failures = 3;
    r->failures = s->failures;
    r->horizon_hours = 72;
    r->n_explained = s->n_expl;
    r->expl = s->expl;
}

static void sy_build(sy_run *s) {
    sy_build_n(s, 12);
}

static void sy_free(sy_run *s) {
    for (int64_t i = 0; i < s->n_expl; i++) {
        wf_explanation *e = &s->expl[i];
        for (int c = 0; c < e->kshap.M; c++)
            free(e->kshap.players[c]);
        free(e->kshap.players);
        free(e->kshap.values);
        free(e->kshap.std_err);
        free(e->ig.values);
        free(e->ig.channel_sums);
    }
    free(s->expl);
    free(s->bg.x);
    free(s->bg.weight);
    free(s->scores);
    free(s->flags);
    wf_windows_free(&s->ws);
}

#endif

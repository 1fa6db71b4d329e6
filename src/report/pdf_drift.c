/*
 * The PDF's "Data and model drift" chapter (issue 16): what was compared, a plain-words reading,
 * the per-channel table with the decisions, the turbine x channel heat map, the trend per period
 * and the model's signals per period (scores, precision and recall). Also the one sentence an
 * episode page prints when its window lies outside the reference.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/drift_impl.h"
#include "report/pdf_impl.h"

void pdf_drift_window_line(pdf_ctx *p, int64_t wi) {
    const wf_results_drift *d = p->r->drift;
    if (!d)
        return;
    int64_t j = wf_drift_window_row(d, wi);
    char buf[1024];
    if (j >= 0 && wf_drift_window_sentence(p->a, j, buf, sizeof buf)[0])
        pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW, buf);
}

static const char *DEFAULT_TEXT =
    "Is the log still like the data the model was validated on? Each channel's values in the "
    "reference are compared with its values since then, row by row, with the tests Evidently "
    "uses: the Kolmogorov-Smirnov statistic and p-value, the Wasserstein distance divided by the "
    "reference's standard deviation, and the population stability index (PSI). A channel has "
    "drifted when the normed Wasserstein distance reaches the threshold (or, for a reference of "
    "at most 1,000 values, when the KS p-value is below alpha). Drift does not say the model is "
    "wrong; it says where its validation no longer covers what it sees.";

static void fmt(char *b, size_t n, double v, const char *f) {
    if (isfinite(v))
        snprintf(b, n, f, v);
    else
        snprintf(b, n, "n/a");
}

/* The plain-words reading of the numbers. */
static void reading(pdf_ctx *p, const wf_drift_concept *cc) {
    const wf_analysis *a = p->a;
    const wf_results_drift *d = p->r->drift;
    int C = a->C;
    char buf[2048], names[1024] = "";
    int nd = 0, best = -1;
    size_t used = 0;
    for (int c = 0; c < C; c++) {
        const wf_drift_channel *x = &d->fleet[c];
        if (!x->drifted)
            continue;
        nd++;
        if (used + 80 < sizeof names)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                                     wf_an_channel(a, c));
        if (best < 0 || x->wasserstein_normed > d->fleet[best].wasserstein_normed)
            best = c;
    }
    int ev = 0;
    for (int c = 0; c < C; c++)
        ev |= d->fleet[c].evaluated;
    if (!ev) {
        snprintf(buf, sizeof buf,
                 "Reading: nothing could be compared: the reference or the current rows hold no "
                 "value (check drift.reference against the period of the log).");
    } else if (nd == 0) {
        snprintf(buf, sizeof buf,
                 "Reading: no channel drifted fleet-wide between the reference and the rest of "
                 "the log; the model sees data like the data it was checked on.");
    } else {
        snprintf(buf, sizeof buf,
                 "Reading: %d of %d channels drifted fleet-wide (%s). The largest shift is in %s, "
                 "whose values moved by %.2f reference standard deviations on average (normed "
                 "Wasserstein distance; PSI %.2f).",
                 nd, C, names, wf_an_channel(a, best), d->fleet[best].wasserstein_normed,
                 d->fleet[best].psi);
    }
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    /* the turbine with the most drifted channels */
    int64_t bt = -1;
    int bn = 0;
    for (int64_t t = 0; t < d->n_turbines; t++) {
        int n = 0;
        for (int c = 0; c < C; c++)
            n += d->by_turbine[(size_t)t * (size_t)C + (size_t)c].drifted;
        if (n > bn) {
            bn = n;
            bt = t;
        }
    }
    int64_t nout = 0;
    for (int64_t j = 0; j < d->n_windows; j++)
        nout += d->outside[j];
    char tb[256] = "";
    if (bt >= 0)
        snprintf(tb, sizeof tb,
                 "%s has the most drifted channels against its own reference (%d "
                 "of %d). ",
                 d->turbine[bt], bn, C);
    snprintf(buf, sizeof buf,
             "%s%lld of the %lld explained windows lie outside the reference (a channel's mean "
             "beyond the %g%%-%g%% range of the reference windows' means): for those the model "
             "is extrapolating, and their explanations deserve less trust.",
             tb, (long long)nout, (long long)d->n_windows, 100 * d->settings.oor_q_lo,
             100 * d->settings.oor_q_hi);
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    /* concept: flags and precision across periods */
    int64_t pf = -1, pl = -1;
    for (int64_t k = 0; k < cc->n_periods; k++)
        if (isfinite(cc->precision[k])) {
            if (pf < 0)
                pf = k;
            pl = k;
        }
    if (pf >= 0 && pl > pf) {
        snprintf(buf, sizeof buf,
                 "Model signals: precision of the flags went from %.2f in %s to %.2f in %s; the "
                 "table below gives the flags, precision, recall and score quantiles of every "
                 "period.",
                 cc->precision[pf], d->period_label[pf], cc->precision[pl], d->period_label[pl]);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    }
}

/* The drift charts read the analysis only: their arguments are its pointer. */
static wf_status draw_drift_heatmap(const wf_chart_ctx *cx, const void *args, double w_pt,
                                    double h_pt, wf_png *out, wf_error *err) {
    return wf_chart_drift_heatmap(cx, *(const wf_analysis *const *)args, w_pt, h_pt, out, err);
}

static wf_status draw_drift_trend(const wf_chart_ctx *cx, const void *args, double w_pt,
                                  double h_pt, wf_png *out, wf_error *err) {
    return wf_chart_drift_trend(cx, *(const wf_analysis *const *)args, w_pt, h_pt, out, err);
}

wf_status pdf_sec_drift(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    const wf_analysis *a = p->a;
    const wf_results_drift *d = p->r->drift;
    if (!d)
        return WF_OK;
    int C = a->C;
    wf_status st = WF_OK;
    if (sec) {
        st = pdf_tpl_heading(p, sec, "Data and model drift", err);
        if (!st)
            st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    } else {
        pdf_new_page(p);
        HPDF_Outline o = HPDF_CreateOutline(p->doc, NULL, "Data and model drift", NULL);
        HPDF_Outline_SetDestination(o, HPDF_Page_CreateDestination(p->page));
        pdf_heading(p, "Data and model drift", 0);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, DEFAULT_TEXT);
    }
    if (st)
        return st;
    wf_drift_concept cc;
    if ((st = wf_drift_concept_build(a, &cc, err)))
        return st;
    char buf[2048];
    snprintf(buf, sizeof buf,
             "Reference: %s (%lld windows). Current: every other row of the log. "
             "Periods: %s (UTC).",
             d->reference, (long long)d->n_ref_windows, d->period);
    if (d->reference_is_log)
        snprintf(buf, sizeof buf,
                 "Reference: %s (%lld windows). Current: every row of the audited log. Periods: "
                 "%s (UTC).",
                 d->reference, (long long)d->n_ref_windows, d->period);
    pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW, buf);
    reading(p, &cc);

    /* per-channel table */
    static const double w[] = {90, 45, 55, 42, 52, 68, 40, 103};
    static const char al[] = {'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'};
    static const char *const head[] = {"Channel", "n ref.",      "n current", "KS D",
                                       "KS p",    "Wasserstein", "PSI",       "Decision"};
    pdf_ensure(p, 30 + 14 * C);
    pdf_table t = {8, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    for (int c = 0; c < C; c++) {
        const wf_drift_channel *x = &d->fleet[c];
        char c1[32], c2[32], c3[32], c4[32], c5[32], c6[32], c7[64];
        snprintf(c1, sizeof c1, "%zu", x->n_ref);
        snprintf(c2, sizeof c2, "%zu", x->n_cur);
        fmt(c3, sizeof c3, x->ks_statistic, "%.3f");
        fmt(c4, sizeof c4, x->ks_pvalue, x->ks_pvalue < 1e-3 ? "%.1e" : "%.3f");
        fmt(c5, sizeof c5, x->wasserstein_normed, "%.3f");
        fmt(c6, sizeof c6, x->psi, "%.3f");
        snprintf(c7, sizeof c7, "%s",
                 !x->evaluated ? "not evaluated"
                 : x->drifted  ? (x->method == WF_DRIFT_METHOD_KS ? "drifted (KS p)"
                                                                  : "drifted (Wasserstein)")
                               : "no drift");
        const char *cells[] = {wf_an_channel(a, c), c1, c2, c3, c4, c5, c6, c7};
        pdf_table_row(p, &t, cells);
    }
    p->y -= 8;

    /* heat map */
    const wf_analysis *args = a;
    double hh = fmin(110 + 16 * (double)d->n_turbines, 620);
    pdf_ensure(p, hh + 20);
    pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 10,
                "Per turbine and channel: each turbine's current rows against its own reference "
                "rows");
    p->y -= 14;
    st = pdf_chart(p, draw_drift_heatmap, &args, sizeof args, 0, PDF_TW, hh, err);

    /* trend */
    double th = 200;
    if (!st) {
        pdf_ensure(p, th + 20);
        snprintf(buf, sizeof buf,
                 "Per %s: its current rows against the whole reference (a gap: no current row)",
                 d->period);
        pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 10, buf);
        p->y -= 14;
        st = pdf_chart(p, draw_drift_trend, &args, sizeof args, 0, PDF_TW, th, err);
    }

    /* reliance: mean |attribution| per channel, flagged windows and the unflagged sample (drawn
     * here, on the calling thread: its figures live in this function's `cc`) */
    wf_png png = {0};
    if (!st) {
        pdf_ensure(p, th + 20);
        snprintf(buf, sizeof buf,
                 "Reliance per %s: mean |attribution|, flagged (solid) and %lld unflagged a %s "
                 "(dashed)",
                 d->period, (long long)d->unflagged_per_period, d->period);
        pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 10, buf);
        p->y -= 14;
        st = wf_chart_drift_reliance(&p->cx, a, &cc, PDF_TW, th, &png, err);
    }
    if (!st)
        st = pdf_image(p, &png, 0, PDF_TW, th, err);
    wf_png_free(&png);

    /* model signals per period */
    if (!st) {
        pdf_ensure(p, 40 + 14 * (double)(d->n_periods < 20 ? d->n_periods : 20));
        pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 10,
                    "Model signals per period (windows by the period of their end)");
        p->y -= 14;
        static const double w2[] = {50, 50, 48, 50, 40, 70, 57, 62, 68};
        static const char al2[] = {'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'};
        static const char *const head2[] = {"Period",    "Windows",     "Flagged",
                                            "Precision", "Recall",      "Median score",
                                            "q95 score", "Drifted ch.", "Top |attr.|"};
        pdf_table t2 = {9, w2, al2, head2, 8.5, 0, NULL};
        pdf_table_begin(p, &t2);
        for (int64_t k = 0; k < d->n_periods; k++) {
            char c1[32], c2[32], c3[32], c4[32], c5[32], c6[32], c7[32], c8[96];
            snprintf(c1, sizeof c1, "%lld", (long long)cc.windows[k]);
            snprintf(c2, sizeof c2, "%lld", (long long)cc.flagged[k]);
            fmt(c3, sizeof c3, cc.precision[k], "%.2f");
            fmt(c4, sizeof c4, cc.recall[k], "%.2f");
            fmt(c5, sizeof c5, cc.score_q[(size_t)k * WF_DRIFT_NQ + 2], "%.3f");
            fmt(c6, sizeof c6, cc.score_q[(size_t)k * WF_DRIFT_NQ + 4], "%.3f");
            int ndr = 0, ev = 0, top = -1;
            for (int c = 0; c < C; c++) {
                const wf_drift_channel *x = &d->by_period[(size_t)k * (size_t)C + (size_t)c];
                ndr += x->drifted;
                ev |= x->evaluated;
                double v = cc.attr[(size_t)k * (size_t)C + (size_t)c];
                if (isfinite(v) && (top < 0 || v > cc.attr[(size_t)k * (size_t)C + (size_t)top]))
                    top = c;
            }
            if (ev)
                snprintf(c7, sizeof c7, "%d of %d", ndr, C);
            else
                snprintf(c7, sizeof c7, "n/a");
            snprintf(c8, sizeof c8, "%s", top >= 0 ? wf_an_channel(a, top) : "-");
            const char *cells[] = {d->period_label[k], c1, c2, c3, c4, c5, c6, c7, c8};
            pdf_table_row(p, &t2, cells);
        }
    }
    wf_drift_concept_free(&cc);
    return st;
}

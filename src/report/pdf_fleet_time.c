/*
 * Time context in the fleet report (issue 14): the "Score timelines" chapter (every flagged
 * turbine's score over the audited period, drawn by the per-turbine PDFs' own chart,
 * wf_chart_timeline, four to a page) and the "Attributions across alarm windows" chapter (the
 * distribution of each channel's attribution over every explained alarm window, true alarms
 * beside false alarms: attr_dist.c, charts_dist.c). Both are bounded: at most WF_TIMELINES_MAX
 * timelines (8 pages) and one chart with one table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/pdf_impl.h"
#include "report/time_impl.h"

static int by_score_desc(const wf_analysis *a, int x, int y) {
    double sx = a->turbines[x].max_score, sy = a->turbines[y].max_score;
    if (sx != sy)
        return sx < sy ? 1 : -1;
    return (x > y) - (x < y);
}

wf_status pdf_sec_timelines(pdf_ctx *p, wf_error *err) {
    const wf_analysis *a = p->a;
    const wf_results *r = p->r;
    if (!r->scores || p->only_turbine >= 0)
        return WF_OK;
    int n = 0;
    for (int i = 0; i < a->n_turbines; i++)
        n += a->turbines[i].flagged > 0;
    if (n == 0)
        return WF_OK;
    int *ti = malloc((size_t)n * sizeof *ti);
    if (!ti)
        return wf_error_set(err, WF_ERR_NOMEM, "report.pdf: out of memory (score timelines)");
    n = 0;
    for (int i = 0; i < a->n_turbines; i++)
        if (a->turbines[i].flagged > 0)
            ti[n++] = i;
    int shown = n;
    if (n > WF_TIMELINES_MAX) { /* the highest scores, then back in turbine order */
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && by_score_desc(a, ti[j - 1], ti[j]) > 0; j--) {
                int t = ti[j];
                ti[j] = ti[j - 1];
                ti[j - 1] = t;
            }
        shown = WF_TIMELINES_MAX;
        for (int i = 1; i < shown; i++)
            for (int j = i; j > 0 && ti[j - 1] > ti[j]; j--) {
                int t = ti[j];
                ti[j] = ti[j - 1];
                ti[j - 1] = t;
            }
    }
    wf_status st = pdf_tpl_heading(p, NULL, "Score timelines", err);
    if (st) {
        free(ti);
        return st;
    }
    char buf[1200], thr[32], hs[32];
    snprintf(buf, sizeof buf,
             "Each flagged turbine's score over the audited period, window by window (the score "
             "is drawn at the end of its window), against the threshold %s. The line breaks "
             "where the turbine has no scored window (a gap in the log or skipped windows); "
             "hatched bands mark the gaps longer than a window stride. Every alarm episode is "
             "detailed in the Alarm episodes chapter; each turbine's justification PDF and its "
             "workbook sheet draw the same timeline.",
             pdf_score(p, r->threshold, thr));
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    pdf_rgb(p, 0x555555);
    pdf_paragraph(p, p->font, 8, PDF_ML, PDF_TW, pdf_w(p, "tl_legend"));
    pdf_rgb(p, 0x000000);
    if (shown < n) {
        snprintf(buf, sizeof buf,
                 "Only the %d flagged turbines with the highest scores are drawn here (of %d); "
                 "the workbook's turbine sheets and the turbines' PDFs have every one.",
                 shown, n);
        pdf_paragraph(p, p->bold, 9, PDF_ML, PDF_TW, buf);
    }
    const double h = 138;
    for (int k = 0; k < shown && !st; k++) {
        int t = ti[k];
        const wf_turbine_summary *s = &a->turbines[t];
        int nt = 0, nr = 0, nf = 0;
        for (int e = 0; e < a->n_episodes; e++)
            if (a->episodes[e].turbine == t) {
                nt += a->episodes[e].outcome == WF_OUTCOME_TRUE;
                nr += a->episodes[e].outcome == WF_OUTCOME_REPEAT;
                nf += a->episodes[e].outcome == WF_OUTCOME_FALSE;
            }
        char oc[96] = "";
        size_t o = 0;
        const int cnt[3] = {nt, nr, nf};
        static const char *const what[3] = {"true", "repeat", "false"};
        for (int q = 0; q < 3; q++)
            if (cnt[q] > 0 && o < sizeof oc)
                o += (size_t)snprintf(oc + o, sizeof oc - o, "%s%d %s", o ? ", " : ": ", cnt[q],
                                      what[q]);
        snprintf(buf, sizeof buf,
                 "%s  \xc2\xb7  max score %s  \xc2\xb7  %lld of %lld windows flagged  "
                 "\xc2\xb7  %lld episode%s%s  \xc2\xb7  %lld failure%s",
                 s->id, pdf_score(p, s->max_score, hs), (long long)s->flagged, (long long)s->scored,
                 (long long)s->episodes, s->episodes == 1 ? "" : "s", oc, (long long)s->failures,
                 s->failures == 1 ? "" : "s");
        pdf_ensure(p, h + 22);
        char fit[1200];
        pdf_fit(p, p->bold, 8.5, PDF_TW, buf, fit, sizeof fit);
        pdf_rgb(p, 0x1b3a5c);
        pdf_text_at(p, p->bold, 8.5, PDF_ML, p->y - 12, fit);
        pdf_rgb(p, 0x000000);
        p->y -= 16;
        wf_png png = {0};
        st = wf_chart_timeline(&p->cx, a, t, &p->words, PDF_TW, h, &png, err);
        if (!st)
            st = pdf_image(p, &png, 0, PDF_TW, h, err);
        wf_png_free(&png);
        p->y -= 4;
    }
    free(ti);
    return st;
}

wf_status pdf_sec_attr_dist(pdf_ctx *p, wf_error *err) {
    const wf_analysis *a = p->a;
    if (p->only_turbine >= 0)
        return WF_OK;
    wf_attr_dist d;
    wf_status st = wf_attr_dist_build(a, &d, err);
    if (st)
        return st;
    int64_t total = d.n[0] + d.n[1] + d.n[2];
    if (total == 0) {
        wf_attr_dist_free(&d);
        return WF_OK;
    }
    st = pdf_tpl_heading(p, NULL, "Attributions across alarm windows", err);
    if (st) {
        wf_attr_dist_free(&d);
        return st;
    }
    char buf[1600], kind[200], hh[32];
    size_t o = (size_t)snprintf(
        buf, sizeof buf,
        "Every explained window of an alarm episode, channel by channel, so that one episode's "
        "explanation can be read against all the others. Attribution: %s, how much the channel "
        "moved the window's score from %s. Windows: ",
        wf_attr_dist_kind(&d, kind, sizeof kind),
        d.n_ig > 0 && d.n_kshap == 0 ? "the score of the IG reference (baseline)"
                                     : "the base value");
    wf_report_fmt_num(&p->words, hh, sizeof hh, p->r->horizon_hours, 0);
    if (d.n[WF_AD_TRUE] + d.n[WF_AD_FALSE] > 0)
        o += (size_t)snprintf(buf + o, sizeof buf - o,
                              "%lld from true alarms (%lld episodes; repeat alarms included: a "
                              "failure followed within %s h) and %lld from false alarms (%lld "
                              "episodes)",
                              (long long)d.n[WF_AD_TRUE], (long long)d.n_episodes[WF_AD_TRUE], hh,
                              (long long)d.n[WF_AD_FALSE], (long long)d.n_episodes[WF_AD_FALSE]);
    if (d.n[WF_AD_UNKNOWN] > 0 && o < sizeof buf)
        o += (size_t)snprintf(
            buf + o, sizeof buf - o, "%s%lld from alarms without a failure log (%lld episodes)",
            d.n[WF_AD_TRUE] + d.n[WF_AD_FALSE] > 0 ? "; " : "", (long long)d.n[WF_AD_UNKNOWN],
            (long long)d.n_episodes[WF_AD_UNKNOWN]);
    if (o < sizeof buf)
        o += (size_t)snprintf(buf + o, sizeof buf - o,
                              ". Channels are sorted by their mean |attribution| over these "
                              "windows, largest first.");
    if (d.n_outside > 0 && o < sizeof buf)
        snprintf(buf + o, sizeof buf - o,
                 " %lld explained windows outside any alarm episode are not drawn.",
                 (long long)d.n_outside);
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    int ng = (d.n[0] > 0) + (d.n[1] > 0) + (d.n[2] > 0);
    double h = fmin(62 + d.C * (8 + 13.0 * ng), 560);
    wf_png png = {0};
    st = wf_chart_attr_dist(&p->cx, a, &d, PDF_TW, h, &png, err);
    if (!st)
        st = pdf_image(p, &png, 0, PDF_TW, h, err);
    wf_png_free(&png);
    if (st) {
        wf_attr_dist_free(&d);
        return st;
    }
    /* the numbers of the chart (also in results.json, attribution_distribution) */
    int gs[2], n2 = 0;
    for (int g = 0; g < WF_AD_GROUPS && n2 < 2; g++)
        if (d.n[g] > 0)
            gs[n2++] = g;
    static const char *const gname[WF_AD_GROUPS] = {"true", "false", "no log"};
    char h1[48], h2[48], h3[48], h4[48];
    snprintf(h1, sizeof h1, "Median, %s", gname[gs[0]]);
    snprintf(h2, sizeof h2, "Q1 to Q3, %s", gname[gs[0]]);
    if (n2 > 1) {
        snprintf(h3, sizeof h3, "Median, %s", gname[gs[1]]);
        snprintf(h4, sizeof h4, "Q1 to Q3, %s", gname[gs[1]]);
    }
    static const double w2[] = {90, 62, 72, 100, 72, 99};
    static const double w1[] = {160, 80, 120, 135};
    static const char al[] = {'l', 'r', 'r', 'r', 'r', 'r'};
    const char *const head[] = {"Channel", "Mean |attr.|", h1, h2, h3, h4};
    pdf_table t = {n2 > 1 ? 6 : 4, n2 > 1 ? w2 : w1, al, head, 8.5, 0, NULL};
    p->y -= 4;
    pdf_table_begin(p, &t);
    for (int i = 0; i < d.C; i++) {
        int c = d.order[i];
        char cells[6][64];
        snprintf(cells[0], 64, "%s", wf_an_channel(a, c));
        snprintf(cells[1], 64, "%.3f", d.mean_abs[c]);
        for (int k = 0; k < n2; k++) {
            const wf_attr_stats *s = &d.stats[gs[k]][c];
            snprintf(cells[2 + 2 * k], 64, "%+.3f", s->median);
            snprintf(cells[3 + 2 * k], 64, "%+.3f to %+.3f", s->q1, s->q3);
        }
        const char *row[] = {cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]};
        pdf_table_row(p, &t, row);
    }
    wf_attr_dist_free(&d);
    return WF_OK;
}

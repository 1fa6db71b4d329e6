/*
 * The PDF's "Model comparison" chapter (issue 15): what A and B are, a plain-words reading of the
 * paired figures, the summary table with 95% bootstrap intervals, the agreement table, the
 * scatter of both scores with both thresholds, the arms as deployed, the disagreements with the
 * waterfall of the difference game, the attribution agreement where both flag, and the fidelity
 * of a student to its teacher. Every number here is also in results.json's "comparison".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare_impl.h"
#include "report/pdf_impl.h"
#include "whyflag/model.h"

#define MAX_DETAIL 12 /* disagreements with their own waterfall in the PDF */

static void fmt(char *b, size_t n, double v, const char *f) {
    if (isfinite(v))
        snprintf(b, n, f, v);
    else
        snprintf(b, n, "n/a");
}

static void ci(char *b, size_t n, double v, double lo, double hi) {
    if (!isfinite(v))
        snprintf(b, n, "n/a");
    else if (isfinite(lo) && isfinite(hi))
        snprintf(b, n, "%.2f [%.2f, %.2f]", v, lo, hi);
    else
        snprintf(b, n, "%.2f", v);
}

static const char *relation_words(const char *rel) {
    if (!strcmp(rel, "teacher"))
        return "the teacher A was compressed from";
    if (!strcmp(rel, "student"))
        return "a student compressed from A";
    if (!strcmp(rel, "previous"))
        return "the previous version of A";
    return "a challenger to A";
}

static void summary_table(pdf_ctx *p, const wf_cmp *cm) {
    const wf_results_compare *c = cm->c;
    static const double w[] = {200, 147, 148};
    static const char al[] = {'l', 'r', 'r'};
    char ha[160], hb[160];
    snprintf(ha, sizeof ha, "A: %.40s", c->a.name);
    snprintf(hb, sizeof hb, "B: %.40s", c->b.name);
    const char *head[] = {"", ha, hb};
    pdf_ensure(p, 30 + 14 * 16);
    pdf_table t = {3, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    const wf_cmp_outcomes *o[2] = {&cm->a, &cm->b};
    const wf_compare_model *m[2] = {&c->a, &c->b};
    char v[2][96];
#define ROW(label)                                                                                 \
    do {                                                                                           \
        const char *cells[] = {label, v[0], v[1]};                                                 \
        pdf_table_row(p, &t, cells);                                                               \
    } while (0)
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%g", m[k]->threshold);
    ROW("Threshold");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%lld", (long long)o[k]->flagged);
    ROW("Flagged windows");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%lld", (long long)o[k]->episodes);
    ROW("Alarm episodes");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%lld / %lld", (long long)o[k]->true_alarms,
                 (long long)o[k]->false_alarms);
    ROW("True / false alarms");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%lld / %lld", (long long)o[k]->caught, (long long)o[k]->missed);
    ROW("Failures caught / missed");
    for (int k = 0; k < 2; k++)
        fmt(v[k], 96, o[k]->median_lead_hours, "%.1f h");
    ROW("Median lead time");
    for (int k = 0; k < 2; k++)
        ci(v[k], 96, o[k]->precision, o[k]->precision_lo, o[k]->precision_hi);
    ROW("Precision (episodes) [95% CI]");
    for (int k = 0; k < 2; k++)
        ci(v[k], 96, o[k]->recall, o[k]->recall_lo, o[k]->recall_hi);
    ROW("Recall (failures) [95% CI]");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%s", m[k]->quantized ? "int8 (QDQ)" : "float");
    ROW("Arithmetic");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%lld (%lld zero)", m[k]->card ? (long long)m[k]->card->parameters : -1,
                 m[k]->card ? (long long)m[k]->card->zero_parameters : -1);
    ROW("Parameters");
    for (int k = 0; k < 2; k++)
        if (m[k]->card && m[k]->card->flops >= 0)
            snprintf(v[k], 96, "%lld", (long long)m[k]->card->flops);
        else
            snprintf(v[k], 96, "n/a");
    ROW("FLOPs per window");
    for (int k = 0; k < 2; k++)
        snprintf(v[k], 96, "%.1f kB", (double)m[k]->file_bytes / 1000.0);
    ROW("File size");
    for (int k = 0; k < 2; k++)
        if (isfinite(m[k]->seconds_per_window))
            snprintf(v[k], 96, "%.2f us", 1e6 * m[k]->seconds_per_window);
        else
            snprintf(v[k], 96, "not measured (reproducible run)");
    ROW("Engine time per window");
#undef ROW
    p->y -= 6;
}

static void agreement_table(pdf_ctx *p, const wf_cmp *cm) {
    static const double w[] = {150, 110, 110, 110};
    static const char al[] = {'l', 'r', 'r', 'r'};
    static const char *const head[] = {"", "A flags", "A does not", "total"};
    pdf_ensure(p, 80);
    pdf_table t = {4, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    char a1[32], a2[32], a3[32], b1[32], b2[32], b3[32], t1[32], t2[32], t3[32];
    snprintf(a1, sizeof a1, "%lld", (long long)cm->both);
    snprintf(a2, sizeof a2, "%lld", (long long)cm->only_b);
    snprintf(a3, sizeof a3, "%lld", (long long)(cm->both + cm->only_b));
    snprintf(b1, sizeof b1, "%lld", (long long)cm->only_a);
    snprintf(b2, sizeof b2, "%lld", (long long)cm->neither);
    snprintf(b3, sizeof b3, "%lld", (long long)(cm->only_a + cm->neither));
    snprintf(t1, sizeof t1, "%lld", (long long)(cm->both + cm->only_a));
    snprintf(t2, sizeof t2, "%lld", (long long)(cm->only_b + cm->neither));
    snprintf(t3, sizeof t3, "%lld", (long long)cm->n);
    const char *r1[] = {"B flags", a1, a2, a3};
    const char *r2[] = {"B does not", b1, b2, b3};
    const char *r3[] = {"total", t1, t2, t3};
    pdf_table_row(p, &t, r1);
    pdf_table_row(p, &t, r2);
    pdf_table_row(p, &t, r3);
    p->y -= 6;
}

static void arms_table(pdf_ctx *p, const wf_cmp *cm) {
    static const double w[] = {120, 60, 70, 80, 82, 83};
    static const char al[] = {'l', 'r', 'r', 'r', 'r', 'r'};
    static const char *const head[] = {"Arm (as deployed)", "Turbines",       "Episodes",
                                       "True / false",      "Precision [CI]", "Recall [CI]"};
    pdf_ensure(p, 70);
    pdf_table t = {6, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    for (int k = 0; k < 2; k++) {
        const wf_cmp_outcomes *o = k ? &cm->arm_b : &cm->arm_a;
        char c1[32], c2[32], c3[48], c4[64], c5[64];
        snprintf(c1, sizeof c1, "%lld", (long long)o->turbines);
        snprintf(c2, sizeof c2, "%lld", (long long)o->episodes);
        snprintf(c3, sizeof c3, "%lld / %lld", (long long)o->true_alarms,
                 (long long)o->false_alarms);
        ci(c4, sizeof c4, o->precision, o->precision_lo, o->precision_hi);
        ci(c5, sizeof c5, o->recall, o->recall_lo, o->recall_hi);
        const char *cells[] = {
            k ? "B (turbines that ran B)" : "A (the other turbines)", c1, c2, c3, c4, c5};
        pdf_table_row(p, &t, cells);
    }
    p->y -= 6;
}

/* The players driving the difference most, in words. */
static void diff_sentence(const wf_results_compare *c, const wf_compare_window *x, char *buf,
                          size_t n) {
    int b1 = -1, b2 = -1;
    for (int q = 0; q < x->M; q++) {
        if (b1 < 0 || fabs(x->phi_diff[q]) > fabs(x->phi_diff[b1])) {
            b2 = b1;
            b1 = q;
        } else if (b2 < 0 || fabs(x->phi_diff[q]) > fabs(x->phi_diff[b2])) {
            b2 = q;
        }
    }
    char second[160] = "";
    if (b2 >= 0)
        snprintf(second, sizeof second, " and %s (%+.4f)", c->players[b2], x->phi_diff[b2]);
    snprintf(buf, n,
             "f_A - f_B = %+.4f here against %+.4f on the background. The difference comes most "
             "from %s (%+.4f)%s. The difference game's values equal KernelSHAP(A) - "
             "KernelSHAP(B) within %.1e; their sum matches f_A - f_B within %.1e.",
             x->fx_diff, x->base_diff, c->players[b1], x->phi_diff[b1], second, x->diff_check,
             fabs(x->diff_efficiency));
}

typedef struct compare_args {
    const wf_analysis *a;
    int64_t j; /* the waterfall's window */
} compare_args;

static wf_status draw_compare_waterfall(const wf_chart_ctx *cx, const void *args, double w_pt,
                                        double h_pt, wf_png *out, wf_error *err) {
    const compare_args *g = args;
    return wf_chart_compare_waterfall(cx, g->a, g->j, w_pt, h_pt, out, err);
}

static wf_status draw_compare_scatter(const wf_chart_ctx *cx, const void *args, double w_pt,
                                      double h_pt, wf_png *out, wf_error *err) {
    const compare_args *g = args;
    return wf_chart_compare_scatter(cx, g->a, w_pt, h_pt, out, err);
}

static wf_status disagreement(pdf_ctx *p, const wf_cmp *cm, int64_t j) {
    const wf_results_compare *c = cm->c;
    const wf_compare_window *x = &c->win[j];
    const wf_window *w = &p->r->windows->w[x->window_index];
    char t0[32], buf[1024];
    int rows = x->M + 1;
    pdf_ensure(p, 60 + (x->phi_diff ? 20.0 * (x->M + 2) + 30 : 0) + 12.0 * rows);
    snprintf(buf, sizeof buf, "%s, window from %s: %s flags (A %.3f, B %.3f)", w->turbine_id,
             wf_fmt_time_short(w->start, t0), x->kind == 1 ? "only A" : "only B", x->score_a,
             x->score_b);
    pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW, buf);
    if (x->status != WF_OK) {
        snprintf(buf, sizeof buf, "Not explained: %s", x->error);
        pdf_paragraph(p, p->font, 9, PDF_ML, PDF_TW, buf);
        return WF_OK;
    }
    wf_status st = WF_OK;
    if (x->phi_diff) {
        diff_sentence(c, x, buf, sizeof buf);
        pdf_paragraph(p, p->font, 9, PDF_ML, PDF_TW, buf);
        double h = 14.0 * (x->M + 2) + 30;
        compare_args args = {.a = p->a, .j = j};
        wf_error e2 = {0};
        st = pdf_chart(p, draw_compare_waterfall, &args, sizeof args, 0, PDF_TW, h, &e2);
        if (st)
            return st;
    }
    static const double wd[] = {120, 75, 75, 75, 75, 75};
    static const char al[] = {'l', 'r', 'r', 'r', 'r', 'r'};
    static const char *const head[] = {"Player",    "KernelSHAP A", "KernelSHAP B",
                                       "f_A - f_B", "IG A",         "IG B"};
    int ig = x->has_ig && x->M == p->a->C;
    pdf_table t = {ig ? 6 : 4, wd, al, head, 8, 0, NULL}; /* IG columns only when IG ran */
    pdf_table_begin(p, &t);
    for (int q = 0; q < x->M; q++) {
        char c1[32], c2[32], c3[32], c4[32], c5[32];
        fmt(c1, sizeof c1, x->phi_a[q], "%+.4f");
        fmt(c2, sizeof c2, x->phi_b[q], "%+.4f");
        fmt(c3, sizeof c3, x->phi_diff ? x->phi_diff[q] : NAN, "%+.4f");
        fmt(c4, sizeof c4, ig ? x->ig_a[q] : NAN, "%+.4f");
        fmt(c5, sizeof c5, ig ? x->ig_b[q] : NAN, "%+.4f");
        const char *cells[] = {c->players[q], c1, c2, c3, c4, c5};
        pdf_table_row(p, &t, cells);
    }
    p->y -= 8;
    return WF_OK;
}

wf_status pdf_sec_compare(pdf_ctx *p, wf_error *err) {
    const wf_results_compare *c = p->r->compare;
    if (!c)
        return WF_OK;
    wf_cmp cm;
    wf_status st = wf_cmp_build(p->a, &cm, err);
    if (st)
        return st;
    pdf_new_page(p);
    HPDF_Outline o = HPDF_CreateOutline(p->doc, NULL, "Model comparison", NULL);
    HPDF_Outline_SetDestination(o, HPDF_Page_CreateDestination(p->page));
    pdf_heading(p, "Model comparison", 0);
    char buf[2048];
    snprintf(buf, sizeof buf,
             "A is the audited model (%s); B (%s) is %s. whyflag ran both with its own engine on "
             "the same %lld windows of the log, so every figure below is paired: the same "
             "turbines, windows and failure log for both. Intervals are 95%% percentile "
             "bootstrap intervals over turbines (%d resamples, seed %llu).",
             c->a.name, c->b.name, relation_words(c->relation), (long long)cm.n, c->bootstrap,
             (unsigned long long)c->seed);
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    char kp[32];
    fmt(kp, sizeof kp, cm.kappa, "%.3f");
    const char *verdict =
        cm.mc_p < 0.05
            ? (cm.mc_c > cm.mc_b ? "B is right significantly more often than A (p < 0.05)"
                                 : "A is right significantly more often than B (p < 0.05)")
            : "no evidence that either model is right more often than the other";
    snprintf(buf, sizeof buf,
             "Reading: the models agree on %lld of %lld windows (Cohen's kappa %s). Against the "
             "window labels, A is right where B is wrong on %lld windows and B right where A is "
             "wrong on %lld (exact McNemar test p = %.3g): %s. The scores differ by %+.2g on "
             "average (at most %.3g; middle 90%% of differences in [%+.3g, %+.3g]).",
             (long long)(cm.both + cm.neither), (long long)cm.n, kp, (long long)cm.mc_b,
             (long long)cm.mc_c, cm.mc_p, verdict, cm.diff_mean, cm.diff_max_abs, cm.diff_q[1],
             cm.diff_q[5]);
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    p->y -= 4;
    summary_table(p, &cm);
    agreement_table(p, &cm);

    double sh = 250;
    pdf_ensure(p, sh + 20);
    pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 10,
                "Score of A against score of B, every window, with both thresholds");
    p->y -= 14;
    compare_args args = {.a = p->a};
    st = pdf_chart(p, draw_compare_scatter, &args, sizeof args, 0, PDF_TW, sh, err);

    if (!st && cm.has_arms) {
        pdf_ensure(p, 90);
        pdf_heading(p, "As deployed: the arms", 1);
        snprintf(buf, sizeof buf,
                 "In the field %d turbines ran B and the others ran A. Each arm's figures are "
                 "its own model on its own turbines, as an A/B rollout would measure them; the "
                 "paired figures above compare both models on every turbine.",
                 c->n_arm_b);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
        arms_table(p, &cm);
    }

    if (!st) {
        pdf_ensure(p, 80);
        pdf_heading(p, "Where A and B disagree, and why", 1);
        snprintf(buf, sizeof buf,
                 "%lld windows are flagged by one model and not the other; the %lld with the "
                 "largest score difference (at most %d) are explained: %s. Each explanation "
                 "below shows the difference game (how much each player makes A's score exceed "
                 "B's) beside each model's own values.",
                 (long long)c->n_disagree, (long long)cm.n_dis_explained, c->max_explained,
                 c->settings_text);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
        int shown = 0;
        for (int64_t j = 0; !st && j < c->n_windows && shown < MAX_DETAIL; j++)
            if (c->win[j].kind != 3) {
                st = disagreement(p, &cm, j);
                shown++;
            }
        if (!st && cm.n_dis_explained > shown) {
            snprintf(buf, sizeof buf, "%lld more explained disagreements are in results.json.",
                     (long long)(cm.n_dis_explained - shown));
            pdf_paragraph(p, p->font, 9, PDF_ML, PDF_TW, buf);
        }
    }
    if (!st) {
        pdf_ensure(p, 80);
        pdf_heading(p, "Where both flag: do they flag for the same reasons?", 1);
        char s1[32], s2[32], s3[32];
        fmt(s1, sizeof s1, cm.both_spearman, "%.3f");
        fmt(s2, sizeof s2, cm.both_sign, "%.2f");
        fmt(s3, sizeof s3, cm.both_topk, "%.2f");
        snprintf(buf, sizeof buf,
                 "On %lld of the %lld windows both models flag (those with the highest score "
                 "of A), the KernelSHAP values of A and B were compared as the agreement checks "
                 "compare two methods: mean Spearman rank correlation %s, mean share of material "
                 "drivers with the same sign %s, mean top-3 overlap %s of 3; the same top driver "
                 "on %lld windows.",
                 (long long)cm.n_both_explained, (long long)c->n_both, s1, s2, s3,
                 (long long)cm.both_top_same);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    }
    if (!st && cm.fidelity) {
        pdf_ensure(p, 80);
        pdf_heading(p, "Fidelity of the student to its teacher", 1);
        char s1[32], s2[32], s3[32];
        fmt(s1, sizeof s1, 100 * cm.fid_top_agree, "%.0f%%");
        fmt(s2, sizeof s2, cm.fid_spearman, "%.3f");
        fmt(s3, sizeof s3, cm.fid_max_abs_diff, "%.4f");
        snprintf(buf, sizeof buf,
                 "The student (%s) against its teacher (%s) over all %lld explained windows: "
                 "the same top driver on %s of them, mean rank correlation of the attributions "
                 "%s, largest difference of one player's attribution %s (score units).",
                 !strcmp(c->relation, "teacher") ? c->a.name : c->b.name,
                 !strcmp(c->relation, "teacher") ? c->b.name : c->a.name, (long long)cm.fid_n, s1,
                 s2, s3);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
    }
    wf_cmp_free(&cm);
    return st;
}

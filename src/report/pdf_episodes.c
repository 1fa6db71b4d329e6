/*
 * The alarm-episode sections of report.pdf: the table of every episode (with the page of its
 * detail section), then per episode its outcome and, for the window that raised the alarm and the
 * one with the highest score, the decision, the sentence of why, the waterfall, the heatmap, the
 * signals and the checks, and the list of its flagged windows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/pdf_impl.h"

static void checks_table(pdf_ctx *p, const wf_explanation *x) {
    static const double w[] = {150, 62, 283};
    static const char al[] = {'l', 'r', 'l'};
    const char *const head[] = {pdf_w(p, "r_check"), pdf_w(p, "r_value"), pdf_w(p, "r_meaning")};
    pdf_table t = {3, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    char v[64], m[160];
    if (x->has_kshap) {
        const wf_kshap_result *k = &x->kshap;
        double span = 0, maxse = 0;
        for (int i = 0; i < k->M; i++) {
            span = fmax(span, fabs(k->values[i]));
            if (k->std_err)
                maxse = fmax(maxse, k->std_err[i]);
        }
        snprintf(v, sizeof v, "%.2e", k->efficiency_gap);
        snprintf(m, sizeof m, "%s",
                 fabs(k->efficiency_gap) <= 1e-6 * fmax(1, fabs(k->f_x))
                     ? "values add up to score minus base value"
                     : "values do not add up exactly: read with care");
        const char *r1[] = {"KernelSHAP efficiency gap", v, m};
        pdf_table_row(p, &t, r1);
        snprintf(v, sizeof v, "%.2e", maxse);
        if (k->exact)
            snprintf(m, sizeof m, "exact: every coalition enumerated (%lld)",
                     (long long)k->samples);
        else
            snprintf(m, sizeof m, "%.1f%% of the largest value; %lld samples, %s",
                     span > 0 ? 100 * maxse / span : 0.0, (long long)k->samples,
                     k->converged ? "converged" : "NOT converged");
        const char *r2[] = {"KernelSHAP max standard error", v, m};
        pdf_table_row(p, &t, r2);
    }
    if (x->has_ig) {
        const wf_ig_result *g = &x->ig;
        double span = fabs(g->f_x - g->f_baseline);
        snprintf(v, sizeof v, "%.2e", g->delta);
        double rel = span > 0 ? 100 * fabs(g->delta) / span : 0.0;
        snprintf(m, sizeof m, "%.2f%% of f(x) - f(reference), %d steps: %s", rel, g->steps,
                 !g->converged && g->surrogate && p->r->settings &&
                         g->steps < p->r->settings->max_steps
                     ? "integral converged; the rest is the surrogate's gap"
                 : !g->converged ? "tolerance not reached"
                 : rel <= 1      ? "complete"
                 : rel <= 5      ? "acceptable"
                                 : "large, more steps would help");
        const char *r3[] = {"IG completeness delta", v, m};
        pdf_table_row(p, &t, r3);
    }
    pdf_treeshap_checks(p, &t, x);
    const wf_why *y = wf_an_why(p->a, x->window_index);
    if (y && y->agreement.n > 0) { /* the agreement of the two methods, as the why rule reads it */
        const wf_agreement *g = &y->agreement;
        snprintf(v, sizeof v, "%.2f", g->l1);
        snprintf(m, sizeof m, "0 = same shares, 1 = nothing in common; above %.2f: disagree",
                 WF_AGREE_L1_MAX);
        const char *ra[] = {"Agreement: L1 distance of shares", v, m};
        pdf_table_row(p, &t, ra);
        if (isnan(g->sign_agreement))
            snprintf(v, sizeof v, "-");
        else
            snprintf(v, sizeof v, "%d of %d", g->n_sign_agree, g->n_material);
        snprintf(m, sizeof m, "material drivers (>= %.0f%% of either method) with the same sign",
                 100 * WF_AGREE_MATERIAL);
        const char *rb[] = {"Agreement: signs", v, m};
        pdf_table_row(p, &t, rb);
        snprintf(v, sizeof v, "%d of %d", g->topk_overlap, g->k);
        snprintf(m, sizeof m, "drivers in both methods' top %d; Spearman %.2f", g->k, g->spearman);
        const char *rc[] = {"Agreement: top drivers", v, m};
        pdf_table_row(p, &t, rc);
        HPDF_Font fonts[3] = {p->bold, p->bold, p->bold};
        HPDF_Font *save = t.fonts;
        if (g->disagree)
            t.fonts = fonts;
        snprintf(m, sizeof m, "%s",
                 g->disagree ? "the methods DISAGREE: this explanation is not reliable"
                             : "the methods agree in sign and magnitude");
        const char *rd[] = {"Methods", g->disagree ? "DISAGREE" : "agree", m};
        pdf_table_row(p, &t, rd);
        t.fonts = save;
    } else if (!isnan(x->agreement)) {
        snprintf(v, sizeof v, "%.2f", x->agreement);
        snprintf(m, sizeof m, "%s",
                 x->agreement >= 0.7   ? "the two methods rank the channels alike"
                 : x->agreement >= 0.3 ? "partial agreement between the methods"
                                       : "the methods disagree: treat the ranking with care");
        const char *r4[] = {"Agreement (Spearman)", v, m};
        pdf_table_row(p, &t, r4);
    }
    const char *sur = x->has_ig && x->ig.surrogate ? x->ig.surrogate : p->r->surrogate;
    if (x->has_ig && (sur || p->r->model_quantized)) {
        (void)sur; /* named in full in the Methods section */
        snprintf(m, sizeof m, "int8 model: IG gradients from a float surrogate (see Methods)");
        const char *r5[] = {"Surrogate gradients", "yes", m};
        pdf_table_row(p, &t, r5);
    }
    p->y -= 6;
}

static wf_status explain_window(pdf_ctx *p, const wf_tpl_section *sec, int ep, int64_t wi,
                                const char *role, wf_error *err) {
    const wf_analysis *a = p->a;
    const wf_explanation *x = a->expl_of[wi];
    const wf_window *w = &p->r->windows->w[wi];
    char t1[32], t2[32], s1[32], s2[32], buf[512];
    p->cur_expl = x;
    snprintf(buf, sizeof buf, "%s: %s %s %s", role, pdf_time(p, w->start, t1), pdf_w(p, "r_to"),
             pdf_time(p, w->end, t2));
    pdf_heading(p, buf, 1);
    double score = p->r->scores ? p->r->scores[wi] : x ? x->score : NAN;
    snprintf(buf, sizeof buf, "%s %s %s %s %s, %s", pdf_w(p, "r_decision"), pdf_score(p, score, s1),
             score >= p->r->threshold ? "\xe2\x89\xa5" : "<", pdf_w(p, "r_threshold"),
             pdf_score(p, p->r->threshold, s2), pdf_w(p, "r_was_flagged"));
    pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW, buf);
    if (!x || x->status != WF_OK || (!x->has_kshap && !x->has_ig && !x->has_treeshap)) {
        snprintf(buf, sizeof buf, "This window was not explained%s%s.", x ? ": " : "",
                 x ? x->error : "");
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
        return WF_OK;
    }
    wf_status st = WF_OK;
    const wf_tpl_line *why = pdf_tpl_key(sec, "why");
    if (why) {
        const char *s = pdf_tpl_text(p, sec, why, err, &st);
        if (!s)
            return st;
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, s);
    }
    char note[1024];
    if (wf_an_dependence_note(a, wi, note, sizeof note))
        pdf_paragraph(p, p->bold, 9, PDF_ML, PDF_TW, note);
    pdf_drift_window_line(p, wi); /* "vibration_rms is higher than anything in ..." */
    pdf_args_expl args = {.a = a, .e = *x};
    if (x->has_treeshap) { /* tree models: TreeSHAP's exact values draw the waterfall */
        if ((st = pdf_treeshap_waterfall(p, x, err)))
            return st;
    } else if (x->has_kshap) {
        double h = 54 + 14 * (x->kshap.M <= 12 ? x->kshap.M : 12);
        pdf_ensure(p, h + 16);
        pdf_text_at(p, p->bold, 8.5, PDF_ML, p->y - 9, pdf_w(p, "r_cap_waterfall"));
        p->y -= 13;
        st = pdf_chart(p, pdf_draw_waterfall, &args, sizeof args, 0, PDF_TW, h, err);
        if (st)
            return st;
    }
    pdf_ig_not_applicable(p, x);
    if (x->has_ig) {
        double h = fmin(42 + 11 * a->C, 600);
        pdf_ensure(p, h + 16);
        pdf_text_at(p, p->bold, 8.5, PDF_ML, p->y - 9, pdf_w(p, "r_cap_heatmap"));
        p->y -= 13;
        st = pdf_chart(p, pdf_draw_heatmap, &args, sizeof args, 0, PDF_TW, h, err);
        if (st)
            return st;
    }
    if (wf_an_usable(a, x) && !w->values) { /* re-rendered without the log (issue 19) */
        pdf_paragraph(p, p->font, 8.5, PDF_ML, PDF_TW,
                      "The signals of this window were not available when this report was "
                      "rendered (the log is missing or changed), so they are not drawn.");
    } else if (wf_an_usable(a, x)) {
        int k = a->C < 3 ? a->C : 3;
        double h = 40 + 56 * k;
        pdf_ensure(p, h + 16);
        pdf_text_at(p, p->bold, 8.5, PDF_ML, p->y - 9, pdf_w(p, "r_cap_signals"));
        p->y -= 13;
        args.k = k;
        st = pdf_chart(p, pdf_draw_signals, &args, sizeof args, 0, PDF_TW, h, err);
        if (st)
            return st;
    }
    pdf_ensure(p, 110);
    snprintf(buf, sizeof buf, "%s %s)", pdf_w(p, "r_checks_of"), pdf_time(p, w->start, t1));
    pdf_text_at(p, p->bold, 9.5, PDF_ML, p->y - 10, buf);
    p->y -= 16;
    checks_table(p, x);
    const wf_why *y = wf_an_why(a, wi);
    if (y && y->agreement.disagree && y->agreement.reason[0]) {
        char reason[400];
        snprintf(buf, sizeof buf, "Why the methods disagree: %s.",
                 wf_an_agreement_reason(a, wi, reason, sizeof reason));
        pdf_paragraph(p, p->font, 8.5, PDF_ML, PDF_TW, buf);
    }
    (void)ep;
    return WF_OK;
}

static wf_status episode_section(pdf_ctx *p, const wf_tpl_section *sec, int k, wf_error *err) {
    const wf_analysis *a = p->a;
    const wf_episode *e = &a->episodes[k];
    wf_status st = WF_OK;
    p->cur_episode = k;
    p->cur_expl = a->expl_of[e->first];
    pdf_new_page(p);
    p->episode_page[k] = p->n_pages;
    const wf_tpl_line *tl = pdf_tpl_key(sec, "title");
    char title[512];
    if (tl) {
        const char *s = pdf_tpl_text(p, sec, tl, err, &st);
        if (!s)
            return st;
        snprintf(title, sizeof title, "%.500s", s);
    } else {
        snprintf(title, sizeof title, "Episode %d: %s", k + 1, a->turbines[e->turbine].id);
    }
    char ascii[512]; /* outline titles: keep them ASCII for every viewer */
    size_t j = 0;
    for (const char *q = title; *q && j + 1 < sizeof ascii; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch < 0x80)
            ascii[j++] = *q;
        else if ((ch & 0xc0) == 0xc0) /* one '?' per non-ASCII character */
            ascii[j++] = '?';
    }
    ascii[j] = '\0';
    HPDF_Outline ol = HPDF_CreateOutline(p->doc, p->outline_root, ascii, NULL);
    HPDF_Outline_SetDestination(ol, HPDF_Page_CreateDestination(p->page));
    pdf_heading(p, title, 1);
    const char *okey = e->outcome == WF_OUTCOME_TRUE     ? "outcome_true"
                       : e->outcome == WF_OUTCOME_REPEAT ? "outcome_repeat"
                       : e->outcome == WF_OUTCOME_FALSE  ? "outcome_false"
                                                         : "outcome_unknown";
    const wf_tpl_line *ol2 = pdf_tpl_key(sec, okey);
    if (ol2) {
        const char *s = pdf_tpl_text(p, sec, ol2, err, &st);
        if (!s)
            return st;
        pdf_rgb(p, e->outcome == WF_OUTCOME_TRUE ? 0x8e1b10 : 0x333333);
        pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW, s);
        pdf_rgb(p, 0x000000);
    }
    st = explain_window(p, sec, k, e->first, pdf_w(p, "r_raised"), err);
    if (!st && e->peak != e->first) {
        p->y -= 14;
        st = explain_window(p, sec, k, e->peak, pdf_w(p, "r_peak"), err);
    }
    if (!st && !wf_an_usable(a, a->expl_of[e->first]) && !wf_an_usable(a, a->expl_of[e->peak])) {
        int64_t best = wf_an_episode_window(a, e);
        if (best >= 0) {
            p->y -= 14;
            st = explain_window(p, sec, k, best, pdf_w(p, "r_best"), err);
        }
    }
    if (st)
        return st;
    if (e->n > 1) {
        pdf_ensure(p, 80);
        pdf_text_at(p, p->bold, 9.5, PDF_ML, p->y - 10, pdf_w(p, "r_all_windows"));
        p->y -= 16;
        static const double w[] = {130, 130, 70, 165};
        static const char al[] = {'l', 'l', 'r', 'l'};
        const char *const head[] = {pdf_w(p, "r_window_start"), pdf_w(p, "r_window_end"),
                                    pdf_w(p, "r_score"), pdf_w(p, "r_why_drivers")};
        pdf_table t = {4, w, al, head, 8.5, 0, NULL};
        pdf_table_begin(p, &t);
        for (int64_t i = 0; i < e->n; i++) {
            int64_t wi = e->windows[i];
            const wf_window *w2 = &p->r->windows->w[wi];
            char c0[32], c1[32], c2[32];
            char c3[256];
            const char *cells[] = {pdf_time(p, w2->start, c0), pdf_time(p, w2->end, c1),
                                   pdf_score(p, p->r->scores[wi], c2),
                                   a->expl_of[wi] ? wf_an_why_short(a, wi, c3, sizeof c3)
                                                  : "(not explained)"};
            pdf_table_row(p, &t, cells);
        }
    }
    p->cur_episode = -1;
    p->cur_expl = NULL;
    return WF_OK;
}

wf_status pdf_sec_episodes(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    const wf_analysis *a = p->a;
    wf_status st = pdf_tpl_heading(p, sec, "Alarm episodes", err);
    if (st)
        return st;
    p->outline_root = HPDF_CreateOutline(p->doc, NULL, "Episodes", NULL);
    HPDF_Outline_SetOpened(p->outline_root, HPDF_TRUE);
    HPDF_Outline_SetDestination(p->outline_root, HPDF_Page_CreateDestination(p->page));
    st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    int cap = p->o->max_episode_pages > 0 ? p->o->max_episode_pages : 200;
    if (!st && a->n_episodes > cap)
        st = pdf_tpl_paragraphs(p, sec, "capped", 9.5, err);
    if (st)
        return st;
    if (a->n_episodes == 0) {
        pdf_paragraph(p, p->bold, 10, PDF_ML, PDF_TW, pdf_w(p, "r_none_flagged"));
        return WF_OK;
    }
    /* The table first (with the page of each detail section), then the sections. The pages are
     * known only after the sections are drawn, so the table reserves its place and is drawn last.
     */
    HPDF_Page tpage = p->page;
    double ty = p->y;
    /* Bounded: the table takes at most half the PDF's page limit (rows past that are summed up
     * in one line pointing to report.xlsx and results.json), and it never draws past the pages
     * it reserved. */
    int per_page = (int)((PDF_H - PDF_MT - PDF_MB - 30) / (8.5 * 1.7)) - 2;
    int64_t max_rows = (int64_t)(PDF_MAX_PAGES / 2 - 2) * (per_page > 1 ? per_page : 1);
    int64_t n_in = 0; /* episodes in this document (a turbine's justification: its own) */
    for (int k = 0; k < a->n_episodes; k++)
        n_in += pdf_episode_in(p, k);
    int64_t n_rows = n_in < max_rows ? n_in : max_rows;
    double need = 8.5 * 1.9 + (double)(n_rows + 1) * 8.5 * 1.7;
    if (need > p->y - PDF_MB) { /* a long list: give it pages of its own */
        int pages = (int)ceil(need / (PDF_H - PDF_MT - PDF_MB - 30)) + 1;
        for (int i = 0; i < pages; i++)
            pdf_new_page(p);
    }
    for (int i = 0; i < a->n_episodes; i++) {
        int k = a->episode_order[i];
        if (!a->episodes[k].detailed || !pdf_episode_in(p, k))
            continue;
        st = episode_section(p, sec, k, err);
        if (st)
            return st;
    }
    /* Now the table, on the reserved space. */
    HPDF_Page save_page = p->page;
    double save_y = p->y;
    int save_n = p->n_pages;
    p->page = tpage;
    p->y = ty;
    int next_reserved = 0;
    for (int i = 0; i < save_n; i++)
        if (p->pages[i] == tpage)
            next_reserved = i + 1;
    static const double w[] = {18, 44, 78, 78, 40, 32, 120, 40, 45};
    static const char al[] = {'r', 'l', 'l', 'l', 'r', 'r', 'l', 'l', 'r'};
    char starts[64], ends[64]; /* the zone of the times below */
    snprintf(starts, sizeof starts, "%s (%s)", pdf_w(p, "r_starts"), p->words.tz_name);
    snprintf(ends, sizeof ends, "%s (%s)", pdf_w(p, "r_ends"), p->words.tz_name);
    const char *const head[] = {"#",
                                pdf_w(p, "r_turbine"),
                                starts,
                                ends,
                                pdf_w(p, "r_windows"),
                                pdf_w(p, "r_peak_short"),
                                pdf_w(p, "r_why_short"),
                                pdf_w(p, "r_outcome"),
                                pdf_w(p, "r_detail")};
    pdf_table t = {9, w, al, head, 8, 0, NULL};
    pdf_table_begin(p, &t);
    int64_t i = 0;
    for (int at = 0; i < n_rows && at < a->n_episodes; at++) {
        int k = a->episode_order[at];
        if (!pdf_episode_in(p, k))
            continue;
        const wf_episode *e = &a->episodes[k];
        if (p->y - 8 * 1.7 < PDF_MB) { /* continue on the next reserved page */
            if (next_reserved >= save_n)
                break; /* no reserved page left (the page limit was reached) */
            p->page = p->pages[next_reserved++];
            p->y = PDF_H - PDF_MT;
            pdf_table_begin(p, &t);
        }
        char c[9][64];
        snprintf(c[0], 64, "%d", k + 1);
        snprintf(c[1], 64, "%s", a->turbines[e->turbine].id);
        pdf_time(p, p->r->windows->w[e->first].start, c[2]);
        pdf_time(p, p->r->windows->w[e->last].end, c[3]);
        c[2][16] = c[3][16] = '\0'; /* the header says UTC */
        snprintf(c[4], 64, "%lld", (long long)e->n);
        pdf_score(p, e->peak_score, c[5]);
        int64_t ew = wf_an_episode_window(a, e);
        char why[256];
        snprintf(c[6], 64, "%s", ew >= 0 ? wf_an_why_short(a, ew, why, sizeof why) : "-");
        snprintf(c[7], 64, "%s",
                 e->outcome == WF_OUTCOME_TRUE     ? "true"
                 : e->outcome == WF_OUTCOME_REPEAT ? "repeat"
                 : e->outcome == WF_OUTCOME_FALSE  ? "false"
                                                   : "-");
        if (e->detailed && p->episode_page[k] > 0)
            snprintf(c[8], 64, "p. %d", p->episode_page[k]);
        else
            snprintf(c[8], 64, "no detail");
        const char *cells[] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]};
        pdf_table_row(p, &t, cells);
        i++;
    }
    if (i < n_in && p->y - 8 * 1.7 >= PDF_MB) {
        char more[160];
        snprintf(more, sizeof more,
                 "... and %lld more episodes (the PDF's page limit): every episode is in "
                 "report.xlsx (Episodes) and results.json",
                 (long long)(n_in - i));
        pdf_paragraph(p, p->bold, 8.5, PDF_ML, PDF_TW, more);
    }
    p->page = save_page;
    p->y = save_y;
    return WF_OK;
}

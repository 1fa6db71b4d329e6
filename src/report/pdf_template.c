/*
 * The PDF writer's template placeholders and template helpers, below the sections that use them
 * (pdf.c, pdf_episodes.c): expand a template line with the run's values, find a key, write
 * paragraphs and headings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fileio.h"
#include "core/version.h"
#include "report/pdf_impl.h"

/* ---------------------------------------------------------------- words, numbers, marks
 * in the template's language (issue 19), for every section */

const char *pdf_w(const pdf_ctx *p, const char *key) {
    return wf_report_word(&p->words, key);
}

char *pdf_score(const pdf_ctx *p, double v, char *buf) {
    return wf_report_fmt_num(&p->words, buf, 32, v, 3);
}

char *pdf_time(const pdf_ctx *p, int64_t t, char *buf) {
    return wf_report_fmt_time(&p->words, buf, 32, t);
}

int pdf_episode_in(const pdf_ctx *p, int k) {
    return p->only_turbine < 0 || p->a->episodes[k].turbine == p->only_turbine;
}

void pdf_unverified_mark(pdf_ctx *p) {
    if (!p->o || !p->o->unverified)
        return;
    const char *s = pdf_w(p, "t_unverified");
    double tw = pdf_text_width(p, p->bold, 9, s);
    HPDF_Page_SetRGBFill(p->page, 1, 1, 1); /* readable on the cover's band too */
    HPDF_Page_Rectangle(p->page, PDF_ML - 4, (HPDF_REAL)(PDF_H - 26), (HPDF_REAL)(tw + 8), 15);
    HPDF_Page_Fill(p->page);
    HPDF_Page_SetRGBFill(p->page, 0.75f, 0.08f, 0.08f);
    pdf_text_at(p, p->bold, 9, PDF_ML, PDF_H - 22, s);
    pdf_text_at(p, p->bold, 9, PDF_ML, 14, s);
    HPDF_Page_SetRGBFill(p->page, 0, 0, 0);
}

/* ---------------------------------------------------------------- placeholders */

const char *pdf_basename(const char *path) {
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "";
}

static const char *lookup(void *user, const char *name) {
    pdf_ctx *p = user;
    const wf_analysis *a = p->a;
    const wf_results *r = p->r;
    char *v = p->vbuf;
    size_t n = sizeof p->vbuf;
    char t[32];
#define IS(s) (strcmp(name, s) == 0)
    if (IS("fleet"))
        snprintf(v, n, "%s", p->o->title && p->o->title[0] ? p->o->title : "Wind fleet");
    else if (IS("tool"))
        snprintf(v, n, "%s", r->tool ? r->tool : WF_TOOL_NAME);
    else if (IS("model_name"))
        snprintf(v, n, "%s", pdf_basename(r->model_path));
    else if (IS("model_sha256"))
        snprintf(v, n, "%s", r->model_sha256);
    else if (IS("model_kind"))
        snprintf(v, n, "%s", r->model_quantized ? "int8 quantized" : "float");
    else if (IS("period_start"))
        pdf_time(p, a->period_start, v);
    else if (IS("period_end"))
        pdf_time(p, a->period_end, v);
    else if (IS("run_id"))
        snprintf(v, n, "%s", a->run_id);
    else if (IS("generated_at"))
        pdf_time(p, r->generated_at, v);
    else if (IS("n_turbines"))
        snprintf(v, n, "%d", a->n_turbines);
    else if (IS("n_flagged_turbines"))
        snprintf(v, n, "%d", a->n_flagged_turbines);
    else if (IS("n_windows"))
        snprintf(v, n, "%lld", (long long)r->windows->n);
    else if (IS("n_skipped"))
        snprintf(v, n, "%lld", (long long)r->windows->n_skipped);
    else if (IS("n_rows") || IS("n_rows_used") || IS("n_rows_rejected")) {
        const wf_data_stats *d = r->input;
        int64_t rej = d ? wf_data_rows_rejected(d) : 0;
        if (!d)
            snprintf(v, n, "n/a");
        else
            snprintf(v, n, "%lld",
                     (long long)(IS("n_rows")            ? d->rows
                                 : IS("n_rows_rejected") ? rej
                                                         : d->rows - rej - d->duplicate_identical));
    } else if (IS("n_flagged"))
        snprintf(v, n, "%lld", (long long)a->n_flagged);
    else if (IS("n_episodes"))
        snprintf(v, n, "%d", a->n_episodes);
    else if (IS("n_true"))
        snprintf(v, n, "%lld", (long long)a->n_true);
    else if (IS("n_false"))
        snprintf(v, n, "%lld", (long long)a->n_false);
    else if (IS("n_missed"))
        snprintf(v, n, "%lld", (long long)a->n_missed);
    else if (IS("n_repeat"))
        snprintf(v, n, "%lld", (long long)a->n_repeat);
    else if (IS("n_caught"))
        snprintf(v, n, "%lld", (long long)a->n_caught);
    else if (IS("n_not_observable"))
        snprintf(v, n, "%lld", (long long)a->n_not_observable);
    else if (IS("n_failures"))
        snprintf(v, n, "%lld", (long long)a->n_failures);
    else if (IS("precision"))
        wf_fmt_score(a->precision, v);
    else if (IS("recall"))
        wf_fmt_score(a->recall, v);
    else if (IS("median_lead_hours"))
        snprintf(v, n, isnan(a->median_lead_hours) ? "n/a" : "%.1f", a->median_lead_hours);
    else if (IS("timezone")) /* log.timezone, as the pass over the log applied it */
        snprintf(v, n, "%s", r->input && r->input->timezone[0] ? r->input->timezone : "UTC");
    else if (IS("episode_merge_gap_hours"))
        snprintf(v, n, "%g", (double)a->episode_merge_gap / 3600.0);
    else if (IS("threshold"))
        pdf_score(p, r->threshold, v);
    else if (IS("horizon_hours"))
        snprintf(v, n, "%g", r->horizon_hours);
    else if (IS("max_episode_pages") || IS("n_detailed")) {
        int cap = p->o->max_episode_pages > 0 ? p->o->max_episode_pages : 200;
        snprintf(v, n, "%d", IS("n_detailed") && a->n_episodes < cap ? a->n_episodes : cap);
    } else if (IS("n_why")) {
        snprintf(v, n, "%lld", (long long)a->n_why);
    } else if (IS("n_disagree")) {
        snprintf(v, n, "%lld", (long long)a->n_disagree);
    } else if (IS("window_desc")) {
        const wf_windows *ws = r->windows;
        if (ws->cadence > 0)
            snprintf(v, n, "%d channels x %d time steps of one turbine (%g h at %lld-minute steps)",
                     ws->C, ws->T, ws->T * (double)ws->cadence / 3600.0,
                     (long long)(ws->cadence / 60));
        else
            snprintf(v, n, "%d channels x %d time steps of one turbine", ws->C, ws->T);
    } else if (p->cur_episode >= 0) {
        const wf_episode *e = &a->episodes[p->cur_episode];
        const wf_windows *ws = r->windows;
        const wf_explanation *x = p->cur_expl;
        double attr[256];
        int have = x && a->C <= 256 && wf_an_channel_attr(a, x, attr);
        int top = have ? wf_an_top_channel(a, x) : -1, second = -1;
        for (int c = 0; have && c < a->C; c++)
            if (c != top && (second < 0 || fabs(attr[c]) > fabs(attr[second])))
                second = c;
        /* KernelSHAP players that are not channels (segments, cells): name the players */
        const double *pv = NULL;
        char *const *pn = NULL;
        if (!have && x && x->status == WF_OK && x->has_kshap && x->kshap.players) {
            pv = x->kshap.values;
            pn = x->kshap.players;
            for (int m = 0; m < x->kshap.M; m++)
                if (top < 0 || pv[m] > pv[top])
                    top = m;
            for (int m = 0; m < x->kshap.M; m++)
                if (m != top && (second < 0 || fabs(pv[m]) > fabs(pv[second])))
                    second = m;
        }
#define TOPNAME(i) (pn ? pn[i] : wf_an_channel(a, i))
#define TOPVAL(i) (pn ? pv[i] : attr[i])
        const wf_window *w = x ? &ws->w[x->window_index] : &ws->w[e->first];
        if (IS("episode_no"))
            snprintf(v, n, "%d", p->cur_episode + 1);
        else if (IS("turbine"))
            snprintf(v, n, "%s", a->turbines[e->turbine].id);
        else if (IS("episode_start"))
            pdf_time(p, ws->w[e->first].start, v);
        else if (IS("episode_end"))
            pdf_time(p, ws->w[e->last].end, v);
        else if (IS("episode_windows"))
            snprintf(v, n, "%lld", (long long)e->n);
        else if (IS("score"))
            pdf_score(p, x ? x->score : e->peak_score, v);
        else if (IS("window_start"))
            pdf_time(p, w->start, v);
        else if (IS("window_end"))
            pdf_time(p, w->end, v);
        else if (IS("top_channel"))
            snprintf(v, n, "%s", top >= 0 ? TOPNAME(top) : "(not explained)");
        else if (IS("top_unit"))
            snprintf(v, n, "%s", top >= 0 && !pn ? wf_an_unit(a, top) : "");
        else if (IS("top_value"))
            snprintf(v, n, "%.3f", top >= 0 ? fabs(TOPVAL(top)) : NAN);
        else if (IS("direction"))
            snprintf(v, n, "%s", top >= 0 && TOPVAL(top) < 0 ? "lowered" : "raised");
        else if (IS("second_channel"))
            snprintf(v, n, "%s", second >= 0 ? TOPNAME(second) : "no other channel");
        else if (IS("base_value"))
            pdf_score(p, x && x->has_kshap ? x->kshap.base_value : NAN, v);
        else if (IS("lead_hours"))
            snprintf(v, n, "%.1f", e->lead_hours);
        else if (IS("failure_time"))
            snprintf(v, n, "%s",
                     e->outcome == WF_OUTCOME_TRUE ? pdf_time(p, e->failure_time, t) : "-");
        else if (IS("why")) {
            /* the sentence built by the rule of the methods page (src/explain/why.c) */
            const wf_why *y = x ? wf_an_why(a, x->window_index) : NULL;
            if (y)
                snprintf(v, n, "%s", y->text);
            else if (top >= 0) /* no sentence was built (a report outside the audit) */
                snprintf(v, n,
                         "Partly because %s %s the score by %.3f, the largest attribution "
                         "(no sentence of why was built for this report).",
                         TOPNAME(top), TOPVAL(top) < 0 ? "lowered" : "raised", fabs(TOPVAL(top)));
            else
                snprintf(v, n, "This window has no per-channel explanation.");
        } else if (IS("turbine_file"))
            snprintf(v, n, "%s", p->turbine_file ? p->turbine_file : "");
        else if (IS("component"))
            snprintf(v, n, "%s", e->component && e->component[0] ? e->component : "Component");
        else
            return NULL;
    } else {
        return NULL;
    }
#undef IS
#undef TOPNAME
#undef TOPVAL
    return v;
}

/* Expand template line `key` of section sec (first occurrence) or NULL when absent. */
const char *pdf_tpl_text(pdf_ctx *p, const wf_tpl_section *sec, const wf_tpl_line *l, wf_error *err,
                         wf_status *st) {
    (void)sec;
    *st = wf_template_expand(p->tpl, l, lookup, p, p->line, sizeof p->line, err);
    return *st ? NULL : p->line;
}

const wf_tpl_line *pdf_tpl_key(const wf_tpl_section *sec, const char *key) {
    for (int i = 0; sec && i < sec->n; i++)
        if (strcmp(sec->lines[i].key, key) == 0)
            return &sec->lines[i];
    return NULL;
}

/* Paragraphs for every line with this key. */
wf_status pdf_tpl_paragraphs(pdf_ctx *p, const wf_tpl_section *sec, const char *key, double size,
                             wf_error *err) {
    wf_status st = WF_OK;
    for (int i = 0; i < sec->n; i++) {
        if (strcmp(sec->lines[i].key, key) != 0)
            continue;
        const char *s = pdf_tpl_text(p, sec, &sec->lines[i], err, &st);
        if (!s)
            return st;
        pdf_paragraph(p, p->font, size, PDF_ML, PDF_TW, s);
    }
    return WF_OK;
}

wf_status pdf_tpl_heading(pdf_ctx *p, const wf_tpl_section *sec, const char *fallback,
                          wf_error *err) {
    const wf_tpl_line *l = pdf_tpl_key(sec, "heading");
    wf_status st = WF_OK;
    const char *s = l ? pdf_tpl_text(p, sec, l, err, &st) : fallback;
    if (!s)
        return st;
    pdf_new_page(p);
    HPDF_Outline o = HPDF_CreateOutline(p->doc, NULL, s, NULL);
    HPDF_Outline_SetDestination(o, HPDF_Page_CreateDestination(p->page));
    pdf_heading(p, s, 0);
    return WF_OK;
}

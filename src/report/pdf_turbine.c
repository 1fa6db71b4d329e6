/*
 * A turbine's justification PDF (issue 19): what a maintenance engineer attaches to one work
 * order. Page 1 says which turbine, period, model (path and SHA-256), run, decision, why and
 * outcome, with the turbine's score timeline; then the turbine's alarm episodes, drawn by the
 * fleet report's own episode pages (pdf_episodes.c, filtered to the turbine) with their charts
 * and checks; then a closing block naming the run's manifest and how to verify it.
 *
 * Written by wf_report_write_all into turbines/<file>.pdf (turbine_files.c) when
 * report.per_turbine is on; listed in manifest.json with the other outputs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/version.h"
#include "report/pdf_impl.h"
#include "report/turbine_impl.h"

typedef struct tb_job {
    int turbine;
    const char *file; /* "WT01.pdf" */
    wf_report_words words;
} tb_job;

/* A key in bold at the left, its value wrapped beside it. */
static void kv(pdf_ctx *p, const char *key, const char *value, HPDF_Font vf, double vsize) {
    pdf_ensure(p, 30);
    double y0 = p->y;
    char k[200]; /* a long word (another language) is cut, never drawn over its value */
    pdf_fit(p, p->bold, 9, 116, key, k, sizeof k);
    pdf_rgb(p, 0x1b3a5c);
    pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 9, k);
    pdf_rgb(p, 0x000000);
    pdf_paragraph(p, vf, vsize, PDF_ML + 120, PDF_TW - 120, value[0] ? value : "-");
    if (p->y > y0 - 14)
        p->y = y0 - 14;
    p->y -= 1;
}

static void episode_outcome(const tb_job *j, const wf_episode *e, char *buf, size_t n) {
    const wf_report_words *w = &j->words;
    char t[48], lead[32];
    if (e->outcome == WF_OUTCOME_TRUE)
        snprintf(buf, n, "%s: %s %s %s, %s %s h", wf_report_word(w, "t_true"),
                 e->component && e->component[0] ? e->component : "-",
                 wf_report_word(w, "t_failure_at"),
                 wf_report_fmt_time(w, t, sizeof t, e->failure_time), wf_report_word(w, "t_lead"),
                 wf_report_fmt_num(w, lead, sizeof lead, e->lead_hours, 1));
    else if (e->outcome == WF_OUTCOME_FALSE)
        snprintf(buf, n, "%s", wf_report_word(w, "t_false"));
    else
        snprintf(buf, n, "%s", wf_report_word(w, "t_unknown"));
}

typedef struct timeline_args {
    const wf_analysis *a;
    int turbine;
    const wf_report_words *words;
} timeline_args;

static wf_status draw_timeline(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                               wf_png *out, wf_error *err) {
    const timeline_args *g = args;
    return wf_chart_timeline(cx, g->a, g->turbine, g->words, w_pt, h_pt, out, err);
}

static wf_status summary_page(pdf_ctx *p, tb_job *j, wf_error *err) {
    const wf_analysis *a = p->a;
    const wf_results *r = p->r;
    const wf_report_words *w = &j->words;
    const wf_turbine_summary *ts = &a->turbines[j->turbine];
    wf_status st = WF_OK;
    char buf[2048], t1[48], t2[48];
    pdf_new_page(p);
    HPDF_Outline o = HPDF_CreateOutline(p->doc, NULL, wf_report_word(w, "t_title"), NULL);
    HPDF_Outline_SetDestination(o, HPDF_Page_CreateDestination(p->page));
    /* the band: what this is and for which turbine */
    HPDF_Page_SetRGBFill(p->page, 0.106f, 0.227f, 0.361f);
    HPDF_Page_Rectangle(p->page, 0, (HPDF_REAL)(PDF_H - 120), (HPDF_REAL)PDF_W, 120);
    HPDF_Page_Fill(p->page);
    pdf_rgb(p, 0xffffff);
    snprintf(buf, sizeof buf, "%s: %s", wf_report_word(w, "t_title"), ts->id);
    char fit[512];
    pdf_fit(p, p->bold, 22, PDF_TW, buf, fit, sizeof fit);
    pdf_text_at(p, p->bold, 22, PDF_ML, PDF_H - 62, fit);
    pdf_rgb(p, 0xdfe8f2);
    pdf_fit(p, p->font, 12, PDF_TW, p->o->title && p->o->title[0] ? p->o->title : "Wind fleet", fit,
            sizeof fit);
    pdf_text_at(p, p->font, 12, PDF_ML, PDF_H - 88, fit);
    pdf_rgb(p, 0x000000);
    p->y = PDF_H - 120 - 24;
    /* the template's words for this page ([turbine] text), expanded for the first episode */
    const wf_tpl_section *sec = wf_template_section(p->tpl, "turbine");
    int first_ep = -1;
    for (int k = 0; k < a->n_episodes && first_ep < 0; k++)
        if (a->episodes[k].turbine == j->turbine)
            first_ep = k;
    p->cur_episode = first_ep;
    p->cur_expl = first_ep >= 0 ? a->expl_of[a->episodes[first_ep].first] : NULL;
    if (sec && (st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err)))
        return st;
    p->cur_episode = -1;
    p->cur_expl = NULL;
    /* identity */
    int64_t from = INT64_MAX, to = INT64_MIN;
    const wf_windows *ws = r->windows;
    for (int64_t i = 0; i < ws->n; i++)
        if (!strcmp(ws->w[i].turbine_id, ts->id)) {
            from = ws->w[i].start < from ? ws->w[i].start : from;
            to = ws->w[i].end > to ? ws->w[i].end : to;
        }
    kv(p, wf_report_word(w, "t_turbine"), ts->id, p->bold, 9.5);
    snprintf(buf, sizeof buf, "%s %s %s", wf_report_fmt_time(w, t1, sizeof t1, from),
             wf_report_word(w, "t_to"), wf_report_fmt_time(w, t2, sizeof t2, to));
    kv(p, wf_report_word(w, "t_period"), from <= to ? buf : "-", p->font, 9.5);
    kv(p, wf_report_word(w, "t_model"), r->model_path ? r->model_path : "-", p->font, 9.5);
    kv(p, wf_report_word(w, "t_model_sha"), r->model_sha256, p->mono, 8.5);
    kv(p, wf_report_word(w, "t_run"), a->run_id, p->mono, 8.5);
    kv(p, wf_report_word(w, "t_generated"), wf_report_fmt_time(w, t1, sizeof t1, r->generated_at),
       p->font, 9.5);
    /* decision */
    char thr[32], hi[32];
    snprintf(buf, sizeof buf, "%lld %s %lld %s (%s %s), %lld %s; %s %s", (long long)ts->flagged,
             wf_report_word(w, "t_of"), (long long)ts->scored,
             wf_report_word(w, "t_windows_flagged"), wf_report_word(w, "t_threshold"),
             wf_report_fmt_num(w, thr, sizeof thr, r->threshold, 3), (long long)ts->episodes,
             wf_report_word(w, ts->episodes == 1 ? "t_episode_one" : "t_episodes"),
             wf_report_word(w, "t_highest"), wf_report_fmt_num(w, hi, sizeof hi, ts->max_score, 3));
    kv(p, wf_report_word(w, "t_decision"), buf, p->bold, 9.5);
    /* why and outcome, episode by episode (at most 6 here; every episode has its pages) */
    int shown = 0, n_ep = 0;
    int64_t n_with_why = 0, n_dis = 0;
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        if (e->turbine != j->turbine)
            continue;
        n_ep++;
        for (int64_t i = 0; i < e->n; i++) {
            const wf_why *y = wf_an_why(a, e->windows[i]);
            n_with_why += y != NULL;
            n_dis += y && y->claim == WF_WHY_DISAGREE;
        }
        if (shown >= 6)
            continue;
        shown++;
        int64_t ew = wf_an_episode_window(a, e);
        const wf_why *y = ew >= 0 ? wf_an_why(a, ew) : NULL;
        char why[1200], oc[400];
        if (y)
            snprintf(why, sizeof why, "%s", y->text);
        else if (ew >= 0 && wf_an_top_channel(a, a->expl_of[ew]) >= 0)
            snprintf(why, sizeof why, "%s: %s (%s)", wf_report_word(w, "t_no_why"),
                     wf_an_channel(a, wf_an_top_channel(a, a->expl_of[ew])), "top channel");
        else
            snprintf(why, sizeof why, "%s", wf_report_word(w, "t_no_why"));
        episode_outcome(j, e, oc, sizeof oc);
        snprintf(buf, sizeof buf, "%s %d (%s %s %s)", wf_report_word(w, "t_episode"), k + 1,
                 wf_report_fmt_time(w, t1, sizeof t1, ws->w[e->first].start),
                 wf_report_word(w, "t_to"),
                 wf_report_fmt_time(w, t2, sizeof t2, ws->w[e->last].end));
        pdf_ensure(p, 60); /* the episode as a sub-heading line */
        p->y -= 4;
        pdf_rgb(p, 0x1b3a5c);
        pdf_text_at(p, p->bold, 9, PDF_ML, p->y - 9, buf);
        pdf_rgb(p, 0x000000);
        p->y -= 14;
        kv(p, wf_report_word(w, "t_why"), why, p->font, 9.5);
        kv(p, wf_report_word(w, "t_outcome"), oc, p->font, 9.5);
    }
    if (n_ep > shown) {
        snprintf(buf, sizeof buf, "... %d %s", n_ep - shown, wf_report_word(w, "t_episodes"));
        pdf_paragraph(p, p->font, 9, PDF_ML + 120, PDF_TW - 120, buf);
    }
    if (ts->missed > 0) {
        snprintf(buf, sizeof buf, "%lld %s", (long long)ts->missed, wf_report_word(w, "t_missed"));
        kv(p, wf_report_word(w, "t_outcome"), buf, p->font, 9.5);
    }
    snprintf(buf, sizeof buf, "%lld %s %lld %s; %lld %s", (long long)n_with_why,
             wf_report_word(w, "t_of"), (long long)ts->flagged, wf_report_word(w, "t_with_why"),
             (long long)n_dis, wf_report_word(w, "t_disagree"));
    kv(p, wf_report_word(w, "t_checks"), buf, p->font, 9.5);
    if (p->o->signals_missing) {
        pdf_rgb(p, 0x8e1b10);
        pdf_paragraph(p, p->bold, 9, PDF_ML, PDF_TW, wf_report_word(w, "t_signals_missing"));
        pdf_rgb(p, 0x000000);
    }
    /* the score timeline */
    if (r->scores) {
        double h = 160;
        pdf_ensure(p, h + 30);
        p->y -= 6;
        pdf_text_at(p, p->bold, 10, PDF_ML, p->y - 10, wf_report_word(w, "t_timeline"));
        p->y -= 16;
        timeline_args args = {.a = a, .turbine = j->turbine, .words = w};
        st = pdf_chart(p, draw_timeline, &args, sizeof args, 0, PDF_TW, h, err);
        pdf_rgb(p, 0x555555);
        pdf_paragraph(p, p->font, 7.5, PDF_ML, PDF_TW, wf_report_word(w, "tl_legend"));
        pdf_rgb(p, 0x000000);
    }
    return st;
}

static wf_status closing(pdf_ctx *p, tb_job *j, wf_error *err) {
    const wf_report_words *w = &j->words;
    pdf_ensure(p, 140);
    p->y -= 10;
    pdf_heading(p, wf_report_word(w, "t_verify"), 1);
    const wf_tpl_section *sec = wf_template_section(p->tpl, "turbine");
    if (sec && pdf_tpl_key(sec, "closing")) {
        int k0 = -1;
        for (int k = 0; k < p->a->n_episodes && k0 < 0; k++)
            if (p->a->episodes[k].turbine == j->turbine)
                k0 = k;
        p->cur_episode = k0;
        wf_status st = pdf_tpl_paragraphs(p, sec, "closing", 9.5, err);
        p->cur_episode = -1;
        if (st)
            return st;
    } else {
        char buf[1024];
        snprintf(buf, sizeof buf,
                 "This justification belongs to run %s. manifest.json in the run's output folder "
                 "lists the SHA-256 of this file (turbines/%s), of report.pdf, report.xlsx, "
                 "results.json and of every input (model, log, failure log, config).",
                 p->a->run_id, j->file);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, buf);
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW,
                      "To check that nothing changed since, run in that folder:");
    }
    pdf_paragraph(p, p->mono, 9, PDF_ML + 12, PDF_TW - 12, "whyflag verify manifest.json");
    char buf[256];
    snprintf(buf, sizeof buf, "manifest.json  \xc2\xb7  turbines/%s  \xc2\xb7  run %s", j->file,
             p->a->run_id);
    pdf_paragraph(p, p->mono, 8, PDF_ML + 12, PDF_TW - 12, buf);
    return WF_OK;
}

static void footers(pdf_ctx *p, tb_job *j) {
    char buf[400], when[48];
    for (int i = 0; i < p->n_pages; i++) {
        p->page = p->pages[i];
        HPDF_Page_SetRGBFill(p->page, 0.45f, 0.45f, 0.45f);
        char id[80];
        pdf_fit(p, p->font, 7.5, 160, p->a->turbines[j->turbine].id, id, sizeof id);
        snprintf(buf, sizeof buf, "%s  \xc2\xb7  %s  \xc2\xb7  run %s  \xc2\xb7  %s",
                 wf_report_word(&j->words, "t_title"), id, p->a->run_id,
                 wf_report_fmt_time(&j->words, when, sizeof when, p->r->generated_at));
        pdf_text_at(p, p->font, 7.5, PDF_ML, 28, buf);
        snprintf(buf, sizeof buf, "%s %d %s %d", wf_report_word(&j->words, "t_page"), i + 1,
                 wf_report_word(&j->words, "t_page_of"), p->n_pages);
        pdf_text_at(p, p->font, 7.5, PDF_W - PDF_MR - pdf_text_width(p, p->font, 7.5, buf), 28,
                    buf);
        pdf_unverified_mark(p);
    }
}

static wf_status turbine_body(pdf_ctx *p, void *user, wf_error *err) {
    tb_job *j = user;
    wf_status st = WF_OK;
    j->words = p->words;
    char title[160];
    snprintf(title, sizeof title, "%s: %s", wf_report_word(&j->words, "t_title"),
             p->a->turbines[j->turbine].id);
    HPDF_SetInfoAttr(p->doc, HPDF_INFO_TITLE, title);
    p->turbine_file = j->file;
    st = summary_page(p, j, err);
    if (!st)
        st = pdf_check(p, "the turbine summary", err);
    if (st)
        return st;
    const wf_tpl_section *sec = wf_template_section(p->tpl, "episodes");
    wf_tpl_section empty;
    memset(&empty, 0, sizeof empty);
    snprintf(empty.name, sizeof empty.name, "episodes");
    st = pdf_sec_episodes(p, sec ? sec : &empty, err);
    if (!st)
        st = closing(p, j, err);
    if (!st)
        st = pdf_check(p, "the turbine's episodes", err);
    if (st)
        return st;
    footers(p, j);
    return WF_OK;
}

void wf_report_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

wf_status wf_report_write_turbine_pdfs(const char *dir, const wf_results *r,
                                       const wf_report_options *o, wf_analysis *a,
                                       const char *only_id, char ***names_out, int *n_out,
                                       wf_error *err) {
    *names_out = NULL;
    *n_out = 0;
    if (!r->scores || !r->flagged)
        return WF_OK; /* `explain` results: nothing was flagged */
    char(*files)[WF_TURBINE_FILE_MAX] = calloc((size_t)(a->n_turbines + 1), sizeof *files);
    char **names = calloc((size_t)(a->n_turbines + 1), sizeof *names);
    if (!files || !names) {
        free(files);
        free(names);
        return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", dir);
    }
    wf_report_turbine_files(a, files);
    int n = 0, found = 0;
    wf_status st = WF_OK;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        st = wf_error_set(err, WF_ERR_IO, "%s: cannot create the folder: %s", dir, strerror(errno));
    int cap = o && o->max_episode_pages > 0 ? o->max_episode_pages : 200;
    for (int t = 0; t < a->n_turbines && !st; t++) {
        if (a->turbines[t].flagged == 0 || (only_id && strcmp(only_id, a->turbines[t].id)))
            continue;
        found = 1;
        /* every episode of this turbine gets its detail pages, up to the cap, in time order */
        int d = 0;
        for (int k = 0; k < a->n_episodes; k++)
            if (a->episodes[k].turbine == t)
                a->episodes[k].detailed = d++ < cap;
        char path[4300];
        if (snprintf(path, sizeof path, "%s/%s", dir, files[t]) >= (int)sizeof path) {
            st = wf_error_set(err, WF_ERR_INVALID, "%s: path too long", dir);
            break;
        }
        tb_job job;
        memset(&job, 0, sizeof job);
        job.turbine = t;
        job.file = files[t];
        st = pdf_write_doc(path, r, o, a, t, turbine_body, &job, err);
        if (st)
            break;
        size_t len = strlen(files[t]) + 10;
        names[n] = malloc(len);
        if (!names[n]) {
            st = wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        snprintf(names[n++], len, "turbines/%s", files[t]);
    }
    if (!st && only_id && !found) {
        char list[600];
        size_t l = 0;
        list[0] = '\0';
        for (int t = 0; t < a->n_turbines && l + 80 < sizeof list; t++)
            if (a->turbines[t].flagged)
                l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "",
                                      a->turbines[t].id);
        st = wf_error_set(err, WF_ERR_INVALID,
                          "turbine '%s' has no flagged window in this run, so it has no "
                          "justification (flagged turbines: %s)",
                          only_id, l ? list : "none");
    }
    free(files);
    if (st) {
        wf_report_names_free(names, n);
        return st;
    }
    *names_out = names;
    *n_out = n;
    return WF_OK;
}

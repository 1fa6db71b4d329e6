/*
 * Internal to the PDF writer (pdf.c sections, pdf_layout.c primitives, pdf_charts.c charts).
 * libharu types stay in the pdf*.c files.
 */
#ifndef WF_PDF_IMPL_H
#define WF_PDF_IMPL_H

#include <hpdf.h>

#include "report/report_impl.h"
#include "report/turbine_impl.h"

#define PDF_W 595.276 /* A4 */
#define PDF_H 841.89
#define PDF_ML 50.0
#define PDF_MR 50.0
#define PDF_MT 50.0
#define PDF_MB 56.0
#define PDF_TW (PDF_W - PDF_ML - PDF_MR)
#define PDF_MAX_PAGES 4096

typedef struct pdf_ctx {
    HPDF_Doc doc;
    HPDF_Font font, bold, mono;
    HPDF_Page page;
    HPDF_Page pages[PDF_MAX_PAGES];
    int n_pages;
    double y;               /* cursor: top of the next block, from the bottom of the page */
    HPDF_STATUS hpdf_error; /* first libharu error (error handler) */
    HPDF_STATUS hpdf_detail;
    const wf_analysis *a;
    const wf_results *r;
    const wf_report_options *o;
    const wf_template *tpl;
    wf_chart_ctx cx;
    /* placeholder context */
    int cur_episode; /* -1 outside [episodes] */
    const wf_explanation *cur_expl;
    char vbuf[1024]; /* one placeholder value (the why sentence: up to WF_WHY_TEXT_MAX) */
    char line[4096];
    HPDF_Outline outline_root;
    int *episode_page; /* (n_episodes) 1-based page of the detail section, 0 if none */
    /* Charts (pdf_charts.c) are placed at once and drawn later, a batch at a time on the run's
     * threads; each waits, compressed, in a file until the document is saved, and libharu reads
     * it only while writing it, so memory stays flat however many charts there are. */
    char chart_dir[4200];
    int n_charts;                     /* charts placed (file names 000000.z ...) */
    struct pdf_chart_job *chart_jobs; /* placed, not yet drawn */
    int n_jobs, cap_jobs;
    int only_turbine; /* >= 0: a turbine's justification (pdf_turbine.c): its episodes only */
    const char *turbine_file; /* its file name ({turbine_file}) */
    wf_report_words words;    /* the template's words and locale (issue 19) */
} pdf_ctx;

/* One document: fonts, info and dates set up, body draws every page (footers included), saved
 * atomically to path. shared: an analysis built by the caller (NULL: built here). */
typedef wf_status (*pdf_body_fn)(pdf_ctx *p, void *user, wf_error *err);
wf_status pdf_write_doc(const char *path, const wf_results *r, const wf_report_options *o,
                        const wf_analysis *shared, int only_turbine, pdf_body_fn body, void *user,
                        wf_error *err);
/* Issue 19, the template's locale: a word (English default), a score ("0.873" / "0,873"), a
 * time ("2024-03-04 10:00 UTC" / "04.03.2024 11:00 MEZ"; buf >= 32). */
const char *pdf_w(const pdf_ctx *p, const char *key);
char *pdf_score(const pdf_ctx *p, double v, char *buf);
char *pdf_time(const pdf_ctx *p, int64_t t, char *buf);
/* 1 when episode k is in the document (every episode, or those of p->only_turbine). */
int pdf_episode_in(const pdf_ctx *p, int k);
/* The UNVERIFIED mark at the top and bottom of the current page (o->unverified). */
void pdf_unverified_mark(pdf_ctx *p);

/* Page and text primitives (pdf_layout.c). */
void pdf_new_page(pdf_ctx *p);
void pdf_ensure(pdf_ctx *p, double h); /* new page if less than h points are left */
double pdf_text_width(pdf_ctx *p, HPDF_Font f, double size, const char *s);
void pdf_text_at(pdf_ctx *p, HPDF_Font f, double size, double x, double y, const char *s);
void pdf_rgb(pdf_ctx *p, unsigned hex);
/* A wrapped paragraph at the cursor over width w from x; advances the cursor. */
void pdf_paragraph(pdf_ctx *p, HPDF_Font f, double size, double x, double w, const char *s);
void pdf_heading(pdf_ctx *p, const char *s, int level);
/* Fit s into width w (ellipsis) into out (size). */
void pdf_fit(pdf_ctx *p, HPDF_Font f, double size, double w, const char *s, char *out,
             size_t size_out);

/* Tables: column widths (points), alignments ('l', 'r', 'c'). */
typedef struct pdf_table {
    int n;
    const double *w;
    const char *align;
    const char *const *head;
    double size;
    int row;
    HPDF_Font *fonts; /* per column, NULL = regular */
} pdf_table;
void pdf_table_begin(pdf_ctx *p, pdf_table *t);
void pdf_table_row(pdf_ctx *p, pdf_table *t, const char *const *cells);

/* Charts (pdf_charts.c). Make / remove the folder the chart files wait in (beside the PDF being
 * written); _end also drops charts placed but not drawn. */
wf_status pdf_charts_begin(pdf_ctx *p, const char *pdf_path, wf_error *err);
void pdf_charts_end(pdf_ctx *p);
/* A chart drawing function: one of wf_chart_* behind an adapter taking its arguments as a
 * struct. Runs on any thread, many at once: it may only read args and what they point to. */
typedef wf_status (*pdf_chart_fn)(const wf_chart_ctx *cx, const void *args, double w_pt,
                                  double h_pt, wf_png *out, wf_error *err);
/* Place a chart of w x h points at the cursor (x from the left margin) and advance the cursor;
 * draw(args) runs later (pdf_charts_flush), so the n bytes of args are copied and whatever they
 * point to must live until the document is saved (the results, the analysis, the template).
 * Charts are drawn a batch at a time: errors of a drawing come back from a later pdf_chart or
 * from pdf_charts_flush. */
wf_status pdf_chart(pdf_ctx *p, pdf_chart_fn draw, const void *args, size_t n, double x, double w,
                    double h, wf_error *err);
/* Place a chart already drawn on this thread (compressed here, one at a time; pdf_chart draws
 * in parallel). */
wf_status pdf_image(pdf_ctx *p, const wf_png *png, double x, double w, double h, wf_error *err);
/* Draw (in parallel on p->o->threads), compress and store every chart placed so far. The bytes
 * do not depend on the number of threads. */
wf_status pdf_charts_flush(pdf_ctx *p, wf_error *err);
/* The adapters of the charts every document can hold (pdf_charts.c): args structs below. */
typedef struct pdf_args_expl {
    const wf_analysis *a;
    wf_explanation e; /* a copy (pdf_trees.c draws a modified one) */
    int k;            /* signals: channels drawn */
} pdf_args_expl;
wf_status pdf_draw_waterfall(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                             wf_png *out, wf_error *err);
wf_status pdf_draw_heatmap(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                           wf_png *out, wf_error *err);
wf_status pdf_draw_signals(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                           wf_png *out, wf_error *err);
/* The file name part of a path ("" for NULL) (pdf_template.c). */
const char *pdf_basename(const char *path);
/* Template helpers (pdf_template.c): expand a line, find a key, paragraphs of every line with a
 * key, a section heading on a new page with its bookmark. */
const char *pdf_tpl_text(pdf_ctx *p, const wf_tpl_section *sec, const wf_tpl_line *l, wf_error *err,
                         wf_status *st);
const wf_tpl_line *pdf_tpl_key(const wf_tpl_section *sec, const char *key);
wf_status pdf_tpl_paragraphs(pdf_ctx *p, const wf_tpl_section *sec, const char *key, double size,
                             wf_error *err);
wf_status pdf_tpl_heading(pdf_ctx *p, const wf_tpl_section *sec, const char *fallback,
                          wf_error *err);
/* The [model] section: model card and limitations (pdf_model.c). */
wf_status pdf_sec_model(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err);
/* The [episodes] section (pdf_episodes.c). */
wf_status pdf_sec_episodes(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err);
/* The [drift] section (pdf_drift.c); sec may be NULL (a template without [drift]: the chapter
 * follows [review] with its default wording). Prints nothing when the run has no drift. */
wf_status pdf_sec_drift(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err);
/* The out-of-reference sentence of explained window wi on its episode page (nothing when the
 * run has no drift or the window is inside the reference). */
void pdf_drift_window_line(pdf_ctx *p, int64_t wi);
/* The "Model comparison" chapter (pdf_compare.c, issue 15), after [review]; nothing when the run
 * compares no second model. */
wf_status pdf_sec_compare(pdf_ctx *p, wf_error *err);
/* libharu error -> wf_error. */
wf_status pdf_check(pdf_ctx *p, const char *what, wf_error *err);

/* Tree-ensemble models, models without a gradient (pdf_trees.c, issue 11). */
wf_status pdf_treeshap_waterfall(pdf_ctx *p, const wf_explanation *x, wf_error *err);
void pdf_ig_not_applicable(pdf_ctx *p, const wf_explanation *x);
void pdf_treeshap_checks(pdf_ctx *p, pdf_table *t, const wf_explanation *x);
void pdf_methods_trees(pdf_ctx *p);

#endif

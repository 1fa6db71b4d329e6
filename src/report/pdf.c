/*
 * report.pdf (libharu, the only libharu user): cover, fleet summary, one section and bookmark per
 * alarm episode, alarm review, methods, manifest. Wording and section order come from the
 * template; charts are cairo PNGs (charts.c). Fonts are the DejaVu TTFs, embedded, with UTF-8
 * text. Reproducible: the creation date is r->generated_at, libharu writes no document /ID
 * without encryption, and the compression (zlib) is deterministic.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "core/fileio.h"
#include "core/version.h"
#include "report/pdf_impl.h"
#include "report/time_impl.h"

static void HPDF_STDCALL on_hpdf_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user) {
    pdf_ctx *p = user;
    if (p->hpdf_error == HPDF_OK) {
        p->hpdf_error = error_no;
        p->hpdf_detail = detail_no;
    }
}

/* ---------------------------------------------------------------- fonts */

/* libharu 2.3 gives a UTF-8 TrueType font (Type0, Identity-H) the *encoding* CMap as its
 * ToUnicode stream ("begincidrange", which a ToUnicode CMap may not hold: poppler warns on every
 * page and text extraction relies on its fallback). Under Identity-H with libharu's UTF-8
 * encoder a character's code is its Unicode (BMP) value and its CID, so the right ToUnicode map
 * is the identity on 16-bit codes: 248 bfranges <XX00> <XXFF> <XX00> (a bfrange may only vary
 * its last byte), the surrogate block D8-DF left out. The stream is rewritten in place, before
 * the document is saved; its dictionary keeps only what a ToUnicode stream needs. */
static void pdf_fix_tounicode(HPDF_Font f) {
    if (!f || !f->attr)
        return;
    HPDF_FontAttr a = (HPDF_FontAttr)f->attr;
    HPDF_Dict cm = a->cmap_stream;
    if (!cm || !cm->stream)
        return;
    HPDF_MemStream_FreeData(cm->stream);
    HPDF_Dict_RemoveElement(cm, "Type");
    HPDF_Dict_RemoveElement(cm, "CMapName");
    HPDF_Dict_RemoveElement(cm, "CIDSystemInfo");
    HPDF_Dict_RemoveElement(cm, "WMode");
    HPDF_Stream_WriteStr(cm->stream, "/CIDInit /ProcSet findresource begin\n"
                                     "12 dict begin\n"
                                     "begincmap\n"
                                     "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) "
                                     "/Supplement 0 >> def\n"
                                     "/CMapName /Adobe-Identity-UCS def\n"
                                     "/CMapType 2 def\n"
                                     "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    int his[256], n = 0;
    for (int hi = 0; hi < 256; hi++)
        if (hi < 0xD8 || hi > 0xDF)
            his[n++] = hi;
    for (int at = 0; at < n; at += 100) {
        int k = n - at < 100 ? n - at : 100;
        char line[64];
        snprintf(line, sizeof line, "%d beginbfrange\n", k);
        HPDF_Stream_WriteStr(cm->stream, line);
        for (int i = at; i < at + k; i++) {
            snprintf(line, sizeof line, "<%02X00> <%02XFF> <%02X00>\n", his[i], his[i], his[i]);
            HPDF_Stream_WriteStr(cm->stream, line);
        }
        HPDF_Stream_WriteStr(cm->stream, "endbfrange\n");
    }
    HPDF_Stream_WriteStr(cm->stream, "endcmap\n"
                                     "CMapName currentdict /CMap defineresource pop\n"
                                     "end\nend\n");
}

/* ---------------------------------------------------------------- sections */

static wf_status sec_cover(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    wf_status st = WF_OK;
    pdf_new_page(p);
    HPDF_Outline o = HPDF_CreateOutline(p->doc, NULL, "Cover", NULL);
    HPDF_Outline_SetDestination(o, HPDF_Page_CreateDestination(p->page));
    HPDF_Page_SetRGBFill(p->page, 0.106f, 0.227f, 0.361f);
    HPDF_Page_Rectangle(p->page, 0, (HPDF_REAL)(PDF_H - 230), (HPDF_REAL)PDF_W, 230);
    HPDF_Page_Fill(p->page);
    p->y = PDF_H - 110;
    for (int i = 0; i < sec->n; i++) {
        const wf_tpl_line *l = &sec->lines[i];
        const char *s = pdf_tpl_text(p, sec, l, err, &st);
        if (!s)
            return st;
        if (strcmp(l->key, "title") == 0) {
            pdf_rgb(p, 0xffffff);
            pdf_text_at(p, p->bold, 26, PDF_ML, p->y, s);
            p->y -= 34;
        } else if (strcmp(l->key, "subtitle") == 0) {
            pdf_rgb(p, 0xdfe8f2);
            pdf_text_at(p, p->font, 15, PDF_ML, p->y, s);
            p->y = PDF_H - 230 - 40;
        } else if (strcmp(l->key, "line") == 0) {
            pdf_rgb(p, 0x222222);
            pdf_paragraph(p, p->font, 10.5, PDF_ML, PDF_TW, s);
            p->y -= 3;
        } else {
            p->y -= 12;
            pdf_rgb(p, 0x555555);
            pdf_paragraph(p, p->font, 9, PDF_ML, PDF_TW, s);
        }
    }
    /* issue 14: a log whose rows are not log.cadence_seconds apart says so here, not only on
     * stderr */
    char cw[WF_REASON_MAX];
    if (p->a->r->input && wf_data_cadence_warning(p->a->r->input, cw, sizeof cw)) {
        char line[WF_REASON_MAX + 64];
        snprintf(line, sizeof line, "Warning: %s.", cw);
        p->y -= 6;
        pdf_rgb(p, 0xb03000);
        pdf_paragraph(p, p->bold, 10.5, PDF_ML, PDF_TW, line);
    }
    pdf_rgb(p, 0x000000);
    /* At a glance: the flagged turbines with their highest score. */
    p->y -= 16;
    pdf_heading(p, pdf_w(p, "r_glance"), 1);
    static const double w[] = {90, 90, 100, 90, 125};
    static const char al[] = {'l', 'r', 'r', 'r', 'l'};
    const char *const head[] = {pdf_w(p, "r_turbine"), pdf_w(p, "r_highest"),
                                pdf_w(p, "r_flagged_windows"), pdf_w(p, "r_episodes"),
                                pdf_w(p, "r_outcome")};
    pdf_table t = {5, w, al, head, 9, 0, NULL};
    pdf_table_begin(p, &t);
    const wf_analysis *a = p->a;
    for (int i = 0; i < a->n_turbines; i++) {
        const wf_turbine_summary *s = &a->turbines[i];
        if (s->flagged == 0)
            continue;
        char c1[32], c2[32], c3[32], c4[64];
        int nt = 0, nf = 0;
        for (int k = 0; k < a->n_episodes; k++)
            if (a->episodes[k].turbine == i) {
                nt += a->episodes[k].outcome == WF_OUTCOME_TRUE ||
                      a->episodes[k].outcome == WF_OUTCOME_REPEAT;
                nf += a->episodes[k].outcome == WF_OUTCOME_FALSE;
            }
        pdf_score(p, s->max_score, c1);
        snprintf(c2, sizeof c2, "%lld", (long long)s->flagged);
        snprintf(c3, sizeof c3, "%lld", (long long)s->episodes);
        if (nt + nf == 0)
            snprintf(c4, sizeof c4, "no failure log");
        else
            snprintf(c4, sizeof c4, "%d true, %d false", nt, nf);
        const char *cells[] = {s->id, c1, c2, c3, c4};
        pdf_table_row(p, &t, cells);
    }
    return WF_OK;
}

static void turbine_outcome(const wf_analysis *a, int i, char *buf, size_t n) {
    int nt = 0, nf = 0, nr = 0;
    double lead = -1;
    for (int k = 0; k < a->n_episodes; k++) {
        const wf_episode *e = &a->episodes[k];
        if (e->turbine != i)
            continue;
        if (e->outcome == WF_OUTCOME_TRUE) {
            nt++;
            if (lead < 0)
                lead = e->lead_hours;
        }
        nf += e->outcome == WF_OUTCOME_FALSE;
        nr += e->outcome == WF_OUTCOME_REPEAT;
    }
    size_t o = 0;
    buf[0] = '\0';
    if (nt == 1)
        o += (size_t)snprintf(buf + o, n - o, "true alarm (lead %.0f h)", lead);
    else if (nt > 1)
        o += (size_t)snprintf(buf + o, n - o, "%d true alarms (first lead %.0f h)", nt, lead);
    if (nr && o < n)
        o += (size_t)snprintf(buf + o, n - o, "%s%d repeat", o ? ", " : "", nr);
    if (nf && o < n)
        o += (size_t)snprintf(buf + o, n - o, "%s%d false alarm%s", o ? ", " : "", nf,
                              nf > 1 ? "s" : "");
    if (a->turbines[i].missed && o < n)
        o += (size_t)snprintf(buf + o, n - o, "%smissed failure", o ? ", " : "");
    if (o == 0)
        snprintf(buf, n, "%s",
                 a->n_true + a->n_false + a->n_missed > 0 || a->r->n_failures > 0 ? "no alarm"
                                                                                  : "-");
}

/* Every failure with what became of it, and the threshold sweep (issue 14: outcomes that add
 * up; the rule is on the methods page). */
static wf_status summary_failures(pdf_ctx *p) {
    const wf_analysis *a = p->a;
    const wf_results *r = a->r;
    char buf[64];
    if (r->n_failures > 0 && a->fail_outcome) {
        p->y -= 10;
        pdf_heading(p, "Failures in the log", 2);
        static const double w[] = {70, 105, 95, 95, 60, 70};
        static const char al[] = {'l', 'l', 'l', 'l', 'r', 'r'};
        static const char *const head[] = {"Turbine", "Failure time", "Component",
                                           "Outcome", "Episode",      "Lead (h)"};
        pdf_table t = {6, w, al, head, 8.5, 0, NULL};
        pdf_table_begin(p, &t);
        for (int64_t f = 0; f < r->n_failures; f++) {
            const wf_failure *F = &r->failures[f];
            char c1[32], c4[32] = "-", c5[32] = "-";
            wf_fmt_time_short(F->time, c1);
            int k = a->fail_episode[f];
            if (k >= 0) {
                snprintf(c4, sizeof c4, "%d", k + 1);
                snprintf(c5, sizeof c5, "%.1f",
                         (double)(F->time - r->windows->w[a->episodes[k].first].end) / 3600.0);
            }
            const char *cells[] = {F->turbine_id,
                                   c1,
                                   F->component,
                                   wf_failure_outcome_str(a->fail_outcome[f]),
                                   c4,
                                   c5};
            pdf_table_row(p, &t, cells);
        }
    }
    if (a->n_sweep > 0) {
        p->y -= 10;
        pdf_heading(p, "Threshold sweep", 2);
        pdf_rgb(p, 0x333333);
        pdf_paragraph(p, p->font, 9, PDF_ML, PDF_TW,
                      "What the same scores would have given at other thresholds, by the same "
                      "episode and crediting rules: precision is the share of episodes that "
                      "preceded a failure, recall the share of observable failures caught. The "
                      "row marked * is this run's threshold.");
        pdf_rgb(p, 0x000000);
        static const double w[] = {62, 52, 52, 45, 45, 45, 45, 45, 52, 52};
        static const char al[] = {'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'};
        static const char *const head[] = {"Threshold", "Flagged", "Episodes", "True",
                                           "Repeat",    "False",   "Caught",   "Missed",
                                           "Precision", "Recall"};
        pdf_table t = {10, w, al, head, 8, 0, NULL};
        pdf_table_begin(p, &t);
        for (int k = 0; k < a->n_sweep; k++) {
            const wf_sweep_row *q = &a->sweep[k];
            char c[10][80];
            wf_fmt_score(q->threshold, buf);
            snprintf(c[0], sizeof c[0], "%s%s",
                     fabs(q->threshold - r->threshold) < 1e-12 ? "* " : "", buf);
            snprintf(c[1], 32, "%lld", (long long)q->flagged);
            snprintf(c[2], 32, "%lld", (long long)q->episodes);
            snprintf(c[3], 32, "%lld", (long long)q->true_alarms);
            snprintf(c[4], 32, "%lld", (long long)q->repeat_alarms);
            snprintf(c[5], 32, "%lld", (long long)q->false_alarms);
            snprintf(c[6], 32, "%lld", (long long)q->caught);
            snprintf(c[7], 32, "%lld", (long long)q->missed);
            wf_fmt_score(q->precision, c[8]);
            wf_fmt_score(q->recall, c[9]);
            const char *cells[] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]};
            pdf_table_row(p, &t, cells);
        }
    }
    return WF_OK;
}

static wf_status sec_summary(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    wf_status st = pdf_tpl_heading(p, sec, "Fleet summary", err);
    if (!st)
        st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    if (st)
        return st;
    static const double w[] = {62, 55, 50, 62, 52, 52, 162};
    static const char al[] = {'l', 'r', 'r', 'r', 'r', 'r', 'l'};
    const char *const head[] = {pdf_w(p, "r_turbine"), pdf_w(p, "r_scored"),
                                pdf_w(p, "r_skipped"), pdf_w(p, "r_max_score"),
                                pdf_w(p, "r_flagged"), pdf_w(p, "r_episodes"),
                                pdf_w(p, "r_outcome")};
    pdf_table t = {7, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    const wf_analysis *a = p->a;
    for (int i = 0; i < a->n_turbines; i++) {
        const wf_turbine_summary *s = &a->turbines[i];
        char c[6][64];
        snprintf(c[0], 64, "%lld", (long long)s->scored);
        snprintf(c[1], 64, "%lld", (long long)s->skipped);
        pdf_score(p, s->max_score, c[2]);
        snprintf(c[3], 64, "%lld", (long long)s->flagged);
        snprintf(c[4], 64, "%lld", (long long)s->episodes);
        turbine_outcome(a, i, c[5], 64);
        const char *cells[] = {s->id, c[0], c[1], c[2], c[3], c[4], c[5]};
        pdf_table_row(p, &t, cells);
    }
    return summary_failures(p);
}

typedef struct review_args {
    const wf_analysis *a;
    int C;
    double m[]; /* (2, C): mean attribution over true alarms, then over false alarms */
} review_args;

static wf_status draw_review(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                             wf_png *out, wf_error *err) {
    const review_args *g = args;
    return wf_chart_review(cx, g->a, g->m, g->m + g->C, w_pt, h_pt, out, err);
}

/* The checks of one explanation, as rows of (check, value, verdict). */
static wf_status sec_review(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    const wf_analysis *a = p->a;
    int C = a->C;
    wf_status st = pdf_tpl_heading(p, sec, "Alarm review", err);
    if (!st)
        st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    if (st)
        return st;
    double *mt = calloc((size_t)C * 4 + 1, sizeof *mt), *mf = mt + C, *tt = mt + 2 * C,
           *tf = mt + 3 * C;
    if (!mt)
        return wf_error_set(err, WF_ERR_NOMEM, "report.pdf: out of memory (alarm review)");
    int nt = 0, nf = 0;
    wf_an_review(a, mt, mf, tt, tf, &nt, &nf);
    if (nt + nf == 0) {
        pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW,
                      "No explained alarm could be matched against a failure log, so there is "
                      "nothing to compare.");
        free(mt);
        return WF_OK;
    }
    char buf[160];
    snprintf(buf, sizeof buf, "Compared: %d true alarm%s and %d false alarm%s.", nt,
             nt == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
    pdf_paragraph(p, p->bold, 9.5, PDF_ML, PDF_TW, buf);
    double h = fmin(60 + 22 * C, 600);
    review_args *args = malloc(sizeof *args + sizeof(double) * 2 * (size_t)C);
    st = args ? WF_OK : wf_error_set(err, WF_ERR_NOMEM, "report.pdf: out of memory (review)");
    if (args) { /* the means go with the chart: mt is freed before it is drawn */
        args->a = a;
        args->C = C;
        memcpy(args->m, mt, sizeof(double) * 2 * (size_t)C); /* mt then mf */
        st = pdf_chart(p, draw_review, args, sizeof *args + sizeof(double) * 2 * (size_t)C, 0,
                       PDF_TW, h, err);
        free(args);
    }
    if (st) {
        free(mt);
        return st;
    }
    static const double w[] = {115, 95, 95, 95, 95};
    static const char al[] = {'l', 'r', 'r', 'r', 'r'};
    static const char *const head[] = {"Channel", "Mean attr. (true)", "Mean attr. (false)",
                                       "Top driver (true)", "Top driver (false)"};
    pdf_table t = {5, w, al, head, 8.5, 0, NULL};
    pdf_table_begin(p, &t);
    for (int c = 0; c < C; c++) {
        char c1[32], c2[32], c3[32], c4[32];
        snprintf(c1, sizeof c1, "%+.3f", mt[c]);
        snprintf(c2, sizeof c2, "%+.3f", mf[c]);
        snprintf(c3, sizeof c3, "%.0f of %d", tt[c], nt);
        snprintf(c4, sizeof c4, "%.0f of %d", tf[c], nf);
        const char *cells[] = {wf_an_channel(a, c), c1, c2, c3, c4};
        pdf_table_row(p, &t, cells);
    }
    free(mt);
    return WF_OK;
}

static wf_status sec_methods(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    wf_status st = pdf_tpl_heading(p, sec, "Methods", err);
    if (!st)
        st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    if (st)
        return st;
    pdf_methods_trees(p); /* tree-ensemble models (pdf_trees.c) */
    char *buf = malloc(8192);
    if (!buf)
        return wf_error_set(err, WF_ERR_NOMEM, "report.pdf: out of memory (methods)");
    wf_report_methods_text(p->r, p->o, buf, 8192);
    pdf_heading(p, pdf_w(p, "r_channels_read"), 1);
    {
        static const double w[] = {160, 80, 255};
        static const char al[] = {'l', 'l', 'l'};
        const char *const head[] = {pdf_w(p, "r_channel"), pdf_w(p, "r_unit"),
                                    pdf_w(p, "r_values_range")};
        pdf_table t = {3, w, al, head, 8.5, 0, NULL};
        pdf_table_begin(p, &t);
        const wf_windows *ws = p->r->windows;
        for (int c = 0; c < ws->C; c++) {
            double lo, hi;
            wf_an_channel_range(p->a, c, &lo, &hi);
            char range[96];
            const char *u = wf_an_unit(p->a, c);
            if (lo <= hi)
                snprintf(range, sizeof range, "%.4g to %.4g %s", lo, hi, u);
            else
                snprintf(range, sizeof range, "-");
            const char *cells[] = {wf_an_channel(p->a, c), u[0] ? u : "-", range};
            pdf_table_row(p, &t, cells);
        }
    }
    pdf_heading(p, pdf_w(p, "r_settings"), 1);
    /* one paragraph per line of the methods text */
    char *save = buf;
    while (save && *save) {
        char *nl = strchr(save, '\n');
        if (nl)
            *nl = '\0';
        if (*save)
            pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, save);
        save = nl ? nl + 1 : NULL;
    }
    /* issue 13: what was found among the channels, and the rule of the sentence of why */
    if (p->r->dependence) {
        pdf_heading(p, "Dependence among channels", 1);
        wf_dependence_describe(p->r->dependence, buf, 8192);
        for (char *q = buf, *nl; q && *q; q = nl ? nl + 1 : NULL) {
            if ((nl = strchr(q, '\n')))
                *nl = '\0';
            if (*q)
                pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, q);
        }
    }
    if (p->r->why) {
        pdf_heading(p, "The sentence of why and the agreement of the methods", 1);
        wf_why_describe(buf, 8192);
        for (char *q = buf, *nl; q && *q; q = nl ? nl + 1 : NULL) {
            if ((nl = strchr(q, '\n')))
                *nl = '\0';
            if (*q)
                pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW, q);
        }
    }
    free(buf);
    return WF_OK;
}

static wf_status sec_manifest(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    wf_status st = pdf_tpl_heading(p, sec, "Manifest", err);
    if (!st)
        st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    if (st)
        return st;
    const wf_report_options *o = p->o;
    pdf_heading(p, pdf_w(p, "r_inputs"), 1);
    static const double w[] = {60, 110, 325};
    static const char al[] = {'l', 'l', 'l'};
    const char *const head[] = {pdf_w(p, "r_role"), pdf_w(p, "r_file"), "SHA-256"};
    HPDF_Font cfonts[3] = {NULL, NULL, p->mono};
    pdf_table t = {3, w, al, head, 7.5, 0, cfonts};
    pdf_table_begin(p, &t);
    int has_model = 0;
    for (int i = 0; i < o->n_inputs; i++)
        has_model |= strcmp(o->inputs[i].role, "model") == 0;
    if (!has_model) {
        const char *cells[] = {"model", pdf_basename(p->r->model_path), p->r->model_sha256};
        pdf_table_row(p, &t, cells);
    }
    char tpl[1024], fonts[3][1024];
    wf_report_paths(o, tpl, fonts[0], fonts[1], fonts[2]);
    for (int i = 0; i < o->n_inputs + 4; i++) {
        char hex[65];
        wf_error e2;
        const char *role = i < o->n_inputs    ? o->inputs[i].role
                           : i == o->n_inputs ? "template"
                                              : "font";
        const char *path = i < o->n_inputs    ? o->inputs[i].path
                           : i == o->n_inputs ? tpl
                                              : fonts[i - o->n_inputs - 1];
        if (i < o->n_inputs && o->inputs[i].sha256) /* the digest of what the run read */
            snprintf(hex, sizeof hex, "%.64s", o->inputs[i].sha256);
        else if (wf_sha256_file_hex(path, hex, &e2) != WF_OK)
            snprintf(hex, sizeof hex, "(unreadable)");
        const char *cells[] = {role, pdf_basename(path), hex};
        pdf_table_row(p, &t, cells);
    }
    pdf_heading(p, pdf_w(p, "r_software"), 1);
    static const double w2[] = {140, 355};
    static const char al2[] = {'l', 'l'};
    const char *const head2[] = {pdf_w(p, "r_component"), pdf_w(p, "r_version")};
    pdf_table t2 = {2, w2, al2, head2, 8.5, 0, NULL};
    pdf_table_begin(p, &t2);
    for (int i = 0; i < o->n_versions; i++) {
        const char *cells[] = {o->versions[i].name, o->versions[i].value};
        pdf_table_row(p, &t2, cells);
    }
    struct utsname u;
    char plat[400], when[32];
    if (uname(&u) == 0)
        snprintf(plat, sizeof plat, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(plat, sizeof plat, "unknown");
    const char *r1[] = {"platform", plat};
    pdf_table_row(p, &t2, r1);
    const char *r2[] = {"time of the run", pdf_time(p, p->r->generated_at, when)};
    pdf_table_row(p, &t2, r2);
    const char *r3[] = {"run id", p->a->run_id};
    pdf_table_row(p, &t2, r3);
    return WF_OK;
}

static void footers(pdf_ctx *p) {
    char buf[160], when[32];
    for (int i = 0; i < p->n_pages; i++) {
        p->page = p->pages[i];
        HPDF_Page_SetRGBFill(p->page, 0.45f, 0.45f, 0.45f);
        snprintf(buf, sizeof buf, "%s  \xc2\xb7  run %s  \xc2\xb7  %s", pdf_w(p, "r_footer"),
                 p->a->run_id, pdf_time(p, p->r->generated_at, when));
        pdf_text_at(p, p->font, 7.5, PDF_ML, 28, buf);
        snprintf(buf, sizeof buf, "%s %d %s %d", pdf_w(p, "t_page"), i + 1, pdf_w(p, "t_page_of"),
                 p->n_pages);
        pdf_text_at(p, p->font, 7.5, PDF_W - PDF_MR - pdf_text_width(p, p->font, 7.5, buf), 28,
                    buf);
        pdf_unverified_mark(p);
    }
}

/* The fleet report's body: the template's sections in order. */
static wf_status fleet_body(pdf_ctx *p, void *user, wf_error *err) {
    (void)user;
    const wf_template *tpl = p->tpl;
    wf_status st = WF_OK;
    for (int i = 0; i < tpl->n && !st; i++) {
        const wf_tpl_section *sec = &tpl->sections[i];
        if (strcmp(sec->name, "cover") == 0)
            st = sec_cover(p, sec, err);
        else if (strcmp(sec->name, "summary") == 0)
            st = sec_summary(p, sec, err);
        else if (strcmp(sec->name, "episodes") == 0)
            st = pdf_sec_episodes(p, sec, err);
        else if (strcmp(sec->name, "review") == 0)
            st = sec_review(p, sec, err);
        else if (strcmp(sec->name, "drift") == 0)
            st = pdf_sec_drift(p, sec, err);
        if (!st && !strcmp(sec->name, "summary")) /* issue 14: time context */
            st = pdf_sec_timelines(p, err);
        if (!st && !strcmp(sec->name, "review"))
            st = pdf_sec_attr_dist(p, err);
        if (!st && !strcmp(sec->name, "review")) /* issue 15 */
            st = pdf_sec_compare(p, err);
        if (!st && !strcmp(sec->name, "review") && !wf_template_section(tpl, "drift"))
            st = pdf_sec_drift(p, NULL, err);
        else if (strcmp(sec->name, "methods") == 0)
            st = sec_methods(p, sec, err);
        else if (strcmp(sec->name, "manifest") == 0)
            st = sec_manifest(p, sec, err);
        else if (strcmp(sec->name, "model") == 0)
            st = pdf_sec_model(p, sec, err);
        if (!st)
            st = pdf_check(p, sec->name, err);
    }
    if (st)
        return st;
    if (p->n_pages == 0)
        pdf_new_page(p);
    footers(p);
    return WF_OK;
}

wf_status wf_report_write_pdf(const char *path, const wf_results *r, const wf_report_options *o,
                              wf_error *err) {
    return pdf_write_doc(path, r, o, NULL, -1, fleet_body, NULL, err);
}

wf_status wf_report_write_pdf_with(const char *path, const wf_results *r,
                                   const wf_report_options *o, const wf_analysis *an,
                                   wf_error *err) {
    return pdf_write_doc(path, r, o, an, -1, fleet_body, NULL, err);
}

wf_status pdf_write_doc(const char *path, const wf_results *r, const wf_report_options *o,
                        const wf_analysis *shared, int only_turbine, pdf_body_fn body, void *user,
                        wf_error *err) {
    wf_report_options def;
    if (o)
        def = *o;
    else
        wf_report_options_default(&def);
    wf_report_versions_complete(&def); /* a no-op when wf_report_write_all did it */
    o = &def;
    char tpl_path[1024], font[1024], bold[1024], mono[1024], tmp[4096];
    wf_report_paths(o, tpl_path, font, bold, mono);
    wf_template tpl;
    wf_status st = wf_template_load(tpl_path, &tpl, err);
    if (st)
        return st;
    wf_analysis a;
    memset(&a, 0, sizeof a);
    if (!shared) {
        st = wf_analysis_build(&a, r, o->max_episode_pages, err);
        if (st) {
            wf_template_free(&tpl);
            return st;
        }
    }
    const wf_analysis *an = shared ? shared : &a;
    pdf_ctx *p = calloc(1, sizeof *p);
    if (!p) {
        if (!shared)
            wf_analysis_free(&a);
        wf_template_free(&tpl);
        return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", path);
    }
    p->a = an;
    p->r = r;
    p->o = o;
    p->tpl = &tpl;
    p->cur_episode = -1;
    p->only_turbine = only_turbine;
    p->cx.font_path = font;
    p->cx.font_bold_path = bold;
    p->cx.dpi = 200;
    p->episode_page = calloc((size_t)(an->n_episodes > 0 ? an->n_episodes : 1), sizeof(int));
    st = wf_report_words_init(&p->words, &tpl, err); /* the template's words and locale */
    if (st)
        goto done;
    p->cx.words = &p->words;
    p->doc = HPDF_New(on_hpdf_error, p);
    if (!p->doc || !p->episode_page) {
        st = wf_error_set(err, WF_ERR_NOMEM, "%s: cannot create the PDF document", path);
        goto done;
    }
    st = pdf_charts_begin(p, path, err);
    if (st)
        goto done;
    HPDF_SetCompressionMode(p->doc, HPDF_COMP_ALL);
    HPDF_UseUTFEncodings(p->doc);
    HPDF_SetCurrentEncoder(p->doc, "UTF-8");
    const char *fn = HPDF_LoadTTFontFromFile(p->doc, font, HPDF_TRUE);
    const char *fb = HPDF_LoadTTFontFromFile(p->doc, bold, HPDF_TRUE);
    const char *fm = HPDF_LoadTTFontFromFile(p->doc, mono, HPDF_TRUE);
    if (!fn || !fb || !fm) {
        st = wf_error_set(err, WF_ERR_IO, "%s: cannot load fonts (%s, %s, %s; libharu 0x%04X)",
                          path, font, bold, mono, (unsigned)p->hpdf_error);
        goto done;
    }
    p->font = HPDF_GetFont(p->doc, fn, "UTF-8");
    p->bold = HPDF_GetFont(p->doc, fb, "UTF-8");
    p->mono = HPDF_GetFont(p->doc, fm, "UTF-8");
    pdf_fix_tounicode(p->font);
    pdf_fix_tounicode(p->bold);
    pdf_fix_tounicode(p->mono);
    {
        struct tm tmv;
        time_t tt = (time_t)r->generated_at;
        gmtime_r(&tt, &tmv);
        HPDF_Date d = {tmv.tm_year + 1900,
                       tmv.tm_mon + 1,
                       tmv.tm_mday,
                       tmv.tm_hour,
                       tmv.tm_min,
                       tmv.tm_sec,
                       'Z',
                       0,
                       0};
        HPDF_SetInfoDateAttr(p->doc, HPDF_INFO_CREATION_DATE, d);
        HPDF_SetInfoDateAttr(p->doc, HPDF_INFO_MOD_DATE, d);
        HPDF_SetInfoAttr(p->doc, HPDF_INFO_CREATOR, r->tool ? r->tool : WF_TOOL_NAME);
        HPDF_SetInfoAttr(p->doc, HPDF_INFO_TITLE, "Turbine alarm audit");
    }
    st = body(p, user, err);
    if (!st)
        st = pdf_charts_flush(p, err); /* the charts still waiting to be drawn */
    if (st)
        goto done;
    st = pdf_check(p, "drawing", err);
    if (st)
        goto done;
    st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st)
        goto done;
    if (HPDF_SaveToFile(p->doc, tmp) != HPDF_OK) {
        remove(tmp);
        st = pdf_check(p, "saving", err);
        if (!st)
            st = wf_error_set(err, WF_ERR_IO, "%s: cannot save the PDF", path);
        goto done;
    }
    st = wf_file_commit(tmp, path, err);
done:
    if (p->doc)
        HPDF_Free(p->doc);
    pdf_charts_end(p);
    free(p->episode_page);
    free(p);
    if (!shared)
        wf_analysis_free(&a);
    wf_template_free(&tpl);
    return st;
}

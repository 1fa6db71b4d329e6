/*
 * Layout primitives over libharu: pages with a cursor, wrapped UTF-8 paragraphs, headings,
 * tables that repeat their header on a new page (charts: pdf_charts.c). No section logic here
 * (pdf.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/pdf_impl.h"

void pdf_rgb(pdf_ctx *p, unsigned hex) {
    HPDF_Page_SetRGBFill(p->page, ((hex >> 16) & 255) / 255.0f, ((hex >> 8) & 255) / 255.0f,
                         (hex & 255) / 255.0f);
}

void pdf_new_page(pdf_ctx *p) {
    if (p->n_pages >= PDF_MAX_PAGES)
        return; /* keep drawing on the last page; wf_report caps episodes long before this */
    p->page = HPDF_AddPage(p->doc);
    HPDF_Page_SetSize(p->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    p->pages[p->n_pages++] = p->page;
    p->y = PDF_H - PDF_MT;
}

void pdf_ensure(pdf_ctx *p, double h) {
    if (!p->page || p->y - h < PDF_MB)
        pdf_new_page(p);
}

double pdf_text_width(pdf_ctx *p, HPDF_Font f, double size, const char *s) {
    HPDF_Page_SetFontAndSize(p->page, f, (HPDF_REAL)size);
    return HPDF_Page_TextWidth(p->page, s);
}

void pdf_text_at(pdf_ctx *p, HPDF_Font f, double size, double x, double y, const char *s) {
    char loc[2048]; /* issue 19: numbers in the template's decimal mark (not in code/hashes) */
    if (f != p->mono)
        s = wf_report_localize(&p->words, s, loc, sizeof loc);
    HPDF_Page_BeginText(p->page);
    HPDF_Page_SetFontAndSize(p->page, f, (HPDF_REAL)size);
    HPDF_Page_TextOut(p->page, (HPDF_REAL)x, (HPDF_REAL)y, s);
    HPDF_Page_EndText(p->page);
}

/* Length in bytes of the UTF-8 sequence starting at s. */
static size_t u8len(const char *s) {
    unsigned char c = (unsigned char)*s;
    return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

void pdf_fit(pdf_ctx *p, HPDF_Font f, double size, double w, const char *s, char *out,
             size_t size_out) {
    snprintf(out, size_out, "%s", s);
    if (pdf_text_width(p, f, size, out) <= w)
        return;
    size_t n = strlen(out);
    while (n > 0) {
        /* drop the last UTF-8 character */
        size_t k = n - 1;
        while (k > 0 && ((unsigned char)out[k] & 0xc0) == 0x80)
            k--;
        n = k;
        if (n + 4 > size_out)
            continue;
        memcpy(out + n, "\xe2\x80\xa6", 4); /* ellipsis + NUL */
        if (pdf_text_width(p, f, size, out) <= w)
            return;
    }
    out[0] = '\0';
}

void pdf_paragraph(pdf_ctx *p, HPDF_Font f, double size, double x, double w, const char *s) {
    double lead = size * 1.38;
    char line[2048];
    size_t ln = 0;
    const char *q = s;
    pdf_ensure(p, lead);
    while (*q) {
        /* next word (with its trailing spaces) */
        const char *ws = q;
        while (*q && *q != ' ')
            q += u8len(q);
        size_t wl = (size_t)(q - ws);
        char trial[2048];
        if (ln + 1 + wl >= sizeof trial)
            wl = sizeof trial - ln - 2;
        memcpy(trial, line, ln);
        size_t tn = ln;
        if (ln > 0)
            trial[tn++] = ' ';
        memcpy(trial + tn, ws, wl);
        tn += wl;
        trial[tn] = '\0';
        if (ln > 0 && pdf_text_width(p, f, size, trial) > w) {
            line[ln] = '\0';
            pdf_ensure(p, lead);
            pdf_text_at(p, f, size, x, p->y - size, line);
            p->y -= lead;
            memcpy(line, ws, wl);
            ln = wl;
        } else {
            memcpy(line, trial, tn);
            ln = tn;
        }
        while (*q == ' ')
            q++;
    }
    if (ln > 0) {
        line[ln] = '\0';
        pdf_ensure(p, lead);
        pdf_text_at(p, f, size, x, p->y - size, line);
        p->y -= lead;
    }
    p->y -= size * 0.5;
}

void pdf_heading(pdf_ctx *p, const char *s, int level) {
    double size = level == 0 ? 17 : level == 1 ? 12.5 : 10.5;
    pdf_ensure(p, size * 2.2 + 60); /* never leave a heading alone at the bottom */
    p->y -= level == 0 ? 0 : size * 0.4;
    pdf_rgb(p, 0x1b3a5c);
    /* wrapped, so a long title never runs off the page */
    pdf_paragraph(p, p->bold, size, PDF_ML, PDF_TW, s);
    if (level == 0) {
        HPDF_Page_SetRGBStroke(p->page, 0.106f, 0.227f, 0.361f);
        HPDF_Page_SetLineWidth(p->page, 1.2f);
        HPDF_Page_MoveTo(p->page, PDF_ML, (HPDF_REAL)(p->y + 2));
        HPDF_Page_LineTo(p->page, PDF_W - PDF_MR, (HPDF_REAL)(p->y + 2));
        HPDF_Page_Stroke(p->page);
        p->y -= size * 0.6;
    }
    pdf_rgb(p, 0x000000);
}

static void table_head(pdf_ctx *p, pdf_table *t) {
    double rh = t->size * 1.9, x = PDF_ML, tot = 0;
    for (int i = 0; i < t->n; i++)
        tot += t->w[i];
    HPDF_Page_SetRGBFill(p->page, 0.106f, 0.227f, 0.361f);
    HPDF_Page_Rectangle(p->page, PDF_ML, (HPDF_REAL)(p->y - rh), (HPDF_REAL)tot, (HPDF_REAL)rh);
    HPDF_Page_Fill(p->page);
    pdf_rgb(p, 0xffffff);
    for (int i = 0; i < t->n; i++) {
        char cell[256];
        pdf_fit(p, p->bold, t->size, t->w[i] - 6, t->head[i], cell, sizeof cell);
        double cw = pdf_text_width(p, p->bold, t->size, cell);
        double cx = t->align[i] == 'r'   ? x + t->w[i] - 3 - cw
                    : t->align[i] == 'c' ? x + (t->w[i] - cw) / 2
                                         : x + 3;
        pdf_text_at(p, p->bold, t->size, cx, p->y - rh + t->size * 0.6, cell);
        x += t->w[i];
    }
    pdf_rgb(p, 0x000000);
    p->y -= rh;
}

void pdf_table_begin(pdf_ctx *p, pdf_table *t) {
    t->row = 0;
    pdf_ensure(p, t->size * 1.9 * 3);
    table_head(p, t);
}

void pdf_table_row(pdf_ctx *p, pdf_table *t, const char *const *cells) {
    double rh = t->size * 1.7, x = PDF_ML, tot = 0;
    if (p->y - rh < PDF_MB) {
        pdf_new_page(p);
        table_head(p, t);
    }
    for (int i = 0; i < t->n; i++)
        tot += t->w[i];
    if (t->row % 2 == 1) {
        HPDF_Page_SetRGBFill(p->page, 0.94f, 0.95f, 0.97f);
        HPDF_Page_Rectangle(p->page, PDF_ML, (HPDF_REAL)(p->y - rh), (HPDF_REAL)tot, (HPDF_REAL)rh);
        HPDF_Page_Fill(p->page);
        pdf_rgb(p, 0x000000);
    }
    for (int i = 0; i < t->n; i++) {
        HPDF_Font f = t->fonts && t->fonts[i] ? t->fonts[i] : p->font;
        char cell[512];
        pdf_fit(p, f, t->size, t->w[i] - 6, cells[i] ? cells[i] : "", cell, sizeof cell);
        double cw = pdf_text_width(p, f, t->size, cell);
        double cx = t->align[i] == 'r'   ? x + t->w[i] - 3 - cw
                    : t->align[i] == 'c' ? x + (t->w[i] - cw) / 2
                                         : x + 3;
        pdf_text_at(p, f, t->size, cx, p->y - rh + t->size * 0.5, cell);
        x += t->w[i];
    }
    p->y -= rh;
    t->row++;
}

wf_status pdf_check(pdf_ctx *p, const char *what, wf_error *err) {
    if (p->hpdf_error == HPDF_OK)
        return WF_OK;
    return wf_error_set(err, p->hpdf_error == HPDF_FAILD_TO_ALLOC_MEM ? WF_ERR_NOMEM : WF_ERR_IO,
                        "report.pdf: libharu error 0x%04X (detail %u) while %s",
                        (unsigned)p->hpdf_error, (unsigned)p->hpdf_detail, what);
}

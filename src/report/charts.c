/*
 * Charts for the PDF, drawn with cairo (the only cairo user) into an RGB image at the report's
 * resolution and handed out as raw RGB pixels (the PDF writer compresses them and places them
 * with libharu; pdf_charts.c draws many charts at once, one per thread: every chart has its own
 * surface, cairo context and FreeType library and face, nothing is shared). Labels use
 * the same DejaVu TTF as the PDF text, loaded through FreeType, so charts and text match.
 *
 * All drawing is in points (1/72 in); the surface is scaled by dpi/72. Every chart has axis
 * labels with units and a legend; layout margins are measured from the label text so nothing is
 * clipped.
 */
#include <cairo-ft.h>
#include <cairo.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/chart_label.h"
#include "report/charts_impl.h"
#include "report/turbine_impl.h"
#include "report/report_impl.h"

#define WF_PI 3.14159265358979323846

/* ---------------------------------------------------------------- fonts and surfaces */

typedef struct ft_hold {
    FT_Library lib;
    FT_Face face;
} ft_hold;

static const cairo_user_data_key_t ft_key;

/* Called by cairo when the font face dies (possibly after the chart is done): the face and our
 * reference to the FreeType library go with it. */
static void ft_release(void *p) {
    ft_hold *h = p;
    FT_Done_Face(h->face);
    FT_Done_FreeType(h->lib); /* one library per face: this also frees its memory object */
    free(h);
}

static cairo_font_face_t *font_load(const char *path, wf_error *err) {
    ft_hold *h = calloc(1, sizeof *h);
    if (!h) {
        wf_error_set(err, WF_ERR_NOMEM, "chart: out of memory loading a font");
        return NULL;
    }
    if (FT_Init_FreeType(&h->lib)) {
        free(h);
        wf_error_set(err, WF_ERR_IO, "chart: cannot initialise FreeType");
        return NULL;
    }
    if (FT_New_Face(h->lib, path, 0, &h->face)) {
        FT_Done_FreeType(h->lib);
        free(h);
        wf_error_set(err, WF_ERR_IO, "%s: cannot load font (expected a TrueType file)", path);
        return NULL;
    }
    cairo_font_face_t *f = cairo_ft_font_face_create_for_ft_face(h->face, 0);
    if (cairo_font_face_set_user_data(f, &ft_key, h, ft_release) != CAIRO_STATUS_SUCCESS) {
        cairo_font_face_destroy(f);
        FT_Done_Face(h->face);
        FT_Done_FreeType(h->lib);
        free(h);
        wf_error_set(err, WF_ERR_NOMEM, "chart: cannot attach font");
        return NULL;
    }
    return f;
}

static wf_status chart_begin(chart *ch, const wf_chart_ctx *cx, double w_pt, double h_pt,
                             wf_error *err) {
    memset(ch, 0, sizeof *ch);
    ch->words = cx->words;
    double s = cx->dpi / 72.0;
    int wpx, hpx;
    wf_chart_px(cx, w_pt, h_pt, &wpx, &hpx);
    ch->w = w_pt;
    ch->h = h_pt;
    ch->font = font_load(cx->font_path, err);
    if (!ch->font)
        return err ? err->status : WF_ERR_IO;
    ch->bold = font_load(cx->font_bold_path ? cx->font_bold_path : cx->font_path, err);
    if (!ch->bold) {
        cairo_font_face_destroy(ch->font);
        return err ? err->status : WF_ERR_IO;
    }
    ch->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, wpx, hpx);
    ch->cr = cairo_create(ch->surf);
    if (cairo_status(ch->cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(ch->cr);
        cairo_surface_destroy(ch->surf);
        cairo_font_face_destroy(ch->font);
        cairo_font_face_destroy(ch->bold);
        return wf_error_set(err, WF_ERR_NOMEM, "chart: cannot create a %dx%d image", wpx, hpx);
    }
    cairo_scale(ch->cr, s, s);
    cairo_set_source_rgb(ch->cr, 1, 1, 1);
    cairo_paint(ch->cr);
    cairo_set_font_face(ch->cr, ch->font);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_set_font_options(ch->cr, fo);
    cairo_font_options_destroy(fo);
    return WF_OK;
}

/* The drawing as raw 8-bit RGB rows, top to bottom (what libharu's PNG loader decoded the
 * former PNG into, byte for byte: an RGB24 surface is opaque, x8r8g8b8 in a native uint32). */
static wf_status chart_end(chart *ch, wf_png *out, wf_error *err) {
    cairo_surface_flush(ch->surf);
    cairo_status_t cs = cairo_status(ch->cr);
    int w = cairo_image_surface_get_width(ch->surf), h = cairo_image_surface_get_height(ch->surf);
    int stride = cairo_image_surface_get_stride(ch->surf);
    const unsigned char *src = cairo_image_surface_get_data(ch->surf);
    unsigned char *rgb = NULL;
    size_t n = (size_t)w * (size_t)h * 3;
    if (cs == CAIRO_STATUS_SUCCESS && src && (rgb = malloc(n ? n : 1)) != NULL)
        for (int y = 0; y < h; y++) {
            const uint32_t *row = (const uint32_t *)(const void *)(src + (size_t)y * stride);
            unsigned char *o = rgb + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) {
                uint32_t v = row[x];
                o[3 * x] = (unsigned char)(v >> 16);
                o[3 * x + 1] = (unsigned char)(v >> 8);
                o[3 * x + 2] = (unsigned char)v;
            }
        }
    cairo_destroy(ch->cr);
    cairo_surface_destroy(ch->surf);
    cairo_font_face_destroy(ch->font);
    cairo_font_face_destroy(ch->bold);
    if (!rgb)
        return wf_error_set(err, WF_ERR_NOMEM, "chart: cannot read back a %dx%d image: %s", w, h,
                            cairo_status_to_string(cs));
    out->data = rgb;
    out->len = n;
    out->width_px = w;
    out->height_px = h;
    return WF_OK;
}

void wf_chart_px(const wf_chart_ctx *cx, double w_pt, double h_pt, int *w_px, int *h_px) {
    double s = cx->dpi / 72.0;
    *w_px = (int)ceil(w_pt * s);
    *h_px = (int)ceil(h_pt * s);
}

void wf_png_free(wf_png *p) {
    free(p->data);
    memset(p, 0, sizeof *p);
}

static double text_w(chart *ch, const char *s, double size, int bold) {
    cairo_text_extents_t e;
    cairo_set_font_face(ch->cr, bold ? ch->bold : ch->font);
    cairo_set_font_size(ch->cr, size);
    cairo_text_extents(ch->cr, s, &e);
    return e.x_advance;
}

/* Draw s with its anchor at (x, y): ax 0 left / 0.5 centre / 1 right; y is the baseline unless
 * mid != 0 (then vertically centred on y). angle in radians (counter-clockwise). */
static void text(chart *ch, double x, double y, const char *s, double size, double ax, int mid,
                 int bold, double angle) {
    cairo_t *cr = ch->cr;
    char loc[1024];
    s = wf_report_localize(ch->words, s, loc, sizeof loc);
    double w = text_w(ch, s, size, bold);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -angle);
    cairo_move_to(cr, -ax * w, mid ? size * 0.35 : 0);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

static void rgb(cairo_t *cr, unsigned hex) {
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0,
                         (hex & 255) / 255.0);
}

#define COL_POS 0xc0392bu /* raises the score */
#define COL_NEG 0x2166acu /* lowers the score */
#define COL_AXIS 0x333333u
#define COL_GRID 0xddddddu
#define COL_TEXT 0x222222u

/* Nice tick step for a range (1, 2, 2.5, 5 x 10^k), about n ticks: the one rule of every
 * chart's axis. */
double wf_chartx_nice_step(double range, int n) {
    if (!(range > 0) || !isfinite(range))
        return 1;
    double raw = range / n, p = pow(10, floor(log10(raw))), f = raw / p;
    double m = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    return m * p;
}

static void fmt_tick(char *buf, double v, double step) {
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(step * pow(10, dec) - round(step * pow(10, dec))) > 1e-6)
        dec++;
    if (dec > 6)
        dec = 6;
    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(buf, 32, "%.*f", dec, v);
}

/* Horizontal axis at y from x0 to x1 for values lo..hi, ticks below, label under. */
static void x_axis(chart *ch, double x0, double x1, double y, double lo, double hi, double top,
                   const char *label) {
    cairo_t *cr = ch->cr;
    double step = wf_chartx_nice_step(hi - lo, 6);
    char buf[32];
    cairo_set_line_width(cr, 0.5);
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
        double x = x0 + (v - lo) / (hi - lo) * (x1 - x0);
        rgb(cr, COL_GRID);
        cairo_move_to(cr, x, top);
        cairo_line_to(cr, x, y);
        cairo_stroke(cr);
        rgb(cr, COL_AXIS);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x, y + 3);
        cairo_stroke(cr);
        fmt_tick(buf, v, step);
        text(ch, x, y + 11, buf, 7.5, 0.5, 0, 0, 0);
    }
    rgb(cr, COL_AXIS);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x1, y);
    cairo_stroke(cr);
    text(ch, (x0 + x1) / 2, y + 23, label, 8.5, 0.5, 0, 0, 0);
}

/* Vertical axis at x (left side when right == 0) for lo..hi between y0 (bottom) and y1 (top). */
static void y_axis(chart *ch, double x, double y0, double y1, double lo, double hi, int right,
                   const char *label, double label_x, double grid_x1) {
    cairo_t *cr = ch->cr;
    /* about one tick per 18 points of height, at least 2 */
    int nt = (int)((y0 - y1) / 18);
    double step = wf_chartx_nice_step(hi - lo, nt < 2 ? 2 : nt > 5 ? 5 : nt);
    char buf[32];
    cairo_set_line_width(cr, 0.5);
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
        double y = y0 - (v - lo) / (hi - lo) * (y0 - y1);
        if (!right && grid_x1 > x) {
            rgb(cr, COL_GRID);
            cairo_move_to(cr, x, y);
            cairo_line_to(cr, grid_x1, y);
            cairo_stroke(cr);
        }
        rgb(cr, COL_AXIS);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, right ? x + 3 : x - 3, y);
        cairo_stroke(cr);
        fmt_tick(buf, v, step);
        text(ch, right ? x + 5 : x - 5, y, buf, 7, right ? 0 : 1, 1, 0, 0);
    }
    rgb(cr, COL_AXIS);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, x, y0);
    cairo_line_to(cr, x, y1);
    cairo_stroke(cr);
    if (label)
        text(ch, label_x, (y0 + y1) / 2, label, 7.5, 0.5, 1, 0, right ? -WF_PI / 2 : WF_PI / 2);
}

/* A legend entry: a swatch (kind 0 box, 1 line, 2 error bar) and text; returns the next x. */
static double legend_item(chart *ch, double x, double y, int kind, unsigned col, double alpha,
                          const char *label) {
    cairo_t *cr = ch->cr;
    cairo_set_source_rgba(cr, ((col >> 16) & 255) / 255.0, ((col >> 8) & 255) / 255.0,
                          (col & 255) / 255.0, alpha);
    if (kind == 0) {
        cairo_rectangle(cr, x, y - 6, 10, 7);
        cairo_fill(cr);
    } else if (kind == 1) {
        cairo_set_line_width(cr, 1.4);
        cairo_move_to(cr, x, y - 2.5);
        cairo_line_to(cr, x + 12, y - 2.5);
        cairo_stroke(cr);
    } else {
        cairo_set_line_width(cr, 0.8);
        cairo_move_to(cr, x + 1, y - 2.5);
        cairo_line_to(cr, x + 11, y - 2.5);
        cairo_move_to(cr, x + 1, y - 5.5);
        cairo_line_to(cr, x + 1, y + 0.5);
        cairo_move_to(cr, x + 11, y - 5.5);
        cairo_line_to(cr, x + 11, y + 0.5);
        cairo_stroke(cr);
    }
    rgb(cr, COL_TEXT);
    text(ch, x + 15, y, label, 7.5, 0, 0, 0, 0);
    return x + 15 + text_w(ch, label, 7.5, 0) + 12;
}

/* ---------------------------------------------------------------- waterfall */

static int cmp_abs_desc_idx(const double *v, int a, int b) {
    double x = fabs(v[a]), y = fabs(v[b]);
    if (x != y)
        return x > y ? -1 : 1;
    return a - b;
}

wf_status wf_chart_waterfall(const wf_chart_ctx *cx, const wf_analysis *a, const wf_explanation *e,
                             double w_pt, double h_pt, wf_png *out, wf_error *err) {
    const wf_kshap_result *k = &e->kshap;
    int M = k->M;
    int show = M <= 12 ? M : 11; /* the rest folds into one "other players" row */
    int *ord = malloc((size_t)(M > 0 ? M : 1) * sizeof *ord);
    if (!ord)
        return wf_error_set(err, WF_ERR_NOMEM, "chart: out of memory");
    for (int i = 0; i < M; i++)
        ord[i] = i;
    for (int i = 1; i < M; i++) { /* insertion sort by |value| */
        int v = ord[i], j = i - 1;
        while (j >= 0 && cmp_abs_desc_idx(k->values, ord[j], v) > 0) {
            ord[j + 1] = ord[j];
            j--;
        }
        ord[j + 1] = v;
    }
    int rows = show + (M > show ? 1 : 0);
    double val[13], se[13];
    const char *name[13];
    char other[48];
    char named[13][160]; /* "value = name" as shap's waterfall: the channel's window mean (with
                            its unit and percentile in the background) beside its bar */
    for (int i = 0; i < show; i++) {
        val[i] = k->values[ord[i]];
        se[i] = k->std_err ? k->std_err[ord[i]] : 0;
        name[i] = k->players && k->players[ord[i]] ? k->players[ord[i]] : "?";
        int c = -1;
        for (int j = 0; j < a->C; j++)
            if (!strcmp(wf_an_channel(a, j), name[i]))
                c = j;
        char vl[96];
        if (c >= 0 && wf_an_value_label(a, e->window_index, c, vl, sizeof vl)[0]) {
            snprintf(named[i], sizeof named[i], "%s = %.60s", vl, name[i]);
            name[i] = named[i];
        }
    }
    if (M > show) {
        double s = 0, s2 = 0;
        for (int i = show; i < M; i++) {
            s += k->values[ord[i]];
            s2 += k->std_err ? k->std_err[ord[i]] * k->std_err[ord[i]] : 0;
        }
        val[show] = s;
        se[show] = sqrt(s2);
        snprintf(other, sizeof other, "%d other players", M - show);
        name[show] = other;
    }
    free(ord);

    chart ch;
    wf_status st = chart_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double lw = 0;
    for (int i = 0; i < rows; i++) {
        double t = text_w(&ch, name[i], 8, 0);
        if (t > lw)
            lw = t;
    }
    double x0 = 12 + lw + 8, x1 = w_pt - 14, ytop = 40, ybot = h_pt - 36;
    /* Cumulative from the bottom row (smallest) up to the top row (largest), ending at f(x). */
    double cum[14];
    cum[rows] = k->base_value;
    for (int i = rows - 1; i >= 0; i--)
        cum[i] = cum[i + 1] + val[i];
    double lo = k->base_value, hi = k->base_value;
    for (int i = 0; i <= rows; i++) {
        double e1 = cum[i] - (i < rows ? 1.96 * se[i] : 0),
               e2 = cum[i] + (i < rows ? 1.96 * se[i] : 0);
        if (e1 < lo)
            lo = e1;
        if (e2 > hi)
            hi = e2;
        if (i < rows) {
            double b = cum[i + 1] - 1.96 * se[i], c = cum[i + 1] + 1.96 * se[i];
            if (b < lo)
                lo = b;
            if (c > hi)
                hi = c;
        }
    }
    double thr = a->r->threshold;
    if (k->link != WF_LINK_IDENTITY && thr > 0 && thr < 1)
        thr = log(thr / (1 - thr));
    if (isfinite(thr)) {
        if (thr < lo)
            lo = thr;
        if (thr > hi)
            hi = thr;
    }
    double pad = (hi - lo) * 0.08 + 1e-12;
    lo -= pad;
    hi += pad * 1.6; /* room for value labels right of the bars */
    if (k->link == WF_LINK_IDENTITY && lo < 0 && lo > -pad * 2)
        lo = fmin(lo, 0);
#define WX(v) (x0 + ((v)-lo) / (hi - lo) * (x1 - x0))
    double rowh = (ybot - ytop) / rows;
    x_axis(&ch, x0, x1, ybot, lo, hi, ytop,
           k->link != WF_LINK_IDENTITY ? "model output (log-odds of failure)"
                                       : "model score (probability of failure)");
    for (int i = 0; i < rows; i++) {
        double yc = ytop + (i + 0.5) * rowh, bh = fmin(rowh * 0.62, 16);
        double from = cum[i + 1], to = cum[i];
        rgb(cr, val[i] >= 0 ? COL_POS : COL_NEG);
        double xa = WX(fmin(from, to)), xb = WX(fmax(from, to));
        if (xb - xa < 0.6)
            xb = xa + 0.6;
        cairo_rectangle(cr, xa, yc - bh / 2, xb - xa, bh);
        cairo_fill(cr);
        /* connector to the next row up */
        if (i > 0) {
            rgb(cr, 0x888888);
            cairo_set_line_width(cr, 0.4);
            cairo_move_to(cr, WX(to), yc - bh / 2);
            cairo_line_to(cr, WX(to), yc - rowh + bh / 2);
            cairo_stroke(cr);
        }
        if (se[i] > 0) {
            rgb(cr, 0x111111);
            cairo_set_line_width(cr, 0.7);
            double ea = WX(to - 1.96 * se[i]), eb = WX(to + 1.96 * se[i]);
            cairo_move_to(cr, ea, yc);
            cairo_line_to(cr, eb, yc);
            cairo_move_to(cr, ea, yc - 3);
            cairo_line_to(cr, ea, yc + 3);
            cairo_move_to(cr, eb, yc - 3);
            cairo_line_to(cr, eb, yc + 3);
            cairo_stroke(cr);
        }
        char buf[48];
        snprintf(buf, sizeof buf, "%+.3f", val[i]);
        /* the value beside the bar's outer end, clear of the bar and its whiskers: right of a
         * rising bar, left of a falling one, else the other side, else inside (chart_label.c) */
        wf_label_place lp = wf_chart_label_place(xa, xb, fmin(xa, WX(to - 1.96 * se[i])),
                                                 fmax(xb, WX(to + 1.96 * se[i])), val[i] < 0,
                                                 text_w(&ch, buf, 7.5, 0), 4, x0 + 2, w_pt - 2);
        rgb(cr, lp.inside ? 0xffffff : COL_TEXT);
        text(&ch, lp.x, yc, buf, 7.5, 0, 1, 0, 0);
        rgb(cr, COL_TEXT);
        text(&ch, x0 - 6, yc, name[i], 8, 1, 1, 0, 0);
    }
    /* base value and f(x) markers */
    char lab[64], num[32];
    cairo_set_line_width(cr, 0.8);
    double dash[] = {3, 2};
    cairo_set_dash(cr, dash, 2, 0);
    rgb(cr, 0x555555);
    cairo_move_to(cr, WX(k->base_value), ytop - 4);
    cairo_line_to(cr, WX(k->base_value), ybot);
    cairo_stroke(cr);
    rgb(cr, 0x000000);
    cairo_move_to(cr, WX(k->f_x), ytop - 12);
    cairo_line_to(cr, WX(k->f_x), ybot);
    cairo_stroke(cr);
    if (isfinite(thr)) {
        rgb(cr, 0xe67e22);
        double d2[] = {1, 2};
        cairo_set_dash(cr, d2, 2, 0);
        cairo_move_to(cr, WX(thr), ytop - 4);
        cairo_line_to(cr, WX(thr), ybot);
        cairo_stroke(cr);
    }
    cairo_set_dash(cr, NULL, 0, 0);
    snprintf(lab, sizeof lab, "base value %s", wf_fmt_score(k->base_value, num));
    rgb(cr, 0x555555);
    double bx = WX(k->base_value), fxx = WX(k->f_x);
    int base_right = bx > fxx; /* put the two labels on the outer sides so they never collide */
    text(&ch, bx + (base_right ? 2 : -2), ytop - 6, lab, 7.5, base_right ? 0 : 1, 0, 0, 0);
    snprintf(lab, sizeof lab, "%s %s", k->link != WF_LINK_IDENTITY ? "log-odds" : "score",
             wf_fmt_score(k->f_x, num));
    rgb(cr, 0x000000);
    int fx_left = base_right || fxx + 2 + text_w(&ch, lab, 7.5, 1) > w_pt - 2; /* keep it in */
    text(&ch, fxx + (fx_left ? -2 : 2), ytop - 14, lab, 7.5, fx_left ? 1 : 0, 0, 1, 0);
    /* legend (from the left margin: the value labels can make x0 wide) */
    double lx = 12, ly = 10;
    lx = legend_item(&ch, lx, ly, 0, COL_POS, 1, "raises the score");
    lx = legend_item(&ch, lx, ly, 0, COL_NEG, 1, "lowers the score");
    if (k->std_err) /* TreeSHAP's exact values have none */
        lx = legend_item(&ch, lx, ly, 2, 0x111111, 1,
                         "95% interval (\xc2\xb1"
                         "1.96 SE)");
    if (isfinite(thr))
        legend_item(&ch, lx, ly, 1, 0xe67e22, 1, "alarm threshold");
#undef WX
    return chart_end(&ch, out, err);
}

/* ---------------------------------------------------------------- heatmap */

/* Diverging blue - white - red for t in [-1, 1]. */
static void diverging(double t, double *r, double *g, double *b) {
    static const double neg[3] = {0x21 / 255.0, 0x66 / 255.0, 0xac / 255.0};
    static const double pos[3] = {0xb2 / 255.0, 0x18 / 255.0, 0x2b / 255.0};
    if (t > 1)
        t = 1;
    if (t < -1)
        t = -1;
    const double *c = t >= 0 ? pos : neg;
    double u = fabs(t);
    *r = 1 + (c[0] - 1) * u;
    *g = 1 + (c[1] - 1) * u;
    *b = 1 + (c[2] - 1) * u;
}

/* Time axis helper: x position of timestep t, axis label in hours when the cadence is known. */
static void time_axis(chart *ch, const wf_analysis *a, double x0, double x1, double y, double top,
                      int grid) {
    cairo_t *cr = ch->cr;
    int T = a->T;
    double cad = (double)a->r->windows->cadence;
    double span = cad > 0 ? cad * T / 3600.0 : T; /* hours or steps */
    double step = wf_chartx_nice_step(span, 6);
    char buf[32];
    cairo_set_line_width(cr, 0.5);
    for (double v = 0; v <= span + 1e-9; v += step) {
        double x = x0 + v / span * (x1 - x0);
        if (grid) {
            rgb(cr, COL_GRID);
            cairo_move_to(cr, x, top);
            cairo_line_to(cr, x, y);
            cairo_stroke(cr);
        }
        rgb(cr, COL_AXIS);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x, y + 3);
        cairo_stroke(cr);
        fmt_tick(buf, v, step);
        text(ch, x, y + 11, buf, 7.5, 0.5, 0, 0, 0);
    }
    text(ch, (x0 + x1) / 2, y + 23,
         cad > 0 ? "hours since the window start" : "time step within the window", 8.5, 0.5, 0, 0,
         0);
}

wf_status wf_chart_heatmap(const wf_chart_ctx *cx, const wf_analysis *a, const wf_explanation *e,
                           double w_pt, double h_pt, wf_png *out, wf_error *err) {
    const wf_ig_result *g = &e->ig;
    int C = g->C, T = g->T;
    chart ch;
    wf_status st = chart_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double lw = 0;
    for (int c = 0; c < C; c++) {
        double t = text_w(&ch, wf_an_channel(a, c), 8, 0);
        if (t > lw)
            lw = t;
    }
    double x0 = 12 + lw + 6, x1 = w_pt - 78, ytop = 8, ybot = h_pt - 36;
    double vmax = 0;
    for (int i = 0; i < C * T; i++)
        if (fabs(g->values[i]) > vmax)
            vmax = fabs(g->values[i]);
    if (!(vmax > 0))
        vmax = 1;
    double cw = (x1 - x0) / T, rh = (ybot - ytop) / C;
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++) {
            double r, gg, b;
            diverging(g->values[c * T + t] / vmax, &r, &gg, &b);
            cairo_set_source_rgb(cr, r, gg, b);
            /* overlap by a hair so no seams show between cells */
            cairo_rectangle(cr, x0 + t * cw, ytop + c * rh, cw + 0.05, rh + 0.05);
            cairo_fill(cr);
        }
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
    rgb(cr, COL_AXIS);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, x0, ytop, x1 - x0, ybot - ytop);
    cairo_stroke(cr);
    for (int c = 0; c < C; c++)
        text(&ch, x0 - 5, ytop + (c + 0.5) * rh, wf_an_channel(a, c), 8, 1, 1, 0, 0);
    time_axis(&ch, a, x0, x1, ybot, ytop, 0);
    /* colour bar */
    double bx = x1 + 12, bw = 9, by0 = ybot, by1 = ytop;
    for (int i = 0; i < 200; i++) {
        double t = -1 + 2 * (i + 0.5) / 200, r, gg, b;
        diverging(t, &r, &gg, &b);
        cairo_set_source_rgb(cr, r, gg, b);
        double y = by0 - (i + 1) * (by0 - by1) / 200;
        cairo_rectangle(cr, bx, y, bw, (by0 - by1) / 200 + 0.1);
        cairo_fill(cr);
    }
    rgb(cr, COL_AXIS);
    cairo_rectangle(cr, bx, by1, bw, by0 - by1);
    cairo_stroke(cr);
    y_axis(&ch, bx + bw, by0, by1, -vmax, vmax, 1, "IG attribution (score units)", w_pt - 8, 0);
    return chart_end(&ch, out, err);
}

/* ---------------------------------------------------------------- signals */

static int cmp_float(const void *pa, const void *pb) {
    float x = *(const float *)pa, y = *(const float *)pb;
    return (x > y) - (x < y);
}

wf_status wf_chart_signals(const wf_chart_ctx *cx, const wf_analysis *a, const wf_explanation *e,
                           int k, double w_pt, double h_pt, wf_png *out, wf_error *err) {
    int C = a->C, T = a->T;
    const wf_window *win = &a->r->windows->w[e->window_index];
    const wf_background *bg = a->r->background;
    double attr[256];
    int top[8];
    if (C > 256 || !wf_an_channel_attr(a, e, attr))
        return wf_error_set(err, WF_ERR_INVALID, "chart: window %lld has no attributions",
                            (long long)e->window_index);
    if (k > C)
        k = C;
    if (k > 8)
        k = 8;
    for (int i = 0; i < k; i++) { /* top k by |attribution| */
        int best = -1;
        for (int c = 0; c < C; c++) {
            int used = 0;
            for (int j = 0; j < i; j++)
                used |= top[j] == c;
            if (!used && (best < 0 || fabs(attr[c]) > fabs(attr[best])))
                best = c;
        }
        top[i] = best;
    }
    int use_pct = bg && bg->n >= 20 && bg->C == C && bg->T == T;
    int have_bg = bg && bg->n > 0 && bg->C == C && bg->T == T;
    float *col = malloc((size_t)(have_bg ? bg->n : 1) * sizeof *col);
    double *blo = malloc((size_t)T * sizeof *blo), *bhi = malloc((size_t)T * sizeof *bhi);
    if (!col || !blo || !bhi) {
        free(col);
        free(blo);
        free(bhi);
        return wf_error_set(err, WF_ERR_NOMEM, "chart: out of memory");
    }
    chart ch;
    wf_status st = chart_begin(&ch, cx, w_pt, h_pt, err);
    if (st) {
        free(col);
        free(blo);
        free(bhi);
        return st;
    }
    cairo_t *cr = ch.cr;
    /* Each panel: a title line above it, the signal (left axis) over the background band, and
     * the IG attribution of each step as bars rising from the panel's floor (right axis, height
     * = magnitude, colour = sign), kept to the lower 40% so the signal stays readable. */
    double x0 = 52, x1 = w_pt - 52, ytop = 20, ybot_all = h_pt - 36, gap = 6, title_h = 12;
    double ph = (ybot_all - ytop - gap * (k - 1)) / k - title_h;
    for (int i = 0; i < k; i++) {
        int c = top[i];
        double py0 = ytop + i * (ph + title_h + gap) + title_h, py1 = py0 + ph; /* top, bottom */
        double lo = INFINITY, hi = -INFINITY;
        for (int t = 0; t < T; t++) {
            double v = win->values[c * T + t];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
            if (have_bg) {
                for (int64_t n = 0; n < bg->n; n++)
                    col[n] = bg->x[((size_t)n * C + c) * T + t];
                qsort(col, (size_t)bg->n, sizeof *col, cmp_float);
                if (use_pct) {
                    blo[t] = col[(int64_t)floor(0.05 * (bg->n - 1))];
                    bhi[t] = col[(int64_t)ceil(0.95 * (bg->n - 1))];
                } else {
                    blo[t] = col[0];
                    bhi[t] = col[bg->n - 1];
                }
                lo = fmin(lo, blo[t]);
                hi = fmax(hi, bhi[t]);
            }
        }
        if (!(hi > lo)) {
            hi = lo + 1;
            lo -= 1;
        }
        double pad = (hi - lo) * 0.08;
        lo -= pad;
        hi += pad;
        double amax = 0;
        const double *ig = e->has_ig ? e->ig.values + (size_t)c * T : NULL;
        for (int t = 0; ig && t < T; t++)
            amax = fmax(amax, fabs(ig[t]));
        if (!(amax > 0))
            amax = 1;
        double abar = amax / 0.4; /* right axis: 0 at the floor, amax at 40% of the height */
#define SX(t) (x0 + ((t) + 0.5) / T * (x1 - x0))
#define SY(v) (py1 - ((v)-lo) / (hi - lo) * (py1 - py0))
#define AY(v) (py1 - (v) / abar * (py1 - py0))
        rgb(cr, 0xfbfbfb);
        cairo_rectangle(cr, x0, py0, x1 - x0, py1 - py0);
        cairo_fill(cr);
        if (have_bg) {
            cairo_set_source_rgba(cr, 0.45, 0.6, 0.45, 0.28);
            cairo_move_to(cr, SX(0), SY(blo[0]));
            for (int t = 1; t < T; t++)
                cairo_line_to(cr, SX(t), SY(blo[t]));
            for (int t = T - 1; t >= 0; t--)
                cairo_line_to(cr, SX(t), SY(bhi[t]));
            cairo_close_path(cr);
            cairo_fill(cr);
        }
        if (ig) {
            double bw = (x1 - x0) / T;
            for (int t = 0; t < T; t++) {
                if (ig[t] >= 0)
                    cairo_set_source_rgba(cr, 0.75, 0.22, 0.17, 0.55);
                else
                    cairo_set_source_rgba(cr, 0.13, 0.40, 0.67, 0.55);
                double yb = AY(fabs(ig[t]));
                cairo_rectangle(cr, x0 + t * bw + bw * 0.15, yb, bw * 0.7, py1 - yb);
                cairo_fill(cr);
            }
        }
        y_axis(&ch, x0, py1, py0, lo, hi, 0, NULL, 0, x1);
        y_axis(&ch, x1, py1, py0, 0, abar, 1, NULL, 0, 0);
        rgb(cr, 0x111111);
        cairo_set_line_width(cr, 1.3);
        cairo_move_to(cr, SX(0), SY(win->values[c * T]));
        for (int t = 1; t < T; t++)
            cairo_line_to(cr, SX(t), SY(win->values[c * T + t]));
        cairo_stroke(cr);
        rgb(cr, COL_AXIS);
        cairo_set_line_width(cr, 0.6);
        cairo_rectangle(cr, x0, py0, x1 - x0, py1 - py0);
        cairo_stroke(cr);
        char lab[160], num[32];
        const char *u = wf_an_unit(a, c);
        snprintf(lab, sizeof lab, "%s%s%s%s", wf_an_channel(a, c), u[0] ? " [" : "", u,
                 u[0] ? "]" : "");
        rgb(cr, COL_TEXT);
        text(&ch, x0, py0 - 3, lab, 8, 0, 0, 1, 0);
        snprintf(lab, sizeof lab, "channel attribution %s%s", attr[c] >= 0 ? "+" : "",
                 wf_fmt_score(attr[c], num));
        text(&ch, x1, py0 - 3, lab, 7.5, 1, 0, 0, 0);
        text(&ch, 12, (py0 + py1) / 2, u[0] ? u : "value", 7.5, 0.5, 1, 0, WF_PI / 2);
        text(&ch, w_pt - 6, (py0 + py1) / 2, "|IG| per step", 7, 0.5, 1, 0, -WF_PI / 2);
#undef SX
#undef SY
#undef AY
    }
    time_axis(&ch, a, x0, x1, ybot_all, ytop, 0);
    double lx = x0;
    lx = legend_item(&ch, lx, 10, 1, 0x111111, 1, "signal (left axis)");
    if (have_bg)
        lx = legend_item(&ch, lx, 10, 0, 0x739973, 0.45,
                         use_pct ? "background 5-95% range" : "background min-max range");
    if (e->has_ig) {
        lx = legend_item(&ch, lx, 10, 0, COL_POS, 0.6, "");
        legend_item(&ch, lx - 14, 10, 0, COL_NEG, 0.6, "IG per step: raises / lowers (right axis)");
    }
    free(col);
    free(blo);
    free(bhi);
    return chart_end(&ch, out, err);
}

/* ---------------------------------------------------------------- alarm review */

wf_status wf_chart_review(const wf_chart_ctx *cx, const wf_analysis *a, const double *mean_true,
                          const double *mean_false, double w_pt, double h_pt, wf_png *out,
                          wf_error *err) {
    int C = a->C;
    chart ch;
    wf_status st = chart_begin(&ch, cx, w_pt, h_pt, err);
    if (st)
        return st;
    cairo_t *cr = ch.cr;
    double lw = 0;
    for (int c = 0; c < C; c++)
        lw = fmax(lw, text_w(&ch, wf_an_channel(a, c), 8, 0));
    double x0 = 12 + lw + 8, x1 = w_pt - 16, ytop = 24, ybot = h_pt - 36;
    double lo = 0, hi = 0;
    for (int c = 0; c < C; c++) {
        lo = fmin(lo, fmin(mean_true[c], mean_false[c]));
        hi = fmax(hi, fmax(mean_true[c], mean_false[c]));
    }
    if (!(hi > lo))
        hi = lo + 1;
    double pad = (hi - lo) * 0.06;
    lo -= pad;
    hi += pad;
    x_axis(&ch, x0, x1, ybot, lo, hi, ytop, "mean attribution per alarm (score units)");
    double rh = (ybot - ytop) / C;
#define RX(v) (x0 + ((v)-lo) / (hi - lo) * (x1 - x0))
    for (int c = 0; c < C; c++) {
        double yc = ytop + (c + 0.5) * rh, bh = fmin(rh * 0.36, 9);
        rgb(cr, 0xc0392b);
        cairo_rectangle(cr, fmin(RX(0), RX(mean_true[c])), yc - bh, fabs(RX(mean_true[c]) - RX(0)),
                        bh);
        cairo_fill(cr);
        rgb(cr, 0x7f8c8d);
        cairo_rectangle(cr, fmin(RX(0), RX(mean_false[c])), yc, fabs(RX(mean_false[c]) - RX(0)),
                        bh);
        cairo_fill(cr);
        rgb(cr, COL_TEXT);
        text(&ch, x0 - 6, yc, wf_an_channel(a, c), 8, 1, 1, 0, 0);
    }
    rgb(cr, COL_AXIS);
    cairo_set_line_width(cr, 0.8);
    cairo_move_to(cr, RX(0), ytop);
    cairo_line_to(cr, RX(0), ybot);
    cairo_stroke(cr);
#undef RX
    double lx = legend_item(&ch, x0, 10, 0, 0xc0392b, 1, "true alarms");
    legend_item(&ch, lx, 10, 0, 0x7f8c8d, 1, "false alarms");
    return chart_end(&ch, out, err);
}

/* ---------------------------------------------------------------- shared with charts_drift.c */

wf_status wf_chartx_begin(chart *ch, const wf_chart_ctx *cx, double w_pt, double h_pt,
                          wf_error *err) {
    return chart_begin(ch, cx, w_pt, h_pt, err);
}

wf_status wf_chartx_end(chart *ch, wf_png *out, wf_error *err) {
    return chart_end(ch, out, err);
}

void wf_chartx_text(chart *ch, double x, double y, const char *s, double size, double ax, int mid,
                    int bold, double angle) {
    text(ch, x, y, s, size, ax, mid, bold, angle);
}

double wf_chartx_text_w(chart *ch, const char *s, double size, int bold) {
    return text_w(ch, s, size, bold);
}

double wf_chartx_period_x(double x0, double x1, int64_t p, int64_t np) {
    return np > 1 ? x0 + 10 + (double)p * (x1 - x0 - 20) / (double)(np - 1) : (x0 + x1) / 2;
}

void wf_chartx_period_line(chart *ch, const double *v, size_t stride, int64_t np, double x0,
                           double x1, double y0, double y1, double hi, double dot_r) {
    cairo_t *cr = ch->cr;
    int pen = 0;
    for (int64_t p = 0; p < np; p++) {
        double y = v[(size_t)p * stride];
        if (!isfinite(y)) {
            if (pen)
                cairo_stroke(cr);
            pen = 0;
            continue;
        }
        double px = wf_chartx_period_x(x0, x1, p, np), py = y1 - y / hi * (y1 - y0);
        if (pen)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen = 1;
    }
    if (pen)
        cairo_stroke(cr);
    for (int64_t p = 0; dot_r > 0 && p < np; p++) {
        double y = v[(size_t)p * stride];
        if (!isfinite(y))
            continue;
        cairo_arc(cr, wf_chartx_period_x(x0, x1, p, np), y1 - y / hi * (y1 - y0), dot_r, 0,
                  6.2831853);
        cairo_fill(cr);
    }
}

void wf_chartx_period_frame(chart *ch, double x0, double x1, double y0, double y1, double hi,
                            const char *y_title, const char (*labels)[16], int64_t np) {
    cairo_t *cr = ch->cr;
    double step = wf_chartx_nice_step(hi, 5);
    cairo_set_line_width(cr, 0.5);
    for (double v = 0; v <= hi + step * 1e-9; v += step) {
        double y = y1 - v / hi * (y1 - y0);
        rgb(cr, COL_GRID);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x1, y);
        cairo_stroke(cr);
        char buf[32];
        fmt_tick(buf, v, step);
        rgb(cr, COL_TEXT);
        text(ch, x0 - 4, y, buf, 7, 1, 1, 0, 0);
    }
    text(ch, 10, (y0 + y1) / 2, y_title, 7.5, 0.5, 1, 0, 1.5707963);
    int64_t every = np > 26 ? (np + 25) / 26 : 1; /* at most 26 labels side by side */
    for (int64_t p = 0; p < np; p += every)
        text(ch, wf_chartx_period_x(x0, x1, p, np), y1 + 12, labels[p], 7, 0.5, 1, 0, 0);
}

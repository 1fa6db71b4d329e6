/*
 * The PDF's charts (issue 12, src/report/pdf_charts.c): placed at once, drawn later a batch at a
 * time on several threads, deflated by whyflag and read back by libharu while saving.
 *
 * - Pixels: every chart image of a document of 36 charts (more than one batch; one of them drawn
 *   by the caller and placed with pdf_image), extracted by poppler's pdfimages, equals the RGB
 *   pixels the chart function draws directly.
 * - Stream: whyflag's compressed image stream is byte for byte the one libharu writes itself for
 *   the same pixels (HPDF_LoadRawImageFromMem with image compression on): the PDFs did not
 *   change with the new pipeline.
 * - Threads: report.pdf of the synthetic fleet has the same bytes on 1, 2 and 3 threads, and no
 *   chart folder is left behind.
 * - Errors: a chart that fails to draw fails the document with its message; nothing is left.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "report/pdf_impl.h"
#include "test_report_synth.h"
#include "testutil.h"

static sy_run run;

static void setup_once(void) {
    sy_build(&run);
}
static void teardown_once(void) {
    sy_free(&run);
}

static void options(wf_report_options *o, int threads) {
    wf_report_options_default(o);
    o->data_dir = WF_SOURCE_DIR;
    o->threads = threads;
}

/* Files in dir other than keep (NULL: none expected). */
static int stray_files(const char *dir, const char *keep) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!keep || strcmp(e->d_name, keep)))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* ---------------------------------------------------------------- a document of charts */

typedef struct body_args {
    int n_expl;       /* explanations drawn: waterfall, heat map and signals of each */
    int fail_at;      /* chart index whose drawing fails (-1: none) */
    const char *only; /* "waterfall": one waterfall only */
} body_args;

static wf_status draw_fail(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                           wf_png *out, wf_error *err) {
    (void)cx, (void)args, (void)w_pt, (void)h_pt, (void)out;
    return wf_error_set(err, WF_ERR_DATA, "chart boom (made to fail by the test)");
}

static const pdf_chart_fn kinds[3] = {pdf_draw_waterfall, pdf_draw_heatmap, pdf_draw_signals};
static const double heights[3] = {150, 130, 160};

static wf_png direct(int n);

static wf_status charts_body(pdf_ctx *p, void *user, wf_error *err) {
    const body_args *b = user;
    int n = 0;
    for (int i = 0; i < b->n_expl; i++)
        for (int k = 0; k < 3; k++, n++) {
            if (n == 1 && b->fail_at < 0) { /* one drawn here and placed with pdf_image */
                wf_png png = direct(n);
                wf_status st = pdf_image(p, &png, 0, PDF_TW, heights[k], err);
                wf_png_free(&png);
                if (st)
                    return st;
                continue;
            }
            pdf_args_expl args = {.a = p->a, .e = run.expl[i], .k = 3};
            pdf_chart_fn fn = n == b->fail_at ? draw_fail : kinds[k];
            wf_status st = pdf_chart(p, fn, &args, sizeof args, 0, PDF_TW, heights[k], err);
            if (st)
                return st;
            if (b->only)
                return WF_OK;
        }
    return WF_OK;
}

static wf_status write_charts(const char *path, body_args *b, int threads, wf_error *err) {
    wf_report_options o;
    options(&o, threads);
    return pdf_write_doc(path, &run.r, &o, NULL, -1, charts_body, b, err);
}

/* The pixels chart n of charts_body draws, straight from the chart function. */
static wf_png direct(int n) {
    wf_analysis a;
    wf_error err = {0};
    ck_assert_int_eq(wf_analysis_build(&a, &run.r, 200, &err), WF_OK);
    char font[1024], bold[1024], mono[1024], tpl[1024];
    wf_report_options o;
    options(&o, 1);
    wf_report_paths(&o, tpl, font, bold, mono);
    wf_chart_ctx cx = {font, bold, 200, NULL};
    pdf_args_expl args = {.a = &a, .e = run.expl[n / 3], .k = 3};
    wf_png png = {0};
    ck_assert_int_eq(kinds[n % 3](&cx, &args, PDF_TW, heights[n % 3], &png, &err), WF_OK);
    wf_analysis_free(&a);
    return png;
}

START_TEST(test_pixels_through_poppler) {
    char *out = NULL;
    if (tu_run("command -v pdfimages", &out) != 0) {
        free(out);
        tu_skip("pdfimages missing (install poppler-utils): the chart pixels were not checked");
        return;
    }
    free(out);
    const char *d = tu_tmpdir();
    char pdf[4200], cmd[9000];
    snprintf(pdf, sizeof pdf, "%s/charts.pdf", d);
    body_args b = {12, -1, NULL}; /* 36 charts: more than one batch of 32 */
    wf_error err = {0};
    ck_assert_msg(write_charts(pdf, &b, 2, &err) == WF_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "pdfimages -list '%s' | tail -n +3 | wc -l", pdf);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_int_eq(atoi(out), 36);
    free(out);
    snprintf(cmd, sizeof cmd, "cd '%s' && pdfimages '%s' img 2>&1", d, pdf);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_msg(out[0] == '\0', "pdfimages: %s", out); /* no decoding errors */
    free(out);
    for (int n = 0; n < 36; n++) {
        char ppm[4300];
        snprintf(ppm, sizeof ppm, "%s/img-%03d.ppm", d, n);
        size_t len = 0;
        char *f = tu_read(ppm, &len);
        ck_assert_msg(f != NULL, "pdfimages wrote no %s", ppm);
        int w = 0, h = 0, used = 0;
        ck_assert_int_eq(sscanf(f, "P6 %d %d 255%n", &w, &h, &used), 2);
        used++; /* the one whitespace byte after 255 */
        wf_png png = direct(n);
        ck_assert_int_eq(w, png.width_px);
        ck_assert_int_eq(h, png.height_px);
        ck_assert_uint_eq(len - (size_t)used, png.len);
        ck_assert_msg(memcmp(f + used, png.data, png.len) == 0,
                      "chart %d: the PDF's pixels differ from the chart's", n);
        wf_png_free(&png);
        free(f);
    }
}
END_TEST

static const char *find(const char *h, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(h + i, needle, m))
            return h + i;
    return NULL;
}

/* The bytes of the first image XObject's stream in a PDF. */
static char *image_stream(const char *path, size_t *n) {
    size_t len = 0;
    char *f = tu_read(path, &len);
    ck_assert_ptr_nonnull(f);
    const char *s = find(f, len, "/Subtype /Image");
    ck_assert_ptr_nonnull(s);
    const char *a = find(s, len - (size_t)(s - f), "stream\r\n");
    ck_assert_ptr_nonnull(a);
    a += 8;
    const char *e = find(a, len - (size_t)(a - f), "\nendstream");
    ck_assert_ptr_nonnull(e);
    *n = (size_t)(e - a);
    char *out = malloc(*n);
    memcpy(out, a, *n);
    free(f);
    return out;
}

static void hpdf_error_abort(HPDF_STATUS e, HPDF_STATUS d, void *u) {
    (void)u;
    ck_abort_msg("libharu error 0x%04X (%u)", (unsigned)e, (unsigned)d);
}

START_TEST(test_stream_as_libharu_writes_it) {
    const char *d = tu_tmpdir();
    char ours[4200], theirs[4200];
    snprintf(ours, sizeof ours, "%s/ours.pdf", d);
    snprintf(theirs, sizeof theirs, "%s/libharu.pdf", d);
    body_args b = {1, -1, "waterfall"};
    wf_error err = {0};
    ck_assert_msg(write_charts(ours, &b, 2, &err) == WF_OK, "%s", err.msg);
    /* the same pixels through libharu's public raw-image call, compressed by libharu */
    wf_png png = direct(0);
    HPDF_Doc doc = HPDF_New(hpdf_error_abort, NULL);
    HPDF_SetCompressionMode(doc, HPDF_COMP_ALL);
    HPDF_Page page = HPDF_AddPage(doc);
    HPDF_Image img = HPDF_LoadRawImageFromMem(doc, png.data, (HPDF_UINT)png.width_px,
                                              (HPDF_UINT)png.height_px, HPDF_CS_DEVICE_RGB, 8);
    ck_assert_ptr_nonnull(img);
    HPDF_Page_DrawImage(page, img, 50, 50, 495, 150);
    ck_assert_int_eq(HPDF_SaveToFile(doc, theirs), HPDF_OK);
    HPDF_Free(doc);
    wf_png_free(&png);
    size_t na = 0, nb = 0;
    char *a = image_stream(ours, &na), *c = image_stream(theirs, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, c, na) == 0, "the image stream differs from libharu's own");
    free(a);
    free(c);
}
END_TEST

START_TEST(test_same_bytes_any_threads) {
    const char *d = tu_tmpdir();
    char path[3][4200], h[3][65];
    wf_error err = {0};
    for (int t = 0; t < 3; t++) {
        snprintf(path[t], sizeof path[t], "%s/report_%d.pdf", d, t + 1);
        wf_report_options o;
        options(&o, t + 1);
        ck_assert_msg(wf_report_write_pdf(path[t], &run.r, &o, &err) == WF_OK, "%s", err.msg);
        ck_assert_int_eq(wf_sha256_file_hex(path[t], h[t], &err), WF_OK);
    }
    ck_assert_msg(!strcmp(h[0], h[1]) && !strcmp(h[0], h[2]),
                  "report.pdf differs between 1, 2 and 3 threads");
    /* the charts' folder went with each document */
    ck_assert_int_eq(stray_files(d, NULL) - 3, 0);
}
END_TEST

START_TEST(test_failing_chart) {
    const char *d = tu_tmpdir();
    char pdf[4200];
    snprintf(pdf, sizeof pdf, "%s/charts.pdf", d);
    for (int at = 0; at < 40; at += 35) { /* in the first batch, in the last (at the save) */
        body_args b = {12, at, NULL};
        wf_error err = {0};
        wf_status st = write_charts(pdf, &b, 2, &err);
        ck_assert_int_eq(st, WF_ERR_DATA);
        ck_assert_msg(strstr(err.msg, "chart boom"), "message: %s", err.msg);
        struct stat sb;
        ck_assert_int_ne(stat(pdf, &sb), 0);
        ck_assert_int_eq(stray_files(d, NULL), 0);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("report_charts");
    TCase *tc = tcase_create("charts");
    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_pixels_through_poppler);
    tcase_add_test(tc, test_stream_as_libharu_writes_it);
    tcase_add_test(tc, test_same_bytes_any_threads);
    tcase_add_test(tc, test_failing_chart);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

/*
 * The PDF's charts (issue 12): placed at once, drawn later in parallel, stored compressed.
 *
 * pdf_chart reserves the chart's place on the page (an image XObject of the known pixel size,
 * drawn at the cursor) and queues the drawing. pdf_charts_flush draws the queued charts on the
 * run's threads, one chart per thread at a time: cairo into the chart's own surface (charts.c),
 * the RGB rows Flate-compressed here with zlib at the default level, the result written to
 * chart_dir/NNNNNN.z. Nothing but job i's slot is written by the thread drawing it, and a chart's
 * bytes depend only on its arguments, so the PDF is the same whatever the number of threads.
 * While libharu saves the document, each image reads its file back (before_write) and drops it
 * again (after_write): memory holds the charts being drawn and one compressed chart being saved.
 *
 * Before this, charts went through PNG files that libharu decoded and compressed again, on one
 * thread, while saving. The stream written now is the same: deflate at zlib's default level of
 * the same RGB rows, one /FlateDecode filter, so the PDF's bytes did not change (checked on the
 * sample audit, tests/test_report_charts.c keeps a reference).
 *
 * The image object is built with libharu's object layer (hpdf_objects.h: a dict stream in the
 * document's cross-reference table), as HPDF_LoadPngImageFromFile2 builds its own, because the
 * public API has no call for an image whose data is already compressed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/threads.h"
#include "report/pdf_impl.h"

#define PDF_CHART_BATCH 32 /* charts drawn per flush: bounds the queued arguments */

typedef struct pdf_chart_job {
    pdf_chart_fn draw;
    void *args;
    double w, h; /* points */
    int w_px, h_px;
    int index; /* file chart_dir/<index>.z */
    wf_status st;
    wf_error err;
} pdf_chart_job;

static void chart_file(const pdf_ctx *p, int index, char *f, size_t n) {
    snprintf(f, n, "%s/%06d.z", p->chart_dir, index);
}

wf_status pdf_charts_begin(pdf_ctx *p, const char *pdf_path, wf_error *err) {
    int n = snprintf(p->chart_dir, sizeof p->chart_dir, "%s.charts.XXXXXX", pdf_path);
    if (n < 0 || (size_t)n >= sizeof p->chart_dir || !mkdtemp(p->chart_dir)) {
        p->chart_dir[0] = '\0';
        return wf_error_set(err, WF_ERR_IO, "%s: cannot create a folder for the charts: %s",
                            pdf_path, strerror(errno));
    }
    return WF_OK;
}

static void jobs_drop(pdf_ctx *p) {
    for (int i = 0; i < p->n_jobs; i++)
        free(p->chart_jobs[i].args);
    p->n_jobs = 0;
}

void pdf_charts_end(pdf_ctx *p) {
    jobs_drop(p);
    free(p->chart_jobs);
    p->chart_jobs = NULL;
    p->cap_jobs = 0;
    if (!p->chart_dir[0])
        return;
    char f[4300];
    for (int i = 0; i < p->n_charts; i++) {
        chart_file(p, i, f, sizeof f);
        remove(f);
    }
    rmdir(p->chart_dir);
    p->chart_dir[0] = '\0';
}

/* ---------------------------------------------------------------- drawing (any thread) */

/* Deflate n bytes at zlib's default level into a new buffer (libharu's own image compression:
 * deflateInit at Z_DEFAULT_COMPRESSION, default window and memory level). */
static int deflate_all(const unsigned char *in, size_t n, unsigned char **out, size_t *out_n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit(&z, Z_DEFAULT_COMPRESSION) != Z_OK)
        return -1;
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it only reads next_in */
    z.avail_in = (uInt)n;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_n = (size_t)z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* Deflate a drawn chart's pixels into chart_dir/<index>.z. */
static wf_status chart_store(const pdf_ctx *p, int index, const wf_png *img, wf_error *err) {
    unsigned char *z = NULL;
    size_t zn = 0;
    if (deflate_all(img->data, img->len, &z, &zn))
        return wf_error_set(err, WF_ERR_NOMEM, "report.pdf: cannot compress chart %d", index);
    char f[4300];
    chart_file(p, index, f, sizeof f);
    FILE *fp = fopen(f, "wb");
    if (!fp) {
        free(z);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write a chart: %s", f, strerror(errno));
    }
    size_t put = fwrite(z, 1, zn, fp);
    free(z);
    if (fclose(fp) != 0 || put != zn) {
        remove(f);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write a chart", f);
    }
    return WF_OK;
}

static wf_status job_run(const pdf_ctx *p, pdf_chart_job *j) {
    wf_png img = {0};
    wf_status st = j->draw(&p->cx, j->args, j->w, j->h, &img, &j->err);
    if (st)
        return st;
    if (img.width_px != j->w_px || img.height_px != j->h_px ||
        img.len != (size_t)j->w_px * (size_t)j->h_px * 3)
        st = wf_error_set(&j->err, WF_ERR_INVALID,
                          "report.pdf: chart %d drawn at %dx%d pixels, placed as %dx%d", j->index,
                          img.width_px, img.height_px, j->w_px, j->h_px);
    else
        st = chart_store(p, j->index, &img, &j->err);
    wf_png_free(&img);
    return st;
}

typedef struct flush_ctx {
    wf_par par;
    pdf_ctx *p;
} flush_ctx;

static void flush_worker(void *arg, int tid) {
    (void)tid;
    flush_ctx *c = arg;
    int64_t i;
    while ((i = wf_par_next(&c->par)) >= 0) {
        pdf_chart_job *j = &c->p->chart_jobs[i];
        j->st = job_run(c->p, j);
    }
}

wf_status pdf_charts_flush(pdf_ctx *p, wf_error *err) {
    if (p->n_jobs == 0)
        return WF_OK;
    flush_ctx c = {.p = p};
    for (int i = 0; i < p->n_jobs; i++) {
        p->chart_jobs[i].st = WF_ERR_INVALID; /* until a worker ran it */
        memset(&p->chart_jobs[i].err, 0, sizeof p->chart_jobs[i].err);
    }
    c.par.n = p->n_jobs;
    wf_par_run(&c.par, p->o ? p->o->threads : 0, flush_worker, &c);
    wf_status st = WF_OK;
    for (int i = 0; i < p->n_jobs && !st; i++) { /* the first failure in page order */
        pdf_chart_job *j = &p->chart_jobs[i];
        if (j->st) {
            st = j->st;
            if (err) {
                if (j->err.status)
                    *err = j->err;
                else
                    wf_error_set(err, st, "report.pdf: chart %d was not drawn", j->index);
            }
        }
    }
    jobs_drop(p);
    return st;
}

/* ---------------------------------------------------------------- placing (libharu, one thread) */

/* libharu reads the chart's file into the image's stream only while saving it. */
static HPDF_STATUS chart_before_write(HPDF_Dict obj) {
    HPDF_MemStream_FreeData(obj->stream);
    HPDF_String s = HPDF_Dict_GetItem(obj, "_FILE_NAME", HPDF_OCLASS_STRING);
    if (!s)
        return HPDF_SetError(obj->error, HPDF_MISSING_FILE_NAME_ENTRY, 0);
    FILE *fp = fopen((const char *)s->value, "rb");
    if (!fp)
        return HPDF_SetError(obj->error, HPDF_FILE_OPEN_ERROR, (HPDF_STATUS)errno);
    unsigned char buf[65536];
    size_t n;
    HPDF_STATUS ret = HPDF_OK;
    while (ret == HPDF_OK && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        ret = HPDF_Stream_Write(obj->stream, buf, (HPDF_UINT)n);
    if (ret == HPDF_OK && ferror(fp))
        ret = HPDF_SetError(obj->error, HPDF_FILE_IO_ERROR, 0);
    fclose(fp);
    return ret;
}

static HPDF_STATUS chart_after_write(HPDF_Dict obj) {
    HPDF_MemStream_FreeData(obj->stream);
    return HPDF_OK;
}

/* The stream is already deflated: libharu's own filter stays off (it would compress again) and
 * the filter entry is written here, where libharu writes it for the images it compresses (last,
 * as an array). */
static HPDF_STATUS chart_write_filter(HPDF_Dict obj, HPDF_Stream stream) {
    (void)obj;
    return HPDF_Stream_WriteStr(stream, "/Filter [ /FlateDecode ]\012");
}

static HPDF_Image chart_image(pdf_ctx *p, const char *file, int w_px, int h_px) {
    HPDF_Doc doc = p->doc;
    HPDF_Dict image = HPDF_DictStream_New(doc->mmgr, doc->xref);
    if (!image)
        return NULL;
    image->header.obj_class |= HPDF_OSUBCLASS_XOBJECT;
    HPDF_STATUS ret = HPDF_Dict_AddName(image, "Type", "XObject");
    ret += HPDF_Dict_AddName(image, "Subtype", "Image");
    ret += HPDF_Dict_AddName(image, "ColorSpace", "DeviceRGB");
    ret += HPDF_Dict_AddNumber(image, "Width", (HPDF_INT32)w_px);
    ret += HPDF_Dict_AddNumber(image, "Height", (HPDF_INT32)h_px);
    ret += HPDF_Dict_AddNumber(image, "BitsPerComponent", 8);
    if (ret != HPDF_OK)
        return NULL;
    HPDF_String fname = HPDF_String_New(doc->mmgr, file, NULL);
    if (!fname)
        return NULL;
    fname->header.obj_id |= HPDF_OTYPE_HIDDEN; /* not written: only for chart_before_write */
    if (HPDF_Dict_Add(image, "_FILE_NAME", fname) != HPDF_OK)
        return NULL;
    image->filter = HPDF_STREAM_FILTER_NONE;
    image->before_write_fn = chart_before_write;
    image->after_write_fn = chart_after_write;
    image->write_fn = chart_write_filter;
    return image;
}

/* Reserve the next chart file and draw its image at the cursor. */
static wf_status chart_place(pdf_ctx *p, int index, int w_px, int h_px, double x, double w,
                             double h, wf_error *err) {
    pdf_ensure(p, h + 4);
    char f[4300];
    chart_file(p, index, f, sizeof f);
    HPDF_Image img = chart_image(p, f, w_px, h_px);
    if (!img) {
        wf_status st = pdf_check(p, "placing a chart", err);
        return st ? st : wf_error_set(err, WF_ERR_NOMEM, "report.pdf: cannot place a chart");
    }
    HPDF_Page_DrawImage(p->page, img, (HPDF_REAL)(PDF_ML + x), (HPDF_REAL)(p->y - h), (HPDF_REAL)w,
                        (HPDF_REAL)h);
    p->y -= h + 4;
    return WF_OK;
}

wf_status pdf_image(pdf_ctx *p, const wf_png *png, double x, double w, double h, wf_error *err) {
    if (png->len != (size_t)png->width_px * (size_t)png->height_px * 3)
        return wf_error_set(err, WF_ERR_INVALID,
                            "report.pdf: a chart of %dx%d pixels has %zu bytes", png->width_px,
                            png->height_px, png->len);
    int index = p->n_charts++;
    wf_status st = chart_store(p, index, png, err);
    if (st)
        return st;
    return chart_place(p, index, png->width_px, png->height_px, x, w, h, err);
}

wf_status pdf_chart(pdf_ctx *p, pdf_chart_fn draw, const void *args, size_t n, double x, double w,
                    double h, wf_error *err) {
    if (p->n_jobs >= PDF_CHART_BATCH) {
        wf_status st = pdf_charts_flush(p, err);
        if (st)
            return st;
    }
    if (p->n_jobs == p->cap_jobs) {
        int nc = p->cap_jobs ? p->cap_jobs * 2 : PDF_CHART_BATCH;
        pdf_chart_job *nj = realloc(p->chart_jobs, (size_t)nc * sizeof *nj);
        if (!nj)
            return wf_error_set(err, WF_ERR_NOMEM, "report.pdf: out of memory (charts)");
        p->chart_jobs = nj;
        p->cap_jobs = nc;
    }
    pdf_chart_job *j = &p->chart_jobs[p->n_jobs];
    memset(j, 0, sizeof *j);
    j->args = malloc(n ? n : 1);
    if (!j->args)
        return wf_error_set(err, WF_ERR_NOMEM, "report.pdf: out of memory (charts)");
    memcpy(j->args, args, n);
    j->draw = draw;
    j->w = w;
    j->h = h;
    j->index = p->n_charts;
    wf_chart_px(&p->cx, w, h, &j->w_px, &j->h_px);
    p->n_jobs++;
    p->n_charts++; /* from here pdf_charts_end removes its file (if it was written) */
    return chart_place(p, j->index, j->w_px, j->h_px, x, w, h, err);
}

/* ---------------------------------------------------------------- adapters */

wf_status pdf_draw_waterfall(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                             wf_png *out, wf_error *err) {
    const pdf_args_expl *g = args;
    return wf_chart_waterfall(cx, g->a, &g->e, w_pt, h_pt, out, err);
}

wf_status pdf_draw_heatmap(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                           wf_png *out, wf_error *err) {
    const pdf_args_expl *g = args;
    return wf_chart_heatmap(cx, g->a, &g->e, w_pt, h_pt, out, err);
}

wf_status pdf_draw_signals(const wf_chart_ctx *cx, const void *args, double w_pt, double h_pt,
                           wf_png *out, wf_error *err) {
    const pdf_args_expl *g = args;
    return wf_chart_signals(cx, g->a, &g->e, g->k, w_pt, h_pt, out, err);
}

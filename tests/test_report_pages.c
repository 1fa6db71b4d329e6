/*
 * Regression test for issue 17, defect 6: the PDF has room for 4,096 pages (PDF_MAX_PAGES), and
 * a run with enough alarm episodes used to make the episode table read past the page array
 * (SIGSEGV). Here a synthetic run (written for this test) has 190,000 one-window episodes on one
 * turbine: its episode table alone, at 46 rows a page, would take about 4,130 pages. The writer
 * must finish with a bounded PDF (checked with poppler's pdfinfo, not by whyflag) whose table
 * ends with a note stating how many episodes were left out and where they all are (checked
 * with pdftotext). Run under the ASan/UBSan build to show no read past the page array.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/report.h"
#include "whyflag/results.h"
#include "testutil.h"

#define PG_EPISODES 190000
#define PG_CAD 600
#define PG_STRIDE 2
#define PG_T0 1709251200 /* 2024-03-01T00:00:00Z */

static int tool_missing(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null", tool);
    return tu_run(cmd, NULL) != 0;
}

START_TEST(test_pdf_page_bound) {
    if (tool_missing("pdfinfo") || tool_missing("pdftotext")) {
        tu_skip("poppler-utils missing");
        return;
    }
    static const char *const names[1] = {"vibration_rms"};
    static const char *const units[1] = {"mm/s"};
    wf_error err = {0};
    wf_windows ws;
    ck_assert_int_eq(wf_windows_init(&ws, 1, 2, names, units, &err), WF_OK);
    ws.stride = PG_STRIDE;
    ws.cadence = PG_CAD;
    /* One flagged window every second stride: the gap between two (one stride) is not shorter
     * than the merge gap (one stride), so each window is an episode of its own. */
    int64_t step = (int64_t)PG_STRIDE * PG_CAD;
    double *scores = malloc(sizeof *scores * PG_EPISODES);
    uint8_t *flags = malloc(PG_EPISODES);
    ck_assert(scores && flags);
    for (int64_t k = 0; k < PG_EPISODES; k++) {
        float v[2] = {1.5f + 0.001f * (float)(k % 100), 1.7f};
        wf_window w;
        memset(&w, 0, sizeof w);
        w.index = -1;
        snprintf(w.turbine_id, sizeof w.turbine_id, "WT01");
        w.start = PG_T0 + 2 * k * step;
        w.end = w.start + PG_CAD;
        w.label = -1; /* no failure log */
        w.values = v;
        ck_assert_int_eq(wf_windows_push(&ws, &w, &err), WF_OK);
        scores[k] = 0.9; /* equal peaks: the detail sections go to the first episodes */
        flags[k] = 1;
    }
    wf_explain_settings settings;
    memset(&settings, 0, sizeof settings);
    settings.max_samples = 65536;
    settings.convergence = 0.01;
    settings.max_steps = 1024;
    settings.ig_tol = 0.01;
    settings.eg_samples = 200;
    settings.seed = 7;
    wf_results r;
    memset(&r, 0, sizeof r);
    r.tool = "whyflag 0.1.0";
    r.command = "audit";
    r.model_path = "model.onnx";
    snprintf(r.model_sha256, sizeof r.model_sha256, "%064d", 0);
    r.threshold = 0.5;
    r.generated_at = 1717200000;
    r.settings = &settings;
    r.windows = &ws;
    r.scores = scores;
    r.flagged = flags;
    r.horizon_hours = 72;

    char dir[4200], pdf[4300];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(pdf, sizeof pdf, "%s/report.pdf", dir);
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    o.max_episode_pages = 20; /* the detail sections are not what this test is about */
    wf_status st = wf_report_write_pdf(pdf, &r, &o, &err);
    ck_assert_msg(st == WF_OK, "wf_report_write_pdf: %s", err.msg);

    char *out = NULL;
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "pdfinfo '%s' | sed -n 's/^Pages: *//p'", pdf);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    long pages = strtol(out, NULL, 10);
    free(out);
    /* bounded by the page array; the table took its share of it (rows for 2,046 pages, about
     * 1,930 pages of a table that leaves room for its header) */
    ck_assert_msg(pages > 1900 && pages <= 4096, "%ld pages", pages);
    /* the table ends with a stated note: how many episodes it left out, and where they are */
    snprintf(cmd, sizeof cmd,
             "pdftotext '%s' - 2>/dev/null | tr '\\n' ' ' | grep -o 'and [0-9]* more episodes "
             "(the PDF.s page limit): every episode is in report.xlsx' | head -1",
             pdf);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_msg(strstr(out, "more episodes") != NULL, "no page-limit note in the PDF: '%s'", out);
    long more = strtol(out + 4, NULL, 10);
    free(out);
    /* the rows shown fill about half the page limit; the rest are counted in the note */
    ck_assert_msg(more > 0 && PG_EPISODES - more > 90000, "%ld episodes left out", more);
    free(scores);
    free(flags);
    wf_windows_free(&ws);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("report_pages");
    TCase *tc = tcase_create("report_pages");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_pdf_page_bound);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(suite());
}

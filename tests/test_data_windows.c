/*
 * Windowing on small logs written for these tests, one problem each: gaps, empty cells, NaN,
 * unparsable numbers and times, interleaved turbines, out-of-order rows, duplicate timestamps,
 * quoting, CRLF, BOM, Latin-1 header, decimal comma, strptime formats, offsets, truncated last
 * lines, interpolation, labels. Each asserts the windows produced and the exact skip reasons.
 * The expected values are worked out by hand from the rules in include/whyflag/data.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_impl.h"
#include "testutil.h"
#include "whyflag/config.h"
#include "whyflag/data.h"

typedef struct run {
    wf_windows ws;
    wf_data_stats st;
    wf_error err;
    wf_status status;
} run;

/* Write log (and failures when not NULL) to a fresh folder, build a config with channels a, b
 * plus log_extra (JSON members, leading comma) and the window object, and cut windows. */
static void run_log(run *r, const char *log, const char *log_extra, const char *window,
                    const char *failures) {
    memset(r, 0, sizeof *r);
    const char *dir = tu_tmpdir();
    char p[4200], json[4096];
    snprintf(p, sizeof p, "%s/log.csv", dir);
    tu_write(p, log);
    char fl[256] = "";
    if (failures) {
        snprintf(p, sizeof p, "%s/failures.csv", dir);
        tu_write(p, failures);
        snprintf(fl, sizeof fl,
                 ", \"failures\": {\"path\": \"failures.csv\", \"horizon_hours\": 1}");
    }
    snprintf(json, sizeof json,
             "{\"log\": {\"path\": \"log.csv\", \"channels\": [\"a\", \"b\"]%s}, \"window\": %s%s}",
             log_extra ? log_extra : "", window ? window : "{\"length\": 3, \"stride\": 1}", fl);
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(wf_config_parse(json, "test.json", dir, &cfg, &err) == WF_OK, "%s", err.msg);
    r->status = wf_data_load_windows(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures},
                                     &r->ws, NULL, NULL, &r->st, &r->err);
    wf_config_deinit(&cfg);
}

static void run_free(run *r) {
    wf_windows_free(&r->ws);
}

#define HDR "turbine_id,timestamp,a,b\n"
#define T0 1704067200 /* 2024-01-01T00:00:00Z */

static void expect_windows(const run *r, int n_valid, int n_skipped) {
    ck_assert_msg(r->status == WF_OK, "status %d: %s", r->status, r->err.msg);
    ck_assert_int_eq(r->ws.n, n_valid);
    ck_assert_int_eq(r->ws.n_skipped, n_skipped);
    ck_assert_int_eq(r->st.windows_valid, n_valid);
    ck_assert_int_eq(r->st.windows_skipped, n_skipped);
}

static void expect_skip(const run *r, int i, const char *turbine, int64_t start,
                        const char *reason) {
    ck_assert_int_lt(i, r->ws.n_skipped);
    ck_assert_str_eq(r->ws.skipped[i].turbine_id, turbine);
    ck_assert_int_eq(r->ws.skipped[i].start, start);
    ck_assert_str_eq(r->ws.skipped[i].reason, reason);
}

static void expect_window(const run *r, int i, const char *turbine, int64_t start, const float *a,
                          const float *b) {
    ck_assert_int_lt(i, r->ws.n);
    const wf_window *w = &r->ws.w[i];
    ck_assert_int_eq(w->index, i);
    ck_assert_str_eq(w->turbine_id, turbine);
    ck_assert_int_eq(w->start, start);
    ck_assert_int_eq(w->end, start + (r->ws.T - 1) * 600);
    for (int t = 0; t < r->ws.T; t++) {
        ck_assert_msg(w->values[t] == a[t], "a[%d] = %g, want %g", t, w->values[t], a[t]);
        ck_assert_msg(w->values[r->ws.T + t] == b[t], "b[%d] = %g, want %g", t,
                      w->values[r->ws.T + t], b[t]);
    }
}

/* ---------------------------------------------------------------- grid problems */

START_TEST(test_gap) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                "WT1,2024-01-01T00:40:00Z,5,50\n"
                "WT1,2024-01-01T00:50:00Z,6,60\n"
                "WT1,2024-01-01T01:00:00Z,7,70\n",
            NULL, NULL, NULL);
    /* grid 0..6, windows k = 0..4; 00:30 (grid 3) is missing */
    expect_windows(&r, 2, 3);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    expect_window(&r, 1, "WT1", T0 + 4 * 600, (float[]){5, 6, 7}, (float[]){50, 60, 70});
    for (int k = 0; k < 3; k++)
        expect_skip(&r, k, "WT1", T0 + (k + 1) * 600, "missing row at 2024-01-01T00:30:00Z");
    ck_assert_int_eq(r.st.skipped_by_kind[WF_SKIP_MISSING_ROW], 3);
    ck_assert_int_eq(r.ws.w[0].label, -1); /* no failure log */
    run_free(&r);
}
END_TEST

START_TEST(test_empty_cell_nan_bad_number) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,\n"     /* line 3: empty b (column 4) */
                "WT1,2024-01-01T00:20:00Z,NaN,30\n" /* line 4: NaN a (column 3) */
                "WT1,2024-01-01T00:30:00Z,4,abc\n"  /* line 5: unparsable b */
                "WT1,2024-01-01T00:40:00Z,5,inf\n"  /* line 6: infinite b */
                "WT1,2024-01-01T00:50:00Z,6,60\n",
            NULL, "{\"length\": 2, \"stride\": 1}", NULL);
    expect_windows(&r, 0, 5);
    expect_skip(&r, 0, "WT1", T0, "empty cell in b at 2024-01-01T00:10:00Z (log.csv:3:4)");
    expect_skip(&r, 1, "WT1", T0 + 600, "empty cell in b at 2024-01-01T00:10:00Z (log.csv:3:4)");
    expect_skip(&r, 2, "WT1", T0 + 1200,
                "NaN or infinite value in a at 2024-01-01T00:20:00Z (log.csv:4:3)");
    expect_skip(&r, 3, "WT1", T0 + 1800,
                "unparsable number in b at 2024-01-01T00:30:00Z (log.csv:5:4)");
    expect_skip(&r, 4, "WT1", T0 + 2400,
                "NaN or infinite value in b at 2024-01-01T00:40:00Z (log.csv:6:4)");
    ck_assert_int_eq(r.st.bad_cells, 4);
    ck_assert_int_eq(r.st.skipped_by_kind[WF_SKIP_EMPTY_CELL], 2);
    ck_assert_int_eq(r.st.skipped_by_kind[WF_SKIP_NONFINITE], 2);
    ck_assert_int_eq(r.st.skipped_by_kind[WF_SKIP_BAD_NUMBER], 1);
    /* the unparsable number is also a note naming file:line:column and the text */
    int found = 0;
    for (int i = 0; i < r.st.n_notes; i++)
        found |= strstr(r.st.notes[i], "log.csv:5:4: unparsable number \"abc\"") != NULL;
    ck_assert(found);
    run_free(&r);
}
END_TEST

START_TEST(test_unparsable_time_names_the_row) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01 00:2O:00,3,30\n" /* line 4: letter O */
                "WT1,2024-01-01T00:30:00Z,4,40\n",
            NULL, NULL, NULL);
    expect_windows(&r, 0, 2);
    const char *why = "missing row at 2024-01-01T00:20:00Z (log.csv:4:2: unparsable time "
                      "\"2024-01-01 00:2O:00\" (format iso8601))";
    expect_skip(&r, 0, "WT1", T0, why);
    expect_skip(&r, 1, "WT1", T0 + 600, why);
    ck_assert_int_eq(r.st.malformed_rows, 1);
    run_free(&r);
}
END_TEST

START_TEST(test_truncated_last_line) {
    /* complete last row without a newline: an ordinary row */
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    run_free(&r);
    /* cut mid-row after the time: the grid point is malformed */
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                "WT1,2024-01-01T00:30:00Z,4.",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 1);
    expect_skip(&r, 0, "WT1", T0 + 600,
                "malformed row at 2024-01-01T00:30:00Z (log.csv:5: 3 fields, expected 4 "
                "(truncated row?))");
    ck_assert_int_eq(r.st.skipped_by_kind[WF_SKIP_MALFORMED_ROW], 1);
    run_free(&r);
    /* cut inside the time: the row cannot be placed; no window reaches it */
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                "WT1,2024-01-01T00:3",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 0);
    ck_assert_int_eq(r.st.malformed_rows, 1);
    ck_assert_int_eq(r.st.rows, 4);
    run_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- order and duplicates */

static void same_result(const run *a, const run *b) {
    ck_assert_int_eq(a->ws.n, b->ws.n);
    ck_assert_int_eq(a->ws.n_skipped, b->ws.n_skipped);
    for (int64_t i = 0; i < a->ws.n; i++) {
        ck_assert_str_eq(a->ws.w[i].turbine_id, b->ws.w[i].turbine_id);
        ck_assert_int_eq(a->ws.w[i].start, b->ws.w[i].start);
        ck_assert_int_eq(a->ws.w[i].index, b->ws.w[i].index);
        ck_assert(!memcmp(a->ws.w[i].values, b->ws.w[i].values,
                          sizeof(float) * (size_t)(a->ws.C * a->ws.T)));
    }
    for (int64_t i = 0; i < a->ws.n_skipped; i++) {
        ck_assert_str_eq(a->ws.skipped[i].turbine_id, b->ws.skipped[i].turbine_id);
        ck_assert_int_eq(a->ws.skipped[i].start, b->ws.skipped[i].start);
        ck_assert_str_eq(a->ws.skipped[i].reason, b->ws.skipped[i].reason);
    }
}

/* rows of turbine id at grid points g[0..n), value = base + g, one per line */
static void rows(char *out, size_t size, const char *id, const int *g, int n, int base) {
    size_t len = strlen(out);
    for (int i = 0; i < n; i++) {
        char ts[32];
        wf_time_format_iso(T0 + (int64_t)g[i] * 600, ts);
        len += (size_t)snprintf(out + len, size - len, "%s,%s,%d,%d\n", id, ts, base + g[i],
                                -(base + g[i]));
    }
}

START_TEST(test_interleaved_equals_sorted) {
    static char blocked[8192], mixed[8192];
    int g[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    strcpy(blocked, HDR);
    rows(blocked, sizeof blocked, "WT2", g, 8, 200);
    rows(blocked, sizeof blocked, "WT1", g, 6, 100);
    strcpy(mixed, HDR);
    for (int i = 0; i < 8; i++) {
        rows(mixed, sizeof mixed, "WT2", g + i, 1, 200);
        if (i < 6)
            rows(mixed, sizeof mixed, "WT1", g + i, 1, 100);
    }
    run a, b;
    run_log(&a, blocked, NULL, "{\"length\": 3, \"stride\": 2}", NULL);
    run_log(&b, mixed, NULL, "{\"length\": 3, \"stride\": 2}", NULL);
    /* WT1: grid 0..5 -> k = 0, 1 (k = 2 would end at 6); WT2: 0..7 -> k = 0..2 */
    expect_windows(&a, 5, 0);
    expect_windows(&b, 5, 0);
    /* turbines sorted by id: WT1 first although WT2 comes first in the log */
    expect_window(&b, 0, "WT1", T0, (float[]){100, 101, 102}, (float[]){-100, -101, -102});
    expect_window(&b, 1, "WT1", T0 + 1200, (float[]){102, 103, 104}, (float[]){-102, -103, -104});
    expect_window(&b, 4, "WT2", T0 + 2 * 1200, (float[]){204, 205, 206},
                  (float[]){-204, -205, -206});
    same_result(&a, &b);
    ck_assert_int_eq(b.st.turbines, 2);
    ck_assert_int_eq(b.st.reordered_rows, 0);
    run_free(&a);
    run_free(&b);
}
END_TEST

START_TEST(test_out_of_order) {
    static char sorted[8192], mild[8192], late[8192];
    int g[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    int mild_g[10] = {0, 1, 3, 2, 4, 5, 6, 7, 9, 8}; /* swaps inside open windows */
    int late_g[10] = {0, 1, 2, 4, 5, 6, 7, 8, 9, 3}; /* grid 3 arrives after its windows ended */
    strcpy(sorted, HDR);
    rows(sorted, sizeof sorted, "WT1", g, 10, 0);
    rows(sorted, sizeof sorted, "WT2", g, 10, 50);
    strcpy(mild, HDR);
    rows(mild, sizeof mild, "WT1", mild_g, 10, 0);
    rows(mild, sizeof mild, "WT2", g, 10, 50);
    strcpy(late, HDR);
    rows(late, sizeof late, "WT1", late_g, 10, 0);
    rows(late, sizeof late, "WT2", g, 10, 50);
    run a, b, c;
    run_log(&a, sorted, NULL, NULL, NULL);
    run_log(&b, mild, NULL, NULL, NULL);
    run_log(&c, late, NULL, NULL, NULL);
    expect_windows(&a, 16, 0);
    expect_windows(&b, 16, 0);
    expect_windows(&c, 16, 0);
    same_result(&a, &b);
    same_result(&a, &c);
    ck_assert_int_eq(b.st.reordered_rows, 2);
    ck_assert_int_eq(b.st.turbines_resorted, 0);
    ck_assert_int_eq(c.st.turbines_resorted, 1);
    ck_assert_int_eq(c.st.windows_valid, 16); /* retracted windows are not counted twice */
    ck_assert_int_eq(c.st.n_notes, 1);
    ck_assert_str_eq(c.st.notes[0], "log.csv:11: WT1: row at 2024-01-01T00:30:00Z is out of time "
                                    "order; the turbine's rows were buffered and sorted in a "
                                    "second pass");
    run_free(&a);
    run_free(&b);
    run_free(&c);
}
END_TEST

START_TEST(test_resorted_turbine_keeps_reasons) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,0,0\n"
                "WT1,2024-01-01T00:10:00Z,1,1\n"
                "WT1,2024-01-01T00:20:00Z,2,2\n" /* line 4 */
                "WT1,2024-01-01T00:30:00Z,3\n"   /* line 5: malformed */
                "WT1,2024-01-01T00:40:00Z,4,4\n"
                "WT1,2024-01-01T00:50:00Z,5,5\n"
                "WT1,2024-01-01T01:00:00Z,6,6\n"
                "WT1,2024-01-01T01:10:00Z,7,7\n"
                "WT1,2024-01-01T01:20:00Z,8,8\n"
                "WT1,2024-01-01T01:30:00Z,9,9\n"
                "WT1,2024-01-01T00:20:00Z,2,9\n", /* line 12: late, conflicts with line 4 */
            NULL, NULL, NULL);
    ck_assert_int_eq(r.st.turbines_resorted, 1);
    expect_windows(&r, 4, 4);
    const char *dup = "duplicate timestamp 2024-01-01T00:20:00Z with different values (log.csv:4 "
                      "and line 12)";
    expect_skip(&r, 0, "WT1", T0, dup);
    expect_skip(&r, 1, "WT1", T0 + 600, dup);
    expect_skip(&r, 2, "WT1", T0 + 1200, dup);
    expect_skip(&r, 3, "WT1", T0 + 1800,
                "malformed row at 2024-01-01T00:30:00Z (log.csv:5: 3 fields, expected 4 "
                "(truncated row?))");
    expect_window(&r, 0, "WT1", T0 + 2400, (float[]){4, 5, 6}, (float[]){4, 5, 6});
    ck_assert_int_eq(r.st.malformed_rows, 1);
    ck_assert_int_eq(r.st.duplicate_conflicting, 1);
    run_free(&r);
}
END_TEST

START_TEST(test_duplicates) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:10:00Z,2.0,20\n" /* identical values: ignored */
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                "WT1,2024-01-01T00:30:00Z,4,40\n"
                "WT1,2024-01-01T00:30:00Z,4,41\n" /* line 7: conflicts with line 6 */
                "WT1,2024-01-01T00:40:00Z,5,50\n",
            NULL, NULL, NULL);
    /* windows k = 0..2: k = 0 valid; k = 1, 2 touch 00:30 */
    expect_windows(&r, 1, 2);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    const char *why = "duplicate timestamp 2024-01-01T00:30:00Z with different values (log.csv:6 "
                      "and line 7)";
    expect_skip(&r, 0, "WT1", T0 + 600, why);
    expect_skip(&r, 1, "WT1", T0 + 1200, why);
    ck_assert_int_eq(r.st.duplicate_identical, 1);
    ck_assert_int_eq(r.st.duplicate_conflicting, 1);
    ck_assert_int_eq(r.st.skipped_by_kind[WF_SKIP_DUPLICATE], 2);
    ck_assert_int_eq(r.st.n_notes, 1);
    ck_assert_str_eq(r.st.notes[0], "log.csv:7: WT1: duplicate timestamp 2024-01-01T00:30:00Z with "
                                    "different values (first row: line 6); windows touching it "
                                    "are skipped");
    run_free(&r);
}
END_TEST

START_TEST(test_ids_and_implausible_times) {
    run r;
    run_log(&r,
            HDR "Tr\xE9ne,2024-01-01T00:00:00Z,1,10\n"     /* Latin-1 id */
                "Tr\xC3\xA9ne,2024-01-01T00:10:00Z,2,20\n" /* the same id in UTF-8 */
                "Tr\xE9ne,1900-01-01T00:20:00Z,3,30\n"     /* implausible: not an anchor */
                "Tr\xE9ne,2024-01-01T00:20:00Z,3,30\n",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "Tr\xC3\xA9ne", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    ck_assert_int_eq(r.st.turbines, 1);
    ck_assert_int_eq(r.st.malformed_rows, 1);
    ck_assert_int_eq(r.st.turbines_resorted, 0);
    run_free(&r);
}
END_TEST

START_TEST(test_off_grid_rows) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:05:00Z,9,90\n" /* off the 10-minute grid: ignored */
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    ck_assert_int_eq(r.st.off_grid_rows, 1);
    run_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- formats */

START_TEST(test_quoting_crlf_bom) {
    run r;
    run_log(&r,
            "\xEF\xBB\xBF"
            "turbine_id,note,timestamp,a,b\r\n"
            "\"WT,1\",\"cold, windy\",2024-01-01T00:00:00Z,1,10\r\n"
            "\"WT,1\",\"said \"\"hi\"\"\",2024-01-01T00:10:00Z,\"2\",20\r\n"
            "\"WT,1\",\"two\nlines\",2024-01-01T00:20:00Z,3,30\r\n"
            "\"WT,1\",,2024-01-01T00:30:00Z,4,\r\n",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 1);
    expect_window(&r, 0, "WT,1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    /* the quoted newline makes row 4 span lines 4-5, so the last row is on line 6 */
    expect_skip(&r, 0, "WT,1", T0 + 600, "empty cell in b at 2024-01-01T00:30:00Z (log.csv:6:5)");
    run_free(&r);
}
END_TEST

START_TEST(test_latin1_header) {
    run r;
    run_log(&r,
            "turbine_id,timestamp,Wind Direction (\xB0),b\n"
            "WT1,2024-01-01T00:00:00Z,1,10\n"
            "WT1,2024-01-01T00:10:00Z,2,20\n"
            "WT1,2024-01-01T00:20:00Z,3,30\n",
            NULL, NULL, NULL);
    /* channel a is not a column here: the error names the key and suggests nothing close */
    ck_assert_int_eq(r.status, WF_ERR_DATA);
    ck_assert_msg(strstr(r.err.msg, "log.csv:1: column \"a\" (config key log.channels[0].column) "
                                    "not found"),
                  "%s", r.err.msg);
    run_free(&r);
    memset(&r, 0, sizeof r);
    const char *dir = tu_tmpdir();
    char p[4200];
    snprintf(p, sizeof p, "%s/log.csv", dir);
    tu_write(p, "turbine_id,timestamp,Wind Direction (\xB0),b\n"
                "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n");
    const char *json = "{\"log\": {\"path\": \"log.csv\", \"channels\": [{\"name\": \"dir\", "
                       "\"column\": \"Wind Direction (\xC2\xB0)\", \"unit\": \"\xC2\xB0\"}, "
                       "\"b\"]}, \"window\": {\"length\": 3}}";
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(wf_config_parse(json, "t.json", dir, &cfg, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_data_load_windows(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures},
                                       &r.ws, NULL, NULL, &r.st, &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(r.ws.n, 1);
    ck_assert_str_eq(r.ws.units[0], "\xC2\xB0");
    ck_assert(r.ws.w[0].values[2] == 3.0f);
    wf_config_deinit(&cfg);
    run_free(&r);
    /* a near-miss column name gets a hint */
    run_log(&r, "turbine_id,timestamp,A,b\nWT1,2024-01-01T00:00:00Z,1,10\n", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, WF_ERR_DATA);
    ck_assert_msg(strstr(r.err.msg, "(did you mean \"A\"?)"), "%s", r.err.msg);
    run_free(&r);
}
END_TEST

START_TEST(test_decimal_comma_semicolon) {
    run r;
    run_log(&r,
            "turbine_id;timestamp;a;b\n"
            "WT1;2024-01-01T00:00:00Z;1,5;-2,25\n"
            "WT1;2024-01-01T00:10:00Z;4,47E-05;1e3\n"
            "WT1;2024-01-01T00:20:00Z;\"3,0\";0,1\n",
            ", \"delimiter\": \";\", \"decimal\": \",\"", NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "WT1", T0, (float[]){1.5f, 4.47e-05f, 3.0f},
                  (float[]){-2.25f, 1000.0f, 0.1f});
    run_free(&r);
}
END_TEST

START_TEST(test_strptime_format) {
    run r;
    run_log(&r,
            "turbine_id,timestamp,a,b\r\n"
            "T1,31 12 2023 23:50,1,10\r\n"
            "T1,01 01 2024 00:00,2,20\r\n"
            "T1,01 01 2024 00:10,3,30\r\n",
            ", \"time_format\": \"%d %m %Y %H:%M\"", NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "T1", T0 - 600, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    run_free(&r);
    run_log(&r,
            "turbine_id,timestamp,a,b\n"
            "T1,01-Jan-24 00:00:00,1,10\n"
            "T1,01-JAN-24 00:10:00,2,20\n"
            "T1,1-jan-24 00:20:00,3,30\n",
            ", \"time_format\": \"%d-%b-%y %H:%M:%S\"", NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "T1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    run_free(&r);
}
END_TEST

START_TEST(test_offsets) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T02:00:00+02:00,1,10\n"
                "WT1,2023-12-31T19:10:00-0500,2,20\n"
                "WT1,2024-01-01 00:20:00.000Z,3,30\n",
            NULL, NULL, NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3}, (float[]){10, 20, 30});
    run_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- policy, labels, accounting */

START_TEST(test_interpolate) {
    run r;
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,\n" /* b empty at grid 1 */
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                /* grid 3 missing */
                "WT1,2024-01-01T00:40:00Z,5,50\n",
            NULL, "{\"length\": 4, \"stride\": 1, \"missing\": {\"interpolate\": 1}}", NULL);
    /* interpolation is a property of the grid: neighbours outside the window count, so grid 3
     * (last point of k = 0) and b at grid 1 (first point of k = 1) are filled in both windows */
    expect_windows(&r, 2, 0);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3, 4}, (float[]){10, 20, 30, 40});
    expect_window(&r, 1, "WT1", T0 + 600, (float[]){2, 3, 4, 5}, (float[]){20, 30, 40, 50});
    ck_assert_int_eq(r.ws.w[0].interpolated, 2);
    ck_assert_int_eq(r.ws.w[1].interpolated, 2);
    run_free(&r);
    /* no data after the last row: nothing to interpolate towards */
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                "WT1,2024-01-01T00:30:00Z,4,\n",
            NULL, "{\"length\": 4, \"stride\": 1, \"missing\": {\"interpolate\": 2}}", NULL);
    expect_windows(&r, 0, 1);
    expect_skip(&r, 0, "WT1", T0,
                "empty cell in b at 2024-01-01T00:30:00Z (log.csv:5:4); not interpolated: no "
                "valid point after it");
    run_free(&r);
    /* a conflicting duplicate is never interpolated */
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,20\n"
                "WT1,2024-01-01T00:10:00Z,2,21\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n",
            NULL, "{\"length\": 3, \"stride\": 1, \"missing\": {\"interpolate\": 1}}", NULL);
    expect_windows(&r, 0, 1);
    expect_skip(&r, 0, "WT1", T0,
                "duplicate timestamp 2024-01-01T00:10:00Z with different values (log.csv:3 and "
                "line 4); not interpolated: conflicting duplicate");
    run_free(&r);
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:10:00Z,2,\n"
                "WT1,2024-01-01T00:20:00Z,3,30\n"
                "WT1,2024-01-01T00:40:00Z,5,50\n"
                "WT1,2024-01-01T00:50:00Z,6,60\n",
            NULL, "{\"length\": 6, \"stride\": 1, \"missing\": {\"interpolate\": 1}}", NULL);
    expect_windows(&r, 1, 0);
    expect_window(&r, 0, "WT1", T0, (float[]){1, 2, 3, 4, 5, 6}, (float[]){10, 20, 30, 40, 50, 60});
    ck_assert_int_eq(r.ws.w[0].interpolated, 2);
    ck_assert_int_eq(r.st.windows_interpolated, 1);
    run_free(&r);
    /* a run longer than K is not interpolated */
    run_log(&r,
            HDR "WT1,2024-01-01T00:00:00Z,1,10\n"
                "WT1,2024-01-01T00:30:00Z,4,40\n",
            NULL, "{\"length\": 4, \"stride\": 1, \"missing\": {\"interpolate\": 1}}", NULL);
    expect_windows(&r, 0, 1);
    expect_skip(&r, 0, "WT1", T0,
                "missing row at 2024-01-01T00:10:00Z; not interpolated: 2 consecutive points, at "
                "most 1");
    run_free(&r);
}
END_TEST

START_TEST(test_labels) {
    static char log[8192];
    int g[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    strcpy(log, HDR);
    rows(log, sizeof log, "WT1", g, 12, 0);
    rows(log, sizeof log, "WT2", g, 12, 0);
    run r;
    /* horizon 1 h; failure of WT1 at 01:20 (grid 8) */
    run_log(&r, log, NULL, "{\"length\": 2, \"stride\": 1}",
            "turbine_id,failure_time,component\nWT1,2024-01-01T01:20:00Z,gearbox\n");
    expect_windows(&r, 22, 0);
    for (int k = 0; k < 11; k++) {
        /* end = grid k + 1; label iff end < 8 <= end + 6, i.e. 2 <= end <= 7 */
        int end = k + 1, want = end < 8 && 8 <= end + 6;
        ck_assert_msg(r.ws.w[k].label == want, "WT1 k=%d label %d want %d", k, r.ws.w[k].label,
                      want);
        ck_assert_str_eq(r.ws.w[k].component, want ? "gearbox" : "");
        ck_assert_int_eq(r.ws.w[11 + k].label, 0); /* WT2 has no failure */
    }
    run_free(&r);
}
END_TEST

/* Grid windows of one turbine with first/last grid points 0..last. */
static int64_t grid_windows(int64_t last, int L, int S) {
    return last < L - 1 ? 0 : (last - (L - 1)) / S + 1;
}

/* got and want hold the same windows and skipped (turbine, start) entries; reasons may name
 * other line numbers when rows moved. */
static void same_windows(const run *a, const run *b) {
    ck_assert_msg(a->status == WF_OK && b->status == WF_OK, "%s %s", a->err.msg, b->err.msg);
    ck_assert_int_eq(a->ws.n, b->ws.n);
    ck_assert_int_eq(a->ws.n_skipped, b->ws.n_skipped);
    for (int64_t i = 0; i < a->ws.n; i++) {
        ck_assert_str_eq(a->ws.w[i].turbine_id, b->ws.w[i].turbine_id);
        ck_assert_int_eq(a->ws.w[i].start, b->ws.w[i].start);
        ck_assert_int_eq(a->ws.w[i].interpolated, b->ws.w[i].interpolated);
        ck_assert(!memcmp(a->ws.w[i].values, b->ws.w[i].values,
                          sizeof(float) * (size_t)(a->ws.C * a->ws.T)));
    }
    for (int64_t i = 0; i < a->ws.n_skipped; i++) {
        ck_assert_str_eq(a->ws.skipped[i].turbine_id, b->ws.skipped[i].turbine_id);
        ck_assert_int_eq(a->ws.skipped[i].start, b->ws.skipped[i].start);
    }
}

START_TEST(test_accounting_messy_log) {
    /* 3 turbines, 60 grid points each, every kind of problem */
    static char cell_txt[60][3][96];
    unsigned seed = 12345;
    for (int g = 0; g < 60; g++) {
        for (int t = 0; t < 3; t++) {
            seed = seed * 1103515245u + 12345u;
            unsigned k = (seed >> 16) % 40;
            char ts[32];
            wf_time_format_iso(T0 + (int64_t)g * 600, ts);
            const char *id = t == 0 ? "WTA" : t == 1 ? "WTB" : "WTC";
            char *o = cell_txt[g][t];
            size_t n = sizeof cell_txt[g][t];
            if (g == 0 || g == 59) /* fix the grid ends */
                k = 99;
            switch (k) {
            case 0: /* missing */
                o[0] = '\0';
                break;
            case 1:
                snprintf(o, n, "%s,%s,,1\n", id, ts);
                break;
            case 2:
                snprintf(o, n, "%s,%s,nan,1\n", id, ts);
                break;
            case 3:
                snprintf(o, n, "%s,%s,1\n", id, ts);
                break;
            case 4:
                snprintf(o, n, "%s,%s,1,2\n%s,%s,1,3\n", id, ts, id, ts);
                break;
            case 5:
                snprintf(o, n, "%s,bad time,1,2\n", id);
                break;
            case 6:
                snprintf(o, n, "%s,%s,x,2\n", id, ts);
                break;
            default:
                snprintf(o, n, "%s,%s,%d,%d\n", id, ts, g, t);
            }
        }
    }
    /* the same rows in five orders: interleaved, interleaved in reverse turbine order, blocked by
     * turbine, blocked with WTB's rows swapped in pairs (absorbed), and WTC's last row first
     * (the turbine falls back to sorting) */
    static char logs[5][65536];
    for (int v = 0; v < 5; v++) {
        strcpy(logs[v], HDR);
        if (v == 4)
            strcat(logs[v], cell_txt[59][2]);
        if (v <= 1) {
            for (int g = 0; g < 60; g++)
                for (int t = 0; t < 3; t++)
                    strcat(logs[v], cell_txt[g][v == 0 ? t : 2 - t]);
        } else {
            for (int t = 0; t < 3; t++) {
                for (int g = 0; g < 60; g++) {
                    int gg = g;
                    if (v == 3 && t == 1 && g >= 1 && g <= 58)
                        gg = (g % 2) ? g + 1 : g - 1; /* 2, 1, 4, 3, ... */
                    if (v == 4 && t == 2 && g == 59)
                        continue;
                    strcat(logs[v], cell_txt[gg][t]);
                }
            }
        }
    }
    int shapes[5][3] = {{3, 1, 0}, {5, 2, 0}, {4, 7, 0}, {5, 2, 2}, {6, 1, 1}};
    for (int s = 0; s < 5; s++) {
        char win[128];
        if (shapes[s][2])
            snprintf(win, sizeof win,
                     "{\"length\": %d, \"stride\": %d, \"missing\": {\"interpolate\": %d}}",
                     shapes[s][0], shapes[s][1], shapes[s][2]);
        else
            snprintf(win, sizeof win, "{\"length\": %d, \"stride\": %d}", shapes[s][0],
                     shapes[s][1]);
        run r;
        run_log(&r, logs[0], NULL, win, NULL);
        ck_assert_msg(r.status == WF_OK, "%s", r.err.msg);
        for (int v = 1; v < 5; v++) {
            run o;
            run_log(&o, logs[v], NULL, win, NULL);
            same_windows(&r, &o);
            ck_assert_int_eq(o.st.turbines_resorted, v == 4);
            run_free(&o);
        }
        int64_t want = 3 * grid_windows(59, shapes[s][0], shapes[s][1]);
        ck_assert_int_eq(r.ws.n + r.ws.n_skipped, want);
        ck_assert_int_eq(r.st.windows_valid + r.st.windows_skipped, want);
        int64_t by_kind = 0;
        for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
            by_kind += r.st.skipped_by_kind[k];
        ck_assert_int_eq(by_kind, r.ws.n_skipped);
        ck_assert_int_gt(r.ws.n_skipped, 0);
        ck_assert_int_gt(r.ws.n, 0);
        for (int64_t i = 0; i < r.ws.n; i++)
            for (int j = 0; j < 2 * shapes[s][0]; j++)
                ck_assert(isfinite(r.ws.w[i].values[j]));
        run_free(&r);
    }
}
END_TEST

START_TEST(test_stream_without_retract) {
    /* a consumer that cannot take windows back gets a clear error on an unsorted log */
    const char *dir = tu_tmpdir();
    char p[4200];
    snprintf(p, sizeof p, "%s/log.csv", dir);
    tu_write(p, HDR "WT1,2024-01-01T00:00:00Z,1,1\n"
                    "WT1,2024-01-01T00:10:00Z,1,1\n"
                    "WT1,2024-01-01T00:20:00Z,1,1\n"
                    "WT1,2024-01-01T00:30:00Z,1,1\n"
                    "WT1,2024-01-01T00:40:00Z,1,1\n"
                    "WT1,2024-01-01T00:50:00Z,1,1\n"
                    "WT1,2024-01-01T00:00:00Z,1,1\n");
    wf_config cfg;
    wf_error err = {0};
    ck_assert(wf_config_parse("{\"log\": {\"path\": \"log.csv\", \"channels\": [\"a\", \"b\"]}, "
                              "\"window\": {\"length\": 2}}",
                              "t.json", dir, &cfg, &err) == WF_OK);
    wf_data_sink sink = {NULL, NULL, NULL, NULL, NULL};
    wf_data_stats st;
    ck_assert_int_eq(wf_data_stream_windows(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures},
                                            NULL, 0, &sink, &st, &err),
                     WF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "log.csv:8: rows of turbine WT1 are out of time order"), "%s",
                  err.msg);
    wf_config_deinit(&cfg);
}
END_TEST

typedef struct shard_sink {
    int64_t valid, skipped, asked;
} shard_sink;

static wf_status shard_window(void *user, const wf_window *w, wf_error *err) {
    (void)err;
    ck_assert_str_eq(w->turbine_id, "WT2");
    ck_assert_int_eq(w->index, -1);
    ((shard_sink *)user)->valid++;
    return WF_OK;
}

static wf_status shard_skipped(void *user, const wf_skipped *s, wf_error *err) {
    (void)err;
    ck_assert_str_eq(s->turbine_id, "WT2");
    ((shard_sink *)user)->skipped++;
    return WF_OK;
}

static int shard_want(void *user, const char *id) {
    ((shard_sink *)user)->asked++;
    return !strcmp(id, "WT2");
}

START_TEST(test_stream_turbine_filter) {
    /* the streaming API with a turbine filter, as a shard of issue 6 uses it */
    static char log[8192];
    int g[8] = {0, 1, 2, 4, 5, 6, 7, 8};
    strcpy(log, HDR);
    rows(log, sizeof log, "WT1", g, 8, 0);
    rows(log, sizeof log, "WT2", g, 8, 0);
    rows(log, sizeof log, "WT3", g, 8, 0);
    const char *dir = tu_tmpdir();
    char p[4200];
    snprintf(p, sizeof p, "%s/log.csv", dir);
    tu_write(p, log);
    wf_config cfg;
    wf_error err = {0};
    ck_assert(wf_config_parse("{\"log\": {\"path\": \"log.csv\", \"channels\": [\"a\", \"b\"]}, "
                              "\"window\": {\"length\": 3, \"stride\": 1}}",
                              "t.json", dir, &cfg, &err) == WF_OK);
    shard_sink ss = {0, 0, 0};
    wf_data_sink sink = {shard_window, shard_skipped, NULL, &ss, shard_want};
    wf_data_stats st;
    ck_assert_msg(wf_data_stream_windows(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures},
                                         NULL, 0, &sink, &st, &err) == WF_OK,
                  "%s", err.msg);
    /* WT2: grid 0..8 without 3 -> k = 0..6, of which k = 1, 2, 3 touch grid 3 */
    ck_assert_int_eq(ss.valid, 4);
    ck_assert_int_eq(ss.skipped, 3);
    ck_assert_int_eq(ss.asked, 3);
    ck_assert_int_eq(st.turbines, 3);
    ck_assert_int_eq(st.turbines_filtered, 2);
    ck_assert_int_eq(st.windows_valid, 4);
    ck_assert_int_eq(st.rows, 24);
    wf_config_deinit(&cfg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("data_windows");
    TCase *tc = tcase_create("windows");
    tcase_add_test(tc, test_gap);
    tcase_add_test(tc, test_empty_cell_nan_bad_number);
    tcase_add_test(tc, test_unparsable_time_names_the_row);
    tcase_add_test(tc, test_truncated_last_line);
    tcase_add_test(tc, test_interleaved_equals_sorted);
    tcase_add_test(tc, test_out_of_order);
    tcase_add_test(tc, test_duplicates);
    tcase_add_test(tc, test_resorted_turbine_keeps_reasons);
    tcase_add_test(tc, test_off_grid_rows);
    tcase_add_test(tc, test_ids_and_implausible_times);
    tcase_add_test(tc, test_quoting_crlf_bom);
    tcase_add_test(tc, test_latin1_header);
    tcase_add_test(tc, test_decimal_comma_semicolon);
    tcase_add_test(tc, test_strptime_format);
    tcase_add_test(tc, test_offsets);
    tcase_add_test(tc, test_interpolate);
    tcase_add_test(tc, test_labels);
    tcase_add_test(tc, test_accounting_messy_log);
    tcase_add_test(tc, test_stream_without_retract);
    tcase_add_test(tc, test_stream_turbine_filter);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

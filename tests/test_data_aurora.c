/*
 * Golden test: the Aurora fixture log cut into windows must equal the fixture's windows.json
 * (computed by the fixture generator in Python): same windows, order, values (float equality)
 * and labels. Also: the windows file round-trips, the CLI writes the same file, and reading the
 * 1,716 fixture windows is fast.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "whyflag/config.h"
#include "whyflag/data.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* got equals want: windows, order, values bit for bit, labels. */
static void check_same(const wf_windows *got, const wf_windows *want) {
    ck_assert_int_eq(got->C, want->C);
    ck_assert_int_eq(got->T, want->T);
    for (int c = 0; c < got->C; c++)
        ck_assert_str_eq(got->channels[c], want->channels[c]);
    ck_assert_int_eq(got->n, want->n);
    size_t CT = (size_t)got->C * (size_t)got->T;
    int64_t bad_values = 0;
    for (int64_t i = 0; i < got->n; i++) {
        const wf_window *a = &got->w[i], *b = &want->w[i];
        ck_assert_int_eq(a->index, b->index);
        ck_assert_str_eq(a->turbine_id, b->turbine_id);
        ck_assert_int_eq(a->start, b->start);
        ck_assert_int_eq(a->end, b->end);
        ck_assert_int_eq(a->label, b->label);
        for (size_t k = 0; k < CT; k++) {
            if (memcmp(&a->values[k], &b->values[k], sizeof(float)) != 0) {
                if (bad_values < 5)
                    fprintf(stderr, "window %lld cell %zu: got %.9g want %.9g\n", (long long)i, k,
                            a->values[k], b->values[k]);
                bad_values++;
            }
        }
    }
    ck_assert_msg(bad_values == 0, "%lld values differ", (long long)bad_values);
}

START_TEST(test_aurora_matches_fixture) {
    wf_error err = {0};
    wf_config cfg;
    ck_assert_msg(wf_config_load(tu_data("config/aurora.json"), &cfg, &err) == WF_OK, "%s",
                  err.msg);
    wf_windows ws, ref;
    wf_failure *fails = NULL;
    int64_t nf = 0;
    wf_data_stats *st = calloc(1, sizeof *st);
    ck_assert_msg(wf_data_load_windows(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures}, &ws,
                                       &fails, &nf, st, &err) == WF_OK,
                  "%s", err.msg);
    double t0 = now();
    ck_assert_msg(wf_windows_read_json(tu_data("data/windows.json"), &ref, &err) == WF_OK, "%s",
                  err.msg);
    double dt = now() - t0;
    /* Informational only: speed is measured in tests/bench (bench_ingest), never asserted here,
     * where a loaded machine would fail a correct build. */
    fprintf(stderr, "read 1716 fixture windows in %.3f s\n", dt);
    ck_assert_int_eq(ref.n, 1716);
    check_same(&ws, &ref);
    ck_assert_int_eq(st->rows, 31104);
    ck_assert_int_eq(st->turbines, 12);
    ck_assert_int_eq(st->windows_valid, 1716);
    ck_assert_int_eq(st->windows_skipped, 0);
    ck_assert_int_eq(ws.n_skipped, 0);
    ck_assert_int_eq(nf, 5);
    int64_t pos = 0;
    for (int64_t i = 0; i < ws.n; i++) {
        pos += ws.w[i].label == 1;
        if (ws.w[i].label == 1)
            ck_assert(ws.w[i].component[0] != '\0');
        else
            ck_assert_str_eq(ws.w[i].component, "");
    }
    ck_assert_int_eq(pos, 120); /* the fixture's n_positive */
    /* WT01's gearbox failure labels its windows with that component */
    ck_assert_str_eq(fails[0].turbine_id, "WT01");
    ck_assert_str_eq(fails[0].component, "gearbox");

    /* round trip through the writer */
    const char *dir = tu_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/w.json", dir);
    ck_assert_msg(wf_windows_write_json(path, &ws, &err) == WF_OK, "%s", err.msg);
    wf_windows back;
    ck_assert_msg(wf_windows_read_json(path, &back, &err) == WF_OK, "%s", err.msg);
    check_same(&back, &ref);
    for (int64_t i = 0; i < ws.n; i++)
        ck_assert_str_eq(back.w[i].component, ws.w[i].component);
    /* floats are written shortest-round-trip: the first value is 7.27, written as 7.27 */
    char *text = tu_read(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"values\":[[7.27,6.88,6.17,"));
    free(text);
    wf_windows_free(&back);
    wf_windows_free(&ws);
    wf_windows_free(&ref);
    free(fails);
    free(st);
    wf_config_deinit(&cfg);
}
END_TEST

START_TEST(test_aurora_cli) {
    const char *dir = tu_tmpdir();
    char cmd[8400], out[4200];
    snprintf(out, sizeof out, "%s/cli.json", dir);
    snprintf(cmd, sizeof cmd, "%s windows %s --out %s", WF_CLI, tu_data("config/aurora.json"), out);
    char *log = NULL;
    int rc = tu_run(cmd, &log);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, log);
    ck_assert_ptr_nonnull(strstr(log, "31104 rows read"));
    ck_assert_ptr_nonnull(strstr(log, "12 turbines"));
    ck_assert_ptr_nonnull(strstr(log, "windows valid:   1716"));
    ck_assert_ptr_nonnull(strstr(log, "windows skipped: 0"));
    free(log);
    wf_error err = {0};
    wf_windows got, ref;
    ck_assert_msg(wf_windows_read_json(out, &got, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_windows_read_json(tu_data("data/windows.json"), &ref, &err) == WF_OK, "%s",
                  err.msg);
    check_same(&got, &ref);
    wf_windows_free(&got);
    wf_windows_free(&ref);
    /* a bad config exits with the config code (2) and names the key */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    tu_write(bad, "{\"log\": {\"path\": \"x.csv\", \"chanels\": []}, \"window\": {\"length\": 3}}");
    snprintf(cmd, sizeof cmd, "%s windows %s", WF_CLI, bad);
    rc = tu_run(cmd, &log);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(log, "log.chanels: unknown key (did you mean \"channels\"?)"), "%s", log);
    free(log);
    snprintf(cmd, sizeof cmd, "%s windows", WF_CLI);
    rc = tu_run(cmd, NULL);
    ck_assert_int_eq(rc, 1);
}
END_TEST

START_TEST(test_windows_read_errors) {
    const char *dir = tu_tmpdir();
    char p[4200];
    snprintf(p, sizeof p, "%s/w.json", dir);
    struct {
        const char *json, *frag;
    } cases[] = {
        {"[1]", "(top level): expected an object"},
        {"{\"windows\": []}", "channels: expected a non-empty array"},
        {"{\"channels\": [\"a\"], \"T\": 2, \"windows\": [{\"turbine_id\": \"X\", \"start\": "
         "\"2024-01-01T00:00:00Z\", \"values\": [[1, \"x\"]]}]}",
         "windows[0].values[0][1]: expected a number"},
        {"{\"channels\": [\"a\"], \"T\": 2, \"windows\": [{\"turbine_id\": \"X\", \"start\": "
         "\"2024-13-01T00:00:00Z\", \"values\": [[1, 2]]}]}",
         "windows[0].start: expected an ISO 8601 time"},
        {"{\"channels\": [\"a\", \"b\"], \"T\": 2, \"windows\": [{\"turbine_id\": \"X\", "
         "\"start\": 0, \"values\": [[1, 2]]}]}",
         "windows[0].values: expected an array of 2 channels"},
        {"{\"channels\": [\"a\"], \"T\": 2, \"windows\": [{\"turbine_id\": \"X\", \"start\": 0, "
         "\"values\": [[1, 2, 3]]}]}",
         "windows[0].values[0]: expected an array of 2 numbers"},
        {"{\"channels\": [\"a\"], \"windows\": [], \"skipped\": [{\"turbine_id\": 3}]}",
         "T: missing"},
        {"{\"channels\": [\"a\"], \"T\": 1, \"windows\": [], \"skipped\": [{\"turbine_id\": 3}]}",
         "skipped[0]: expected"},
        {"{\"channels\": [\"a\"] \"T\": 1}", ":1: invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write(p, cases[i].json);
        wf_windows ws;
        wf_error err = {0};
        ck_assert_int_eq(wf_windows_read_json(p, &ws, &err), WF_ERR_PARSE);
        ck_assert_msg(strstr(err.msg, cases[i].frag), "case %zu: got \"%s\", want \"%s\"", i,
                      err.msg, cases[i].frag);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("data_aurora");
    TCase *tc = tcase_create("aurora");
    tcase_add_test(tc, test_aurora_matches_fixture);
    tcase_add_test(tc, test_aurora_cli);
    tcase_add_test(tc, test_windows_read_errors);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

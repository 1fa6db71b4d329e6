/*
 * The audit as a library (include/whyflag/audit.h), as an embedder calls it: open, run, run a
 * shard, merge, draw the background; plus the shared helpers the audit stands on (the one window
 * ordering, the one hash map). The sample fleet of samples/ is the input; every number checked
 * here is one the CLI tests check against real readers too (tests/test_audit.sh,
 * tests/test_shard.sh), so this suite checks the library's contract: what it returns, what it
 * refuses before any work, and that a shard + merge equals the one-machine run byte for byte.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/strmap.h"
#include "testutil.h"
#include "whyflag.h" /* the umbrella header, as an embedder includes it */

static char samples[4200];

static void copy_samples(void) {
    const char *dir = tu_tmpdir();
    snprintf(samples, sizeof samples, "%s/samples", dir);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -r '%s/samples' '%s' && chmod -R u+w '%s'", WF_SOURCE_DIR,
             samples, samples);
    ck_assert_int_eq(system(cmd), 0);
}

typedef struct phases {
    int n;
    char last[96];
} phases;

static void on_progress(void *user, const char *phase, int64_t done, int64_t total) {
    phases *p = user;
    (void)done;
    (void)total;
    if (strcmp(p->last, phase)) {
        snprintf(p->last, sizeof p->last, "%s", phase);
        p->n++;
    }
}

static int same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = tu_read(a, &la), *y = tu_read(b, &lb);
    int same = la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

/* A progress callback that appends a row to the log the first time it sees `phase`. */
typedef struct tamper {
    const char *phase;
    char log[4300];
    int done;
} tamper;

static void on_progress_tamper(void *user, const char *phase, int64_t done, int64_t total) {
    tamper *t = user;
    (void)done;
    (void)total;
    if (t->done || strcmp(phase, t->phase) != 0)
        return;
    FILE *f = fopen(t->log, "a");
    ck_assert_ptr_nonnull(f);
    fputs("WT01,2024-03-19T00:00:00Z,7.27,11.63,428.1,0.48,34.35,24.70,13.00,1.707\n", f);
    fclose(f);
    t->done = 1;
}

/* Inputs read once: every pass over the log hashes the bytes it parses; a log that changes after
 * the run recorded its digest is an error naming it, and nothing is written. */
START_TEST(test_log_changed_during_run) {
    copy_samples();
    char cfg[4300], out[4300];
    snprintf(cfg, sizeof cfg, "%s/config.json", samples);
    wf_error err = {0};
    wf_audit *a = NULL;
    ck_assert_msg(wf_audit_open(cfg, &a, &err) == WF_OK, "%s", err.msg);
    /* the reader's digest is the file's */
    wf_log_reader *r = NULL;
    ck_assert_int_eq(wf_log_reader_open(&wf_audit_config(a)->log, &r, &err), WF_OK);
    char hex[65], want[65];
    ck_assert_int_eq(wf_log_reader_digest(r, hex), 0); /* not read to its end yet */
    for (;;) {
        wf_log_row row;
        int done = 0;
        ck_assert_int_eq(wf_log_reader_next(r, &row, &done, &err), WF_OK);
        if (done)
            break;
    }
    ck_assert_int_eq(wf_log_reader_digest(r, hex), 1);
    wf_log_reader_free(r);
    ck_assert_int_eq(wf_sha256_file_hex(wf_audit_config(a)->log.path, want, &err), WF_OK);
    ck_assert_str_eq(hex, want);
    /* The log is read once per pass and hashed as it is parsed: a shard's first pass (counting
     * rows per turbine) records the run's digest, and the log is changed before the windows' pass
     * after it: that pass reads other bytes. A change after the passes read the file is no
     * error: the audit is of the recorded bytes, and verify will say the log changed since. */
    static const char *const phases_[] = {"reading the log's windows"};
    for (int k = 0; k < 1; k++) {
        tamper t = {phases_[k], "", 0};
        snprintf(t.log, sizeof t.log, "%s", wf_audit_config(a)->log.path);
        snprintf(out, sizeof out, "%s/tampered-%d", samples, k);
        wf_audit_opts o;
        wf_audit_opts_default(&o);
        o.out_dir = out;
        o.progress = on_progress_tamper;
        o.progress_user = &t;
        o.sharded = 1;
        o.shard_k = 0;
        o.shard_n = 2;
        wf_status st = wf_audit_run(a, &o, NULL, &err);
        ck_assert_int_eq(t.done, 1);
        ck_assert_int_eq(st, WF_ERR_VERIFY);
        ck_assert_msg(strstr(err.msg, "changed during the run") && strstr(err.msg, "log.path"),
                      "%s", err.msg);
        char res[4400];
        snprintf(res, sizeof res, "%s/shard.bin", out);
        struct stat sb;
        ck_assert_int_ne(stat(res, &sb), 0);
    }
    wf_audit_close(a);
}
END_TEST

START_TEST(test_open_errors) {
    wf_audit *a = (wf_audit *)1;
    wf_error err = {0};
    ck_assert_int_ne(wf_audit_open("/nonexistent/config.json", &a, &err), WF_OK);
    ck_assert_ptr_null(a);
    ck_assert_msg(strstr(err.msg, "/nonexistent/config.json") != NULL, "%s", err.msg);
    wf_audit_close(NULL);
}
END_TEST

START_TEST(test_run_shard_merge) {
    copy_samples();
    setenv("SOURCE_DATE_EPOCH", "1735689600", 1);
    char cfg[4300], one[4300], shard[4300], merged[4300], a_res[4400], b_res[4400];
    snprintf(cfg, sizeof cfg, "%s/config.json", samples);
    snprintf(one, sizeof one, "%s/one", samples);
    snprintf(shard, sizeof shard, "%s/shard-0", samples);
    snprintf(merged, sizeof merged, "%s/merged", samples);
    wf_error err = {0};
    wf_audit *a = NULL;
    ck_assert_msg(wf_audit_open(cfg, &a, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(wf_audit_config(a)->log.n_channels, 8);
    ck_assert_ptr_nonnull(wf_audit_model(a));
    ck_assert_int_eq(wf_audit_predictor(a)->T, 36);

    /* Refused before any work: a shard number out of range creates no folder. */
    wf_audit_opts o;
    wf_audit_opts_default(&o);
    char never[4300];
    snprintf(never, sizeof never, "%s/never", samples);
    o.out_dir = never;
    o.shard_k = 70;
    o.shard_n = 70;
    o.sharded = 1;
    ck_assert_int_eq(wf_audit_run(a, &o, NULL, &err), WF_ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "70/70") != NULL, "%s", err.msg);
    o.shard_k = 0;
    o.shard_n = WF_AUDIT_MAX_SHARDS + 1;
    ck_assert_int_eq(wf_audit_run(a, &o, NULL, &err), WF_ERR_INVALID);
    struct stat sb;
    ck_assert_int_ne(stat(never, &sb), 0);

    /* The whole job. */
    wf_audit_opts_default(&o);
    o.out_dir = one;
    phases ph = {0, ""};
    o.progress = on_progress;
    o.progress_user = &ph;
    wf_audit_summary sum;
    ck_assert_msg(wf_audit_run(a, &o, &sum, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(sum.rows, 31104);
    ck_assert_int_eq(sum.turbines, 12);
    ck_assert_int_eq(sum.windows + sum.skipped, 1716);
    ck_assert_int_gt(sum.flagged, 0);
    ck_assert_int_eq(sum.explained + sum.not_explained, sum.flagged);
    ck_assert_int_eq(sum.not_explained, 0);
    ck_assert_str_eq(sum.out_dir, one);
    ck_assert_int_ge(ph.n, 2); /* scoring and explaining were reported */
    static const char *const outs[] = {"report.pdf",       "report.xlsx",  "results.json",
                                       "scores.csv",       "episodes.csv", "failure_outcomes.csv",
                                       "attributions.csv", "manifest.json"};
    for (int i = 0; i < 8; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", one, outs[i]);
        ck_assert_msg(stat(p, &sb) == 0 && sb.st_size > 0, "%s missing", p);
    }

    /* The background the audit drew, as `whyflag explain --config` gets it. */
    wf_background bg;
    ck_assert_msg(wf_audit_background(a, NULL, -1, &bg, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(bg.n, 50);
    ck_assert_int_eq(bg.n_src, 50);
    double wsum = 0;
    for (int64_t i = 0; i < bg.n; i++)
        wsum += bg.weight[i];
    ck_assert(fabs(wsum - 1) < 1e-12);
    char res[4400];
    snprintf(res, sizeof res, "%s/results.json", one);
    char *text = tu_read(res, NULL);
    char needle[200];
    snprintf(needle, sizeof needle, "\"turbine_id\": \"%s\"", bg.src[0].turbine_id);
    ck_assert_msg(strstr(text, "\"windows\": [") && strstr(text, needle), "%s", needle);
    free(text);
    wf_background_deinit(&bg);

    /* One shard of one (sharded) + merge = the one-machine run, byte for byte. */
    wf_audit_opts_default(&o);
    o.out_dir = shard;
    o.sharded = 1;
    ck_assert_msg(wf_audit_run(a, &o, &sum, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(sum.shard_turbines, 12);
    wf_audit_close(a);
    const char *dirs[] = {shard};
    wf_audit_opts_default(&o);
    o.out_dir = merged;
    ck_assert_msg(wf_audit_merge(dirs, 1, &o, &sum, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(sum.n_shards, 1);
    snprintf(a_res, sizeof a_res, "%s/results.json", one);
    snprintf(b_res, sizeof b_res, "%s/results.json", merged);
    ck_assert(same_file(a_res, b_res));
    snprintf(a_res, sizeof a_res, "%s/report.pdf", one);
    snprintf(b_res, sizeof b_res, "%s/report.pdf", merged);
    ck_assert(same_file(a_res, b_res));

    /* A folder that is no shard: named in the error. */
    const char *bad[] = {samples};
    ck_assert_int_ne(wf_audit_merge(bad, 1, &o, NULL, &err), WF_OK);
    ck_assert_msg(strstr(err.msg, samples) != NULL, "%s", err.msg);
    unsetenv("SOURCE_DATE_EPOCH");
}
END_TEST

/* The one window ordering: (turbine id, start), values moved with their records, in place. */
START_TEST(test_window_order) {
    wf_windows ws;
    wf_error err = {0};
    ck_assert_int_eq(wf_windows_init(&ws, 1, 2, NULL, NULL, &err), WF_OK);
    const char *ids[] = {"B", "A", "B", "A", "C"};
    const int64_t starts[] = {600, 1200, 0, 600, 0};
    for (int i = 0; i < 5; i++) {
        wf_window w;
        memset(&w, 0, sizeof w);
        w.index = -1;
        snprintf(w.turbine_id, sizeof w.turbine_id, "%s", ids[i]);
        w.start = starts[i];
        float v[2] = {(float)i, (float)(10 * i)};
        w.values = v;
        ck_assert_int_eq(wf_windows_push(&ws, &w, &err), WF_OK);
    }
    wf_skipped sk[3] = {{"B", 0, "z"}, {"A", 5, "b"}, {"A", 5, "a"}};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(wf_windows_push_skipped(&ws, &sk[i], &err), WF_OK);
    ck_assert_int_eq(wf_windows_sort(&ws, &err), WF_OK);
    const int want[] = {3, 1, 2, 0, 4}; /* A/600, A/1200, B/0, B/600, C/0 */
    for (int j = 0; j < 5; j++) {
        ck_assert_int_eq(ws.w[j].index, j);
        ck_assert_ptr_eq(ws.w[j].values, ws.data + 2 * j);
        ck_assert(ws.w[j].values[0] == (float)want[j]);
        ck_assert(ws.w[j].values[1] == (float)(10 * want[j]));
        ck_assert_str_eq(ws.w[j].turbine_id, ids[want[j]]);
    }
    ck_assert_str_eq(ws.skipped[0].reason, "a");
    ck_assert_str_eq(ws.skipped[1].reason, "b");
    ck_assert_str_eq(ws.skipped[2].turbine_id, "B");
    wf_windows_free(&ws);
}
END_TEST

/* The one hash map: many keys, growth, overwrite, keys with NUL-free bytes of any value. */
START_TEST(test_strmap) {
    wf_strmap m;
    wf_strmap_init(&m);
    wf_error err = {0};
    ck_assert_int_eq(wf_strmap_get(&m, "x", 1), -1);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "turbine-%d\xc3\xa9", i);
        ck_assert_int_eq(wf_strmap_put(&m, k, (size_t)n, i, &err), WF_OK);
    }
    ck_assert_int_eq(m.n, 5000);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(k, sizeof k, "turbine-%d\xc3\xa9", i);
        ck_assert_int_eq(wf_strmap_get(&m, k, (size_t)n), i);
        ck_assert_str_eq(wf_strmap_key(&m, i), k);
    }
    ck_assert_int_eq(wf_strmap_get(&m, "turbine-1", 9), -1); /* a prefix is another key */
    ck_assert_int_eq(wf_strmap_put(&m, "turbine-7\xc3\xa9", 11, 42, &err), WF_OK);
    ck_assert_int_eq(wf_strmap_get(&m, "turbine-7\xc3\xa9", 11), 42);
    ck_assert_int_eq(m.n, 5000);
    wf_strmap_free(&m);
}
END_TEST

/* The one turbine-id rule, shared by the windower and the shard assignment (issue 17: an id
 * that is cut or had control bytes keeps at most 54 bytes plus "~" and 8 hex digits of a hash). */
START_TEST(test_turbine_id_rule) {
    char out[WF_ID_MAX];
    char raw[100];
    memset(raw, 'x', sizeof raw);
    ck_assert_uint_eq(wf_turbine_id_normalize(raw, 100, out), WF_ID_MAX - 1);
    ck_assert(out[54] == '~' && strspn(out, "x") == 54);
    ck_assert_uint_eq(wf_turbine_id_normalize("a\tb", 3, out), 3 + 9);
    ck_assert(strncmp(out, "a?b~", 4) == 0);
    /* Latin-1 0xE9 becomes UTF-8 e-acute */
    ck_assert_uint_eq(wf_turbine_id_normalize("WT\xe9", 3, out), 4);
    ck_assert_str_eq(out, "WT\xc3\xa9");
    /* never cut inside a UTF-8 sequence: 53 bytes + a 2-byte character does not fit in 54 */
    char u[80];
    memset(u, 'a', 53);
    memcpy(u + 53, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 12); /* 65 bytes */
    size_t n = wf_turbine_id_normalize(u, 65, out);
    ck_assert_uint_eq(n, 53 + 9);
    ck_assert(out[53] == '~');
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("audit_lib");
    TCase *tc = tcase_create("audit_lib");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_window_order);
    tcase_add_test(tc, test_strmap);
    tcase_add_test(tc, test_turbine_id_rule);
    tcase_add_test(tc, test_run_shard_merge);
    tcase_add_test(tc, test_log_changed_during_run);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(suite());
}

/*
 * `whyflag explain` end to end on Aurora windows (tests/data/aurora): results.json identical
 * bytes for 1 and 2 threads, a background file and segment players, the int8 model's surrogate,
 * and the errors users meet (bad flag values name the flag, missing arguments print usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/windows.h"

static char dir[512], small[600], bgfile[600];

/* Two small windows files cut from the Aurora windows: 6 to explain, 12 for a background. */
static void setup(void) {
    if (dir[0])
        return;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    wf_windows all, a, b;
    wf_error err = {0};
    memset(&all, 0, sizeof all);
    ck_assert(wf_windows_read_json(tu_data("data/windows.json"), &all, &err) == WF_OK);
    ck_assert(wf_windows_init(&a, all.C, all.T, (const char *const *)all.channels, NULL, &err) ==
              WF_OK);
    ck_assert(wf_windows_init(&b, all.C, all.T, (const char *const *)all.channels, NULL, &err) ==
              WF_OK);
    const int pick[6] = {1261, 804, 803, 1467, 100, 1059};
    for (int i = 0; i < 6; i++) {
        wf_window w = all.w[pick[i]];
        w.index = -1;
        ck_assert(wf_windows_push(&a, &w, &err) == WF_OK);
    }
    for (int i = 0; i < 12; i++) {
        wf_window w = all.w[20 + 97 * i];
        w.index = -1;
        ck_assert(wf_windows_push(&b, &w, &err) == WF_OK);
    }
    snprintf(small, sizeof small, "%s/w6.json", dir);
    snprintf(bgfile, sizeof bgfile, "%s/bg12.json", dir);
    ck_assert_msg(wf_windows_write_json(small, &a, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_windows_write_json(bgfile, &b, &err) == WF_OK, "%s", err.msg);
    wf_windows_free(&a);
    wf_windows_free(&b);
    wf_windows_free(&all);
}

static int explain(const char *model, const char *args, const char *out, char **text) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "SOURCE_DATE_EPOCH=1700000000 '%s' explain --model '%s' --windows "
             "'%s' --out '%s' %s",
             WF_CLI, tu_data(model), small, out, args);
    return tu_run(cmd, text);
}

START_TEST(test_threads_bytes) {
    setup();
    char o1[700], o2[700], *t = NULL;
    snprintf(o1, sizeof o1, "%s/r1.json", dir);
    snprintf(o2, sizeof o2, "%s/r2.json", dir);
    const char *args = "--method both --groups segments:3 --nsamples auto --seed 9 --steps auto";
    char a1[512], a2[512];
    snprintf(a1, sizeof a1, "%s --threads 1", args);
    snprintf(a2, sizeof a2, "%s --threads 2", args);
    int rc = explain("aurora/mlp.onnx", a1, o1, &t);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, t);
    free(t);
    rc = explain("aurora/mlp.onnx", a2, o2, &t);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, t);
    free(t);
    size_t n1, n2;
    char *j1 = tu_read(o1, &n1), *j2 = tu_read(o2, &n2);
    ck_assert_msg(n1 == n2 && !memcmp(j1, j2, n1), "results.json differs between 1 and 2 threads");
    ck_assert(strstr(j1, "\"wind_speed[12:24)\""));
    ck_assert(strstr(j1, "\"std_err\"") && strstr(j1, "\"converged\""));
    /* explain builds the audit's checks: each window's sentence over its segment players, and
     * the agreement of KernelSHAP and IG over the same players */
    ck_assert_msg(strstr(j1, "\"why\": {") && strstr(j1, "\"claim\": \"") &&
                      strstr(j1, "\"spearman\": ") && strstr(j1, "\"explanation_checks\""),
                  "%.3000s", j1);
    ck_assert(strstr(j1, "\"groups\": \"segments:3\""));
    free(j1);
    free(j2);
}
END_TEST

START_TEST(test_background_file_and_int8) {
    setup();
    char o[700], args[1024], *t = NULL;
    snprintf(o, sizeof o, "%s/r3.json", dir);
    snprintf(args, sizeof args, "--background '%s' --nsamples exact --steps 32", bgfile);
    int rc = explain("aurora/mlp_int8_qdq.onnx", args, o, &t);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, t);
    free(t);
    char *j = tu_read(o, NULL);
    ck_assert_msg(strstr(j, "\"n\": 12") && strstr(j, "12 windows from bg12.json"), "%.2000s", j);
    ck_assert(strstr(j, "\"quantized\": true"));
    ck_assert_msg(strstr(j, "\"surrogate\": \"") && !strstr(j, "\"surrogate\": null"), "%.3000s",
                  j);
    ck_assert(strstr(j, "\"exact\": true") && strstr(j, "\"agreement\": "));
    free(j);
}
END_TEST

START_TEST(test_errors) {
    setup();
    char o[700], *t = NULL;
    snprintf(o, sizeof o, "%s/bad.json", dir);
    int rc = explain("aurora/mlp.onnx", "--groups segments:x", o, &t);
    ck_assert_msg(rc == 2 && strstr(t, "--groups") && strstr(t, "segments:x"), "rc %d: %s", rc, t);
    free(t);
    rc = explain("aurora/mlp.onnx", "--nsamples lots", o, &t);
    ck_assert_msg(rc == 2 && strstr(t, "--nsamples"), "rc %d: %s", rc, t);
    free(t);
    rc = explain("aurora/mlp.onnx", "--frobnicate 1", o, &t);
    ck_assert_msg(rc == 1 && strstr(t, "--frobnicate"), "rc %d: %s", rc, t);
    free(t);
    rc = explain("aurora/mlp.onnx", "--background /nonexistent/bg.json", o, &t);
    ck_assert_msg(rc != 0 && strstr(t, "/nonexistent/bg.json"), "rc %d: %s", rc, t);
    free(t);
    /* exact mode with 288 players is refused per window, with a reason, and the run fails */
    rc = explain("aurora/logreg.onnx", "--method kernelshap --groups cell --nsamples exact", o, &t);
    ck_assert_msg(rc != 0 && strstr(t, "limited to"), "rc %d: %s", rc, t);
    free(t);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' explain --model x.onnx", WF_CLI);
    rc = tu_run(cmd, &t);
    ck_assert_msg(rc == 1 && strstr(t, "usage"), "rc %d: %s", rc, t);
    free(t);
}
END_TEST

int main(void) {
    Suite *s = suite_create("explain_cli");
    TCase *tc = tcase_create("cli");
    tcase_add_test(tc, test_threads_bytes);
    tcase_add_test(tc, test_background_file_and_int8);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

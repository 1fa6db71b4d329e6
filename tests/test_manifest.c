/*
 * manifest.json, verification and Ed25519 signing. Ed25519 is checked against RFC 8032's test
 * vector 1 (secret key, public key, signature of the empty message), not against itself; the
 * verification is checked by changing one byte of an output and of an input, deleting a file,
 * and tampering with a signed manifest. The CLI (`whyflag keygen`, `whyflag verify`, exit code 6)
 * is exercised when the program is built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "whyflag/manifest.h"
#include "test_report_synth.h"
#include "testutil.h"

static sy_run run;

/* RFC 8032, section 7.1, TEST 1 */
static const char *const RFC_SK =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *const RFC_PK =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char *const RFC_SIG =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";

static void unhex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* A report folder with real input files; returns the manifest path in mpath. */
static void make_report(const char *dir, char inputs[2][4200], const uint8_t *sign_key,
                        char *mpath) {
    snprintf(inputs[0], 4200, "%s/model.onnx", dir);
    snprintf(inputs[1], 4200, "%s/scada_log.csv", dir);
    tu_write(inputs[0], "model bytes\n");
    tu_write(inputs[1], "turbine_id,timestamp,wind_speed\nWT01,2024-03-01T00:00:00Z,7.5\n");
    run.r.model_path = inputs[0];
    wf_error err = {0};
    wf_sha256_file_hex(inputs[0], run.r.model_sha256, &err);
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    o.inputs[o.n_inputs++] = (wf_report_input){"model", inputs[0], NULL};
    o.inputs[o.n_inputs++] = (wf_report_input){"log", inputs[1], NULL};
    if (sign_key) {
        o.sign = 1;
        memcpy(o.sign_key, sign_key, 32);
    }
    char out[4000];
    snprintf(out, sizeof out, "%.3000s/out", dir);
    ck_assert_msg(wf_report_write_all(&run.r, &o, out, &err) == WF_OK, "%s", err.msg);
    snprintf(mpath, 4200, "%s/manifest.json", out);
}

static void flip_byte(const char *path, long at) {
    FILE *f = fopen(path, "r+b");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
}

START_TEST(test_ed25519_rfc8032) {
    uint8_t sk[32], pk[32], want_pk[32];
    unhex(RFC_SK, sk, 32);
    unhex(RFC_PK, want_pk, 32);
    wf_ed25519_public_key(pk, sk);
    ck_assert_msg(memcmp(pk, want_pk, 32) == 0, "public key differs from RFC 8032 test 1");
    /* signing an empty manifest file gives RFC 8032's signature of the empty message */
    const char *d = tu_tmpdir();
    char m[4200], sig[4300];
    snprintf(m, sizeof m, "%s/manifest.json", d);
    tu_write(m, "");
    wf_error err = {0};
    ck_assert_msg(wf_manifest_sign(m, sk, &err) == WF_OK, "%s", err.msg);
    snprintf(sig, sizeof sig, "%s.sig", m);
    char *text = tu_read(sig, NULL);
    ck_assert_int_eq(strlen(text), 129);
    ck_assert_msg(strncmp(text, RFC_SIG, 128) == 0, "signature differs from RFC 8032:\n%s", text);
    free(text);
}
END_TEST

START_TEST(test_key_files) {
    const char *d = tu_tmpdir();
    char k[4200];
    snprintf(k, sizeof k, "%s/key", d);
    uint8_t sk[32], back[32];
    unhex(RFC_SK, sk, 32);
    wf_error err = {0};
    ck_assert_int_eq(wf_key_write_hex(k, sk, 0600, &err), WF_OK);
    struct stat sb;
    ck_assert_int_eq(stat(k, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(wf_key_read_hex(k, back, &err), WF_OK);
    ck_assert(memcmp(sk, back, 32) == 0);
    tu_write(k, "not a key\n");
    ck_assert_int_eq(wf_key_read_hex(k, back, &err), WF_ERR_PARSE);
    ck_assert_msg(strstr(err.msg, k) != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_verify_detects_changes) {
    const char *d = tu_tmpdir();
    char inputs[2][4200], m[4200], report[8192], path[4300];
    make_report(d, inputs, NULL, m);
    wf_error err = {0};
    int n = -1;
    ck_assert_msg(wf_manifest_verify(m, NULL, NULL, report, sizeof report, &n, &err) == WF_OK, "%s",
                  report);
    ck_assert_int_eq(n, 0);
    /* the manifest lists every output, the inputs, the template and the fonts */
    char *text = tu_read(m, NULL);
    ck_assert(strstr(text, "\"report.pdf\"") && strstr(text, "\"report.xlsx\"") &&
              strstr(text, "\"results.json\"") && strstr(text, "scada_log.csv") &&
              strstr(text, "report.txt") && strstr(text, "DejaVuSans.ttf") &&
              strstr(text, "\"seed\"") && strstr(text, "\"libharu\""));
    free(text);
    /* one byte of an output */
    snprintf(path, sizeof path, "%s/out/report.xlsx", d);
    flip_byte(path, 100);
    ck_assert_int_eq(wf_manifest_verify(m, NULL, NULL, report, sizeof report, &n, &err),
                     WF_ERR_VERIFY);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(strstr(report, "report.xlsx: CHANGED") != NULL, "%s", report);
    ck_assert_msg(strstr(err.msg, "report.xlsx") != NULL, "%s", err.msg);
    flip_byte(path, 100);
    ck_assert_int_eq(wf_manifest_verify(m, NULL, NULL, report, sizeof report, &n, &err), WF_OK);
    /* one byte of an input, and a deleted output: both reported */
    flip_byte(inputs[1], 5);
    snprintf(path, sizeof path, "%s/out/results.json", d);
    remove(path);
    ck_assert_int_eq(wf_manifest_verify(m, NULL, NULL, report, sizeof report, &n, &err),
                     WF_ERR_VERIFY);
    ck_assert_int_eq(n, 2);
    ck_assert_msg(strstr(report, "scada_log.csv: CHANGED (log)") != NULL, "%s", report);
    ck_assert_msg(strstr(report, "results.json: NOT FOUND") != NULL, "%s", report);
    /* restore, then move the inputs elsewhere: NOT FOUND (WF_ERR_IO, not WF_ERR_VERIFY: moved is
     * not changed), with a hint at --inputs, unless --inputs names their new folder */
    flip_byte(inputs[1], 5);
    make_report(d, inputs, NULL, m);
    char moved[4300], cmd[20000];
    snprintf(moved, sizeof moved, "%s/elsewhere", d);
    snprintf(cmd, sizeof cmd, "mkdir '%s' && mv '%s' '%s' '%s/'", moved, inputs[0], inputs[1],
             moved);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    ck_assert_int_eq(wf_manifest_verify(m, NULL, NULL, report, sizeof report, &n, &err), WF_ERR_IO);
    ck_assert_int_eq(n, 2);
    ck_assert_msg(strstr(report, "model.onnx: NOT FOUND (model)") != NULL, "%s", report);
    ck_assert_msg(strstr(report, "--inputs DIR") != NULL, "%s", report);
    ck_assert_msg(strstr(report, "CHANGED") == NULL, "%s", report);
    if (access(WF_CLI, X_OK) == 0) { /* the CLI says it in words and exit codes: 5 vs 6 */
        char *out = NULL;
        snprintf(cmd, sizeof cmd, "'%s' verify '%s' 2>&1", WF_CLI, m);
        int rc = tu_run(cmd, &out);
        ck_assert_msg(rc == 5 && out && strstr(out, "INCOMPLETE") && strstr(out, "--inputs"),
                      "rc %d: %s", rc, out ? out : "");
        free(out);
    }
    ck_assert_msg(wf_manifest_verify(m, NULL, moved, report, sizeof report, &n, &err) == WF_OK,
                  "%s", report);
    /* not a manifest */
    tu_write(path, "{\"hello\": 1}\n");
    ck_assert_int_eq(wf_manifest_verify(path, NULL, NULL, report, sizeof report, &n, &err),
                     WF_ERR_PARSE);
    ck_assert_msg(strstr(err.msg, "not a whyflag manifest"), "%s", err.msg);
}
END_TEST

START_TEST(test_signed_manifest) {
    const char *d = tu_tmpdir();
    char inputs[2][4200], m[4200], report[8192];
    uint8_t sk[32], pk[32], other[32];
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(i * 7 + 1);
    wf_ed25519_public_key(pk, sk);
    make_report(d, inputs, sk, m);
    wf_error err = {0};
    int n = -1;
    ck_assert_msg(wf_manifest_verify(m, pk, NULL, report, sizeof report, &n, &err) == WF_OK, "%s",
                  report);
    /* another key does not verify */
    memcpy(other, pk, 32);
    other[0] ^= 1;
    unhex(RFC_PK, other, 32);
    ck_assert_int_eq(wf_manifest_verify(m, other, NULL, report, sizeof report, &n, &err),
                     WF_ERR_VERIFY);
    ck_assert_msg(strstr(report, "SIGNATURE does not verify"), "%s", report);
    /* tamper with a field that is no hash (the threshold): hashes still match, signature not */
    char *text = tu_read(m, NULL);
    char *thr = strstr(text, "\"threshold\": 0.5");
    ck_assert(thr != NULL);
    thr[strlen("\"threshold\": 0.")] = '4';
    tu_write(m, text);
    free(text);
    ck_assert_int_eq(wf_manifest_verify(m, NULL, NULL, report, sizeof report, &n, &err), WF_OK);
    ck_assert_int_eq(wf_manifest_verify(m, pk, NULL, report, sizeof report, &n, &err),
                     WF_ERR_VERIFY);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(strstr(report, "manifest.json: SIGNATURE does not verify"), "%s", report);
    /* a missing signature file is a problem when a key is given */
    char sig[4300];
    snprintf(sig, sizeof sig, "%s.sig", m);
    remove(sig);
    ck_assert_int_eq(wf_manifest_verify(m, pk, NULL, report, sizeof report, &n, &err),
                     WF_ERR_VERIFY);
    ck_assert_msg(strstr(report, "MISSING signature"), "%s", report);
}
END_TEST

START_TEST(test_cli_keygen_verify) {
    if (access(WF_CLI, X_OK) != 0) {
        tu_skip("the whyflag CLI is not built");
        return;
    }
    const char *d = tu_tmpdir();
    char inputs[2][4200], m[4200], cmd[16384], key[4200];
    snprintf(key, sizeof key, "%s/signing.key", d);
    snprintf(cmd, sizeof cmd, "'%s' keygen --out '%s'", WF_CLI, key);
    char *out = NULL;
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    free(out);
    struct stat sb;
    ck_assert_int_eq(stat(key, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    uint8_t sk[32], pk[32], pk_file[32];
    wf_error err = {0};
    char pub[4300];
    snprintf(pub, sizeof pub, "%s.pub", key);
    ck_assert_int_eq(wf_key_read_hex(key, sk, &err), WF_OK);
    ck_assert_int_eq(wf_key_read_hex(pub, pk_file, &err), WF_OK);
    wf_ed25519_public_key(pk, sk);
    ck_assert(memcmp(pk, pk_file, 32) == 0);
    make_report(d, inputs, sk, m);
    snprintf(cmd, sizeof cmd, "'%s' verify '%s' --pubkey '%s'", WF_CLI, m, pub);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_msg(strstr(out, "OK"), "%s", out);
    free(out);
    char pdf[4300];
    snprintf(pdf, sizeof pdf, "%s/out/report.pdf", d);
    flip_byte(pdf, 2000);
    ck_assert_int_eq(tu_run(cmd, &out), 6);
    ck_assert_msg(strstr(out, "report.pdf: CHANGED"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' verify", WF_CLI);
    ck_assert_int_eq(tu_run(cmd, &out), 1);
    free(out);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_ed25519_rfc8032);
    tcase_add_test(tc, test_key_files);
    tcase_add_test(tc, test_verify_detects_changes);
    tcase_add_test(tc, test_signed_manifest);
    tcase_add_test(tc, test_cli_keygen_verify);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    sy_build(&run);
    int rc = tu_run_suite(suite());
    sy_free(&run);
    return rc;
}

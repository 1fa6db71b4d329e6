/* Core: status strings, RNG streams, JSON writer formatting, SHA-256, atomic writes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/jw.h"
#include "testutil.h"
#include "whyflag/rng.h"
#include "whyflag/status.h"

START_TEST(test_error_set_prefix) {
    wf_error e;
    wf_error_clear(&e);
    ck_assert_int_eq(wf_error_set(&e, WF_ERR_PARSE, "line %d", 7), WF_ERR_PARSE);
    wf_error_prefix(&e, "%s: ", "log.csv");
    ck_assert_str_eq(e.msg, "log.csv: line 7");
    ck_assert_int_eq(e.status, WF_ERR_PARSE);
    ck_assert_str_eq(wf_status_str(WF_ERR_IO), "i/o error");
    ck_assert_int_eq(wf_status_exit_code(WF_OK), 0);
    ck_assert_int_ne(wf_status_exit_code(WF_ERR_VERIFY), 0);
}
END_TEST

START_TEST(test_rng_reference_sequence) {
    /* xoshiro256** from the state splitmix64(0) gives, per the reference implementation by
     * Vigna: splitmix64 seeds 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f,
     * 0xf88bb8a8724c81ec; first output rotl(s1*5,7)*9. */
    wf_rng r;
    wf_rng_init(&r, 0);
    ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafull);
    ck_assert_uint_eq(r.s[1], 0x6e789e6aa1b965f4ull);
    uint64_t s1 = r.s[1] * 5;
    uint64_t want = ((s1 << 7) | (s1 >> 57)) * 9;
    ck_assert_uint_eq(wf_rng_u64(&r), want);
    /* streams are reproducible and distinct */
    wf_rng a, b, c;
    wf_rng_init_stream(&a, 42, 3);
    wf_rng_init_stream(&b, 42, 3);
    wf_rng_init_stream(&c, 42, 4);
    uint64_t x = wf_rng_u64(&a);
    ck_assert_uint_eq(x, wf_rng_u64(&b));
    ck_assert_uint_ne(x, wf_rng_u64(&c));
    /* below() stays in range and is roughly uniform */
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++)
        hist[wf_rng_below(&a, 7)]++;
    for (int i = 0; i < 7; i++)
        ck_assert_msg(abs(hist[i] - 10000) < 500, "bucket %d: %d", i, hist[i]);
    double m = 0;
    for (int i = 0; i < 100000; i++)
        m += wf_rng_normal(&a);
    ck_assert(fabs(m / 100000) < 0.02);
}
END_TEST

START_TEST(test_jw_roundtrip_formatting) {
    wf_jw w;
    wf_jw_init(&w, 0);
    wf_jw_obj_begin(&w);
    wf_jw_kstr(&w, "s", "a\"b\n°C");
    wf_jw_kdouble(&w, "d", 0.1);
    wf_jw_key(&w, "f");
    wf_jw_float(&w, 0.1f);
    wf_jw_kdouble(&w, "nan", NAN);
    wf_jw_key(&w, "a");
    float v[3] = {1.0f, -2.5f, 1e-8f};
    wf_jw_float_array(&w, v, 3);
    wf_jw_kint(&w, "i", -42);
    wf_jw_obj_end(&w);
    ck_assert(!w.failed);
    ck_assert_str_eq(w.buf, "{\"s\":\"a\\\"b\\n°C\",\"d\":0.1,\"f\":0.1,\"nan\":\"NaN\","
                            "\"a\":[1,-2.5,1e-08],\"i\":-42}");
    wf_jw_free(&w);
    char b[40];
    ck_assert_double_eq(strtod(wf_fmt_double(b, 1.0 / 3.0), NULL), 1.0 / 3.0);
    ck_assert_float_eq(strtof(wf_fmt_float(b, 1.0f / 3.0f), NULL), 1.0f / 3.0f);
}
END_TEST

/* The file sink (results.json of a fleet) writes exactly the bytes of the in-memory writer,
 * across many 1 MB drains. */
START_TEST(test_jw_file_sink_same_bytes) {
    wf_jw a, b;
    FILE *f = tmpfile();
    ck_assert(f != NULL);
    wf_jw_init(&a, 1);
    wf_jw_init_file(&b, 1, f);
    wf_jw *ws[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        wf_jw *w = ws[k];
        wf_jw_obj_begin(w);
        wf_jw_key(w, "rows");
        wf_jw_arr_begin(w);
        for (int i = 0; i < 120000; i++) {
            wf_jw_obj_begin(w);
            wf_jw_kstr(w, "id", i % 3 ? "WT\"01" : "T\u00b0");
            wf_jw_kdouble(w, "x", 1.0 / (i + 3));
            wf_jw_kint(w, "i", i);
            wf_jw_obj_end(w);
        }
        wf_jw_arr_end(w);
        wf_jw_obj_end(w);
        wf_jw_finish(w);
    }
    ck_assert(!a.failed && !b.failed);
    ck_assert_uint_gt(a.len, 4u << 20); /* several drains */
    ck_assert(b.len == 0);
    long n = ftell(f);
    ck_assert_int_eq(n, (long)a.len);
    rewind(f);
    char *got = malloc(a.len);
    ck_assert(fread(got, 1, a.len, f) == a.len);
    ck_assert(memcmp(got, a.buf, a.len) == 0);
    free(got);
    fclose(f);
    wf_jw_free(&a);
    wf_jw_free(&b);
}
END_TEST

START_TEST(test_sha256_and_atomic_write) {
    char hex[65];
    wf_sha256_hex("abc", 3, hex); /* FIPS 180-2 test vector */
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *dir = tu_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    wf_error e;
    ck_assert_int_eq(wf_file_write_atomic(path, "abc", 3, &e), WF_OK);
    ck_assert_int_eq(wf_sha256_file_hex(path, hex, &e), WF_OK);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char *data;
    size_t len;
    ck_assert_int_eq(wf_file_read_all(path, &data, &len, &e), WF_OK);
    ck_assert_uint_eq(len, 3);
    free(data);
    /* an unwritable folder: clear error, nothing left behind */
    ck_assert_int_eq(wf_file_write_atomic("/nonexistent-dir/x.txt", "a", 1, &e), WF_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent-dir/x.txt"));
    char out[64];
    wf_path_dirname("a/b/c.csv", out, sizeof out);
    ck_assert_str_eq(out, "a/b");
    wf_path_dirname("c.csv", out, sizeof out);
    ck_assert_str_eq(out, ".");
}
END_TEST

int main(void) {
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_error_set_prefix);
    tcase_add_test(tc, test_rng_reference_sequence);
    tcase_add_test(tc, test_jw_roundtrip_formatting);
    tcase_add_test(tc, test_jw_file_sink_same_bytes);
    tcase_add_test(tc, test_sha256_and_atomic_write);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

/*
 * Issue 17 unit checks (the CLI cases are in test_hostile.sh): the one turbine-id rule keeps
 * distinct ids distinct (cut + hash suffix), is idempotent and yields valid UTF-8 of at most 63
 * bytes; a stray quote mid-file costs one row; time formatting of any int64 is defined (no
 * INT64_MIN negation). Expected values follow from the stated rules, not from whyflag's output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "data/data_impl.h"
#include "testutil.h"
#include "whyflag/data.h"

static size_t norm(const char *raw, size_t n, char *out) {
    size_t k = wf_turbine_id_normalize(raw, n, out);
    ck_assert_uint_eq(k, strlen(out));
    ck_assert_uint_le(k, WF_ID_MAX - 1);
    ck_assert_msg(wf_utf8_valid(out, k), "not UTF-8: %s", out);
    char again[WF_ID_MAX];
    ck_assert_uint_eq(wf_turbine_id_normalize(out, k, again), k); /* idempotent */
    ck_assert_str_eq(again, out);
    return k;
}

static int is_suffixed(const char *id) {
    const char *t = strrchr(id, '~');
    if (!t || strlen(t) != 9)
        return 0;
    for (int i = 1; i < 9; i++)
        if (!strchr("0123456789abcdef", t[i]))
            return 0;
    return 1;
}

START_TEST(test_id_rule) {
    char a[WF_ID_MAX], b[WF_ID_MAX];
    /* ordinary ids are unchanged */
    norm("WT01", 4, a);
    ck_assert_str_eq(a, "WT01");
    /* 63 bytes: kept whole; 64 and more: cut and suffixed, distinct ids stay distinct */
    char raw[200];
    memset(raw, 'A', sizeof raw);
    ck_assert_uint_eq(norm(raw, 63, a), 63);
    ck_assert(!is_suffixed(a));
    raw[69] = '1';
    norm(raw, 70, a);
    raw[69] = '3';
    norm(raw, 70, b);
    ck_assert(is_suffixed(a) && is_suffixed(b));
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(strlen(a), 54 + 9);
    /* control bytes: replaced, suffixed, distinct */
    norm("WT\x01", 3, a);
    norm("WT\x02", 3, b);
    ck_assert(strncmp(a, "WT?~", 4) == 0 && is_suffixed(a));
    ck_assert_str_ne(a, b);
    ck_assert(strcmp(a, "WT?") != 0);
    /* a NUL inside the field counts as a control byte */
    norm("WT\0x", 4, a);
    ck_assert(strncmp(a, "WT?x~", 5) == 0);
    /* UTF-8 cut at a character boundary: 40 two-byte characters (80 bytes) */
    char u[100] = "";
    for (int i = 0; i < 40; i++)
        strcat(u, "\xc3\xa9");
    size_t k = norm(u, strlen(u), a);
    ck_assert(is_suffixed(a));
    ck_assert_uint_eq(k, 54 + 9); /* 27 characters of 2 bytes, then ~xxxxxxxx */
    /* Latin-1: converted to UTF-8 (0xE9 -> C3 A9), so "Ost\xe9" and its UTF-8 spelling agree */
    norm("Ost\xe9", 4, a);
    ck_assert_str_eq(a, "Ost\xc3\xa9");
    /* a Latin-1 id of 40 bytes (80 after conversion) is cut and suffixed */
    char l1[41];
    memset(l1, 0xE9, 40);
    l1[40] = '\0';
    norm(l1, 40, a);
    ck_assert(is_suffixed(a));
}
END_TEST

START_TEST(test_stray_quote_mid_file) {
    wf_log_config log;
    memset(&log, 0, sizeof log);
    log.delimiter = ',';
    log.decimal = '.';
    snprintf(log.turbine_column, sizeof log.turbine_column, "id");
    snprintf(log.time_column, sizeof log.time_column, "t");
    wf_channel_config ch[1] = {{"x", "x", ""}};
    log.channels = ch;
    log.n_channels = 1;
    /* line 3 opens a quote that never closes; the 20 rows after it are still rows */
    char text[4096] = "id,t,x\nA,2024-01-01T00:00:00Z,1\nA,2024-01-01T00:10:00Z,\"2\n";
    for (int i = 0; i < 20; i++) {
        char line[64];
        snprintf(line, sizeof line, "A,2024-01-01T%02d:%02d:00Z,%d\n", 1 + i / 6, (i % 6) * 10, i);
        strcat(text, line);
    }
    wf_error err = {0};
    wf_log_reader *r;
    ck_assert(wf_log_reader_open_mem(&log, text, strlen(text), "q.csv", &r, &err) == WF_OK);
    wf_log_row row;
    int done, n = 0, bad = 0;
    int64_t bad_line = 0;
    for (;;) {
        ck_assert(wf_log_reader_next(r, &row, &done, &err) == WF_OK);
        if (done)
            break;
        n++;
        if (row.malformed) {
            bad++;
            bad_line = row.line;
            ck_assert_msg(strstr(row.problem, "unterminated quoted field"), "%s", row.problem);
        } else {
            ck_assert_int_eq(row.line, n + 1);
        }
    }
    wf_log_reader_free(r);
    ck_assert_int_eq(n, 22);
    ck_assert_int_eq(bad, 1);
    ck_assert_int_eq(bad_line, 3);
}
END_TEST

START_TEST(test_time_format_any_int64) {
    char buf[32];
    ck_assert_str_eq(wf_time_format_iso(INT64_MIN, buf), "0000-00-00T00:00:00Z");
    ck_assert_str_eq(wf_time_format_iso(INT64_MAX, buf), "0000-00-00T00:00:00Z");
    ck_assert_str_eq(wf_time_format_iso(0, buf), "1970-01-01T00:00:00Z");
    ck_assert_str_eq(wf_time_format_iso(253402300799ll, buf), "9999-12-31T23:59:59Z");
}
END_TEST

int main(void) {
    Suite *s = suite_create("hostile_units");
    TCase *tc = tcase_create("issue17");
    tcase_add_test(tc, test_id_rule);
    tcase_add_test(tc, test_stray_quote_mid_file);
    tcase_add_test(tc, test_time_format_any_int64);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

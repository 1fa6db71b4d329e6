/*
 * The hand-written parsers against libc as the reference peer: wf_parse_float against strtof
 * (bit equality over many generated decimals), times against timegm, and the row reader's
 * buffer refills (a 64-byte buffer must give the same rows as the 8 MB default).
 */
#define _DEFAULT_SOURCE /* timegm */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/data_impl.h"
#include "testutil.h"
#include "whyflag/data.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void check_float(const char *s) {
    float want = strtof(s, NULL), got = 0;
    ck_assert_msg(wf_parse_float(s, strlen(s), '.', &got) == 0, "rejected \"%s\"", s);
    ck_assert_msg(memcmp(&got, &want, sizeof got) == 0 || (isnan(got) && isnan(want)),
                  "\"%s\": got %.9g, strtof %.9g", s, got, want);
}

START_TEST(test_float_fixed_cases) {
    const char *ok[] = {"7.27",
                        "0",
                        "-0",
                        "+1.5",
                        "4.47E-05",
                        "1e3",
                        "1E+3",
                        ".5",
                        "5.",
                        "123456789",
                        "16777217",
                        "0.1",
                        "3.4028235e38",
                        "3.5e38",
                        "1e-45",
                        "1.4e-45",
                        "1e-50",
                        "2.5e-40",
                        "123456789012345678901234567890",
                        "0.000000000000000000000000000001",
                        "9007199254740993",
                        "1.00000005960464477539062499",
                        "1.000000059604644775390625",
                        "  42  ",
                        "-273.15"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        check_float(ok[i]);
    const char *bad[] = {"", " ", "abc", "1.2.3", "1e", "1e+", "--1", "1,5", "0x10", "1 2", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        float v;
        ck_assert_msg(wf_parse_float(bad[i], strlen(bad[i]), '.', &v) != 0, "accepted \"%s\"",
                      bad[i]);
    }
    float v;
    ck_assert_int_eq(wf_parse_float("1,5", 3, ',', &v), 0);
    ck_assert(v == 1.5f);
    ck_assert_int_eq(wf_parse_float("-4,47E-05", 9, ',', &v), 0);
    ck_assert(v == strtof("-4.47E-05", NULL));
    ck_assert_int_eq(wf_parse_float("NaN", 3, '.', &v), 0);
    ck_assert(isnan(v));
    ck_assert_int_eq(wf_parse_float("-inf", 4, '.', &v), 0);
    ck_assert(isinf(v) && v < 0);
    ck_assert_int_eq(wf_parse_float("Infinity", 8, '.', &v), 0);
    ck_assert(isinf(v) && v > 0);
}
END_TEST

START_TEST(test_float_random_vs_strtof) {
    char buf[64];
    for (int i = 0; i < 300000; i++) {
        uint64_t r = next_u64();
        int kind = (int)(r % 4);
        r >>= 2;
        if (kind == 0) { /* fixed decimals like a SCADA export */
            int dec = (int)(r % 7);
            long long m = (long long)((r >> 3) % 100000000ull) - 50000000;
            double scale = pow(10, dec);
            snprintf(buf, sizeof buf, "%.*f", dec, (double)m / scale);
        } else if (kind == 1) { /* scientific */
            int e = (int)(r % 90) - 45;
            unsigned long long m = (r >> 7) % 10000000ull;
            snprintf(buf, sizeof buf, "%llu.%03uE%+d", m / 1000, (unsigned)(m % 1000), e);
        } else if (kind == 2) { /* many digits */
            snprintf(buf, sizeof buf, "%llu.%llu", (unsigned long long)(r % 1000000000000ull),
                     (unsigned long long)(next_u64() % 100000000000ull));
        } else { /* round-trip of a random float */
            float f;
            uint32_t bits = (uint32_t)r;
            memcpy(&f, &bits, sizeof f);
            if (!isfinite(f))
                continue;
            snprintf(buf, sizeof buf, "%.9g", f);
        }
        check_float(buf);
    }
}
END_TEST

static void check_time(const char *s, const char *fmt, int64_t want) {
    int64_t got = 0;
    ck_assert_msg(wf_parse_time(s, strlen(s), fmt, &got) == 0, "rejected \"%s\" (%s)", s, fmt);
    ck_assert_msg(got == want, "\"%s\": got %lld want %lld", s, (long long)got, (long long)want);
}

START_TEST(test_time_vs_timegm) {
    for (int i = 0; i < 20000; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = 70 + (int)(next_u64() % 120); /* 1970..2089 */
        tm.tm_mon = (int)(next_u64() % 12);
        tm.tm_mday = 1 + (int)(next_u64() % 28);
        tm.tm_hour = (int)(next_u64() % 24);
        tm.tm_min = (int)(next_u64() % 60);
        tm.tm_sec = (int)(next_u64() % 60);
        int64_t want = (int64_t)timegm(&tm);
        char s[64], ts[32];
        strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        check_time(s, "iso8601", want);
        ck_assert_str_eq(wf_time_format_iso(want, ts), s);
        strftime(s, sizeof s, "%d %m %Y %H:%M:%S", &tm);
        check_time(s, "%d %m %Y %H:%M:%S", want);
        strftime(s, sizeof s, "%d-%b-%y %H.%M.%S", &tm);
        if (tm.tm_year < 169) /* %y maps 00..68 to 20xx */
            check_time(s, "%d-%b-%y %H.%M.%S", want);
    }
    int64_t t0 = 1704067200; /* 2024-01-01T00:00:00Z */
    check_time("2024-01-01T00:00:00Z", "iso8601", t0);
    check_time("2024-01-01 00:00:00", "iso8601", t0);
    check_time("2024-01-01T00:00", "iso8601", t0);
    check_time("2024-01-01T02:00:00+02:00", "iso8601", t0);
    check_time("2024-01-01T02:00:00+0200", "iso8601", t0);
    check_time("2024-01-01T02:00:00+02", "iso8601", t0);
    check_time("2023-12-31T19:00:00-05:00", "iso8601", t0);
    check_time("2024-01-01T00:00:00.999Z", "iso8601", t0); /* fraction floored */
    check_time("2024-02-29T00:00:00Z", "iso8601", t0 + 59 * 86400);
    check_time("1969-12-31T23:59:59Z", "iso8601", -1);
    check_time("01 01 2018 00:00", "%d %m %Y %H:%M", 1514764800);
    check_time("1/2/2024 3:04", "%d/%m/%Y %H:%M", t0 + 31 * 86400 + 3 * 3600 + 240);
    const char *bad[] = {"2024-13-01T00:00:00Z",
                         "2023-02-29T00:00:00Z",
                         "2024-01-01T24:00:00Z",
                         "2024-01-01X00:00:00Z",
                         "2024-01-01T00:00:00+2",
                         "2024-01-01T00:00:00ZZ",
                         "2024-1-01T00:00:00Z",
                         "",
                         "garbage",
                         "2024-01-01T00:00:00.Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        ck_assert_msg(wf_parse_time(bad[i], strlen(bad[i]), "iso8601", &t) != 0, "accepted \"%s\"",
                      bad[i]);
    }
    int64_t t;
    ck_assert(wf_parse_time("01 01 2018", 10, "%d %m %Y %H:%M", &t) != 0);
    ck_assert(wf_parse_time("01 13 2018 00:00", 16, "%d %m %Y %H:%M", &t) != 0);
    ck_assert(wf_parse_time("01 Foo 2018", 11, "%d %b %Y", &t) != 0);
    ck_assert_int_eq(wf_time_parse_iso("2024-01-01T00:00:00Z", &t), WF_OK);
    ck_assert_int_eq(wf_time_parse_iso("nope", &t), WF_ERR_PARSE);
}
END_TEST

/* Every row of the Aurora log through a 64-byte buffer equals the default 8 MB buffer. */
START_TEST(test_reader_small_buffer) {
    wf_log_config log;
    memset(&log, 0, sizeof log);
    snprintf(log.path, sizeof log.path, "%s", tu_data("data/sensor_log.csv"));
    log.delimiter = ',';
    log.decimal = '.';
    snprintf(log.turbine_column, sizeof log.turbine_column, "turbine_id");
    snprintf(log.time_column, sizeof log.time_column, "timestamp");
    snprintf(log.time_format, sizeof log.time_format, "iso8601");
    wf_channel_config ch[3] = {
        {"v", "vibration_rms", ""}, {"w", "wind_speed", ""}, {"b", "bearing_temp", ""}};
    log.channels = ch;
    log.n_channels = 3;
    wf_error err = {0};
    wf_log_reader *a, *b;
    ck_assert_msg(wf_log_reader_open_ex(&log, 0, &a, &err) == WF_OK, "%s", err.msg);
    ck_assert_msg(wf_log_reader_open_ex(&log, 64, &b, &err) == WF_OK, "%s", err.msg);
    int64_t n = 0;
    for (;;) {
        wf_log_row ra, rb;
        int da, db;
        ck_assert(wf_log_reader_next(a, &ra, &da, &err) == WF_OK);
        char id[64];
        snprintf(id, sizeof id, "%.*s", (int)ra.turbine_len, ra.turbine);
        float va[3];
        memcpy(va, ra.values, sizeof va);
        int64_t ta = ra.time, la = ra.line;
        ck_assert(wf_log_reader_next(b, &rb, &db, &err) == WF_OK);
        ck_assert_int_eq(da, db);
        if (da)
            break;
        ck_assert_int_eq(ta, rb.time);
        ck_assert_int_eq(la, rb.line);
        ck_assert_int_eq(la, n + 2);
        ck_assert(!memcmp(va, rb.values, sizeof va));
        ck_assert(!strncmp(id, rb.turbine, rb.turbine_len));
        ck_assert(!ra.malformed && ra.time_ok);
        n++;
    }
    ck_assert_int_eq(n, 31104);
    ck_assert_int_eq(wf_log_reader_bytes(a), 2232401);
    ck_assert_int_eq(wf_log_reader_bytes(b), 2232401);
    wf_log_reader_free(a);
    wf_log_reader_free(b);
}
END_TEST

START_TEST(test_reader_runaway_quote_and_header) {
    wf_log_config log;
    memset(&log, 0, sizeof log);
    log.delimiter = ',';
    log.decimal = '.';
    snprintf(log.turbine_column, sizeof log.turbine_column, "id");
    snprintf(log.time_column, sizeof log.time_column, "t");
    wf_channel_config ch[1] = {{"x", "x", ""}};
    log.channels = ch;
    log.n_channels = 1;
    wf_error err = {0};
    wf_log_reader *r;
    /* an unterminated quote at the end of the file is one malformed record */
    const char *text = "id,t,x\nA,2024-01-01T00:00:00Z,1\n\"A,2024-01-01T00:10:00Z,2\n";
    ck_assert(wf_log_reader_open_mem(&log, text, strlen(text), "m.csv", &r, &err) == WF_OK);
    wf_log_row row;
    int done;
    ck_assert(wf_log_reader_next(r, &row, &done, &err) == WF_OK && !done && !row.malformed);
    ck_assert(wf_log_reader_next(r, &row, &done, &err) == WF_OK && !done);
    ck_assert(row.malformed);
    ck_assert_int_eq(row.line, 3);
    ck_assert(wf_log_reader_next(r, &row, &done, &err) == WF_OK && done);
    wf_log_reader_free(r);
    /* a quote that swallows more than 1 MB is a fatal, located error */
    size_t big = (2u << 20);
    char *huge = malloc(big + 64);
    strcpy(huge, "id,t,x\nA,\"");
    memset(huge + strlen(huge), 'z', big);
    huge[big + 10] = '\0';
    ck_assert(wf_log_reader_open_mem(&log, huge, strlen(huge), "m.csv", &r, &err) == WF_OK);
    ck_assert_int_eq(wf_log_reader_next(r, &row, &done, &err), WF_ERR_PARSE);
    ck_assert_msg(strstr(err.msg, "m.csv:2: record longer than"), "%s", err.msg);
    wf_log_reader_free(r);
    free(huge);
    /* empty file, header without the time column */
    ck_assert_int_eq(wf_log_reader_open_mem(&log, "", 0, "e.csv", &r, &err), WF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "e.csv: empty file"), "%s", err.msg);
    ck_assert_int_eq(wf_log_reader_open_mem(&log, "id,time,x\n", 10, "h.csv", &r, &err),
                     WF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "h.csv:1: column \"t\" (config key log.time_column) not found"),
                  "%s", err.msg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("parsers");
    tcase_add_test(tc, test_float_fixed_cases);
    tcase_add_test(tc, test_float_random_vs_strtof);
    tcase_add_test(tc, test_time_vs_timegm);
    tcase_add_test(tc, test_reader_small_buffer);
    tcase_add_test(tc, test_reader_runaway_quote_and_header);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

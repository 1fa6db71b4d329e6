/*
 * log.timezone (src/data/tz.c) against Python's zoneinfo as the reference peer: every row of
 * tests/data/tz/tz_table.tsv (written by tests/data/tz/gen_tz_table.py) gives a naive local time
 * in a zone and what zoneinfo makes of it (the UTC instant, the earlier one when the time is
 * repeated by a clock change, or "nonexistent" when a clock change skipped it). System zones come
 * from /usr/share/zoneinfo (tzdata); hand-made TZif files under tests/data/tz/zoneinfo (read
 * through $TZDIR) exercise the POSIX footer rule alone, v1 files, J/n rule dates and negative rule
 * times. Then the row reader, the failure log, the config key, and the cadence check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/data_impl.h"
#include "testutil.h"
#include "whyflag/config.h"
#include "whyflag/data.h"

/* The footer TZ string of a TZif file ("" for v1 or unreadable). */
static void file_footer(const char *path, char *out, size_t n) {
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (len < 6 || buf[4] == 0 || buf[len - 1] != '\n')
        return;
    size_t e = len - 1, b = e;
    while (b > 0 && buf[b - 1] != '\n')
        b--;
    if (e - b >= n)
        return;
    memcpy(out, buf + b, e - b);
    out[e - b] = '\0';
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(test_table_against_zoneinfo) {
    size_t len;
    char *text = tu_read(tu_data("tz/tz_table.tsv"), &len);
    char zonedir[4200];
    snprintf(zonedir, sizeof zonedir, "%s", tu_data("tz/zoneinfo"));
    char cur[64] = "";
    wf_tz *tz = NULL;
    char sys_footer[128] = "";
    long rows = 0, bad = 0, skipped = 0, by_kind[3] = {0, 0, 0};
    double t_conv = 0;
    char *save = NULL;
    for (char *ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (ln[0] == '#')
            continue;
        char *f[5];
        int k = 0;
        for (char *q = ln; k < 5; k++) {
            f[k] = q;
            char *tab = strchr(q, '\t');
            if (!tab) {
                k++;
                break;
            }
            *tab = '\0';
            q = tab + 1;
        }
        ck_assert_msg(k == 5, "malformed table row: %s", ln);
        if (strcmp(f[0], cur) != 0) {
            wf_tz_free(tz);
            tz = NULL;
            /* hand-made zones through $TZDIR (the library reads it, never sets it) */
            int test_zone = !strncmp(f[0], "Test/", 5);
            if (test_zone)
                setenv("TZDIR", zonedir, 1);
            else
                unsetenv("TZDIR");
            wf_error err = {0};
            wf_status st = wf_tz_load(f[0], &tz, &err);
            ck_assert_msg(st == WF_OK, "%s (CI installs Debian's tzdata: .ci/install-deps)",
                          err.msg);
            snprintf(cur, sizeof cur, "%s", f[0]);
            char path[4300];
            snprintf(path, sizeof path, "%s/%s", test_zone ? zonedir : "/usr/share/zoneinfo", f[0]);
            file_footer(path, sys_footer, sizeof sys_footer);
        }
        /* rows past the system file's last transition rely on its footer rule: skipped (and
         * counted) when a newer tzdata changed that rule since the table was written */
        if (strncmp(f[4], "footer=", 7) == 0 && strcmp(f[4] + 7, sys_footer) != 0) {
            skipped++;
            continue;
        }
        int64_t local, utc = 0;
        int zoned = 1;
        ck_assert(wf_parse_time_zoned(f[1], strlen(f[1]), "iso8601", &local, &zoned) == 0);
        ck_assert(!zoned);
        double t0 = now_s();
        wf_tz_local kind = wf_tz_local_to_utc(tz, local, &utc);
        t_conv += now_s() - t0;
        wf_tz_local want = !strcmp(f[2], "unique")      ? WF_TZ_UNIQUE
                           : !strcmp(f[2], "ambiguous") ? WF_TZ_AMBIGUOUS
                                                        : WF_TZ_NONEXISTENT;
        int ok = kind == want && (want == WF_TZ_NONEXISTENT || utc == atoll(f[3]));
        rows++;
        by_kind[want]++;
        if (!ok && ++bad <= 5)
            fprintf(stderr, "  MISMATCH %s %s: want %s %s, got kind %d utc %lld\n", f[0], f[1],
                    f[2], f[3], (int)kind, (long long)utc);
    }
    wf_tz_free(tz);
    unsetenv("TZDIR");
    free(text);
    fprintf(stderr,
            "tz table: %ld rows (%ld unique, %ld ambiguous, %ld nonexistent) against zoneinfo, "
            "%ld mismatches, %ld skipped (footer changed); %.0f ns per conversion\n",
            rows, by_kind[0], by_kind[1], by_kind[2], bad, skipped,
            rows ? 1e9 * t_conv / (double)rows : 0.0);
    ck_assert_int_gt(rows, 2000);
    ck_assert_int_gt(by_kind[1], 100);
    ck_assert_int_gt(by_kind[2], 100);
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_fixed_and_bad_names) {
    static const struct {
        const char *name;
        int32_t off;
    } ok[] = {{"UTC", 0},          {"Z", 0},      {"+02:00", 7200},
              {"-0530", -19800},   {"+02", 7200}, {"-11", -39600},
              {"UTC+01:00", 3600}, {"", 0},       {"+14:00", 50400}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        wf_tz *tz = NULL;
        wf_error err = {0};
        ck_assert_msg(wf_tz_load(ok[i].name, &tz, &err) == WF_OK, "%s: %s", ok[i].name, err.msg);
        ck_assert_int_eq(wf_tz_offset_at(tz, 1700000000), ok[i].off);
        int64_t u;
        ck_assert_int_eq(wf_tz_local_to_utc(tz, 1700000000, &u), WF_TZ_UNIQUE);
        ck_assert_int_eq(u, 1700000000 - ok[i].off);
        ck_assert_int_eq(wf_tz_is_utc(tz), ok[i].off == 0);
        wf_tz_free(tz);
    }
    const char *bad[] = {"Europe/Berln",    "+2",     "+02:0", "../../etc/passwd", "/etc/localtime",
                         "Europe/Berlin/x", "+25:00", "CEST"};
    unsetenv("TZDIR");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wf_tz *tz = NULL;
        wf_error err = {0};
        ck_assert_msg(wf_tz_load(bad[i], &tz, &err) == WF_ERR_CONFIG, "%s accepted", bad[i]);
        ck_assert_ptr_null(tz);
        ck_assert_msg(strstr(err.msg, bad[i]) && strstr(err.msg, "IANA"), "%s", err.msg);
    }
    /* a file that is not TZif */
    wf_tz *tz = NULL;
    wf_error err = {0};
    ck_assert(wf_tz_load_mem("x", (const unsigned char *)"hello", 5, &tz, &err) == WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "TZif"), "%s", err.msg);
}
END_TEST

/* ---------------------------------------------------------------- the row reader */

static const char *log_text = "turbine_id,timestamp,a\n"
                              "WT1,2024-03-31 01:50:00,1\n"  /* CET: 00:50Z */
                              "WT1,2024-03-31 02:30:00,2\n"  /* does not exist */
                              "WT1,2024-03-31 03:10:00,3\n"  /* CEST: 01:10Z */
                              "WT1,2024-10-27T02:30:00,4\n"  /* ambiguous: 00:30Z */
                              "WT1,2024-10-27T02:30:00Z,5\n" /* zoned: kept */
                              "WT1,2024-10-27T04:30:00+02:00,6\n";

START_TEST(test_reader_berlin) {
    wf_channel_config ch = {"a", "a", ""};
    wf_log_config log;
    memset(&log, 0, sizeof log);
    snprintf(log.turbine_column, sizeof log.turbine_column, "turbine_id");
    snprintf(log.time_column, sizeof log.time_column, "timestamp");
    snprintf(log.timezone, sizeof log.timezone, "Europe/Berlin");
    log.n_channels = 1;
    log.channels = &ch;
    log.cadence_seconds = 600;
    unsetenv("TZDIR");
    wf_log_reader *r = NULL;
    wf_error err = {0};
    ck_assert_msg(wf_log_reader_open_mem(&log, log_text, strlen(log_text), "log.csv", &r, &err) ==
                      WF_OK,
                  "%s", err.msg);
    static const struct {
        int ok;
        int64_t t;
        int local;
    } want[] = {{1, 1711846200, 0},        {0, 0, WF_TZ_NONEXISTENT},
                {1, 1711847400, 0},        {1, 1729989000, WF_TZ_AMBIGUOUS},
                {1, 1729989000 + 7200, 0}, {1, 1729996200, 0}};
    for (int i = 0; i < 6; i++) {
        wf_log_row row;
        int done = 0;
        ck_assert(wf_log_reader_next(r, &row, &done, &err) == WF_OK && !done);
        ck_assert_int_eq(row.time_ok, want[i].ok);
        ck_assert_int_eq(row.time_local, want[i].local);
        if (want[i].ok)
            ck_assert_int_eq(row.time, want[i].t);
        else
            ck_assert_str_eq(row.problem, "local time 2024-03-31 02:30:00 does not exist in "
                                          "Europe/Berlin (clock change)");
    }
    wf_log_reader_free(r);
    /* through the windower: the row is a malformed row counted with its reason */
    wf_window_config win = {2, 1, WF_MISSING_SKIP, 0};
    wf_data_config cfg = {&log, &win, NULL};
    ck_assert(wf_log_reader_open_mem(&log, log_text, strlen(log_text), "log.csv", &r, &err) ==
              WF_OK);
    wf_windows ws;
    wf_data_stats st;
    wf_status s = wf_data_collect_reader(&cfg, r, NULL, NULL, NULL, 0, &ws, &st, &err);
    wf_log_reader_free(r);
    ck_assert_msg(s == WF_OK, "%s", err.msg);
    ck_assert_int_eq(st.malformed_rows, 1);
    ck_assert_int_eq(st.nonexistent_time_rows, 1);
    ck_assert_int_eq(st.ambiguous_time_rows, 1);
    ck_assert_str_eq(st.timezone, "Europe/Berlin");
    char line[2 * WF_REASON_MAX];
    wf_data_stats_describe(&st, line, sizeof line);
    ck_assert_msg(strstr(line, "1 at local times that do not exist in Europe/Berlin (clock "
                               "change)") &&
                      strstr(line, "1 rows at local times repeated by a clock change in "
                                   "Europe/Berlin, read as the earlier instant"),
                  "%s", line);
    int noted = 0;
    for (int i = 0; i < st.n_notes; i++)
        noted += strstr(st.notes[i], "log.csv:3:2: local time 2024-03-31 02:30:00 does not "
                                     "exist in Europe/Berlin") != NULL;
    ck_assert_int_eq(noted, 1);
    wf_windows_free(&ws);
}
END_TEST

START_TEST(test_failures_and_config) {
    const char *dir = tu_tmpdir();
    char p[4200];
    snprintf(p, sizeof p, "%s/failures.csv", dir);
    tu_write(p, "turbine_id,failure_time,component\n"
                "WT1,2024-07-01T12:00:00,gearbox\n"    /* CEST: 10:00Z */
                "WT2,2024-01-15 08:00:00,blade\n"      /* CET: 07:00Z */
                "WT3,2024-07-01T12:00:00Z,bearing\n"); /* zoned: kept */
    wf_log_config log;
    memset(&log, 0, sizeof log);
    snprintf(log.time_format, sizeof log.time_format, "iso8601");
    snprintf(log.timezone, sizeof log.timezone, "Europe/Berlin");
    wf_failure *fv = NULL;
    int64_t n = 0;
    wf_error err = {0};
    ck_assert_msg(wf_failures_read(p, &log, &fv, &n, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(fv[0].time, 1719828000);
    ck_assert_int_eq(fv[1].time, 1705302000);
    ck_assert_int_eq(fv[2].time, 1719835200);
    free(fv);
    tu_write(p, "turbine_id,failure_time,component\nWT1,2024-03-31T02:15:00,gearbox\n");
    ck_assert(wf_failures_read(p, &log, &fv, &n, &err) == WF_ERR_DATA);
    ck_assert_msg(strstr(err.msg, "failures.csv:2:2") && strstr(err.msg, "does not exist in "
                                                                         "Europe/Berlin"),
                  "%s", err.msg);
    /* the config key: an unknown zone names the key and the value */
    wf_config cfg;
    wf_status st = wf_config_parse("{\"log\": {\"path\": \"log.csv\", \"timezone\": "
                                   "\"Europe/Berln\", \"channels\": [\"a\"]}, \"window\": "
                                   "{\"length\": 2, \"stride\": 1}}",
                                   "c.json", dir, &cfg, &err);
    ck_assert_int_eq(st, WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "c.json: log.timezone: found \"Europe/Berln\""), "%s", err.msg);
    st = wf_config_parse("{\"log\": {\"path\": \"log.csv\", \"timezone\": \"-05:30\", "
                         "\"channels\": [\"a\"]}, \"window\": {\"length\": 2, \"stride\": 1}}",
                         "c.json", dir, &cfg, &err);
    ck_assert_msg(st == WF_OK, "%s", err.msg);
    ck_assert_str_eq(cfg.log.timezone, "-05:30");
    wf_config_deinit(&cfg);
    st = wf_config_parse("{\"log\": {\"path\": \"log.csv\", \"channels\": [\"a\"]}, \"window\": "
                         "{\"length\": 2, \"stride\": 1}}",
                         "c.json", dir, &cfg, &err);
    ck_assert_msg(st == WF_OK, "%s", err.msg);
    ck_assert_str_eq(cfg.log.timezone, "UTC"); /* the default */
    wf_config_deinit(&cfg);
}
END_TEST

/* ---------------------------------------------------------------- the cadence check */

START_TEST(test_cadence_acc) {
    /* steps 600 x 7, 60 x 2, 1200 x 1: the lower median of 10 steps is 600 */
    wf_cadence_acc a;
    memset(&a, 0, sizeof a);
    static const int64_t t[] = {0, 600, 1200, 1260, 1320, 1920, 2520, 3720, 4320, 4920, 5520};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        wf_cadence_add(&a, t[i], 600);
    int64_t m;
    int exact;
    ck_assert_int_eq(wf_cadence_median(&a, 600, &m, &exact), 0);
    ck_assert_int_eq(m, 600);
    memset(&a, 0, sizeof a); /* the same log checked against 60 s */
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        wf_cadence_add(&a, t[i], 60);
    ck_assert_int_eq(wf_cadence_median(&a, 60, &m, &exact), 1);
    ck_assert_int_eq(m, 600);
    ck_assert(exact);
    /* duplicates and steps back are not steps; a brute-force median over many distinct steps */
    memset(&a, 0, sizeof a);
    int64_t steps[200], n = 0, now = 0;
    for (int i = 0; i < 200; i++) {
        int64_t s = 10 + (i * 37) % 23; /* 23 distinct values: the table overflows */
        now += s;
        wf_cadence_add(&a, now, 5);
        wf_cadence_add(&a, now, 5); /* a duplicate */
        if (i)                      /* the first row has no step before it */
            steps[n++] = s;
    }
    wf_cadence_add(&a, now - 100, 5); /* back in time: not a step, resets the previous row */
    wf_cadence_add(&a, now - 40, 5);  /* step 60 */
    steps[n++] = 60;
    for (int64_t i = 1; i < n; i++) /* insertion sort */
        for (int64_t j = i; j > 0 && steps[j - 1] > steps[j]; j--) {
            int64_t x = steps[j];
            steps[j] = steps[j - 1];
            steps[j - 1] = x;
        }
    ck_assert_int_eq(a.n, n);
    ck_assert_int_eq(wf_cadence_median(&a, 5, &m, &exact), 1);
    ck_assert(!exact); /* more than 16 distinct steps: said so */
    /* checked against the true median: no mismatch */
    wf_cadence_acc b;
    memset(&b, 0, sizeof b);
    now = 0;
    for (int i = 0; i < 200; i++) {
        now += 10 + (i * 37) % 23;
        wf_cadence_add(&b, now, steps[(n - 1) / 2]);
    }
    wf_cadence_add(&b, now + 60, steps[(n - 1) / 2]);
    ck_assert_int_eq(wf_cadence_median(&b, steps[(n - 1) / 2], &m, &exact), 0);
    ck_assert_int_eq(m, steps[(n - 1) / 2]);
}
END_TEST

/* A 600 s log read with cadence 60 or 1200: the stats carry a warning naming both and the
 * turbine count, first among the notes. */
START_TEST(test_cadence_windower) {
    char text[8192] = "turbine_id,timestamp,a\n";
    for (int tb = 0; tb < 3; tb++)
        for (int i = 0; i < 40; i++) {
            char line[80];
            /* WT3 logs every 60 s: its median matches a 60 s config */
            int step = tb == 2 ? 60 : 600;
            time_t tt = (time_t)(1704067200 + i * step);
            struct tm g;
            gmtime_r(&tt, &g);
            char iso[32];
            strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &g);
            snprintf(line, sizeof line, "WT%d,%s,%d\n", tb + 1, iso, i);
            strcat(text, line);
        }
    wf_channel_config ch = {"a", "a", ""};
    wf_log_config log;
    memset(&log, 0, sizeof log);
    snprintf(log.turbine_column, sizeof log.turbine_column, "turbine_id");
    snprintf(log.time_column, sizeof log.time_column, "timestamp");
    log.n_channels = 1;
    log.channels = &ch;
    static const struct {
        int64_t cad;
        const char *msg;
    } cases[] = {
        {60, "log.cadence_seconds is 60 s, but the median step between a turbine's consecutive "
             "rows is 600 s on 2 of 3 turbines"},
        {600, "log.cadence_seconds is 600 s, but the median step between a turbine's consecutive "
              "rows is 60 s on 1 of 3 turbines"},
        {1200, "log.cadence_seconds is 1200 s, but the median step between a turbine's "
               "consecutive rows is 60 to 600 s on 3 of 3 turbines"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        log.cadence_seconds = cases[c].cad;
        wf_window_config win = {3, 1, WF_MISSING_SKIP, 0};
        wf_data_config cfg = {&log, &win, NULL};
        wf_log_reader *r = NULL;
        wf_error err = {0};
        ck_assert(wf_log_reader_open_mem(&log, text, strlen(text), "log.csv", &r, &err) == WF_OK);
        wf_windows ws;
        wf_data_stats st;
        wf_status s = wf_data_collect_reader(&cfg, r, NULL, NULL, NULL, 0, &ws, &st, &err);
        wf_log_reader_free(r);
        ck_assert_msg(s == WF_OK, "%s", err.msg);
        char msg[WF_REASON_MAX];
        ck_assert(wf_data_cadence_warning(&st, msg, sizeof msg));
        ck_assert_str_eq(msg, cases[c].msg);
        ck_assert_str_eq(st.notes[0], cases[c].msg);
        ck_assert_int_eq(st.cadence_turbines, 3);
        wf_windows_free(&ws);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("tz");
    tcase_add_test(tc, test_table_against_zoneinfo);
    tcase_add_test(tc, test_fixed_and_bad_names);
    tcase_add_test(tc, test_reader_berlin);
    tcase_add_test(tc, test_failures_and_config);
    tcase_add_test(tc, test_cadence_acc);
    tcase_add_test(tc, test_cadence_windower);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(suite());
}

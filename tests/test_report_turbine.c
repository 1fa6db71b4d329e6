/*
 * Issue 19, per-turbine justification PDFs on synthetic results (tests/test_report_synth.h) with
 * hostile turbine ids: slashes and dots ("../evil/WT 07.ü"), a leading dot, and two ids that
 * differ only in case. Each flagged turbine gets exactly one PDF inside turbines/, under a name
 * of [A-Za-z0-9._~-] only, distinct even on a case-insensitive file system; nothing is written
 * outside turbines/; the manifest lists them. Also the file-name rule itself, and the words and
 * number formats of a [locale] section.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "report/turbine_impl.h"
#include "test_report_synth.h"
#include "testutil.h"

static void rename_turbine(sy_run *s, const char *from, const char *to) {
    for (int64_t i = 0; i < s->ws.n; i++)
        if (!strcmp(s->ws.w[i].turbine_id, from))
            snprintf(s->ws.w[i].turbine_id, sizeof s->ws.w[i].turbine_id, "%s", to);
    for (int64_t i = 0; i < s->ws.n_skipped; i++)
        if (!strcmp(s->ws.skipped[i].turbine_id, from))
            snprintf(s->ws.skipped[i].turbine_id, sizeof s->ws.skipped[i].turbine_id, "%s", to);
    for (int f = 0; f < 3; f++)
        if (!strcmp(s->failures[f].turbine_id, from))
            snprintf(s->failures[f].turbine_id, sizeof s->failures[f].turbine_id, "%s", to);
}

static int safe_name(const char *n) {
    if (!n[0] || n[0] == '.')
        return 0;
    for (const char *p = n; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-", *p))
            return 0;
    size_t k = strlen(n);
    return k > 4 && !strcmp(n + k - 4, ".pdf");
}

START_TEST(test_hostile_ids) {
    sy_run s;
    sy_build(&s);
    rename_turbine(&s, "WT07", "../evil/WT 07.\xc3\xbc"); /* false alarm */
    rename_turbine(&s, "WT03", ".hidden");                /* true alarm */
    rename_turbine(&s, "WT05", "Ab");
    rename_turbine(&s, "WT10", "aB");
    s.r.model_path = WF_SOURCE_DIR "/samples/aurora_int8.onnx"; /* a file to hash */
    wf_error e0 = {0};
    ck_assert_int_eq(wf_sha256_file_hex(s.r.model_path, s.r.model_sha256, &e0), WF_OK);
    char dir[] = "/tmp/wfturbine.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    o.per_turbine = 1;
    wf_error err = {0};
    wf_status st = wf_report_write_all(&s.r, &o, dir, &err);
    ck_assert_msg(st == WF_OK, "%s", err.msg);
    /* the flagged turbines, from the analysis the report used */
    wf_analysis a;
    ck_assert_int_eq(wf_analysis_build(&a, &s.r, 200, &err), WF_OK);
    int n_flagged = 0;
    for (int t = 0; t < a.n_turbines; t++)
        n_flagged += a.turbines[t].flagged > 0;
    ck_assert_int_ge(n_flagged, 4);
    char tdir[4200];
    snprintf(tdir, sizeof tdir, "%s/turbines", dir);
    DIR *d = opendir(tdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    char names[64][256];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        ck_assert_msg(safe_name(e->d_name), "unsafe file name '%s'", e->d_name);
        ck_assert_int_lt(n, 64);
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    ck_assert_int_eq(n, n_flagged);
    for (int i = 0; i < n; i++) /* distinct ignoring case */
        for (int j = i + 1; j < n; j++)
            ck_assert_msg(strcasecmp(names[i], names[j]) != 0, "%s and %s collide", names[i],
                          names[j]);
    /* nothing escaped: the out folder holds the usual files and turbines/ only */
    struct stat sb;
    char p[4300];
    snprintf(p, sizeof p, "%s/evil", dir);
    ck_assert_int_ne(stat(p, &sb), 0);
    snprintf(p, sizeof p, "%s/../evil", dir);
    ck_assert_int_ne(stat(p, &sb), 0);
    /* the rule's names for the hostile ids */
    char(*files)[WF_TURBINE_FILE_MAX] = calloc((size_t)a.n_turbines, sizeof *files);
    wf_report_turbine_files(&a, files);
    for (int t = 0; t < a.n_turbines; t++) {
        const char *id = a.turbines[t].id;
        if (!strcmp(id, "WT01"))
            ck_assert_str_eq(files[t], "WT01.pdf"); /* a plain id stays as it is */
        if (!strcmp(id, ".hidden"))
            ck_assert_msg(!strncmp(files[t], "_hidden~", 8), "%s", files[t]);
        if (!strcmp(id, "../evil/WT 07.\xc3\xbc"))
            ck_assert_msg(!strncmp(files[t], "_.__evil_WT_07.__", 17) ||
                              strstr(files[t], "evil_WT_07"),
                          "%s", files[t]);
        if (!strcmp(id, "Ab") || !strcmp(id, "aB"))
            ck_assert_msg(strchr(files[t], '~') != NULL, "%s: case twin without hash", files[t]);
        if (a.turbines[t].flagged) {
            snprintf(p, sizeof p, "%s/%s", tdir, files[t]);
            ck_assert_msg(stat(p, &sb) == 0 && sb.st_size > 1000, "%s missing", p);
        }
    }
    /* the manifest lists each one */
    char mpath[4300], *text = NULL;
    size_t len = 0;
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    ck_assert_int_eq(wf_file_read_all(mpath, &text, &len, &err), WF_OK);
    for (int t = 0; t < a.n_turbines; t++) {
        char want[200];
        snprintf(want, sizeof want, "\"turbines/%s\"", files[t]);
        ck_assert_msg((strstr(text, want) != NULL) == (a.turbines[t].flagged > 0), "%s", want);
    }
    free(text);
    free(files);
    wf_analysis_free(&a);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    sy_free(&s);
}
END_TEST

START_TEST(test_locale_formats) {
    wf_report_words w;
    wf_error err = {0};
    ck_assert_int_eq(wf_report_words_init(&w, NULL, &err), WF_OK);
    char b[64];
    ck_assert_str_eq(wf_report_fmt_num(&w, b, sizeof b, 0.8725, 3), "0.873");
    ck_assert_str_eq(wf_report_fmt_time(&w, b, sizeof b, 1709546400), "2024-03-04 10:00 UTC");
    ck_assert_str_eq(wf_report_word(&w, "t_title"), "Alarm justification");
    /* German: decimal comma, thousands dot, day.month.year, +01:00 (24-hour) */
    char path[] = "/tmp/wfwords.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("[locale]\ndecimal = ,\nthousands = .\ndate = dmy\ntime_zone = +01:00\n"
          "time_zone_name = MEZ\n[words]\nt_title = Alarmbegr\xc3\xbc"
          "ndung\n",
          f);
    fclose(f);
    wf_template t;
    ck_assert_int_eq(wf_template_load(path, &t, &err), WF_OK);
    ck_assert_int_eq(wf_report_words_init(&w, &t, &err), WF_OK);
    ck_assert_str_eq(wf_report_fmt_num(&w, b, sizeof b, 0.8725, 3), "0,873");
    ck_assert_str_eq(wf_report_fmt_num(&w, b, sizeof b, -1234567.5, 1), "-1.234.567,5");
    ck_assert_str_eq(wf_report_fmt_time(&w, b, sizeof b, 1709586000), "04.03.2024 22:00 MEZ");
    ck_assert_str_eq(wf_report_word(&w, "t_title"), "Alarmbegr\xc3\xbcndung");
    /* a key the [words] section lacks: English, recorded for the warning */
    ck_assert_str_eq(wf_report_word(&w, "t_period"), "Period");
    ck_assert_int_gt(w.n_missing, 0);
    ck_assert_str_eq(w.missing[0], "t_turbine");
    wf_template_free(&t);
    /* an unknown word key or a bad locale value is an error naming the file */
    f = fopen(path, "w");
    fputs("[words]\nt_no_such_word = x\n", f);
    fclose(f);
    ck_assert_int_eq(wf_template_load(path, &t, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t_no_such_word") != NULL, "%s", err.msg);
    f = fopen(path, "w");
    fputs("[locale]\ndecimal = ;\n", f);
    fclose(f);
    ck_assert_int_eq(wf_template_load(path, &t, &err), WF_OK);
    ck_assert_int_eq(wf_report_words_init(&w, &t, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "decimal") != NULL, "%s", err.msg);
    wf_template_free(&t);
    remove(path);
}
END_TEST

int main(void) {
    Suite *s = suite_create("report_turbine");
    TCase *tc = tcase_create("per_turbine");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_hostile_ids);
    tcase_add_test(tc, test_locale_formats);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}

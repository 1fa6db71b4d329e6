/*
 * Issue 14: the workbook's native score-timeline charts (src/report/xlsx_timeline.c) on the
 * synthetic fleet (tests/test_report_synth.h: failures on WT03, WT10 and WT12), written once in
 * memory and once in libxlsxwriter's constant-memory mode (big runs), which drops any cell
 * written to a row above the last one: every series range of every timeline chart must hold the
 * same numbers in both workbooks, none empty, two points per failure and per episode
 * (tests/check_xlsx_timeline.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_report_synth.h"
#include "testutil.h"
#include "whyflag/report.h"

static sy_run run;

START_TEST(test_streamed_equals_in_memory) {
    if (tu_run("command -v unzip >/dev/null && command -v python3 >/dev/null", NULL) != 0) {
        tu_skip("unzip or python3 missing");
        return;
    }
    const char *d = tu_tmpdir();
    char p1[4200], p2[4200], cmd[9000];
    snprintf(p1, sizeof p1, "%s/mem.xlsx", d);
    snprintf(p2, sizeof p2, "%s/stream.xlsx", d);
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    wf_error err = {0};
    ck_assert_msg(wf_report_write_xlsx(p1, &run.r, &o, &err) == WF_OK, "%s", err.msg);
    o.xlsx_stream = 1;
    ck_assert_msg(wf_report_write_xlsx(p2, &run.r, &o, &err) == WF_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/check_xlsx_timeline.py' '%s' '%s' 2>&1",
             WF_SOURCE_DIR, p1, p2);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    printf("%s", out ? out : "");
    ck_assert_msg(rc == 0, "%s", out ? out : "");
    free(out);
}
END_TEST

int main(void) {
    sy_build(&run);
    Suite *s = suite_create("xlsx_timeline");
    TCase *tc = tcase_create("timeline");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_streamed_equals_in_memory);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    sy_free(&run);
    return rc;
}

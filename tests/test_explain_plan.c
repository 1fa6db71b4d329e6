/*
 * Groups "auto" and "hierarchy" resolved on a background (wf_explain_plan_build, issue 13), on
 * constructed windows whose dependence is known by construction: c2 = c0 - c1 exactly, c4 = c3
 * plus 1% noise (|r| > 0.99), c5 independent. Expected, by construction: "auto" gives the groups
 * {c0, c1, c2} (an exact set), {c3, c4}, {c5} as explicit players covering every cell once;
 * independent channels keep groups "channel"; "hierarchy" gives the channels with a binary tree
 * of C - 1 internal nodes; no background is an error naming the key.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/explain_checks.h"

#define PC 6
#define PT 5
#define PN 40

static uint64_t lcg = 99;
static double urand(void) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

static void make_bg(wf_background *bg, int dependent) {
    memset(bg, 0, sizeof *bg);
    bg->C = PC;
    bg->T = PT;
    bg->n = PN;
    bg->x = malloc(sizeof(float) * PN * PC * PT);
    bg->weight = malloc(sizeof(double) * PN);
    for (int b = 0; b < PN; b++) {
        bg->weight[b] = 1.0 / PN;
        for (int t = 0; t < PT; t++) {
            float *w = bg->x + (size_t)b * PC * PT;
            float c0 = (float)(10 * urand()), c1 = (float)(5 * urand()), c3 = (float)(20 * urand());
            w[0 * PT + t] = c0;
            w[1 * PT + t] = c1;
            w[2 * PT + t] = dependent ? c0 - c1 : (float)urand();
            w[3 * PT + t] = c3;
            w[4 * PT + t] = dependent ? (float)(c3 + 0.02 * (urand() - 0.5)) : (float)urand();
            w[5 * PT + t] = (float)urand();
        }
    }
}

static char *names[PC] = {"a", "b", "d", "p", "q", "z"};

START_TEST(test_auto_groups) {
    wf_background bg;
    make_bg(&bg, 1);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_error err = {0};
    ck_assert_int_eq(wf_explain_parse_groups("auto", &s, &err), WF_OK);
    wf_explain_plan p;
    ck_assert_msg(wf_explain_plan_build(&s, &bg, names, &p, &err) == WF_OK, "%s", err.msg);
    ck_assert(p.has_dep);
    ck_assert(wf_dependence_found(&p.dep));
    ck_assert_int_eq(p.dep.cells.n_relations, 1); /* d = a - b */
    ck_assert_int_eq(p.dep.cells.relations[0].channel, 2);
    ck_assert_int_eq(p.s.groups, WF_GROUPS_EXPLICIT);
    ck_assert_int_eq(p.s.n_groups, 3);
    ck_assert_str_eq(p.s.explicit_groups[0].name, "a+b+d");
    ck_assert_str_eq(p.s.explicit_groups[1].name, "p+q");
    ck_assert_str_eq(p.s.explicit_groups[2].name, "z");
    int seen[PC * PT] = {0};
    for (int g = 0; g < p.s.n_groups; g++)
        for (int64_t k = 0; k < p.s.explicit_groups[g].n_cells; k++)
            seen[p.s.explicit_groups[g].cells[k]]++;
    for (int i = 0; i < PC * PT; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_ptr_null(s.explicit_groups); /* the caller's settings are untouched */
    wf_explain_plan_deinit(&p);

    ck_assert_int_eq(wf_explain_parse_groups("hierarchy", &s, &err), WF_OK);
    ck_assert_msg(wf_explain_plan_build(&s, &bg, names, &p, &err) == WF_OK, "%s", err.msg);
    ck_assert_int_eq(p.s.groups, WF_GROUPS_CHANNEL);
    ck_assert_ptr_nonnull(p.s.hierarchy);
    ck_assert_int_eq(p.s.hierarchy->M, PC);
    ck_assert_int_eq(p.s.hierarchy->n_internal, PC - 1);
    ck_assert_int_eq(wf_hierarchy_check(p.s.hierarchy, &err), WF_OK);
    wf_explain_plan_deinit(&p);

    /* no background: "auto" cannot be resolved, the message names the setting */
    ck_assert_int_eq(wf_explain_parse_groups("auto", &s, &err), WF_OK);
    ck_assert_int_eq(wf_explain_plan_build(&s, NULL, names, &p, &err), WF_ERR_INVALID);
    ck_assert(strstr(err.msg, "explain.groups \"auto\""));
    wf_background_deinit(&bg);
}
END_TEST

START_TEST(test_auto_independent_stays_channels) {
    wf_background bg;
    make_bg(&bg, 0);
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_error err = {0};
    ck_assert_int_eq(wf_explain_parse_groups("auto", &s, &err), WF_OK);
    wf_explain_plan p;
    ck_assert_msg(wf_explain_plan_build(&s, &bg, names, &p, &err) == WF_OK, "%s", err.msg);
    ck_assert(!wf_dependence_found(&p.dep));
    ck_assert_int_eq(p.s.groups, WF_GROUPS_CHANNEL); /* every group is one channel */
    ck_assert_ptr_null(p.s.explicit_groups);
    wf_explain_plan_deinit(&p);
    /* groups "channel": the dependence is measured, the settings kept */
    ck_assert_int_eq(wf_explain_parse_groups("channel", &s, &err), WF_OK);
    ck_assert_msg(wf_explain_plan_build(&s, &bg, names, &p, &err) == WF_OK, "%s", err.msg);
    ck_assert(p.has_dep);
    ck_assert_int_eq(p.s.groups, WF_GROUPS_CHANNEL);
    ck_assert_ptr_null(p.s.hierarchy);
    wf_explain_plan_deinit(&p);
    wf_background_deinit(&bg);
}
END_TEST

int main(void) {
    Suite *su = suite_create("explain_plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, test_auto_groups);
    tcase_add_test(tc, test_auto_independent_stays_channels);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}

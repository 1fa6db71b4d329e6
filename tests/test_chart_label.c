/*
 * Issue 14, "chart labels never overlap bars": the placement rule of the value labels beside
 * the waterfall's bars (src/report/chart_label.c). Named cases (a rising bar: right of it; a
 * falling bar: left of it; no room on that side: the other side; no room on either: inside a
 * wide bar) and a property sweep over many bars, whiskers, labels and plots: a label is either
 * clear of the bar and its whiskers or wholly inside the bar, and it stays inside the plot
 * whenever some placement could.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "report/chart_label.h"

START_TEST(test_named_cases) {
    /* plot 0..400, label 30 wide, gap 4 */
    wf_label_place p = wf_chart_label_place(100, 200, 100, 200, 0, 30, 4, 0, 400);
    ck_assert(!p.inside && p.side == 1);
    ck_assert_double_eq_tol(p.x, 204, 1e-12);
    p = wf_chart_label_place(100, 200, 100, 200, 1, 30, 4, 0, 400); /* falling: left */
    ck_assert(!p.inside && p.side == -1);
    ck_assert_double_eq_tol(p.x, 66, 1e-12);
    p = wf_chart_label_place(10, 200, 10, 200, 1, 30, 4, 0, 400); /* no room left: right */
    ck_assert(!p.inside && p.side == 1 && p.x >= 204);
    p = wf_chart_label_place(300, 390, 300, 390, 0, 30, 4, 0, 400); /* no room right: left */
    ck_assert(!p.inside && p.side == -1 && p.x + 30 <= 296);
    p = wf_chart_label_place(10, 390, 10, 390, 1, 30, 4, 0, 400); /* no room: inside, left end */
    ck_assert(p.inside && p.side == 0);
    ck_assert_double_eq_tol(p.x, 14, 1e-12);
    p = wf_chart_label_place(10, 390, 10, 390, 0, 30, 4, 0, 400); /* inside, right end */
    ck_assert(p.inside);
    ck_assert_double_eq_tol(p.x, 356, 1e-12);
    /* whiskers wider than the bar: the label clears the whiskers, not only the bar */
    p = wf_chart_label_place(100, 120, 80, 160, 0, 30, 4, 0, 400);
    ck_assert(!p.inside && p.x >= 164);
    p = wf_chart_label_place(100, 120, 80, 160, 1, 30, 4, 0, 400);
    ck_assert(!p.inside && p.x + 30 <= 76);
}
END_TEST

static double uni(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

START_TEST(test_never_over_a_bar) {
    uint64_t s = 14;
    int inside = 0, outside = 0;
    for (int k = 0; k < 20000; k++) {
        double plo = 0, phi = 100 + 500 * uni(&s);
        double a = plo + (phi - plo) * uni(&s), b = plo + (phi - plo) * uni(&s);
        double lo = a < b ? a : b, hi = a < b ? b : a;
        double wl = 10 * uni(&s), wr = 10 * uni(&s);
        double lw = 5 + 60 * uni(&s), gap = 4 * uni(&s);
        int neg = uni(&s) < 0.5;
        wf_label_place p = wf_chart_label_place(lo, hi, lo - wl, hi + wr, neg, lw, gap, plo, phi);
        if (p.inside) {
            inside++;
            if (!(p.x >= lo && p.x + lw <= hi))
                ck_abort_msg("inside label leaves the bar");
        } else {
            outside++;
            if (!(p.x >= hi + wr || p.x + lw <= lo - wl))
                ck_abort_msg("label over the bar or its whiskers: bar %g..%g label %g..%g", lo, hi,
                             p.x, p.x + lw);
            int could =
                hi + wr + gap + lw <= phi || lo - wl - gap - lw >= plo || hi - lo >= lw + 2 * gap;
            if (could && !(p.x >= plo && p.x + lw <= phi))
                ck_abort_msg("label left the plot needlessly");
            /* away from zero first: right of a rising bar, left of a falling one */
            if (!neg && hi + wr + gap + lw <= phi && p.side != 1)
                ck_abort_msg("a rising bar's label is not right of it");
            if (neg && lo - wl - gap - lw >= plo && p.side != -1)
                ck_abort_msg("a falling bar's label is not left of it");
        }
    }
    ck_assert(inside > 100 && outside > 100);
}
END_TEST

int main(void) {
    Suite *su = suite_create("chart_label");
    TCase *tc = tcase_create("place");
    tcase_add_test(tc, test_named_cases);
    tcase_add_test(tc, test_never_over_a_bar);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? 0 : 1;
}

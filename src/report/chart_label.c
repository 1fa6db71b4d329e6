/*
 * Value labels beside horizontal bars (chart_label.h): outside the bar's end away from zero,
 * else outside its other end, else inside it; never over the bar unless drawn inside it.
 */
#include "report/chart_label.h"

wf_label_place wf_chart_label_place(double bar_lo, double bar_hi, double ext_lo, double ext_hi,
                                    int negative, double label_w, double gap, double plot_lo,
                                    double plot_hi) {
    if (ext_lo > bar_lo)
        ext_lo = bar_lo;
    if (ext_hi < bar_hi)
        ext_hi = bar_hi;
    double right = ext_hi + gap, left = ext_lo - gap - label_w;
    int fit_r = right + label_w <= plot_hi, fit_l = left >= plot_lo;
    wf_label_place p = {0, 0, 0};
    if (negative ? fit_l : fit_r) { /* outside the end away from zero */
        p.x = negative ? left : right;
        p.side = negative ? -1 : 1;
    } else if (negative ? fit_r : fit_l) { /* outside the other end */
        p.x = negative ? right : left;
        p.side = negative ? 1 : -1;
    } else if (bar_hi - bar_lo >= label_w + 2 * gap) { /* inside, at the outer end */
        p.x = negative ? bar_lo + gap : bar_hi - gap - label_w;
        p.inside = 1;
    } else { /* nowhere fits: outside on the roomier side, clear of the bar */
        int r = plot_hi - ext_hi >= ext_lo - plot_lo;
        p.x = r ? right : left;
        p.side = r ? 1 : -1;
    }
    return p;
}

/*
 * Internal to the report's charts (issue 14, "chart labels never overlap bars"): where a value
 * label goes beside a horizontal bar. Plain arithmetic on x positions (points), no cairo, so the
 * rule is unit-tested on its own (tests/test_chart_label.c).
 */
#ifndef WF_REPORT_CHART_LABEL_H
#define WF_REPORT_CHART_LABEL_H

/* A label placed beside a bar: its left edge and whether it sits inside the bar. */
typedef struct wf_label_place {
    double x;   /* left edge of the label (points) */
    int inside; /* 1: inside the bar at its outer end (draw it in a colour that reads on the bar) */
    int side;   /* +1 right of the bar, -1 left of it, 0 inside */
} wf_label_place;

/* The bar covers [bar_lo, bar_hi]; ext_lo/ext_hi is what must stay clear beside it (the bar with
 * its error whiskers; ext_lo <= bar_lo, ext_hi >= bar_hi). The label of width label_w goes
 * `gap` points outside the end away from zero (right of a positive bar, left of a negative one)
 * when it fits in [plot_lo, plot_hi]; else outside the other end when that fits; else inside
 * the bar at its outer end when the bar is at least label_w + 2 gap wide; else outside on the
 * side with more room (it may then leave the plot but never covers the bar). */
wf_label_place wf_chart_label_place(double bar_lo, double bar_hi, double ext_lo, double ext_hi,
                                    int negative, double label_w, double gap, double plot_lo,
                                    double plot_hi);

#endif

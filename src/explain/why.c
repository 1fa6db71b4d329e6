/*
 * The "why" sentence of a flagged window, built only from what the evidence supports.
 *
 * ---- The rule (written to be copied into the methods page) ----------------------------------
 *
 * Let delta = f(x) - E f(b) be the change of the score from the background's expected score to
 * this window's, in the units of the KernelSHAP values (score or log-odds). Each driver d (a
 * channel, or a group of channels explained together) has its KernelSHAP value phi_d (the phi
 * sum to delta) and, when Integrated Gradients was run, its IG value g_d (the sum of the IG
 * attributions of its cells). Its share is phi_d / delta: the signed fraction of the score
 * change it carries (negative when it pushes against the change, above 100% when other drivers
 * cancel part of it). A = sum_d |phi_d| is the total absolute attribution.
 *
 * 1. "disagree". If IG was run and the two methods disagree (normalised L1 distance between the
 *    two attributions, each scaled to unit total absolute value, above 0.5; or a material driver,
 *    one carrying at least 10% of either method's total absolute attribution, with opposite
 *    signs), the sentence names each method's largest driver and says plainly that the
 *    explanation of this window is not reliable: the two methods attribute the model's
 *    response to these channels differently, which happens when dependent channels are moved
 *    apart from each other or the response is strongly nonlinear, so the channels named should
 *    be read together and the score not put down to one of them.
 * 2. "main". Otherwise, let X be the driver with the largest share. The sentence says the score
 *    moved "mainly because of X" only when all of these hold:
 *      a. X's share is at least 50% (it carries at least half of the score change);
 *      b. |phi_X| is at least 50% of A (the change is not the small remainder of many drivers
 *         pushing both ways);
 *      c. no other driver, pushing either way, has |phi_d| above 50% of |phi_X| (X has no
 *         rival: two large drivers that cancel, or a pair of dependent channels sharing the
 *         credit, are named together instead);
 *      d. when IG was run, g_X has the same sign as phi_X (both methods agree on the
 *         direction of X).
 * 3. "several". Otherwise the drivers are named in order of |phi_d|, with their shares, until
 *    they cover 75% of A (at least two, at most three); a driver pushing against the change is
 *    said to.
 * 4. "several", cancelling. When |delta| is below 10% of A (rules 2 and 3 are not applied), the
 *    drivers largely cancel and a share of the small remainder means nothing (it can read
 *    +3000%): the sentence says the score is near the background level because its drivers
 *    cancel, and names the largest drivers (as in 3) with their values and directions, not
 *    shares.
 * When delta or A is zero no driver has a share: the claim is "several" and the sentence says
 * the score is at the background's level.
 * ----------------------------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/checks_impl.h"

const char *wf_why_claim_str(wf_why_claim c) {
    switch (c) {
    case WF_WHY_MAIN:
        return "main";
    case WF_WHY_SEVERAL:
        return "several";
    case WF_WHY_DISAGREE:
        return "disagree";
    }
    return "?";
}

static void set_driver(const wf_why_input *in, int i, wf_why_driver *d) {
    memset(d, 0, sizeof *d);
    d->index = i;
    snprintf(d->name, sizeof d->name, "%s", in->names[i]);
    snprintf(d->channels, sizeof d->channels, "%s",
             in->channels && in->channels[i] ? in->channels[i] : in->names[i]);
    d->kernelshap = in->kernelshap[i];
    d->ig = in->ig ? in->ig[i] : NAN;
    d->share = in->delta != 0 ? in->kernelshap[i] / in->delta : NAN;
}

/* "name"; for a group "the group {a, b}" when its name is its channels joined by '+' (the
 * "auto" groups), else "name (channels a, b)" */
static void driver_label(const wf_why_driver *d, char *buf, size_t n) {
    if (!strcmp(d->name, d->channels)) {
        snprintf(buf, n, "%s", d->name);
        return;
    }
    char joined[sizeof d->channels];
    size_t k = 0;
    for (const char *c = d->channels; *c && k + 1 < sizeof joined; c++) {
        if (c[0] == ',' && c[1] == ' ') {
            joined[k++] = '+';
            c++;
        } else {
            joined[k++] = *c;
        }
    }
    joined[k] = 0;
    if (!strcmp(joined, d->name))
        snprintf(buf, n, "the group {%s}", d->channels);
    else
        snprintf(buf, n, "%s (channels %s)", d->name, d->channels);
}

/* The drivers in order of |phi|, until they cover WF_WHY_LIST_COVER of A (at least two, at most
 * WF_WHY_MAX_DRIVERS). */
static void pick_drivers(const wf_why_input *in, double A, wf_why *out) {
    double cover = 0;
    for (int r = 0; r < WF_WHY_MAX_DRIVERS && r < in->n; r++) {
        if (r >= 2 && cover >= WF_WHY_LIST_COVER * A)
            break;
        int best = -1;
        for (int i = 0; i < in->n; i++) {
            int used = 0;
            for (int q = 0; q < r; q++)
                used |= out->drivers[q].index == i;
            if (!used && (best < 0 || fabs(in->kernelshap[i]) > fabs(in->kernelshap[best])))
                best = i;
        }
        set_driver(in, best, &out->drivers[r]);
        out->n_drivers = r + 1;
        cover += fabs(in->kernelshap[best]);
    }
}

/* index of the largest |v| (ties: lower index) */
static int argmax_abs(const double *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(v[i]) > fabs(v[best]))
            best = i;
    return best;
}

void wf_why_build(const wf_why_input *in, wf_why *out) {
    memset(out, 0, sizeof *out);
    out->claim = WF_WHY_SEVERAL;
    const char *units = in->units ? in->units : "score";
    int n = in->n;
    if (n < 1 || !in->kernelshap) {
        snprintf(out->text, sizeof out->text, "No attribution is available for this window.");
        return;
    }
    if (in->ig)
        wf_agreement_compute(in->kernelshap, in->ig, n, &out->agreement);
    double A = 0;
    for (int i = 0; i < n; i++)
        A += fabs(in->kernelshap[i]);
    double delta = in->delta;
    const char *where = delta > 0 ? "above" : "below";
    char lab[WF_ID_MAX + 300], lab2[WF_ID_MAX + 300];
    size_t o = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (o < sizeof out->text) {                                                                \
            int n_ = snprintf(out->text + o, sizeof out->text - o, __VA_ARGS__);                   \
            if (n_ > 0)                                                                            \
                o += (size_t)n_;                                                                   \
        }                                                                                          \
    } while (0)

    /* 1. the methods disagree */
    if (in->ig && out->agreement.disagree) {
        out->claim = WF_WHY_DISAGREE;
        int ka = argmax_abs(in->kernelshap, n), kb = argmax_abs(in->ig, n);
        set_driver(in, ka, &out->drivers[0]);
        out->n_drivers = 1;
        if (kb != ka)
            set_driver(in, kb, &out->drivers[out->n_drivers++]);
        driver_label(&out->drivers[0], lab, sizeof lab);
        ADD("KernelSHAP and Integrated Gradients disagree on this window (");
        if (out->agreement.l1 > WF_AGREE_L1_MAX)
            ADD("they place the attribution differently: normalised L1 distance %.2f",
                out->agreement.l1);
        else if (isnan(out->agreement.l1))
            ADD("one of them attributes nothing");
        else
            ADD("opposite directions on %d of %d material drivers",
                out->agreement.n_material - out->agreement.n_sign_agree, out->agreement.n_material);
        ADD("): KernelSHAP's largest driver is %s (%+.3g %s), ", lab, in->kernelshap[ka], units);
        if (kb != ka) {
            driver_label(&out->drivers[1], lab2, sizeof lab2);
            ADD("Integrated Gradients' is %s (%+.3g)", lab2, in->ig[kb]);
        } else {
            ADD("Integrated Gradients gives it %+.3g", in->ig[kb]);
        }
        ADD(". Neither account of why the score is %s the background level is reliable here: "
            "the two methods attribute the model's response differently, as happens when "
            "dependent channels are moved apart or the response is strongly nonlinear. Read "
            "these channels together rather than putting the score down to one of them.",
            where);
        return;
    }
    if (delta == 0 || A == 0) {
        ADD("The score is at the background level; no driver moves it.");
        return;
    }
    if (fabs(delta) < WF_WHY_CANCEL * A) {
        /* 4. the drivers cancel: values, not shares of a near-zero change */
        out->claim = WF_WHY_SEVERAL;
        pick_drivers(in, A, out);
        ADD("The score is near the background level (%+.3g %s) because its drivers largely "
            "cancel: ",
            delta, units);
        for (int r = 0; r < out->n_drivers; r++) {
            const wf_why_driver *d = &out->drivers[r];
            driver_label(d, lab, sizeof lab);
            ADD("%s%s %s it by %.3g",
                r == 0                    ? ""
                : r == out->n_drivers - 1 ? " and "
                                          : ", ",
                lab, d->kernelshap > 0 ? "raises" : "lowers", fabs(d->kernelshap));
        }
        ADD(" (KernelSHAP, %s).", units);
        return;
    }
    ADD("The score is %s the background level (%+.3g %s) ", where, delta, units);

    /* 2. one main driver */
    int x = 0;
    for (int i = 1; i < n; i++)
        if (in->kernelshap[i] / delta > in->kernelshap[x] / delta)
            x = i;
    double share = in->kernelshap[x] / delta;
    /* same strict sign (share >= 50% makes phi_X nonzero; an IG of 0 is not agreement) */
    int ig_ok = !in->ig || (in->ig[x] > 0 && in->kernelshap[x] > 0) ||
                (in->ig[x] < 0 && in->kernelshap[x] < 0);
    int rival = 0;
    for (int i = 0; i < n; i++)
        rival |= i != x && fabs(in->kernelshap[i]) > WF_WHY_RIVAL * fabs(in->kernelshap[x]);
    if (share >= WF_WHY_MAIN_SHARE && fabs(in->kernelshap[x]) >= WF_WHY_MAIN_SHARE * A && !rival &&
        ig_ok) {
        out->claim = WF_WHY_MAIN;
        set_driver(in, x, &out->drivers[0]);
        out->n_drivers = 1;
        driver_label(&out->drivers[0], lab, sizeof lab);
        ADD("mainly because of %s: %.0f%% of the change by KernelSHAP", lab, 100 * share);
        if (in->ig)
            ADD("; Integrated Gradients agrees on its direction (%+.3g)", in->ig[x]);
        ADD(".");
        return;
    }

    /* 3. several drivers */
    out->claim = WF_WHY_SEVERAL;
    pick_drivers(in, A, out);
    ADD("because of several drivers together: ");
    for (int r = 0; r < out->n_drivers; r++) {
        const wf_why_driver *d = &out->drivers[r];
        driver_label(d, lab, sizeof lab);
        ADD("%s%s (%+.0f%% of the change%s)",
            r == 0                    ? ""
            : r == out->n_drivers - 1 ? " and "
                                      : ", ",
            lab, 100 * d->share, d->share < 0 ? ", pushing against it" : "");
    }
    ADD("; no single driver carries the change on its own.");
#undef ADD
}

/* ---- from an explanation ---- */

wf_status wf_explanation_why(const wf_explanation *e, const wf_explain_settings *s, int C, int T,
                             char *const *channels, wf_why *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    if (!e->has_kshap)
        return wf_error_set(err, WF_ERR_INVALID,
                            "why: window %lld has no KernelSHAP values (the sentence needs them)",
                            (long long)e->window_index);
    wf_players pl;
    wf_status st = wf_players_build(s, C, T, channels, &pl, err);
    if (st)
        return st;
    if (pl.M != e->kshap.M) {
        wf_players_free(&pl);
        return wf_error_set(err, WF_ERR_INVALID,
                            "why: window %lld has %d KernelSHAP players, the settings give %d",
                            (long long)e->window_index, e->kshap.M, pl.M);
    }
    int M = pl.M;
    double *ig = e->has_ig && e->ig.values && e->ig.C == C && e->ig.T == T
                     ? calloc((size_t)M, sizeof(double))
                     : NULL;
    char **chl = calloc((size_t)M, sizeof(char *));
    uint8_t *seen = malloc((size_t)(C > 0 ? C : 1));
    int bad = !chl || !seen || (e->has_ig && e->ig.values && e->ig.C == C && !ig);
    for (int p = 0; !bad && p < M; p++) {
        memset(seen, 0, (size_t)C);
        for (int64_t k = pl.start[p]; k < pl.start[p + 1]; k++) {
            int64_t cell = pl.cells[k];
            seen[cell / T] = 1;
            if (ig)
                ig[p] += e->ig.values[cell];
        }
        size_t len = 1;
        for (int c = 0; c < C; c++)
            if (seen[c])
                len += strlen(channels && channels[c] ? channels[c] : "c0000000000") + 2;
        chl[p] = malloc(len);
        if (!chl[p]) {
            bad = 1;
            break;
        }
        size_t o = 0;
        chl[p][0] = 0;
        for (int c = 0; c < C; c++)
            if (seen[c]) {
                char fb[24];
                snprintf(fb, sizeof fb, "c%d", c);
                o += (size_t)snprintf(chl[p] + o, len - o, "%s%s", o ? ", " : "",
                                      channels && channels[c] ? channels[c] : fb);
            }
    }
    if (bad) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    } else {
        wf_why_input in = {M,
                           e->kshap.players,
                           chl,
                           e->kshap.values,
                           ig,
                           e->kshap.f_x - e->kshap.base_value,
                           e->kshap.link == WF_LINK_IDENTITY ? "score" : "log-odds"};
        wf_why_build(&in, out);
    }
    for (int p = 0; chl && p < M; p++)
        free(chl[p]);
    free(chl);
    free(ig);
    free(seen);
    wf_players_free(&pl);
    return st;
}

wf_status wf_explain_checks_build(const wf_explain_settings *s, const wf_background *bg, int C,
                                  int T, char *const *names, const wf_explanation *ex, int64_t n,
                                  wf_explain_plan *plan, wf_why **why, wf_error *err) {
    *why = NULL;
    wf_status st = wf_explain_plan_build(s, bg, names, plan, err);
    if (st)
        return st;
    if (n > 0) {
        *why = calloc((size_t)n, sizeof **why);
        if (!*why) {
            wf_explain_plan_deinit(plan);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
    }
    for (int64_t i = 0; i < n; i++) {
        const wf_explanation *e = &ex[i];
        if (e->status != WF_OK || !e->has_kshap)
            continue; /* text "" */
        wf_error werr = {0};
        if (wf_explanation_why(e, &plan->s, C, T, names, &(*why)[i], &werr) != WF_OK)
            memset(&(*why)[i], 0, sizeof(*why)[i]);
    }
    return WF_OK;
}

void wf_why_describe(char *buf, size_t size) {
    if (size == 0)
        return;
    snprintf(
        buf, size,
        "The sentence under each alarm follows the evidence. Let delta be the change of the score "
        "from the background's expected score to the window's, in the units of the KernelSHAP "
        "values. Each driver (a channel, or a group of channels explained together) has its "
        "KernelSHAP value, and its Integrated Gradients value (the sum over its cells); its share "
        "is its KernelSHAP value divided by delta, and A is the sum of the absolute KernelSHAP "
        "values. (1) When the two methods disagree - the normalised L1 distance between their "
        "attributions (each scaled to a total absolute value of 1, halved so that it lies in "
        "[0, 1]) exceeds %.2g, or a material driver (at least %.0f%% of either method's total "
        "absolute attribution) has opposite signs - the sentence says so, names each method's "
        "largest driver, and does not put the score down to one channel. (2) Otherwise it says "
        "\"mainly because of X\" only when X carries at least %.0f%% of the change, at least "
        "%.0f%% of A, no other driver exceeds %.0f%% of X's absolute value, and Integrated "
        "Gradients gives X the same sign. (3) Otherwise it names the drivers in order of "
        "absolute value, with their shares, until they cover %.0f%% of A (at least two, at most "
        "%d), saying which push against the change. (4) When |delta| is below %.0f%% of A, "
        "rules 2 and 3 are not applied: the drivers largely cancel, so the sentence says the "
        "score is near the background level and gives the largest drivers' values and "
        "directions instead of shares of a near-zero change.",
        WF_AGREE_L1_MAX, 100 * WF_AGREE_MATERIAL, 100 * WF_WHY_MAIN_SHARE, 100 * WF_WHY_MAIN_SHARE,
        100 * WF_WHY_RIVAL, 100 * WF_WHY_LIST_COVER, WF_WHY_MAX_DRIVERS, 100 * WF_WHY_CANCEL);
}

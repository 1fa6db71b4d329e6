/*
 * The cadence check: per turbine, the median step between consecutive rows (in the order they
 * are read, positive steps only: duplicates and rows out of order are not steps) against
 * log.cadence_seconds. Bounded memory per turbine: exact counts of steps below, at and above the
 * configured cadence decide whether the median differs (exactly), and a table of the first 16
 * distinct steps with their counts gives the median's value (exact unless more than 16 distinct
 * steps occurred, which the caller is told).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_impl.h"

void wf_cadence_add(wf_cadence_acc *a, int64_t time, int64_t cadence) {
    int64_t prev = a->last;
    int had = a->has_last;
    a->last = time;
    a->has_last = 1;
    if (!had || time <= prev)
        return;
    int64_t s = time - prev;
    a->n++;
    if (s < cadence)
        a->lt++;
    else if (s == cadence)
        a->eq++;
    else
        a->gt++;
    for (int i = 0; i < a->nv; i++)
        if (a->v[i] == s) {
            a->c[i]++;
            return;
        }
    if (a->nv < WF_CADENCE_VALUES) {
        a->v[a->nv] = s;
        a->c[a->nv++] = 1;
    } else {
        a->other++;
    }
}

int wf_cadence_median(const wf_cadence_acc *a, int64_t cadence, int64_t *median, int *exact) {
    *median = 0;
    *exact = 1;
    if (a->n == 0)
        return 0;
    int64_t k = (a->n - 1) / 2; /* the lower median: the (k+1)-th smallest step */
    if (a->lt <= k && k < a->lt + a->eq) {
        *median = cadence;
        return 0;
    }
    /* the value from the table, sorted by step */
    int64_t v[WF_CADENCE_VALUES], c[WF_CADENCE_VALUES];
    int nv = a->nv;
    memcpy(v, a->v, sizeof(int64_t) * (size_t)nv);
    memcpy(c, a->c, sizeof(int64_t) * (size_t)nv);
    for (int i = 1; i < nv; i++) /* insertion sort: 16 values at most */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
            t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
    int64_t held = a->n - a->other, kk = a->other ? (held - 1) / 2 : k, acc = 0;
    *exact = a->other == 0;
    for (int i = 0; i < nv; i++) {
        acc += c[i];
        if (kk < acc) {
            *median = v[i];
            break;
        }
    }
    return 1;
}

/* The check's sentence for the audit's messages and the cover (include/whyflag/data.h). */
int wf_data_cadence_warning(const wf_data_stats *s, char *buf, size_t n) {
    if (n)
        buf[0] = '\0';
    if (!s->cadence_mismatched || !n)
        return 0;
    const char *about = s->cadence_approximate ? "about " : "";
    if (s->cadence_median_min == s->cadence_median_max)
        snprintf(buf, n,
                 "log.cadence_seconds is %lld s, but the median step between a turbine's "
                 "consecutive rows is %s%lld s on %lld of %lld turbines",
                 (long long)s->cadence_seconds, about, (long long)s->cadence_median_min,
                 (long long)s->cadence_mismatched, (long long)s->cadence_turbines);
    else
        snprintf(buf, n,
                 "log.cadence_seconds is %lld s, but the median step between a turbine's "
                 "consecutive rows is %s%lld to %lld s on %lld of %lld turbines",
                 (long long)s->cadence_seconds, about, (long long)s->cadence_median_min,
                 (long long)s->cadence_median_max, (long long)s->cadence_mismatched,
                 (long long)s->cadence_turbines);
    return 1;
}

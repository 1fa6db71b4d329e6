/*
 * Windowing on the time grid, streaming. Each turbine keeps a ring of the last `length` grid
 * points (values, cell states, source line); a window is finished as soon as a row beyond its
 * last grid point arrives (or at end of file) and is handed to the sink, valid or skipped with
 * the reason of its first bad grid point. See include/whyflag/data.h for the rules; this file
 * implements them. Non-goals: windows across turbines, resampling off-grid rows.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "core/text.h"
#include "data/data_impl.h"

enum { SLOT_ROW = 0, SLOT_MALFORMED = 1, SLOT_DUP = 2 };

typedef struct slot {
    int64_t g;     /* grid index held, -1 when empty */
    int64_t line;  /* source line */
    int64_t line2; /* second line of a conflicting duplicate */
    int kind;      /* SLOT_* */
    char problem[96];
} slot;

typedef struct broken {
    int64_t after_g; /* the turbine's last grid index when the broken row was read */
    int64_t line;
    int column;
    char problem[96];
} broken;

#define N_BROKEN 8

typedef struct tstats {
    int64_t valid, skipped, interpolated, by_kind[WF_SKIP_KIND_MAX];
    int64_t malformed, bad_cells, dup_identical, dup_conflicting, off_grid, reordered, outliers;
    int64_t nonexistent, ambiguous; /* naive local times skipped / repeated by a clock change */
} tstats;

typedef struct turbine {
    char id[WF_ID_MAX];
    int started;
    int resort;   /* out of time order: ignored in pass 1, windowed from sorted rows in pass 2 */
    int filtered; /* declined by the sink's want(): rows ignored */
    int64_t t0, g_max, k_next;
    slot *slots;    /* (L) ring */
    float *vals;    /* (L, C) */
    uint8_t *state; /* (L, C) */
    broken brk[N_BROKEN];
    int n_brk;
    tstats st;
    wf_cadence_acc cad; /* the cadence check (cadence.c) */
    /* a row more than MAX_JUMP_SECONDS from the turbine's rows, held until the next row says
     * whether it is an outlier (the next row is back in sequence) or a real jump (the next row
     * follows it: a new segment of the turbine's grid starts there) */
    int has_pend;
    int64_t pend_time, pend_line;
    int pend_malformed, pend_column;
    char pend_problem[160];
    float *pvals;     /* (C) */
    uint8_t *pstate;  /* (C) */
    int64_t seg_rows; /* rows placed in the current segment */
    int64_t seg_w0;   /* windows (valid + skipped) delivered before the current segment */
    int64_t seg_line; /* line of the segment's first row */
} turbine;

/* A buffered row of a resorted turbine (pass 2). */
typedef struct brow {
    int64_t time, line, order;
    int time_ok, malformed, problem_column, time_local;
    int64_t problem; /* index into the problem texts of malformed rows, -1 for none */
    float *vals;
    uint8_t *state;
} brow;

typedef struct problem_text {
    char s[96];
} problem_text;

typedef struct windower {
    const wf_data_config *cfg;
    const char *file; /* name for messages */
    int C, L, S;
    int D; /* slack: a window is finished once a row D grid points past its end arrives, so
            * rows up to D points late are absorbed */
    int E; /* grid points beyond a window its interpolation may look at (K + 1, or 0) */
    int R; /* ring size: L + D + E (see place() for why this is enough) */
    int64_t cad;
    wf_missing_policy missing;
    int interp_max;
    const wf_failure *failures;
    int64_t n_failures;
    double horizon;
    const wf_data_sink *sink;
    wf_data_stats *stats;
    int quiet;     /* pass 2: no notes (pass 1 made them) */
    int noted_dup; /* a note names the first conflicting duplicate */
    int noted_amb; /* a note names the first row in a repeated hour (log.timezone) */
    turbine *t;
    int64_t nt, capt;
    wf_strmap ids; /* normalised turbine id -> index into t */
    tstats orphan; /* rows without a usable turbine id */
    float *wbuf;   /* (C, L) window being built */
    uint8_t *wint; /* (L) interpolated flags */
    int *column;   /* (C) 1-based CSV column of each channel (from the reader) */
} windower;

/* Truncating string copy (dst always NUL-terminated). */
static void copy_str(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static wf_status find_turbine(windower *w, const char *raw, size_t raw_n, turbine **out,
                              wf_error *err) {
    char id[WF_ID_MAX];
    size_t n = wf_turbine_id_normalize(raw, raw_n, id);
    int64_t known = wf_strmap_get(&w->ids, id, n);
    if (known >= 0) {
        *out = &w->t[known];
        return WF_OK;
    }
    if (w->nt == w->capt) {
        int64_t nc = w->capt ? w->capt * 2 : 64;
        turbine *nt = realloc(w->t, sizeof *nt * (size_t)nc);
        if (!nt)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory (turbines)");
        w->t = nt;
        w->capt = nc;
    }
    turbine *t = &w->t[w->nt];
    memset(t, 0, sizeof *t);
    memcpy(t->id, id, n);
    t->id[n] = '\0';
    t->slots = malloc(sizeof(slot) * (size_t)w->R);
    t->vals = malloc(sizeof(float) * (size_t)w->R * (size_t)w->C);
    t->state = malloc((size_t)w->R * (size_t)w->C);
    t->pvals = malloc(sizeof(float) * (size_t)w->C);
    t->pstate = malloc((size_t)w->C);
    if (!t->slots || !t->vals || !t->state || !t->pvals || !t->pstate) {
        free(t->slots);
        free(t->vals);
        free(t->state);
        free(t->pvals);
        free(t->pstate);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory (turbine %s)", t->id);
    }
    for (int i = 0; i < w->R; i++)
        t->slots[i].g = -1;
    if (w->sink->want && !w->sink->want(w->sink->user, t->id))
        t->filtered = 1;
    wf_status st = wf_strmap_put(&w->ids, id, n, w->nt, err);
    if (st) {
        free(t->slots);
        free(t->vals);
        free(t->state);
        free(t->pvals);
        free(t->pstate);
        return st;
    }
    w->nt++;
    *out = t;
    return WF_OK;
}

static void reset_turbine(windower *w, turbine *t) {
    t->started = 0;
    t->has_pend = 0;
    t->seg_rows = 0;
    t->seg_w0 = 0;
    t->n_brk = 0;
    for (int i = 0; i < w->R; i++)
        t->slots[i].g = -1;
    memset(&t->st, 0, sizeof t->st);
    memset(&t->cad, 0, sizeof t->cad);
}

/* ---------------------------------------------------------------- finishing a window */

static void iso(int64_t t, char *buf) {
    wf_time_format_iso(t, buf);
}

/* Reason for grid point i of turbine t (bad cell channel c when c >= 0). Returns its kind. */
static wf_skip_kind describe(windower *w, turbine *t, int64_t i, int c, char *reason) {
    char ts[32];
    iso(t->t0 + i * w->cad, ts);
    slot *s = &t->slots[i % w->R];
    if (s->g != i) {
        /* name a broken row that may have been this grid point */
        const broken *b = NULL;
        for (int k = 0; k < t->n_brk; k++)
            if (t->brk[k].after_g < i && i - t->brk[k].after_g <= w->L &&
                (!b || t->brk[k].after_g > b->after_g))
                b = &t->brk[k];
        if (b)
            snprintf(reason, WF_REASON_MAX, "missing row at %s (%s:%lld:%d: %s)", ts, w->file,
                     (long long)b->line, b->column, b->problem);
        else
            snprintf(reason, WF_REASON_MAX, "missing row at %s", ts);
        return WF_SKIP_MISSING_ROW;
    }
    if (s->kind == SLOT_MALFORMED) {
        snprintf(reason, WF_REASON_MAX, "malformed row at %s (%s:%lld: %s)", ts, w->file,
                 (long long)s->line, s->problem);
        return WF_SKIP_MALFORMED_ROW;
    }
    if (s->kind == SLOT_DUP) {
        snprintf(reason, WF_REASON_MAX,
                 "duplicate timestamp %s with different values (%s:%lld and line %lld)", ts,
                 w->file, (long long)s->line, (long long)s->line2);
        return WF_SKIP_DUPLICATE;
    }
    uint8_t cs = t->state[(i % w->R) * w->C + c];
    const char *chan = w->cfg->log->channels[c].name;
    const char *what = cs == WF_CELL_EMPTY       ? "empty cell"
                       : cs == WF_CELL_NONFINITE ? "NaN or infinite value"
                                                 : "unparsable number";
    snprintf(reason, WF_REASON_MAX, "%s in %s at %s (%s:%lld:%d)", what, chan, ts, w->file,
             (long long)s->line, w->column[c]);
    return cs == WF_CELL_EMPTY       ? WF_SKIP_EMPTY_CELL
           : cs == WF_CELL_NONFINITE ? WF_SKIP_NONFINITE
                                     : WF_SKIP_BAD_NUMBER;
}

static wf_status deliver_skip(windower *w, turbine *t, int64_t start, wf_skip_kind kind,
                              const char *reason, wf_error *err) {
    wf_skipped sk;
    memset(&sk, 0, sizeof sk);
    copy_str(sk.turbine_id, sizeof sk.turbine_id, t->id);
    sk.start = start;
    copy_str(sk.reason, sizeof sk.reason, reason);
    t->st.skipped++;
    t->st.by_kind[kind]++;
    if (w->sink->skipped)
        return w->sink->skipped(w->sink->user, &sk, err);
    return WF_OK;
}

/* Value of channel c at grid point i when the ring holds a good cell there, else NaN. */
static float cell(const windower *w, const turbine *t, int64_t i, int c) {
    if (i < 0)
        return NAN;
    const slot *s = &t->slots[i % w->R];
    if (s->g != i || s->kind != SLOT_ROW || t->state[(size_t)(i % w->R) * (size_t)w->C + c])
        return NAN;
    return t->vals[(size_t)(i % w->R) * (size_t)w->C + c];
}

/* Window k of turbine t: every grid point is in the ring (see the file comment). */
static wf_status finish_window(windower *w, turbine *t, int64_t k, wf_error *err) {
    int L = w->L, C = w->C;
    int64_t g0 = k * w->S;
    int64_t start = t->t0 + g0 * w->cad;
    float *x = w->wbuf; /* (C, L) */
    int any_bad = 0;
    for (int j = 0; j < L; j++) {
        int64_t i = g0 + j;
        const slot *s = &t->slots[i % w->R];
        int rowok = s->g == i && s->kind == SLOT_ROW;
        const float *v = t->vals + (size_t)(i % w->R) * (size_t)C;
        const uint8_t *cs = t->state + (size_t)(i % w->R) * (size_t)C;
        for (int c = 0; c < C; c++) {
            if (rowok && cs[c] == WF_CELL_OK) {
                x[(size_t)c * (size_t)L + (size_t)j] = v[c];
            } else {
                x[(size_t)c * (size_t)L + (size_t)j] = NAN;
                any_bad = 1;
            }
        }
    }
    int n_interp = 0;
    if (any_bad) {
        /* the first bad (grid point, channel) that the policy cannot repair */
        int64_t fail_j = -1;
        int fail_c = -1;
        char suffix[96] = "";
        int K = w->interp_max, E = w->E;
        memset(w->wint, 0, (size_t)L);
        for (int c = 0; c < C; c++) {
            float *xc = x + (size_t)c * (size_t)L;
            int j = 0;
            while (j < L) {
                if (!isnan(xc[j])) {
                    j++;
                    continue;
                }
                int a = j;
                while (j < L && isnan(xc[j]))
                    j++;
                int b = j - 1; /* run [a, b] inside the window */
                int ok = 0, dup = 0;
                int64_t ga = g0 + a, gb = g0 + b; /* the run on the grid, beyond the window */
                float va = NAN, vb = NAN;
                if (w->missing == WF_MISSING_INTERPOLATE) {
                    /* look up to E points beyond the window, within the turbine's data */
                    int64_t lo = g0 - E > 0 ? g0 - E : 0;
                    int64_t hi = g0 + L - 1 + E < t->g_max ? g0 + L - 1 + E : t->g_max;
                    while (ga - 1 >= lo && isnan(va = cell(w, t, ga - 1, c)))
                        ga--;
                    while (gb + 1 <= hi && isnan(vb = cell(w, t, gb + 1, c)))
                        gb++;
                    for (int64_t q = ga; q <= gb && !dup; q++) {
                        const slot *s = &t->slots[q % w->R];
                        dup = q >= 0 && s->g == q && s->kind == SLOT_DUP;
                    }
                    /* ambiguous data (conflicting duplicates) is never papered over */
                    ok = gb - ga + 1 <= K && !isnan(va) && !isnan(vb) && !dup;
                }
                if (ok) {
                    double span = (double)(gb + 1 - (ga - 1));
                    for (int q = a; q <= b; q++) {
                        double f = (double)(g0 + q - (ga - 1)) / span;
                        xc[q] = (float)((double)va + ((double)vb - (double)va) * f);
                        w->wint[q] = 1;
                    }
                } else if (fail_j < 0 || a < fail_j || (a == fail_j && c < fail_c)) {
                    fail_j = a;
                    fail_c = c;
                    if (w->missing != WF_MISSING_INTERPOLATE)
                        suffix[0] = '\0';
                    else if (dup)
                        snprintf(suffix, sizeof suffix,
                                 "; not interpolated: conflicting duplicate");
                    else if (gb - ga + 1 > K)
                        snprintf(suffix, sizeof suffix,
                                 "; not interpolated: %lld consecutive points, at most %d",
                                 (long long)(gb - ga + 1), K);
                    else
                        snprintf(suffix, sizeof suffix, "; not interpolated: no valid point %s it",
                                 isnan(va) ? "before" : "after");
                }
            }
        }
        if (fail_j >= 0) {
            char reason[WF_REASON_MAX], full[WF_REASON_MAX + 96];
            wf_skip_kind kind = describe(w, t, g0 + fail_j, fail_c, reason);
            snprintf(full, sizeof full, "%s%s", reason, suffix);
            full[WF_REASON_MAX - 1] = '\0';
            return deliver_skip(w, t, start, kind, full, err);
        }
        for (int j = 0; j < L; j++)
            n_interp += w->wint[j];
    }
    wf_window win;
    memset(&win, 0, sizeof win);
    win.index = -1;
    copy_str(win.turbine_id, sizeof win.turbine_id, t->id);
    win.start = start;
    win.end = start + (int64_t)(L - 1) * w->cad;
    win.label =
        wf_window_label(w->failures, w->n_failures, w->horizon, t->id, win.end, win.component);
    win.interpolated = n_interp;
    win.values = x;
    t->st.valid++;
    if (n_interp)
        t->st.interpolated++;
    if (w->sink->window)
        return w->sink->window(w->sink->user, &win, err);
    return WF_OK;
}

/* Finish every window of t whose last grid point is before g (or at/before g when incl). */
static wf_status finish_until(windower *w, turbine *t, int64_t g, int incl, wf_error *err) {
    for (;;) {
        int64_t last = t->k_next * w->S + w->L - 1;
        if (incl ? last > g : last >= g)
            return WF_OK;
        wf_status st = finish_window(w, t, t->k_next, err);
        if (st)
            return st;
        t->k_next++;
    }
}

static void add_broken(turbine *t, const wf_log_row *row) {
    broken *b;
    if (t->n_brk < N_BROKEN) {
        b = &t->brk[t->n_brk++];
    } else { /* keep the most recent */
        memmove(t->brk, t->brk + 1, sizeof(broken) * (N_BROKEN - 1));
        b = &t->brk[N_BROKEN - 1];
    }
    b->after_g = t->started ? t->g_max : -1;
    b->line = row->line;
    b->column = row->problem_column;
    copy_str(b->problem, sizeof b->problem, row->problem);
}

#define MAX_JUMP_SECONDS (366ll * 86400) /* a row this far from the turbine's rows is held */
#define MIN_TIME 0ll                     /* 1970-01-01: earlier times are implausible */
#define MAX_TIME 4102444800ll            /* 2100-01-01 */

/* Place a row with a valid time on t's grid. Returns 1 (no error) when the row is out of time
 * order beyond the open windows: the caller falls back to sorting. */
static int place(windower *w, turbine *t, const wf_log_row *row, wf_status *st, wf_error *err) {
    *st = WF_OK;
    int L = w->L, C = w->C;
    if (row->time < MIN_TIME || row->time >= MAX_TIME) {
        wf_log_row r2 = *row;
        snprintf(r2.problem, sizeof r2.problem, "implausible time (before 1970 or after 2099)");
        add_broken(t, &r2);
        t->st.malformed++;
        if (!w->quiet)
            wf_data_note(w->stats, "%s:%lld: %s: %s", w->file, (long long)row->line, t->id,
                         r2.problem);
        return 0;
    }
    if (!t->started) {
        t->started = 1;
        t->t0 = row->time;
        t->g_max = -1;
        t->k_next = 0;
    }
    int64_t d = row->time - t->t0;
    if (d < 0)
        return 1;
    if (d % w->cad) {
        t->st.off_grid++;
        if (!w->quiet && t->st.off_grid == 1)
            wf_data_note(w->stats,
                         "%s:%lld: %s: time not on the turbine's %llds grid (first such row; "
                         "such rows are ignored)",
                         w->file, (long long)row->line, t->id, (long long)w->cad);
        return 0;
    }
    int64_t g = d / w->cad;
    slot *s = &t->slots[g % w->R];
    if (g > t->g_max) {
        *st = finish_until(w, t, g - w->D, 0, err);
        if (*st)
            return 0;
        t->g_max = g;
    } else {
        /* Finished windows used grid points up to last_done + E (interpolation neighbours): a
         * row there now would change them, so the turbine falls back to sorting. Open windows
         * use grid points from first_open - E on; the ring holds them because a window ending
         * at e is finished as soon as a row past e + D arrives (g_max <= e + D while it is
         * open), and R = L + D + E covers [start - E, e + D]. */
        int64_t first_open = t->k_next * w->S - w->E;
        int64_t last_done = t->k_next > 0 ? (t->k_next - 1) * w->S + L - 1 + w->E : -1;
        if (g <= last_done)
            return 1;
        if (s->g != g) {
            t->st.reordered++;
            if (g < first_open)
                return 0; /* between windows (stride > length): no window needs it */
        }
    }
    float *v = t->vals + (size_t)(g % w->R) * (size_t)C;
    uint8_t *cs = t->state + (size_t)(g % w->R) * (size_t)C;
    if (s->g == g) {
        /* duplicate timestamp */
        int same = s->kind == SLOT_ROW && !row->malformed;
        for (int c = 0; same && c < C; c++)
            same = cs[c] == row->state[c] &&
                   (cs[c] != WF_CELL_OK || memcmp(&v[c], &row->values[c], sizeof(float)) == 0);
        if (same) {
            t->st.dup_identical++;
        } else {
            t->st.dup_conflicting++;
            if (!w->quiet && !w->noted_dup) {
                char ts[32];
                iso(row->time, ts);
                wf_data_note(w->stats,
                             "%s:%lld: %s: duplicate timestamp %s with different values (first "
                             "row: line %lld); windows touching it are skipped",
                             w->file, (long long)row->line, t->id, ts, (long long)s->line);
                w->noted_dup = 1;
            }
            if (s->kind != SLOT_DUP) {
                s->kind = SLOT_DUP;
                s->line2 = row->line;
            }
        }
        return 0;
    }
    s->g = g;
    s->line = row->line;
    s->line2 = 0;
    if (row->malformed) {
        s->kind = SLOT_MALFORMED;
        copy_str(s->problem, sizeof s->problem, row->problem);
        t->st.malformed++;
        return 0;
    }
    s->kind = SLOT_ROW;
    s->problem[0] = '\0';
    for (int c = 0; c < C; c++) {
        v[c] = row->values[c];
        cs[c] = row->state[c];
        if (row->state[c] != WF_CELL_OK)
            t->st.bad_cells++;
    }
    return 0;
}

/* ---------------------------------------------------------------- time outliers
 *
 * Rule: a row whose time is more than MAX_JUMP_SECONDS (366 days) before or after the turbine's
 * latest row is held. If the turbine's next row is back in sequence (within 366 days of the rows
 * before), the held row is an outlier (a 1970-01-01 stamp, a mistyped year): it is rejected with
 * a reason and never shapes the grid. If the next row follows the held row, the jump is real:
 * the windows of the rows before are finished and a new segment of the grid starts at the held
 * row (no window spans the gap). A segment that gave no window at all (an isolated stamp before
 * the real data) has its rows counted as outliers. A held row at the end of the turbine's data
 * is rejected. */

static void hold(windower *w, turbine *t, const wf_log_row *row) {
    t->has_pend = 1;
    t->pend_time = row->time;
    t->pend_line = row->line;
    t->pend_malformed = row->malformed;
    t->pend_column = row->problem_column;
    copy_str(t->pend_problem, sizeof t->pend_problem, row->problem);
    memcpy(t->pvals, row->values, sizeof(float) * (size_t)w->C);
    memcpy(t->pstate, row->state, (size_t)w->C);
}

static void reject_pending(windower *w, turbine *t, const char *why) {
    char ts[32];
    iso(t->pend_time, ts);
    t->st.outliers++;
    t->has_pend = 0;
    wf_log_row r;
    memset(&r, 0, sizeof r);
    r.line = t->pend_line;
    snprintf(r.problem, sizeof r.problem, "time %s rejected as an outlier", ts);
    add_broken(t, &r); /* a window missing that row names it */
    wf_data_note(w->stats,
                 "%s:%lld: %s: time %s is more than 366 days from the turbine's other "
                 "rows (%s): row rejected as an outlier",
                 w->file, (long long)t->pend_line, t->id, ts, why);
}

static int64_t latest_time(const windower *w, const turbine *t) {
    return t->t0 + (t->g_max > 0 ? t->g_max : 0) * w->cad;
}

static int place(windower *w, turbine *t, const wf_log_row *row, wf_status *st, wf_error *err);

/* Place the held row as the first row of a new segment (the old one finished). */
static wf_status start_segment(windower *w, turbine *t, int *resort, wf_error *err) {
    wf_status st = WF_OK;
    *resort = 0;
    if (t->started && t->pend_time < t->t0) {
        t->has_pend = 0;
        *resort = 1; /* a real jump back in time: out of order, the caller sorts */
        return WF_OK;
    }
    if (t->started) {
        st = finish_until(w, t, t->g_max, 1, err);
        if (st)
            return st;
        int64_t nw = t->st.valid + t->st.skipped - t->seg_w0;
        if (nw == 0 && t->seg_rows > 0) {
            t->st.outliers += t->seg_rows;
            wf_data_note(w->stats,
                         "%s:%lld: %s: %lld row(s) from line %lld are more than 366 days before "
                         "the turbine's other rows and form no window: rejected as outliers",
                         w->file, (long long)t->seg_line, t->id, (long long)t->seg_rows,
                         (long long)t->seg_line);
        }
    }
    t->started = 0;
    t->n_brk = 0;
    for (int i = 0; i < w->R; i++)
        t->slots[i].g = -1;
    t->seg_w0 = t->st.valid + t->st.skipped;
    t->seg_rows = 0;
    t->seg_line = t->pend_line;
    wf_log_row r;
    memset(&r, 0, sizeof r);
    r.line = t->pend_line;
    r.turbine = t->id;
    r.turbine_len = strlen(t->id);
    r.time_ok = 1;
    r.time = t->pend_time;
    r.malformed = t->pend_malformed;
    r.values = t->pvals;
    r.state = t->pstate;
    r.problem_column = t->pend_column;
    copy_str(r.problem, sizeof r.problem, t->pend_problem);
    t->has_pend = 0;
    t->seg_rows = 1;
    place(w, t, &r, &st, err); /* the first row of a segment is never out of order */
    return st;
}

/* place() behind the outlier rule. Returns 1 when the caller must fall back to sorting. */
static int place_row(windower *w, turbine *t, const wf_log_row *row, wf_status *st, wf_error *err) {
    *st = WF_OK;
    if (row->time < MIN_TIME || row->time >= MAX_TIME)
        return place(w, t, row, st, err); /* rejected there, with its reason */
    if (t->has_pend) {
        int64_t dp = row->time - t->pend_time;
        if (dp <= MAX_JUMP_SECONDS && dp >= -MAX_JUMP_SECONDS) {
            int resort = 0;
            *st = start_segment(w, t, &resort, err);
            if (*st || resort)
                return resort;
        } else {
            char why[96];
            snprintf(why, sizeof why, "the next row, line %lld, is back in sequence",
                     (long long)row->line);
            reject_pending(w, t, why);
        }
    }
    if (t->started && !t->has_pend) {
        int64_t last = latest_time(w, t);
        int64_t d = row->time - last;
        if (d > MAX_JUMP_SECONDS || row->time < t->t0 - MAX_JUMP_SECONDS) {
            hold(w, t, row);
            return 0;
        }
    }
    if (!t->started) {
        t->seg_line = row->line;
        t->seg_rows = 0;
        t->seg_w0 = t->st.valid + t->st.skipped;
    }
    t->seg_rows++;
    return place(w, t, row, st, err);
}

/* End of a turbine's rows: a held row has no row after it to confirm it. */
static void end_rows(windower *w, turbine *t) {
    if (t->has_pend)
        reject_pending(w, t, "it is the turbine's last row");
}

static wf_status retract(windower *w, turbine *t, const wf_log_row *row, wf_error *err) {
    if (!w->sink->retract)
        return wf_error_set(err, WF_ERR_DATA,
                            "%s:%lld: rows of turbine %s are out of time order and this consumer "
                            "cannot take windows back; sort the log by time",
                            w->file, (long long)row->line, t->id);
    char ts[32];
    iso(row->time, ts);
    wf_data_note(w->stats,
                 "%s:%lld: %s: row at %s is out of time order; the turbine's rows were buffered "
                 "and sorted in a second pass",
                 w->file, (long long)row->line, t->id, ts);
    t->resort = 1;
    reset_turbine(w, t);
    return w->sink->retract(w->sink->user, t->id, err);
}

/* Pass 1 (and pass 2 when t is known): one row. */
static wf_status on_row(windower *w, const wf_log_row *row, wf_error *err) {
    if (row->turbine_len == 0) {
        w->orphan.malformed++;
        w->stats->unnamed_rows++;
        if (!w->quiet)
            wf_data_note(w->stats, "%s:%lld: row without a turbine id (%s)", w->file,
                         (long long)row->line, row->problem[0] ? row->problem : "empty field");
        return WF_OK;
    }
    turbine *t = NULL;
    wf_status st = find_turbine(w, row->turbine, row->turbine_len, &t, err);
    if (st)
        return st;
    if (t->resort || t->filtered)
        return WF_OK;
    if (!row->time_ok) {
        add_broken(t, row);
        t->st.malformed++;
        t->st.nonexistent += row->time_local == WF_TZ_NONEXISTENT;
        if (!w->quiet)
            wf_data_note(w->stats, "%s:%lld:%d: %s", w->file, (long long)row->line,
                         row->problem_column, row->problem);
        return WF_OK;
    }
    if (row->time_local == WF_TZ_AMBIGUOUS) {
        t->st.ambiguous++;
        if (!w->quiet && !w->noted_amb) {
            char ts[32];
            iso(row->time, ts);
            wf_data_note(w->stats,
                         "%s:%lld: %s: local time in the repeated hour of a clock change in %s, "
                         "read as the earlier instant %s (first such row)",
                         w->file, (long long)row->line, t->id, w->cfg->log->timezone, ts);
            w->noted_amb = 1;
        }
    }
    wf_cadence_add(&t->cad, row->time, w->cad);
    if (!w->quiet && row->problem[0])
        wf_data_note(w->stats, "%s:%lld:%d: %s", w->file, (long long)row->line, row->problem_column,
                     row->problem);
    if (place_row(w, t, row, &st, err))
        return retract(w, t, row, err);
    return st;
}

/* ---------------------------------------------------------------- pass 2 */

static int cmp_brow(const void *pa, const void *pb) {
    const brow *a = pa, *b = pb;
    if (a->order != b->order) /* turbine index */
        return a->order < b->order ? -1 : 1;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static wf_status pass2(windower *w, wf_log_reader *r, wf_error *err) {
    brow *rows = NULL;
    int64_t n = 0, cap = 0;
    problem_text *probs = NULL;
    int64_t np = 0, capp = 0;
    float *vals = NULL;
    uint8_t *states = NULL;
    wf_status st = WF_OK;
    int C = w->C;
    for (;;) {
        wf_log_row row;
        int done;
        st = wf_log_reader_next(r, &row, &done, err);
        if (st || done)
            break;
        if (!row.turbine_len)
            continue;
        char id[WF_ID_MAX];
        size_t len = wf_turbine_id_normalize(row.turbine, row.turbine_len, id);
        int64_t ti = wf_strmap_get(&w->ids, id, len);
        if (ti < 0 || !w->t[ti].resort)
            continue;
        if (n == cap) {
            int64_t nc = cap ? cap * 2 : 1024;
            brow *nr = realloc(rows, sizeof *nr * (size_t)nc);
            float *nv = realloc(vals, sizeof(float) * (size_t)nc * (size_t)C);
            uint8_t *ns = realloc(states, (size_t)nc * (size_t)C);
            if (nr)
                rows = nr;
            if (nv)
                vals = nv;
            if (ns)
                states = ns;
            if (!nr || !nv || !ns) {
                st = wf_error_set(err, WF_ERR_NOMEM, "out of memory buffering out-of-order rows");
                break;
            }
            cap = nc;
        }
        brow *b = &rows[n];
        b->time = row.time;
        b->line = row.line;
        b->order = ti;
        b->time_ok = row.time_ok;
        b->malformed = row.malformed;
        b->problem_column = row.problem_column;
        b->time_local = row.time_local;
        b->problem = -1;
        if (row.malformed) { /* only malformed rows need their text again */
            if (np == capp) {
                int64_t nc = capp ? capp * 2 : 16;
                problem_text *npt = realloc(probs, sizeof *npt * (size_t)nc);
                if (!npt) {
                    st = wf_error_set(err, WF_ERR_NOMEM, "out of memory buffering rows");
                    break;
                }
                probs = npt;
                capp = nc;
            }
            copy_str(probs[np].s, sizeof probs[np].s, row.problem);
            b->problem = np++;
        }
        memcpy(vals + (size_t)n * (size_t)C, row.values, sizeof(float) * (size_t)C);
        memcpy(states + (size_t)n * (size_t)C, row.state, (size_t)C);
        n++;
    }
    if (!st) {
        for (int64_t i = 0; i < n; i++) { /* pointers after the last realloc */
            rows[i].vals = vals + (size_t)i * (size_t)C;
            rows[i].state = states + (size_t)i * (size_t)C;
        }
        qsort(rows, (size_t)n, sizeof *rows, cmp_brow);
        for (int64_t i = 0; i < n && !st; i++) {
            turbine *t = &w->t[rows[i].order];
            wf_log_row row;
            memset(&row, 0, sizeof row);
            row.line = rows[i].line;
            row.turbine = t->id;
            row.turbine_len = strlen(t->id);
            row.time_ok = rows[i].time_ok;
            row.time = rows[i].time;
            row.malformed = rows[i].malformed;
            row.values = rows[i].vals;
            row.state = rows[i].state;
            row.problem_column = rows[i].problem_column;
            if (rows[i].problem >= 0)
                copy_str(row.problem, sizeof row.problem, probs[rows[i].problem].s);
            if (!row.time_ok) {
                t->st.malformed++;
                t->st.nonexistent += rows[i].time_local == WF_TZ_NONEXISTENT;
                continue;
            }
            t->st.ambiguous += rows[i].time_local == WF_TZ_AMBIGUOUS;
            wf_cadence_add(&t->cad, row.time, w->cad);
            if (place_row(w, t, &row, &st, err) && !st)
                st =
                    wf_error_set(err, WF_ERR_DATA, "%s: internal: sorted rows out of order", t->id);
            if (!st && (i + 1 == n || rows[i + 1].order != rows[i].order)) {
                end_rows(w, t);
                if (t->started)
                    st = finish_until(w, t, t->g_max, 1, err);
            }
        }
    }
    free(rows);
    free(vals);
    free(states);
    free(probs);
    return st;
}

/* ---------------------------------------------------------------- driver */

static void free_windower(windower *w) {
    for (int64_t i = 0; i < w->nt; i++) {
        free(w->t[i].slots);
        free(w->t[i].vals);
        free(w->t[i].state);
        free(w->t[i].pvals);
        free(w->t[i].pstate);
    }
    free(w->t);
    wf_strmap_free(&w->ids);
    free(w->wbuf);
    free(w->wint);
    free(w->column);
}

static void add_tstats(wf_data_stats *d, const tstats *s) {
    d->windows_valid += s->valid;
    d->windows_skipped += s->skipped;
    d->windows_interpolated += s->interpolated;
    for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
        d->skipped_by_kind[k] += s->by_kind[k];
    d->malformed_rows += s->malformed;
    d->bad_cells += s->bad_cells;
    d->duplicate_identical += s->dup_identical;
    d->duplicate_conflicting += s->dup_conflicting;
    d->off_grid_rows += s->off_grid;
    d->reordered_rows += s->reordered;
    d->outlier_rows += s->outliers;
    d->nonexistent_time_rows += s->nonexistent;
    d->ambiguous_time_rows += s->ambiguous;
}

/* The cadence check over the turbines read: how many have a median step other than the
 * configured cadence, and the range of those medians (a range, unlike a median of medians,
 * merges exactly across shards); the warning goes first among the notes (it explains the skipped
 * windows or rejected rows that follow). */
static void cadence_summary(windower *w, wf_data_stats *stats) {
    stats->cadence_seconds = w->cad;
    for (int64_t i = 0; i < w->nt; i++) {
        const turbine *t = &w->t[i];
        if (t->filtered || t->cad.n == 0)
            continue;
        stats->cadence_turbines++;
        int64_t m;
        int exact;
        if (!wf_cadence_median(&t->cad, w->cad, &m, &exact))
            continue;
        if (!exact)
            stats->cadence_approximate = 1;
        if (!stats->cadence_mismatched++ || m < stats->cadence_median_min)
            stats->cadence_median_min = m;
        if (m > stats->cadence_median_max)
            stats->cadence_median_max = m;
    }
    char msg[WF_REASON_MAX];
    if (!wf_data_cadence_warning(stats, msg, sizeof msg))
        return;
    if (stats->n_notes == WF_DATA_NOTES_MAX) {
        stats->n_notes--;
        stats->notes_dropped++;
    }
    memmove(stats->notes[1], stats->notes[0], sizeof stats->notes[0] * (size_t)stats->n_notes);
    snprintf(stats->notes[0], sizeof stats->notes[0], "%s", msg);
    stats->n_notes++;
}

wf_status wf_data_stream_reader(const wf_data_config *cfg, wf_log_reader *r, wf_reopen_fn reopen,
                                void *reopen_ctx, const wf_failure *failures, int64_t n_failures,
                                const wf_data_sink *sink, wf_data_stats *stats, wf_error *err) {
    wf_data_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    windower w;
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    w.file = wf_log_reader_name(r);
    w.C = cfg->log->n_channels;
    w.L = cfg->window->length;
    w.S = cfg->window->stride;
    w.cad = cfg->log->cadence_seconds;
    w.missing = cfg->window->missing;
    w.interp_max = cfg->window->interpolate_max;
    w.E = w.missing == WF_MISSING_INTERPOLATE ? w.interp_max + 1 : 0;
    w.D = w.L + 1 > w.E ? w.L + 1 : w.E;
    w.R = w.L + w.D + w.E;
    w.failures = failures;
    w.n_failures = n_failures;
    w.horizon = (cfg->failures ? cfg->failures->horizon_hours : 0);
    w.sink = sink;
    w.stats = stats;
    if (w.C <= 0 || w.L <= 0 || w.S <= 0 || w.cad <= 0)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "window.length, window.stride, log.cadence_seconds and log.channels "
                            "must be positive");
    wf_status st = WF_OK;
    wf_strmap_init(&w.ids);
    w.wbuf = malloc(sizeof(float) * (size_t)w.C * (size_t)w.L);
    w.wint = malloc((size_t)w.L);
    w.column = calloc((size_t)w.C, sizeof(int));
    if (!st && (!w.wbuf || !w.wint || !w.column))
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    int have_col = 0;
    int64_t rows = 0;
    while (!st) {
        wf_log_row row;
        int done;
        st = wf_log_reader_next(r, &row, &done, err);
        if (st || done)
            break;
        rows++;
        if (!have_col) {
            memcpy(w.column, row.column, sizeof(int) * (size_t)w.C);
            have_col = 1;
        }
        st = on_row(&w, &row, err);
    }
    stats->rows = rows;
    stats->bytes = wf_log_reader_bytes(r);
    if (!st)
        wf_log_reader_digest(r, stats->sha256);
    /* end of file: finish every window that ends at or before the turbine's last row */
    for (int64_t i = 0; !st && i < w.nt; i++) {
        turbine *t = &w.t[i];
        if (t->resort)
            continue;
        end_rows(&w, t);
        if (t->started)
            st = finish_until(&w, t, t->g_max, 1, err);
    }
    int64_t n_resort = 0;
    for (int64_t i = 0; i < w.nt; i++)
        n_resort += w.t[i].resort;
    if (!st && n_resort) {
        wf_log_reader *r2 = NULL;
        if (!reopen)
            st = wf_error_set(err, WF_ERR_DATA,
                              "%s: rows out of time order and the log cannot "
                              "be read a second time",
                              w.file);
        else
            st = reopen(reopen_ctx, &r2, err);
        if (!st) {
            w.quiet = 1;
            st = pass2(&w, r2, err);
        }
        char h2[65];
        if (!st && stats->sha256[0] && wf_log_reader_digest(r2, h2) &&
            strcmp(h2, stats->sha256) != 0)
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s changed between the two passes over it (SHA-256 %s, then "
                              "%s): rerun when it is no longer being written",
                              w.file, stats->sha256, h2);
        wf_log_reader_free(r2);
    }
    stats->turbines = w.nt;
    stats->turbines_resorted = n_resort;
    for (int64_t i = 0; i < w.nt; i++)
        stats->turbines_filtered += w.t[i].filtered;
    for (int64_t i = 0; i < w.nt; i++)
        add_tstats(stats, &w.t[i].st);
    add_tstats(stats, &w.orphan);
    snprintf(stats->timezone, sizeof stats->timezone, "%s",
             cfg->log->timezone[0] ? cfg->log->timezone : "UTC");
    if (!st)
        cadence_summary(&w, stats);
    free_windower(&w);
    return st;
}

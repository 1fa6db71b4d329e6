/*
 * One-call entry points: config -> windows (+ failures + stats), and the streaming variant.
 * The collecting sink appends to a wf_windows, retracts a turbine by compaction, and sorts to
 * the canonical order (turbine id, then start) at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_impl.h"

static const char *const skip_names[WF_SKIP_KIND_MAX] = {
    [WF_SKIP_MISSING_ROW] = "missing row",     [WF_SKIP_EMPTY_CELL] = "empty cell",
    [WF_SKIP_NONFINITE] = "NaN or infinite",   [WF_SKIP_BAD_NUMBER] = "unparsable number",
    [WF_SKIP_MALFORMED_ROW] = "malformed row", [WF_SKIP_DUPLICATE] = "duplicate timestamp",
};

const char *wf_skip_kind_str(wf_skip_kind k) {
    if ((int)k < 0 || k >= WF_SKIP_KIND_MAX)
        return "unknown";
    return skip_names[k];
}

/* Appends to buf (NUL-terminated, size n). */
static void add(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void add(char *buf, size_t n, const char *fmt, ...) {
    size_t k = strlen(buf);
    if (k + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, n - k, fmt, ap);
    va_end(ap);
}

int64_t wf_data_rows_rejected(const wf_data_stats *s) {
    return s->malformed_rows + s->off_grid_rows + s->outlier_rows + s->duplicate_conflicting;
}

void wf_data_stats_describe(const wf_data_stats *s, char *buf, size_t n) {
    if (!n)
        return;
    buf[0] = '\0';
    add(buf, n, "%lld rows read, %lld rejected", (long long)s->rows,
        (long long)wf_data_rows_rejected(s));
    const char *sep = " (";
    if (s->malformed_rows) {
        add(buf, n, "%s%lld malformed: wrong field count, unparsable or implausible time", sep,
            (long long)s->malformed_rows);
        if (s->unnamed_rows)
            add(buf, n, ", %lld without a turbine id", (long long)s->unnamed_rows);
        if (s->nonexistent_time_rows)
            add(buf, n, ", %lld at local times that do not exist in %s (clock change)",
                (long long)s->nonexistent_time_rows, s->timezone);
        sep = "; ";
    }
    if (s->off_grid_rows) {
        add(buf, n, "%s%lld off the cadence grid", sep, (long long)s->off_grid_rows);
        sep = "; ";
    }
    if (s->outlier_rows) {
        add(buf, n, "%s%lld time outliers", sep, (long long)s->outlier_rows);
        sep = "; ";
    }
    if (s->duplicate_conflicting) {
        add(buf, n, "%s%lld conflicting duplicates", sep, (long long)s->duplicate_conflicting);
        sep = "; ";
    }
    if (sep[0] == ';')
        add(buf, n, ")");
    if (s->bad_cells)
        add(buf, n, ", %lld bad cells", (long long)s->bad_cells);
    add(buf, n, "; %lld windows cut, %lld skipped",
        (long long)(s->windows_valid + s->windows_skipped), (long long)s->windows_skipped);
    sep = " (";
    for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
        if (s->skipped_by_kind[k]) {
            add(buf, n, "%s%lld %s", sep, (long long)s->skipped_by_kind[k],
                wf_skip_kind_str((wf_skip_kind)k));
            sep = ", ";
        }
    if (sep[0] == ',')
        add(buf, n, ")");
    if (s->ambiguous_time_rows)
        add(buf, n,
            "; %lld rows at local times repeated by a clock change in %s, read as the "
            "earlier instant",
            (long long)s->ambiguous_time_rows, s->timezone);
}

static wf_status reopen_file(void *ctx, wf_log_reader **out, wf_error *err) {
    return wf_log_reader_open((const wf_log_config *)ctx, out, err);
}

wf_status wf_data_stream_windows(const wf_data_config *cfg, const wf_failure *failures,
                                 int64_t n_failures, const wf_data_sink *sink, wf_data_stats *stats,
                                 wf_error *err) {
    wf_log_reader *r = NULL;
    wf_status st = wf_log_reader_open(cfg->log, &r, err);
    if (st)
        return st;
    st = wf_data_stream_reader(cfg, r, reopen_file, (void *)cfg->log, failures, n_failures, sink,
                               stats, err);
    wf_log_reader_free(r);
    return st;
}

/* ---------------------------------------------------------------- collecting sink */

static wf_status sink_window(void *user, const wf_window *w, wf_error *err) {
    return wf_windows_push((wf_windows *)user, w, err);
}

static wf_status sink_skipped(void *user, const wf_skipped *s, wf_error *err) {
    return wf_windows_push_skipped((wf_windows *)user, s, err);
}

static wf_status sink_retract(void *user, const char *turbine_id, wf_error *err) {
    (void)err;
    wf_windows *ws = user;
    size_t CT = (size_t)ws->C * (size_t)ws->T;
    int64_t j = 0;
    for (int64_t i = 0; i < ws->n; i++) {
        if (!strcmp(ws->w[i].turbine_id, turbine_id))
            continue;
        if (j != i) {
            ws->w[j] = ws->w[i];
            memmove(ws->data + (size_t)j * CT, ws->data + (size_t)i * CT, sizeof(float) * CT);
        }
        ws->w[j].values = ws->data + (size_t)j * CT;
        j++;
    }
    ws->n = j;
    j = 0;
    for (int64_t i = 0; i < ws->n_skipped; i++)
        if (strcmp(ws->skipped[i].turbine_id, turbine_id))
            ws->skipped[j++] = ws->skipped[i];
    ws->n_skipped = j;
    return WF_OK;
}

static wf_status init_from_config(const wf_data_config *cfg, wf_windows *ws, wf_error *err) {
    int C = cfg->log->n_channels;
    const char **names = calloc((size_t)(C > 0 ? C : 1), sizeof *names);
    const char **units = calloc((size_t)(C > 0 ? C : 1), sizeof *units);
    wf_status st;
    if (!names || !units) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    } else {
        for (int c = 0; c < C; c++) {
            names[c] = cfg->log->channels[c].name;
            units[c] = cfg->log->channels[c].unit;
        }
        st = wf_windows_init(ws, C, cfg->window->length, names, units, err);
    }
    free(names);
    free(units);
    if (!st) {
        ws->stride = cfg->window->stride;
        ws->cadence = cfg->log->cadence_seconds;
    }
    return st;
}

wf_status wf_data_collect_reader(const wf_data_config *cfg, wf_log_reader *r, wf_reopen_fn reopen,
                                 void *reopen_ctx, const wf_failure *failures, int64_t n_failures,
                                 wf_windows *ws, wf_data_stats *stats, wf_error *err) {
    wf_status st = init_from_config(cfg, ws, err);
    if (st)
        return st;
    wf_data_sink sink = {sink_window, sink_skipped, sink_retract, ws, NULL};
    st = wf_data_stream_reader(cfg, r, reopen, reopen_ctx, failures, n_failures, &sink, stats, err);
    if (st) {
        wf_windows_free(ws);
        return st;
    }
    st = wf_windows_sort(ws, err);
    if (st)
        wf_windows_free(ws);
    return st;
}

wf_status wf_data_load_windows(const wf_data_config *cfg, wf_windows *ws, wf_failure **failures,
                               int64_t *n_failures, wf_data_stats *stats, wf_error *err) {
    memset(ws, 0, sizeof *ws);
    wf_failure *fv = NULL;
    int64_t nf = 0;
    wf_status st;
    if (failures)
        *failures = NULL;
    if (n_failures)
        *n_failures = 0;
    if (cfg->failures && cfg->failures->path[0]) {
        st = wf_failures_read(cfg->failures->path, cfg->log, &fv, &nf, err);
        if (st)
            return st;
        if (!fv) /* an empty failure log still means "labels known": all 0 */
            fv = malloc(sizeof *fv);
        if (!fv)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    wf_log_reader *r = NULL;
    st = wf_log_reader_open(cfg->log, &r, err);
    if (!st)
        st = wf_data_collect_reader(cfg, r, reopen_file, (void *)cfg->log, fv, nf, ws, stats, err);
    wf_log_reader_free(r);
    if (st || !failures)
        free(fv);
    else {
        *failures = fv;
        if (n_failures)
            *n_failures = nf;
    }
    return st;
}

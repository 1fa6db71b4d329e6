/*
 * scores.csv read back (issue 14): results.json names it ("scores_file") instead of listing the
 * scores, so `whyflag report` reads every window's turbine, times, score, flag, label, component
 * and interpolation from it. The inverse of wf_results_write_scores_csv
 * (src/report/results_json.c): one record per line (a cell never holds a line break: control bytes
 * were written as '?'), RFC 4180 quoting, numbers that read back as the same double.
 *
 * The text cells were neutralised against CSV injection (a leading ' before = + - @ or a control
 * byte, control bytes as '?'), which a reader cannot undo alone; the exact turbine ids and
 * components are in results.json ("turbines", "failures"), so a cell is matched against the
 * neutralised form of those and replaced by the exact text (a cell that matches none is kept as
 * written, and the run id check of the caller then fails loudly).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "io/io_impl.h"

#define N_COLS 8 /* turbine_id,start,end,score,flagged,label,component,interpolated */

/* The cell wf_report_csv_field writes for s, without its RFC 4180 quotes (out >= 2 * WF_ID_MAX). */
static void neutral_form(const char *s, char *out, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    if (wf_csv_needs_lead(s))
        out[o++] = '\'';
    for (; *u && o + 1 < n; u++)
        out[o++] = (char)wf_csv_byte(*u);
    out[o] = '\0';
}

/* The exact text of a cell: the known text whose neutralised form it is, else the cell. */
static const char *exact(const char *cell, const char *const *known, int n_known) {
    char nf[2 * WF_ID_MAX + 2];
    for (int i = 0; i < n_known; i++) {
        neutral_form(known[i], nf, sizeof nf);
        if (!strcmp(nf, cell))
            return known[i];
    }
    return cell;
}

/* Split one line into at most N_COLS cells in place (quotes removed, "" -> "). Returns the number
 * of cells, or -1 on a malformed quote. */
static int split(char *line, char **cell, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return n + 1; /* more cells than asked: the caller only needs the first ones */
        char *o = p;
        cell[n++] = p;
        if (*p == '"') {
            char *q = p + 1;
            for (;;) {
                if (!*q)
                    return -1;
                if (*q == '"' && q[1] == '"') {
                    *o++ = '"';
                    q += 2;
                } else if (*q == '"') {
                    q++;
                    break;
                } else {
                    *o++ = *q++;
                }
            }
            if (*q && *q != ',')
                return -1;
            *o = '\0';
            if (!*q)
                return n;
            p = q + 1;
        } else {
            char *c = strchr(p, ',');
            if (!c)
                return n;
            *c = '\0';
            p = c + 1;
        }
    }
}

static int parse_int(const char *s, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno || x < -1000000 || x > 1000000)
        return 0;
    *v = (int)x;
    return 1;
}

wf_status wf_io_scores_csv_read(const char *path, int64_t n, const char *const *ids, int n_ids,
                                const char *const *components, int n_comp, wf_window *w,
                                double *scores, uint8_t *flagged, wf_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return wf_error_set(err, WF_ERR_IO,
                            "%s: cannot read the scores results.json names (\"scores_file\"): %s",
                            path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t row = 0, i = 0;
    wf_status st = WF_OK;
    /* the last cell of each text column and its exact text (copied: a cell lives in the line) */
    int have_id = 0, have_comp = 0;
    char id_cell[2 * WF_ID_MAX + 2] = "", comp_cell[2 * WF_ID_MAX + 2] = "";
    char id_exact[WF_ID_MAX] = "", comp_exact[WF_ID_MAX] = "";
    while (!st && (len = getline(&line, &cap, f)) >= 0) {
        row++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (row == 1) {
            static const char head[] =
                "turbine_id,start,end,score,flagged,label,component,interpolated";
            if (strncmp(line, head, sizeof head - 1) != 0 ||
                (line[sizeof head - 1] && line[sizeof head - 1] != ','))
                st = wf_error_set(err, WF_ERR_PARSE, "%s: line 1: expected the header \"%s\"", path,
                                  head);
            continue;
        }
        if (i == n) {
            st = wf_error_set(err, WF_ERR_PARSE,
                              "%s: line %lld: more rows than results.json's scores_count (%lld)",
                              path, (long long)row, (long long)n);
            break;
        }
        char *cell[N_COLS];
        int nc = split(line, cell, N_COLS);
        wf_window *x = &w[i];
        int flag = 0;
        char *end = NULL;
        if (nc < N_COLS) {
            st = wf_error_set(err, WF_ERR_PARSE, "%s: line %lld: expected %d cells", path,
                              (long long)row, N_COLS);
            break;
        }
        if (!have_id || strcmp(cell[0], id_cell) != 0) { /* rows come turbine by turbine */
            snprintf(id_cell, sizeof id_cell, "%s", cell[0]);
            snprintf(id_exact, sizeof id_exact, "%s", exact(cell[0], ids, n_ids));
            have_id = 1;
        }
        if (!have_comp || strcmp(cell[6], comp_cell) != 0) {
            snprintf(comp_cell, sizeof comp_cell, "%s", cell[6]);
            snprintf(comp_exact, sizeof comp_exact, "%s", exact(cell[6], components, n_comp));
            have_comp = 1;
        }
        x->index = i;
        memcpy(x->turbine_id, id_exact, sizeof x->turbine_id);
        memcpy(x->component, comp_exact, sizeof x->component);
        scores[i] = strtod(cell[3], &end);
        const int score_ok = cell[3][0] && !*end;
        const char *what = NULL;
        if (wf_time_parse_iso(cell[1], &x->start) != WF_OK)
            what = "start: expected an ISO-8601 time";
        else if (wf_time_parse_iso(cell[2], &x->end) != WF_OK)
            what = "end: expected an ISO-8601 time";
        else if (!score_ok)
            what = "score: expected a number";
        else if (!parse_int(cell[4], &flag) || flag < 0 || flag > 1)
            what = "flagged: expected 0 or 1";
        else if (!parse_int(cell[5], &x->label))
            what = "label: expected an integer";
        else if (!parse_int(cell[7], &x->interpolated))
            what = "interpolated: expected an integer";
        if (what) {
            st = wf_error_set(err, WF_ERR_PARSE, "%s: line %lld: %s", path, (long long)row, what);
            break;
        }
        flagged[i] = (uint8_t)flag;
        i++;
    }
    free(line);
    int rerr = ferror(f);
    fclose(f);
    if (!st && rerr)
        st = wf_error_set(err, WF_ERR_IO, "%s: read error", path);
    if (!st && row == 0)
        st = wf_error_set(err, WF_ERR_PARSE, "%s: empty (expected a header)", path);
    if (!st && i != n)
        st = wf_error_set(err, WF_ERR_PARSE,
                          "%s: %lld rows, but results.json's scores_count is %lld: the two files "
                          "are not of one run",
                          path, (long long)i, (long long)n);
    return st;
}

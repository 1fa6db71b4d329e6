/*
 * Guessing a log's layout for `whyflag init` (data.h: wf_log_guess): delimiter, decimal mark,
 * turbine and time columns, time format, cadence, channel columns and units, from the first
 * rows of the file. Every guess is explained in a note so the user can check it; what cannot be
 * guessed (no time column, no turbine column) is an error that says what the config needs.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "data/data_impl.h"

#define SAMPLE_BYTES (4 << 20) /* read at most this much */
#define SAMPLE_ROWS 20000
#define MAX_COLS 256

typedef struct line {
    const char *s;
    size_t n;
} line;

/* Split a line on delim (no quotes in SCADA exports; a quoted field keeps its delimiters). */
static int split(const char *s, size_t n, char delim, line *f, int max) {
    int k = 0;
    size_t a = 0;
    int q = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] == '"')
            q = !q;
        if (i == n || (s[i] == delim && !q)) {
            if (k < max) {
                size_t b = i;
                size_t x = a;
                while (x < b && (s[x] == ' ' || s[x] == '"'))
                    x++;
                while (b > x && (s[b - 1] == ' ' || s[b - 1] == '"'))
                    b--;
                f[k].s = s + x;
                f[k].n = b - x;
            }
            k++;
            a = i + 1;
        }
    }
    return k;
}

static void note(wf_log_guess *g, const char *fmt, const char *a, const char *b) {
    if (g->n_notes >= WF_GUESS_NOTES)
        return;
    snprintf(g->notes[g->n_notes++], sizeof g->notes[0], fmt, a, b);
}

/* Header cell -> UTF-8 (a Latin-1 byte such as the degree sign becomes its UTF-8 form). */
static void header_text(const line *f, char *out, size_t size) {
    size_t k = 0;
    int utf8 = wf_utf8_valid(f->s, f->n);
    for (size_t i = 0; i < f->n && k + 3 < size; i++) {
        unsigned char c = (unsigned char)f->s[i];
        if (c < 0x20)
            continue;
        if (c < 0x80 || utf8) {
            out[k++] = (char)c;
        } else {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[k] = '\0';
}

/* "Wind Speed (m/s)" -> name "wind_speed", unit "m/s". */
static void name_and_unit(const char *h, char *name, size_t nsize, char *unit, size_t usize) {
    unit[0] = '\0';
    const char *o = strpbrk(h, "([");
    size_t hn = o ? (size_t)(o - h) : strlen(h);
    if (o) {
        const char *c = strpbrk(o, ")]");
        size_t un = c ? (size_t)(c - o - 1) : strlen(o + 1);
        if (un >= usize)
            un = usize - 1;
        memcpy(unit, o + 1, un);
        unit[un] = '\0';
    }
    size_t k = 0;
    int us = 0;
    for (size_t i = 0; i < hn && k + 1 < nsize; i++) {
        unsigned char c = (unsigned char)h[i];
        if (isalnum(c)) {
            name[k++] = (char)tolower(c);
            us = 0;
        } else if (k && !us) {
            name[k++] = '_';
            us = 1;
        }
    }
    while (k && name[k - 1] == '_')
        k--;
    name[k] = '\0';
    if (!k)
        snprintf(name, nsize, "channel");
}

static int is_number(const line *f, char decimal) {
    float v;
    return f->n > 0 && wf_parse_float(f->s, f->n, decimal, &v) == 0;
}

static const char *const TIME_FORMATS[] = {
    "iso8601",        "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M", "%d %m %Y %H:%M:%S", "%d %m %Y %H:%M", "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", NULL};

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int match_name(const char *a, const char *b) {
    /* case- and punctuation-blind equality */
    for (;;) {
        while (*a && !isalnum((unsigned char)*a))
            a++;
        while (*b && !isalnum((unsigned char)*b))
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
}

wf_status wf_log_guess_file(const char *path, const char *const *model_channels, int n_model,
                            wf_log_guess *g, wf_error *err) {
    memset(g, 0, sizeof *g);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot open", path);
    char *buf = malloc(SAMPLE_BYTES + 1);
    if (!buf) {
        fclose(fp);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    size_t len = fread(buf, 1, SAMPLE_BYTES, fp);
    int whole = feof(fp);
    fclose(fp);
    buf[len] = '\0';
    if (!whole) { /* cut at the last full line */
        while (len && buf[len - 1] != '\n')
            len--;
        buf[len] = '\0';
    }
    /* lines (CRLF, LF or CR-only) */
    line *ln = malloc(sizeof *ln * (SAMPLE_ROWS + 1));
    line *f = malloc(sizeof *f * MAX_COLS);
    int64_t *times = malloc(sizeof *times * SAMPLE_ROWS);
    wf_status st = WF_OK;
    if (!ln || !f || !times) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    int nl = 0;
    for (size_t i = 0; i < len && nl <= SAMPLE_ROWS;) {
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j > i)
            ln[nl++] = (line){buf + i, j - i};
        if (j < len && buf[j] == '\r' && j + 1 < len && buf[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    if (nl < 3) {
        st = wf_error_set(err, WF_ERR_DATA,
                          "%s: %d line(s): need a header and at least two rows to guess from", path,
                          nl);
        goto done;
    }
    /* delimiter: the candidate that splits the header and the rows into the same number (> 1) */
    static const char delims[] = {',', ';', '\t', '|'};
    int best_cols = 0;
    for (int d = 0; d < 4; d++) {
        int c0 = split(ln[0].s, ln[0].n, delims[d], f, MAX_COLS), same = 1;
        for (int i = 1; i < nl && i < 200 && same; i++)
            same = split(ln[i].s, ln[i].n, delims[d], f, MAX_COLS) == c0;
        if (same && c0 > best_cols) {
            best_cols = c0;
            g->log.delimiter = delims[d];
        }
    }
    if (best_cols < 2 || best_cols > MAX_COLS) {
        st = wf_error_set(err, WF_ERR_DATA,
                          "%s: no delimiter (',', ';', tab, '|') splits the header and the first "
                          "rows into the same number of columns",
                          path);
        goto done;
    }
    int nc = best_cols;
    char d1[2] = {g->log.delimiter, 0}, ncs[16];
    snprintf(ncs, sizeof ncs, "%d", nc);
    note(g, "delimiter: '%s' (%s columns in the header and every sampled row)",
         g->log.delimiter == '\t' ? "\\t" : d1, ncs);
    /* decimal mark: ',' only when the delimiter is not ',' and numbers carry a comma */
    g->log.decimal = '.';
    if (g->log.delimiter != ',') {
        int comma = 0, dot = 0;
        for (int i = 1; i < nl && i < 200; i++) {
            int k = split(ln[i].s, ln[i].n, g->log.delimiter, f, MAX_COLS);
            for (int c = 0; c < k && c < MAX_COLS; c++) {
                comma += memchr(f[c].s, ',', f[c].n) != NULL && is_number(&f[c], ',');
                dot += memchr(f[c].s, '.', f[c].n) != NULL && is_number(&f[c], '.');
            }
        }
        if (comma > dot) {
            g->log.decimal = ',';
            note(g, "decimal mark: ',' (numbers such as 12,5)%s%s", "", "");
        }
    }
    /* header */
    split(ln[0].s, ln[0].n, g->log.delimiter, f, MAX_COLS);
    char(*head)[WF_ID_MAX] = calloc((size_t)nc, sizeof *head);
    int *numeric = calloc((size_t)nc, sizeof *numeric);
    const char **fmt = calloc((size_t)nc, sizeof *fmt);
    int *distinct = calloc((size_t)nc, sizeof *distinct);
    if (!head || !numeric || !fmt || !distinct) {
        free(head);
        free(numeric);
        free(fmt);
        free(distinct);
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int c = 0; c < nc; c++)
        header_text(&f[c], head[c], sizeof head[c]);
    /* per column: numeric? a time format every sampled value parses with? */
    int rows = nl - 1 < 500 ? nl - 1 : 500;
    for (int c = 0; c < nc; c++) {
        int nnum = 0, nval = 0;
        for (int i = 1; i <= rows; i++) {
            split(ln[i].s, ln[i].n, g->log.delimiter, f, MAX_COLS);
            if (!f[c].n)
                continue;
            nval++;
            nnum += is_number(&f[c], g->log.decimal);
        }
        numeric[c] = nval > 0 && nnum >= nval * 9 / 10;
        for (int k = 0; !numeric[c] && TIME_FORMATS[k] && !fmt[c]; k++) {
            int okc = 0, bad = 0;
            for (int i = 1; i <= rows && !bad; i++) {
                split(ln[i].s, ln[i].n, g->log.delimiter, f, MAX_COLS);
                int64_t t;
                if (!f[c].n)
                    continue;
                if (wf_parse_time(f[c].s, f[c].n, TIME_FORMATS[k], &t))
                    bad = 1;
                else
                    okc++;
            }
            if (!bad && okc > 0)
                fmt[c] = TIME_FORMATS[k];
        }
    }
    int tcol = -1, idcol = -1;
    for (int c = 0; c < nc && tcol < 0; c++)
        if (fmt[c])
            tcol = c;
    /* the turbine column: a non-numeric, non-time column, named like an id if possible */
    static const char *const id_names[] = {"turbine_id", "turbine", "wtg",  "wtg_id",
                                           "asset_id",   "asset",   "unit", "unit_id",
                                           "id",         "name",    NULL};
    for (int k = 0; id_names[k] && idcol < 0; k++)
        for (int c = 0; c < nc; c++)
            if (c != tcol && match_name(head[c], id_names[k])) {
                idcol = c;
                break;
            }
    for (int c = 0; c < nc && idcol < 0; c++)
        if (c != tcol && !numeric[c])
            idcol = c;
    if (tcol < 0) {
        st = wf_error_set(err, WF_ERR_DATA,
                          "%s: no column holds times in a format whyflag reads (ISO 8601 or a "
                          "pattern such as %%d.%%m.%%Y %%H:%%M); whyflag needs a time column: "
                          "add one, or set log.time_column and log.time_format by hand",
                          path);
    } else if (idcol < 0) {
        st = wf_error_set(err, WF_ERR_DATA,
                          "%s: no turbine id column (a text column such as turbine_id); "
                          "whyflag needs one: add a column with the turbine's id to every row",
                          path);
    }
    if (st) {
        free(head);
        free(numeric);
        free(fmt);
        free(distinct);
        goto done;
    }
    snprintf(g->log.time_column, sizeof g->log.time_column, "%s", head[tcol]);
    snprintf(g->log.time_format, sizeof g->log.time_format, "%s", fmt[tcol]);
    snprintf(g->log.turbine_column, sizeof g->log.turbine_column, "%s", head[idcol]);
    note(g, "time column: \"%s\", format %s", head[tcol], fmt[tcol]);
    note(g, "turbine column: \"%s\"%s", head[idcol], "");
    /* naive times are read as UTC: say so */
    {
        split(ln[1].s, ln[1].n, g->log.delimiter, f, MAX_COLS);
        const line *t = &f[tcol];
        int zone = t->n && (t->s[t->n - 1] == 'Z' || t->s[t->n - 1] == 'z' ||
                            (t->n > 6 && (t->s[t->n - 6] == '+' || t->s[t->n - 6] == '-')));
        g->naive_times = !zone;
        if (!zone)
            note(g,
                 "times carry no zone: they are read as UTC (log.timezone \"UTC\"); if the "
                 "log was written in local time, set log.timezone to that zone (e.g. "
                 "\"Europe/Berlin\")%s%s",
                 "", "");
    }
    /* cadence: the median step between consecutive rows of the same turbine */
    int nt = 0;
    char last_id[WF_ID_MAX] = "";
    int64_t last_t = 0;
    int have_last = 0;
    for (int i = 1; i < nl && nt < SAMPLE_ROWS; i++) {
        int k = split(ln[i].s, ln[i].n, g->log.delimiter, f, MAX_COLS);
        if (k != nc)
            continue;
        char id[WF_ID_MAX];
        wf_turbine_id_normalize(f[idcol].s, f[idcol].n, id);
        int64_t t;
        if (wf_parse_time(f[tcol].s, f[tcol].n, fmt[tcol], &t))
            continue;
        if (have_last && !strcmp(id, last_id) && t > last_t)
            times[nt++] = t - last_t;
        snprintf(last_id, sizeof last_id, "%s", id);
        last_t = t;
        have_last = 1;
    }
    if (nt > 0) {
        qsort(times, (size_t)nt, sizeof *times, cmp_i64);
        g->log.cadence_seconds = times[nt / 2];
        char s1[32];
        snprintf(s1, sizeof s1, "%lld", (long long)g->log.cadence_seconds);
        note(g, "cadence: %s s (the median step between a turbine's consecutive rows)%s", s1, "");
    } else {
        g->log.cadence_seconds = 600;
        note(g, "cadence: no two consecutive rows of one turbine in the sample; 600 s assumed%s%s",
             "", "");
    }
    /* channels: the numeric columns, or the model's channels matched by name, in its order */
    g->n_channels = 0;
    if (n_model > 0) {
        for (int m = 0; m < n_model && g->n_channels < WF_GUESS_MAX_CHANNELS; m++) {
            int hit = -1;
            for (int c = 0; c < nc && hit < 0; c++) {
                char nm[WF_ID_MAX], un[32];
                name_and_unit(head[c], nm, sizeof nm, un, sizeof un);
                if (c != tcol && c != idcol &&
                    (match_name(head[c], model_channels[m]) || match_name(nm, model_channels[m])))
                    hit = c;
            }
            if (hit < 0) {
                g->n_unmatched++;
                note(g, "the model's channel \"%s\" matches no column: set its column by hand%s",
                     model_channels[m], "");
            }
            wf_channel_config *ch = &g->channels[g->n_channels++];
            snprintf(ch->name, sizeof ch->name, "%s", model_channels[m]);
            char nm[WF_ID_MAX];
            if (hit >= 0) {
                snprintf(ch->column, sizeof ch->column, "%s", head[hit]);
                name_and_unit(head[hit], nm, sizeof nm, ch->unit, sizeof ch->unit);
            }
        }
    } else {
        for (int c = 0; c < nc && g->n_channels < WF_GUESS_MAX_CHANNELS; c++) {
            if (c == tcol || c == idcol || !numeric[c])
                continue;
            wf_channel_config *ch = &g->channels[g->n_channels++];
            snprintf(ch->column, sizeof ch->column, "%s", head[c]);
            name_and_unit(head[c], ch->name, sizeof ch->name, ch->unit, sizeof ch->unit);
        }
        if (g->n_channels == 0)
            st = wf_error_set(err, WF_ERR_DATA,
                              "%s: no numeric column to use as a channel: whyflag needs sensor "
                              "channels (numbers per row); is this an event or alarm log?",
                              path);
    }
    free(head);
    free(numeric);
    free(fmt);
    free(distinct);
done:
    free(buf);
    free(ln);
    free(f);
    free(times);
    return st;
}

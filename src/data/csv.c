/*
 * Streaming SCADA log reader: RFC 4180 records (quoted fields with delimiters, doubled quotes and
 * newlines inside), LF or CRLF, UTF-8 with or without BOM, a Latin-1 header converted to UTF-8,
 * configurable delimiter and decimal comma. A big read buffer (8 MB) is refilled in place; only
 * the fields the config needs are parsed (turbine, time, channels), with the hand-written number
 * and time parsers of parse.c. Non-goals: multi-byte delimiters, encodings other than UTF-8 and
 * Latin-1, comment lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/text.h"
#include "data/data_impl.h"

#define DEFAULT_BUF (8u << 20)
#define MAX_RECORD (1u << 20) /* a record longer than this is a runaway quoted field */
/* A quoted field may hold line ends, but a SCADA field never spans many lines: a quote that is
 * still open after this many physical lines, or at the end of the file, is a stray quote. The
 * record then ends at its first line end and is a malformed row (the rows after it are read). */
#define MAX_QUOTED_LINES 8

enum { ROLE_IGNORE = -1, ROLE_TURBINE = -2, ROLE_TIME = -3 };

struct wf_log_reader {
    int fd;          /* -1 for a memory reader */
    const char *mem; /* memory reader: the data */
    size_t mem_len, mem_pos;
    char *buf; /* read buffer (file reader) or a private copy window (memory reader) */
    size_t cap, beg, end;
    int eof;
    int64_t line;     /* physical line number of buf[beg] */
    int64_t consumed; /* bytes consumed (records handed out + header) */
    char name[256];   /* file name used in messages (basename) */
    char delim, decimal;
    char time_format[64];
    int n_fields; /* header field count */
    int n_roles;
    int *role; /* (n_roles) role of each field index */
    int C;
    float *values;   /* (C) */
    uint8_t *state;  /* (C) */
    int *column;     /* (C) 1-based */
    int runaway;     /* the last record had a stray quote (cut at its first line end) */
    wf_hasher *hash; /* SHA-256 of every byte read, as read (the bytes parsed) */
    wf_tz *tz;       /* log.timezone for naive times; NULL for UTC (no conversion) */
};

/* ---------------------------------------------------------------- small helpers */

void wf_data_note(wf_data_stats *st, const char *fmt, ...) {
    if (!st)
        return;
    if (st->n_notes >= WF_DATA_NOTES_MAX) {
        st->notes_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->notes[st->n_notes], WF_REASON_MAX, fmt, ap);
    va_end(ap);
    st->n_notes++;
}

/* Latin-1 bytes -> UTF-8 (out must hold 2n + 1). */
static void latin1_to_utf8(const unsigned char *s, size_t n, char *out) {
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            *o++ = (char)s[i];
        } else {
            *o++ = (char)(0xC0 | (s[i] >> 6));
            *o++ = (char)(0x80 | (s[i] & 0x3F));
        }
    }
    *o = '\0';
}

/* ---------------------------------------------------------------- buffer */

static wf_status refill(wf_log_reader *r, wf_error *err) {
    if (r->eof)
        return WF_OK;
    if (r->beg > 0) {
        memmove(r->buf, r->buf + r->beg, r->end - r->beg);
        r->end -= r->beg;
        r->beg = 0;
    }
    if (r->end == r->cap) {
        if (r->cap >= MAX_RECORD + DEFAULT_BUF)
            return wf_error_set(err, WF_ERR_PARSE,
                                "%s:%lld: record longer than %u bytes (unterminated quoted field?)",
                                r->name, (long long)r->line, MAX_RECORD);
        size_t ncap = r->cap * 2;
        char *nb = realloc(r->buf, ncap);
        if (!nb)
            return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", r->name);
        r->buf = nb;
        r->cap = ncap;
    }
    if (r->fd < 0) {
        size_t k = r->mem_len - r->mem_pos;
        if (k > r->cap - r->end)
            k = r->cap - r->end;
        memcpy(r->buf + r->end, r->mem + r->mem_pos, k);
        wf_hasher_update(r->hash, r->buf + r->end, k);
        r->mem_pos += k;
        r->end += k;
        if (r->mem_pos == r->mem_len)
            r->eof = 1;
        return WF_OK;
    }
    for (;;) {
        ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return wf_error_set(err, WF_ERR_IO, "%s: read error: %s", r->name, strerror(errno));
        }
        if (got == 0)
            r->eof = 1;
        wf_hasher_update(r->hash, r->buf + r->end, (size_t)got);
        r->end += (size_t)got;
        return WF_OK;
    }
}

/* Find the next record: [*rs, *re) without its line end; *lines = physical lines it spans.
 * Returns 1 if a record was found, 0 at end of input, -1 on error. */
static int next_record(wf_log_reader *r, char **rs, char **re, int64_t *lines, wf_error *err) {
    for (;;) {
        char *p = r->buf + r->beg, *e = r->buf + r->end;
        if (p == e) {
            if (r->eof)
                return 0;
            if (refill(r, err))
                return -1;
            continue;
        }
        char *nl = memchr(p, '\n', (size_t)(e - p));
        char *lim = nl ? nl : e;
        if (!memchr(p, '"', (size_t)(lim - p))) {
            if (nl || r->eof) {
                *rs = p;
                *re = lim;
                *lines = 1;
                r->consumed += (nl ? nl + 1 : e) - p;
                r->beg = (size_t)((nl ? nl + 1 : e) - r->buf);
                return 1;
            }
            if (refill(r, err))
                return -1;
            continue;
        }
        /* quote-aware scan: a quote opens a field only at its start */
        int in = 0, at_start = 1, need_more = 0, runaway = 0;
        int64_t nlines = 1;
        char *s = p;
        for (; s < e; s++) {
            char c = *s;
            if (in) {
                if (c == '"') {
                    if (s + 1 == e && !r->eof) {
                        need_more = 1;
                        break;
                    }
                    if (s + 1 < e && s[1] == '"')
                        s++;
                    else
                        in = 0;
                } else if (c == '\n' && ++nlines > MAX_QUOTED_LINES) {
                    runaway = 1;
                    break;
                }
            } else if (c == '\n') {
                break;
            } else if (c == '"' && at_start) {
                in = 1;
                at_start = 0;
            } else {
                at_start = (c == r->delim);
            }
        }
        if (runaway || (in && s == e && r->eof)) {
            /* a stray quote: the record ends at its first line end */
            r->runaway = 1;
            char *end = nl ? nl : e;
            *rs = p;
            *re = end;
            *lines = 1;
            r->consumed += (nl ? nl + 1 : e) - p;
            r->beg = (size_t)((nl ? nl + 1 : e) - r->buf);
            return 1;
        }
        if (!need_more && (s < e || r->eof)) {
            *rs = p;
            *re = s;
            *lines = nlines;
            r->consumed += (s < e ? s + 1 : e) - p;
            r->beg = (size_t)((s < e ? s + 1 : e) - r->buf);
            return 1;
        }
        if ((size_t)(e - p) > MAX_RECORD)
            return wf_error_set(err, WF_ERR_PARSE,
                                "%s:%lld: record longer than %u bytes (unterminated quoted field?)",
                                r->name, (long long)r->line, MAX_RECORD),
                   -1;
        if (refill(r, err))
            return -1;
    }
}

/* Split [s, re) into fields, unquoting in place. Calls back per field with its index. */
typedef struct field {
    char *p;
    size_t n;
} field;

/* Parses one field starting at *sp; returns it and advances *sp to the delimiter or re. */
static field take_field(char **sp, char *re, char delim) {
    char *s = *sp;
    field f;
    if (s < re && *s == '"') {
        char *w = s;
        f.p = s;
        s++;
        while (s < re) {
            if (*s == '"') {
                if (s + 1 < re && s[1] == '"') {
                    *w++ = '"';
                    s += 2;
                } else {
                    s++;
                    break;
                }
            } else {
                *w++ = *s++;
            }
        }
        while (s < re && *s != delim) /* text after the closing quote is kept literally */
            *w++ = *s++;
        f.n = (size_t)(w - f.p);
    } else {
        char *d = memchr(s, delim, (size_t)(re - s));
        char *fe = d ? d : re;
        f.p = s;
        f.n = (size_t)(fe - s);
        s = fe;
    }
    *sp = s;
    return f;
}

/* ---------------------------------------------------------------- open */

static void set_name(wf_log_reader *r, const char *path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    if (n >= sizeof r->name)
        n = sizeof r->name - 1;
    memcpy(r->name, base, n);
    r->name[n] = '\0';
}

static wf_status read_header(wf_log_reader *r, const wf_log_config *log, wf_error *err) {
    /* BOM */
    while (r->end - r->beg < 3 && !r->eof)
        if (refill(r, err))
            return err ? err->status : WF_ERR_IO;
    if (r->end - r->beg >= 3 && !memcmp(r->buf + r->beg, "\xEF\xBB\xBF", 3)) {
        r->beg += 3;
        r->consumed += 3;
    }
    char *rs, *re;
    int64_t lines;
    int k;
    do { /* skip blank lines before the header */
        k = next_record(r, &rs, &re, &lines, err);
        if (k < 0)
            return err ? err->status : WF_ERR_PARSE;
        if (k == 0)
            return wf_error_set(err, WF_ERR_DATA, "%s: empty file (no header line)", r->name);
        r->line += lines;
        if (re > rs && re[-1] == '\r')
            re--;
    } while (re == rs);
    int hdr_line = (int)(r->line - lines);
    /* split the header */
    int nf = 0, capf = 16;
    char **names = calloc((size_t)capf, sizeof *names);
    if (!names)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    wf_status st = WF_OK;
    int latin1 = !wf_utf8_valid(rs, (size_t)(re - rs));
    char *s = rs;
    for (;;) {
        field f = take_field(&s, re, r->delim);
        while (f.n && (f.p[0] == ' ' || f.p[0] == '\t')) {
            f.p++;
            f.n--;
        }
        while (f.n && (f.p[f.n - 1] == ' ' || f.p[f.n - 1] == '\t'))
            f.n--;
        if (nf == capf) {
            char **nn = realloc(names, sizeof *names * (size_t)capf * 2);
            if (!nn) {
                st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                goto done;
            }
            names = nn;
            capf *= 2;
        }
        names[nf] = malloc(2 * f.n + 1);
        if (!names[nf]) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (latin1) {
            latin1_to_utf8((const unsigned char *)f.p, f.n, names[nf]);
        } else {
            memcpy(names[nf], f.p, f.n);
            names[nf][f.n] = '\0';
        }
        nf++;
        if (s < re && *s == r->delim) {
            s++;
            continue;
        }
        break;
    }
    r->n_fields = nf;
    r->n_roles = nf;
    r->role = malloc(sizeof(int) * (size_t)nf);
    if (!r->role) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < nf; i++)
        r->role[i] = ROLE_IGNORE;
    /* match configured columns */
    struct {
        const char *want, *key;
        int role;
    } need[3] = {{log->turbine_column, "log.turbine_column", ROLE_TURBINE},
                 {log->time_column, "log.time_column", ROLE_TIME},
                 {NULL, NULL, 0}};
    for (int q = 0; q < 2 + r->C; q++) {
        const char *want = q < 2 ? need[q].want : log->channels[q - 2].column;
        char keybuf[64];
        const char *key = need[q < 2 ? q : 2].key;
        if (q >= 2) {
            snprintf(keybuf, sizeof keybuf, "log.channels[%d].column", q - 2);
            key = keybuf;
        }
        int found = -1;
        for (int i = 0; i < nf; i++) {
            if (!strcmp(names[i], want)) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            int best = -1, bd = 4;
            for (int i = 0; i < nf; i++) {
                int d = wf_edit_distance(names[i], want, 3);
                if (d < bd) {
                    bd = d;
                    best = i;
                }
            }
            char hint[160] = "";
            if (best >= 0)
                snprintf(hint, sizeof hint, " (did you mean \"%.100s\"?)", names[best]);
            st = wf_error_set(err, WF_ERR_DATA,
                              "%s:%d: column \"%s\" (config key %s) not found in the header "
                              "(%d columns)%s",
                              r->name, hdr_line, want, key, nf, hint);
            goto done;
        }
        if (q < 2) {
            if (r->role[found] != ROLE_IGNORE) {
                st = wf_error_set(err, WF_ERR_CONFIG,
                                  "%s: log.turbine_column and log.time_column both name column "
                                  "\"%s\"",
                                  r->name, want);
                goto done;
            }
            r->role[found] = need[q].role;
        } else {
            if (r->role[found] == ROLE_TURBINE || r->role[found] == ROLE_TIME) {
                st = wf_error_set(err, WF_ERR_CONFIG,
                                  "%s: %s names column \"%s\", which is the turbine or time "
                                  "column",
                                  r->name, key, want);
                goto done;
            }
            r->column[q - 2] = found + 1;
            if (r->role[found] == ROLE_IGNORE)
                r->role[found] = q - 2;
        }
    }
done:
    for (int i = 0; i < nf; i++)
        free(names[i]);
    free(names);
    return st;
}

static wf_status open_common(wf_log_reader *r, const wf_log_config *log, wf_error *err) {
    r->delim = log->delimiter ? log->delimiter : ',';
    r->decimal = log->decimal ? log->decimal : '.';
    snprintf(r->time_format, sizeof r->time_format, "%s",
             log->time_format[0] ? log->time_format : "iso8601");
    r->line = 1;
    if (log->timezone[0]) {
        wf_status st = wf_tz_load(log->timezone, &r->tz, err);
        if (st) {
            wf_error_prefix(err, "log.timezone: ");
            return st;
        }
        if (wf_tz_is_utc(r->tz)) { /* no conversion: the fast path */
            wf_tz_free(r->tz);
            r->tz = NULL;
        }
    }
    r->C = log->n_channels;
    if (r->C <= 0)
        return wf_error_set(err, WF_ERR_CONFIG, "log.channels: no channels configured");
    r->values = malloc(sizeof(float) * (size_t)r->C);
    r->state = malloc((size_t)r->C);
    r->column = calloc((size_t)r->C, sizeof(int));
    if (!r->values || !r->state || !r->column || !r->buf)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory opening the log");
    return read_header(r, log, err);
}

wf_status wf_log_reader_open_ex(const wf_log_config *log, size_t buf_size, wf_log_reader **out,
                                wf_error *err) {
    *out = NULL;
    wf_log_reader *r = calloc(1, sizeof *r);
    if (!r)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    set_name(r, log->path);
    if (!(r->hash = wf_hasher_new())) {
        free(r);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    r->fd = open(log->path, O_RDONLY | O_NONBLOCK); /* a FIFO must not block the open */
    if (r->fd < 0) {
        wf_status st = wf_error_set(err, WF_ERR_IO, "%s: cannot open the log (log.path): %s",
                                    log->path, strerror(errno));
        wf_hasher_free(r->hash);
        free(r);
        return st;
    }
    struct stat sb;
    if (fstat(r->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        /* a FIFO or device would hang or be read once only (the fallback pass and the input
         * digest read the log again) */
        wf_status st = wf_error_set(err, WF_ERR_IO,
                                    "%s: the log (log.path) is not a regular file (a FIFO, "
                                    "device or folder); copy it to a file first",
                                    log->path);
        close(r->fd);
        wf_hasher_free(r->hash);
        free(r);
        return st;
    }
    fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) & ~O_NONBLOCK);
    r->cap = buf_size ? buf_size : DEFAULT_BUF;
    if (r->cap < 16)
        r->cap = 16;
    r->buf = malloc(r->cap);
    wf_status st = open_common(r, log, err);
    if (st) {
        wf_log_reader_free(r);
        return st;
    }
    *out = r;
    return WF_OK;
}

wf_status wf_log_reader_open(const wf_log_config *log, wf_log_reader **out, wf_error *err) {
    return wf_log_reader_open_ex(log, 0, out, err);
}

wf_status wf_log_reader_open_mem(const wf_log_config *log, const char *data, size_t len,
                                 const char *name, wf_log_reader **out, wf_error *err) {
    *out = NULL;
    wf_log_reader *r = calloc(1, sizeof *r);
    if (!r)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    set_name(r, name ? name : "<memory>");
    r->fd = -1;
    if (!(r->hash = wf_hasher_new())) {
        free(r);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    r->mem = data;
    r->mem_len = len;
    r->cap = 64; /* small on purpose: memory readers exercise the refill paths */
    r->buf = malloc(r->cap);
    if (len == 0)
        r->eof = 1;
    wf_status st = open_common(r, log, err);
    if (st) {
        wf_log_reader_free(r);
        return st;
    }
    *out = r;
    return WF_OK;
}

void wf_log_reader_free(wf_log_reader *r) {
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->role);
    free(r->values);
    free(r->state);
    free(r->column);
    wf_hasher_free(r->hash);
    wf_tz_free(r->tz);
    free(r);
}

int wf_log_reader_digest(const wf_log_reader *r, char hex[65]) {
    hex[0] = '\0';
    if (!r->eof || r->beg != r->end)
        return 0; /* not read to its end */
    wf_hasher_hex(r->hash, hex);
    return 1;
}

int64_t wf_log_reader_bytes(const wf_log_reader *r) {
    return r->consumed;
}

const char *wf_log_reader_name(const wf_log_reader *r) {
    return r->name;
}

/* ---------------------------------------------------------------- rows */

static void show(char *out, size_t size, const char *p, size_t n) {
    size_t k = n < 40 ? n : 40;
    size_t j = 0;
    for (size_t i = 0; i < k && j + 1 < size; i++)
        out[j++] = (p[i] >= 32 && p[i] < 127) ? p[i] : '?';
    out[j] = '\0';
    if (n > k && j + 4 < size)
        strcat(out, "...");
}

wf_status wf_log_reader_next(wf_log_reader *r, wf_log_row *row, int *done, wf_error *err) {
    char *rs, *re;
    int64_t lines;
    for (;;) {
        r->runaway = 0;
        int k = next_record(r, &rs, &re, &lines, err);
        if (k < 0)
            return err ? err->status : WF_ERR_PARSE;
        if (k == 0) {
            *done = 1;
            return WF_OK;
        }
        row->line = r->line;
        r->line += lines;
        if (re > rs && re[-1] == '\r')
            re--;
        if (re > rs)
            break;
    }
    *done = 0;
    row->turbine = "";
    row->turbine_len = 0;
    row->time_ok = 0;
    row->time = 0;
    row->values = r->values;
    row->state = r->state;
    row->column = r->column;
    row->problem[0] = '\0';
    row->problem_column = 0;
    row->time_local = 0;
    int C = r->C;
    for (int c = 0; c < C; c++) {
        r->values[c] = NAN;
        r->state[c] = WF_CELL_EMPTY;
    }
    int have_time = 0, have_turbine = 0;
    char txt[64];
    int f = 0;
    char *s = rs;
    for (;;) {
        field fl = take_field(&s, re, r->delim);
        int role = f < r->n_roles ? r->role[f] : ROLE_IGNORE;
        if (role >= 0) {
            const char *p = fl.p;
            size_t n = fl.n;
            while (n && (*p == ' ' || *p == '\t')) {
                p++;
                n--;
            }
            if (n == 0) {
                r->state[role] = WF_CELL_EMPTY;
            } else {
                float v;
                if (wf_parse_float(p, n, r->decimal, &v)) {
                    r->state[role] = WF_CELL_BAD;
                    if (!row->problem[0]) {
                        show(txt, sizeof txt, p, n);
                        snprintf(row->problem, sizeof row->problem, "unparsable number \"%s\"",
                                 txt);
                        row->problem_column = f + 1;
                    }
                } else if (!isfinite(v)) {
                    r->state[role] = WF_CELL_NONFINITE;
                } else {
                    r->values[role] = v;
                    r->state[role] = WF_CELL_OK;
                }
            }
        } else if (role == ROLE_TURBINE) {
            const char *p = fl.p;
            size_t n = fl.n;
            while (n && (*p == ' ' || *p == '\t')) {
                p++;
                n--;
            }
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            row->turbine = p;
            row->turbine_len = n;
            have_turbine = 1;
        } else if (role == ROLE_TIME) {
            have_time = 1;
            int zoned, amb;
            if (wf_parse_time_zoned(fl.p, fl.n, r->time_format, &row->time, &zoned) == 0) {
                if (zoned || !r->tz) {
                    row->time_ok = 1;
                } else if (wf_tz_row_time(r->tz, row->time, &row->time, &amb, row->problem,
                                          sizeof row->problem) == 0) {
                    row->time_ok = 1;
                    row->time_local = amb ? WF_TZ_AMBIGUOUS : 0;
                } else {
                    row->time_local = WF_TZ_NONEXISTENT;
                    row->problem_column = f + 1;
                }
            } else {
                show(txt, sizeof txt, fl.p, fl.n);
                snprintf(row->problem, sizeof row->problem, "unparsable time \"%s\" (format %s)",
                         txt, r->time_format);
                row->problem_column = f + 1;
            }
        }
        f++;
        if (s < re && *s == r->delim) {
            s++;
            continue;
        }
        break;
    }
    row->fields = f;
    row->malformed = (f != r->n_fields);
    if (!have_turbine || !have_time) {
        row->time_ok = 0;
    }
    /* two channels mapped to the same column: copy from the first */
    for (int c = 0; c < C; c++) {
        int fi = r->column[c] - 1;
        if (r->role[fi] != c) {
            r->values[c] = r->values[r->role[fi]];
            r->state[c] = r->state[r->role[fi]];
        }
    }
    if (row->malformed) {
        snprintf(row->problem, sizeof row->problem, "%d fields, expected %d%s", f, r->n_fields,
                 f < r->n_fields ? " (truncated row?)" : "");
        row->problem_column = 0;
        row->time_local = 0; /* counted as a wrong field count */
    }
    if (r->runaway) {
        row->malformed = 1;
        snprintf(row->problem, sizeof row->problem,
                 "unterminated quoted field (a quote still open after %d lines or at the end of "
                 "the file): the row is read to its line end and rejected",
                 MAX_QUOTED_LINES);
        row->problem_column = 0;
        row->time_local = 0;
    }
    return WF_OK;
}

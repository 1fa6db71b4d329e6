/*
 * The failure log (turbine_id,failure_time,component) and window labels.
 * Label rule (issue 3): 1 iff a failure F of the same turbine has end < F <= end + horizon.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "data/data_impl.h"

static int cmp_failure(const void *pa, const void *pb) {
    const wf_failure *a = pa, *b = pb;
    int c = strcmp(a->turbine_id, b->turbine_id);
    if (c)
        return c;
    return a->time < b->time ? -1 : a->time > b->time;
}

/* Split one line (no quotes support needed beyond trimming; failure logs are tiny and simple,
 * but quoted fields are handled by stripping one pair of quotes). */
static int split(char *line, char delim, char **f, int maxf) {
    int n = 0;
    char *s = line;
    for (;;) {
        char *d = strchr(s, delim);
        if (d)
            *d = '\0';
        char *e = s + strlen(s);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (e - s >= 2 && *s == '"' && e[-1] == '"') {
            e[-1] = '\0';
            s++;
        }
        if (n < maxf)
            f[n] = s;
        n++;
        if (!d)
            break;
        s = d + 1;
    }
    return n;
}

/* Parse the failure log from f (closed here). */
static wf_status parse_failures(FILE *f, const char *path, const wf_log_config *log,
                                wf_failure **out, int64_t *n_out, wf_error *err) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    char line[4096];
    wf_failure *v = NULL;
    int64_t n = 0, cap = 0;
    int lineno = 0, cid = -1, ctime = -1, ccomp = -1, nf_hdr = 0;
    char delim = ',';
    wf_status st = WF_OK;
    wf_tz *tz = NULL; /* log.timezone for naive failure times, as for the log's */
    if (log && log->timezone[0]) {
        st = wf_tz_load(log->timezone, &tz, err);
        if (st) {
            wf_error_prefix(err, "log.timezone: ");
            fclose(f);
            return st;
        }
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        if (lineno == 1 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3;
        size_t len = strlen(p);
        while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
            p[--len] = '\0';
        if (!len)
            continue;
        char *fl[64];
        if (cid < 0) {
            if (log && log->delimiter && log->delimiter != ',' && strchr(p, log->delimiter) &&
                !strchr(p, ','))
                delim = log->delimiter;
            nf_hdr = split(p, delim, fl, 64);
            for (int i = 0; i < nf_hdr && i < 64; i++) {
                if (!strcmp(fl[i], "turbine_id"))
                    cid = i;
                else if (!strcmp(fl[i], "failure_time"))
                    ctime = i;
                else if (!strcmp(fl[i], "component"))
                    ccomp = i;
            }
            if (cid < 0 || ctime < 0) {
                st = wf_error_set(err, WF_ERR_DATA,
                                  "%s:%d: header must name the columns turbine_id and "
                                  "failure_time (and optionally component)",
                                  name, lineno);
                goto fail;
            }
            continue;
        }
        int nf = split(p, delim, fl, 64);
        if (nf != nf_hdr) {
            st = wf_error_set(err, WF_ERR_DATA, "%s:%d: %d fields, expected %d", name, lineno, nf,
                              nf_hdr);
            goto fail;
        }
        int64_t t;
        int zoned = 0, amb;
        char why[160];
        if (wf_parse_time_zoned(fl[ctime], strlen(fl[ctime]), "iso8601", &t, &zoned) &&
            (!log ||
             wf_parse_time_zoned(fl[ctime], strlen(fl[ctime]), log->time_format, &t, &zoned))) {
            st = wf_error_set(err, WF_ERR_DATA,
                              "%s:%d:%d: unparsable failure_time \"%.40s\" (expected ISO 8601%s%s)",
                              name, lineno, ctime + 1, fl[ctime], log ? " or " : "",
                              log ? log->time_format : "");
            goto fail;
        }
        if (!zoned && tz && wf_tz_row_time(tz, t, &t, &amb, why, sizeof why)) {
            st = wf_error_set(err, WF_ERR_DATA, "%s:%d:%d: failure_time \"%.40s\": %s", name,
                              lineno, ctime + 1, fl[ctime], why);
            goto fail;
        }
        if (n == cap) {
            int64_t nc = cap ? cap * 2 : 16;
            wf_failure *nv = realloc(v, sizeof *nv * (size_t)nc);
            if (!nv) {
                st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                goto fail;
            }
            v = nv;
            cap = nc;
        }
        memset(&v[n], 0, sizeof v[n]);
        /* the one turbine-id rule, as for the log's ids */
        wf_turbine_id_normalize(fl[cid], strlen(fl[cid]), v[n].turbine_id);
        v[n].time = t;
        if (ccomp >= 0)
            snprintf(v[n].component, sizeof v[n].component, "%s", fl[ccomp]);
        n++;
    }
    if (ferror(f)) {
        st = wf_error_set(err, WF_ERR_IO, "%s: read error", name);
        goto fail;
    }
    if (cid < 0) {
        st = wf_error_set(err, WF_ERR_DATA, "%s: empty failure log (no header line)", name);
        goto fail;
    }
    fclose(f);
    wf_tz_free(tz);
    if (n)
        qsort(v, (size_t)n, sizeof *v, cmp_failure);
    *out = v;
    *n_out = n;
    return WF_OK;
fail:
    fclose(f);
    wf_tz_free(tz);
    free(v);
    return st;
}

wf_status wf_failures_read_digest(const char *path, const wf_log_config *log, wf_failure **out,
                                  int64_t *n_out, char sha256_hex[65], wf_error *err) {
    *out = NULL;
    *n_out = 0;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return wf_error_set(err, WF_ERR_IO,
                            "%s: the failure log (failures.path) is not a regular file (a FIFO, "
                            "device or folder)",
                            path);
    char *buf = NULL;
    size_t len = 0;
    wf_status st = wf_file_read_all(path, &buf, &len, err);
    if (st) {
        wf_error_prefix(err, "failures.path: ");
        return st;
    }
    if (sha256_hex)
        wf_sha256_hex(buf, len, sha256_hex); /* the digest of exactly the bytes parsed */
    FILE *f = len ? fmemopen(buf, len, "rb") : NULL;
    if (!f) {
        free(buf);
        if (!len)
            return wf_error_set(err, WF_ERR_DATA, "%s: empty failure log (no header line)", path);
        return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory", path);
    }
    st = parse_failures(f, path, log, out, n_out, err);
    free(buf);
    return st;
}

wf_status wf_failures_read(const char *path, const wf_log_config *log, wf_failure **out,
                           int64_t *n_out, wf_error *err) {
    return wf_failures_read_digest(path, log, out, n_out, NULL, err);
}

int wf_window_label(const wf_failure *failures, int64_t n_failures, double horizon_hours,
                    const char *turbine_id, int64_t end, char *component) {
    if (component)
        component[0] = '\0';
    if (!failures)
        return -1;
    int64_t horizon = llround(horizon_hours * 3600.0);
    /* lower bound of (turbine_id, end + 1) */
    int64_t lo = 0, hi = n_failures;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(failures[mid].turbine_id, turbine_id);
        if (c < 0 || (c == 0 && failures[mid].time <= end))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n_failures && !strcmp(failures[lo].turbine_id, turbine_id) &&
        failures[lo].time <= end + horizon) {
        if (component)
            snprintf(component, WF_ID_MAX, "%s", failures[lo].component);
        return 1;
    }
    return 0;
}

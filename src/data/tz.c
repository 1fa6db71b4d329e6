/*
 * Time zones for naive log timestamps (log.timezone): an IANA name read from the system's TZif
 * files (RFC 8536: v1, v2 and v3, the 64-bit data when present, and the POSIX TZ footer for
 * instants after the last transition), or a fixed offset ("UTC", "+02:00", "-0530", "+02").
 * Nothing here touches the process environment (no setenv("TZ"), no tzset, no localtime): the
 * file is read from $TZDIR or /usr/share/zoneinfo and evaluated by hand.
 *
 * Local time to UTC: a wall-clock time L (seconds as if it were UTC) maps to the instants u with
 * u + offset(u) = L. Every offset the zone ever uses is a candidate o, and u = L - o is a solution
 * iff offset(L - o) = o; that is exact whatever the transitions. No solution: L does not exist
 * (skipped by a clock change); two: L is ambiguous (the repeated hour) and the earlier instant is
 * taken (Python's fold=0).
 * Non-goals: leap-second ("right/") zones, which are refused; local time names (abbreviations).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_impl.h"

#define TZ_MAX_FILE (1 << 20) /* the biggest TZif file in tzdata is under 100 KB */
#define TZ_MAX_TYPES 256
#define DEFAULT_TZDIR "/usr/share/zoneinfo"

/* A date rule of the POSIX TZ footer: Jn (1..365, Feb 29 never counted), n (0..365) or
 * Mm.w.d (day d of week w of month m; w = 5: the last), at `time` seconds of local time. */
typedef struct rule_date {
    char kind; /* 'J', 'N', 'M' */
    int a, b, c;
    int32_t time;
} rule_date;

typedef struct posix_rule {
    int32_t std_off, dst_off; /* UT offsets (east positive), unlike the string's sign */
    int has_dst;
    rule_date start, end;
} posix_rule;

struct wf_tz {
    char name[64];
    int fixed; /* a fixed offset (no file) */
    int32_t fixed_off;
    int64_t n;      /* transitions */
    int64_t *trans; /* (n) UTC seconds, ascending */
    uint8_t *idx;   /* (n) type after each transition */
    int ntypes;
    int32_t off[TZ_MAX_TYPES]; /* UT offset of each type */
    int has_rule;              /* the footer rule applies after the last transition */
    posix_rule rule;
    int n_offsets; /* every distinct offset the zone uses (candidates for local -> UTC) */
    int32_t offsets[TZ_MAX_TYPES + 2];
};

/* ---------------------------------------------------------------- calendar */

/* Howard Hinnant's civil_from_days: days since 1970-01-01 -> year, month, day. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch, as if local time were UTC, of rule date r in year y. */
static int64_t rule_local(const rule_date *r, int64_t y) {
    int64_t days;
    if (r->kind == 'J') { /* 1..365, February 29 is never counted */
        days = wf_days_from_civil(y, 1, 1) + r->a - 1;
        if (is_leap(y) && r->a >= 60)
            days++;
    } else if (r->kind == 'N') { /* 0..365 */
        days = wf_days_from_civil(y, 1, 1) + r->a;
    } else { /* Mm.w.d */
        int m = r->a, w = r->b, dow = r->c;
        int64_t first = wf_days_from_civil(y, m, 1);
        int wd1 = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday (4) */
        int day = 1 + (dow - wd1 + 7) % 7;        /* the first such weekday */
        static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int ndays = dm[m - 1] + (m == 2 && is_leap(y));
        day += 7 * (w - 1);
        while (day > ndays)
            day -= 7;
        days = first + day - 1;
    }
    return days * 86400 + r->time;
}

static int32_t rule_offset(const posix_rule *p, int64_t utc) {
    if (!p->has_dst)
        return p->std_off;
    int64_t y;
    int m, d;
    civil_from_days(floor_div(utc + p->std_off, 86400), &y, &m, &d);
    int64_t s = rule_local(&p->start, y) - p->std_off; /* DST starts in standard time */
    int64_t e = rule_local(&p->end, y) - p->dst_off;   /* and ends in daylight time */
    if (s < e)
        return (utc >= s && utc < e) ? p->dst_off : p->std_off;
    /* southern hemisphere: daylight time spans the new year */
    return (utc >= e && utc < s) ? p->std_off : p->dst_off;
}

/* ---------------------------------------------------------------- POSIX TZ string */

static int parse_num(const char **sp, int maxd, int *out) {
    const char *s = *sp;
    int v = 0, k = 0;
    while (k < maxd && *s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        s++;
        k++;
    }
    if (!k)
        return -1;
    *sp = s;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hours up to max_h; seconds into *out (sign applied). */
static int parse_hms(const char **sp, int max_h, int32_t *out) {
    const char *s = *sp;
    int sign = 1, h, mi = 0, se = 0;
    if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    if (parse_num(&s, 3, &h) || h > max_h)
        return -1;
    if (*s == ':') {
        s++;
        if (parse_num(&s, 2, &mi) || mi > 59)
            return -1;
        if (*s == ':') {
            s++;
            if (parse_num(&s, 2, &se) || se > 59)
                return -1;
        }
    }
    *sp = s;
    *out = sign * (h * 3600 + mi * 60 + se);
    return 0;
}

static int parse_name(const char **sp) {
    const char *s = *sp;
    if (*s == '<') {
        s++;
        while (*s && *s != '>')
            s++;
        if (*s != '>')
            return -1;
        *sp = s + 1;
        return 0;
    }
    const char *b = s;
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    if (s - b < 3)
        return -1;
    *sp = s;
    return 0;
}

static int parse_rule_date(const char **sp, rule_date *r) {
    const char *s = *sp;
    int v;
    if (*s == 'J') {
        s++;
        if (parse_num(&s, 3, &v) || v < 1 || v > 365)
            return -1;
        r->kind = 'J';
        r->a = v;
    } else if (*s == 'M') {
        s++;
        int m, w, d;
        if (parse_num(&s, 2, &m) || *s++ != '.' || parse_num(&s, 1, &w) || *s++ != '.' ||
            parse_num(&s, 1, &d) || m < 1 || m > 12 || w < 1 || w > 5 || d > 6)
            return -1;
        r->kind = 'M';
        r->a = m;
        r->b = w;
        r->c = d;
    } else {
        if (parse_num(&s, 3, &v) || v > 365)
            return -1;
        r->kind = 'N';
        r->a = v;
    }
    r->time = 7200; /* 02:00 by default */
    if (*s == '/') {
        s++;
        if (parse_hms(&s, 167, &r->time)) /* RFC 8536 (v3): -167..167 hours */
            return -1;
    }
    *sp = s;
    return 0;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3" -> rule. Returns 0, or -1 when malformed. */
static int parse_posix(const char *s, posix_rule *p) {
    memset(p, 0, sizeof *p);
    int32_t o;
    if (parse_name(&s) || parse_hms(&s, 24, &o))
        return -1;
    p->std_off = -o;
    if (!*s)
        return 0;
    if (parse_name(&s))
        return -1;
    p->has_dst = 1;
    p->dst_off = p->std_off + 3600;
    if (*s && *s != ',') {
        if (parse_hms(&s, 24, &o))
            return -1;
        p->dst_off = -o;
    }
    if (!*s) { /* no rule: the US rules of POSIX's default */
        p->start = (rule_date){'M', 3, 2, 0, 7200};
        p->end = (rule_date){'M', 11, 1, 0, 7200};
        return 0;
    }
    if (*s++ != ',' || parse_rule_date(&s, &p->start) || *s++ != ',' ||
        parse_rule_date(&s, &p->end) || *s)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- TZif */

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static void add_offset(wf_tz *tz, int32_t o) {
    for (int i = 0; i < tz->n_offsets; i++)
        if (tz->offsets[i] == o)
            return;
    if (tz->n_offsets < (int)(sizeof tz->offsets / sizeof tz->offsets[0]))
        tz->offsets[tz->n_offsets++] = o;
}

/* Parse TZif bytes into tz. Returns NULL or what is wrong with them. */
static const char *parse_tzif(wf_tz *tz, const unsigned char *d, size_t n) {
    if (n < 44 || memcmp(d, "TZif", 4) != 0)
        return "not a TZif file (no TZif magic)";
    int version = d[4] ? d[4] - '0' : 1;
    const unsigned char *h = d;
    size_t at = 0;
    int wide = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (at + 44 > n || memcmp(h, "TZif", 4) != 0)
            return "truncated or malformed TZif header";
        uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28),
                 timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
        int tsz = wide ? 8 : 4;
        if (typecnt == 0 || typecnt > TZ_MAX_TYPES || timecnt > (1u << 20) ||
            (isutcnt && isutcnt != typecnt) || (isstdcnt && isstdcnt != typecnt))
            return "malformed TZif counts";
        size_t body = (size_t)timecnt * (size_t)tsz + timecnt + (size_t)typecnt * 6 + charcnt +
                      (size_t)leapcnt * (size_t)(tsz + 4) + isstdcnt + isutcnt;
        if (at + 44 + body > n)
            return "truncated TZif data block";
        if (version >= 2 && !wide) { /* skip the 32-bit block: the 64-bit one follows */
            at += 44 + body;
            h = d + at;
            wide = 1;
            continue;
        }
        if (leapcnt)
            return "a zone with leap seconds (a \"right/\" zone) is not supported";
        const unsigned char *p = h + 44;
        tz->n = timecnt;
        tz->trans = malloc(sizeof(int64_t) * (timecnt ? timecnt : 1));
        tz->idx = malloc(timecnt ? timecnt : 1);
        if (!tz->trans || !tz->idx)
            return "out of memory";
        for (uint32_t i = 0; i < timecnt; i++) {
            tz->trans[i] = wide ? be64(p + 8 * i) : (int64_t)(int32_t)be32(p + 4 * i);
            if (i && tz->trans[i] <= tz->trans[i - 1])
                return "TZif transitions out of order";
        }
        p += (size_t)timecnt * (size_t)tsz;
        for (uint32_t i = 0; i < timecnt; i++) {
            if (p[i] >= typecnt)
                return "TZif transition names an unknown type";
            tz->idx[i] = p[i];
        }
        p += timecnt;
        tz->ntypes = (int)typecnt;
        for (uint32_t i = 0; i < typecnt; i++) {
            int32_t o = (int32_t)be32(p + 6 * i);
            if (o < -25 * 3600 || o > 26 * 3600)
                return "TZif offset out of range";
            tz->off[i] = o;
            add_offset(tz, o);
        }
        at += 44 + body;
        break;
    }
    if (version >= 2) { /* footer: "\n" TZ string "\n" */
        if (at >= n || d[at] != '\n')
            return "TZif footer missing";
        const unsigned char *e = memchr(d + at + 1, '\n', n - at - 1);
        if (!e)
            return "TZif footer not terminated";
        size_t k = (size_t)(e - (d + at + 1));
        char foot[128];
        if (k >= sizeof foot)
            return "TZif footer too long";
        memcpy(foot, d + at + 1, k);
        foot[k] = '\0';
        if (k) {
            if (parse_posix(foot, &tz->rule))
                return "TZif footer is not a POSIX TZ string this reader understands";
            tz->has_rule = 1;
            add_offset(tz, tz->rule.std_off);
            if (tz->rule.has_dst)
                add_offset(tz, tz->rule.dst_off);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- fixed offsets */

/* "UTC", "Z", "+02:00", "-0530", "+02", "UTC+02:00": 0 and *off, or -1. */
static int parse_fixed(const char *s, int32_t *off) {
    if (!strcmp(s, "UTC") || !strcmp(s, "utc") || !strcmp(s, "Z")) {
        *off = 0;
        return 0;
    }
    if (!strncmp(s, "UTC", 3))
        s += 3;
    if (*s != '+' && *s != '-')
        return -1;
    int sign = *s == '-' ? -1 : 1, h, m = 0;
    s++;
    size_t k = strlen(s);
    if (k != 2 && k != 4 && k != 5)
        return -1;
    for (size_t i = 0; i < k; i++)
        if (!(s[i] >= '0' && s[i] <= '9') && !(k == 5 && i == 2 && s[i] == ':'))
            return -1;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    if (k > 2) {
        const char *q = s + (k == 5 ? 3 : 2);
        m = (q[0] - '0') * 10 + (q[1] - '0');
    }
    if (h > 18 || m > 59)
        return -1;
    *off = sign * (h * 3600 + m * 60);
    return 0;
}

/* ---------------------------------------------------------------- public */

static int name_ok(const char *s) {
    if (!*s || *s == '/' || strlen(s) >= 64 || strstr(s, ".."))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("/_+-.", *s)))
            return 0;
    return 1;
}

wf_status wf_tz_load_mem(const char *name, const unsigned char *data, size_t len, wf_tz **out,
                         wf_error *err) {
    *out = NULL;
    wf_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    snprintf(tz->name, sizeof tz->name, "%s", name);
    const char *bad = parse_tzif(tz, data, len);
    if (bad) {
        wf_status st = wf_error_set(err, WF_ERR_CONFIG, "time zone \"%s\": %s", name, bad);
        wf_tz_free(tz);
        return st;
    }
    *out = tz;
    return WF_OK;
}

wf_status wf_tz_load(const char *name, wf_tz **out, wf_error *err) {
    *out = NULL;
    if (!name || !*name)
        name = "UTC";
    int32_t off;
    if (!parse_fixed(name, &off)) {
        wf_tz *tz = calloc(1, sizeof *tz);
        if (!tz)
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        snprintf(tz->name, sizeof tz->name, "%s", name);
        tz->fixed = 1;
        tz->fixed_off = off;
        tz->n_offsets = 1;
        tz->offsets[0] = off;
        *out = tz;
        return WF_OK;
    }
    const char *dir = getenv("TZDIR"); /* read, never set */
    if (!dir || !*dir)
        dir = DEFAULT_TZDIR;
    if (!name_ok(name))
        return wf_error_set(err, WF_ERR_CONFIG,
                            "found \"%.80s\", expected an IANA time zone name such as "
                            "\"Europe/Berlin\" or a fixed offset such as \"UTC\", \"+02:00\" or "
                            "\"-0530\"",
                            name);
    char path[WF_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return wf_error_set(err, WF_ERR_CONFIG,
                            "found \"%s\", expected an IANA time zone name such as "
                            "\"Europe/Berlin\" or a fixed offset such as \"UTC\", \"+02:00\" or "
                            "\"-0530\" (%s: %s; is the tzdata package installed?)",
                            name, path, strerror(errno));
    unsigned char *buf = malloc(TZ_MAX_FILE);
    size_t len = buf ? fread(buf, 1, TZ_MAX_FILE, f) : 0;
    int io = ferror(f);
    fclose(f);
    if (!buf)
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    if (io) {
        free(buf);
        return wf_error_set(err, WF_ERR_IO, "%s: read error", path);
    }
    wf_status st = wf_tz_load_mem(name, buf, len, out, err);
    free(buf);
    return st;
}

void wf_tz_free(wf_tz *tz) {
    if (!tz)
        return;
    free(tz->trans);
    free(tz->idx);
    free(tz);
}

const char *wf_tz_name(const wf_tz *tz) {
    return tz->name;
}

int wf_tz_is_utc(const wf_tz *tz) {
    return tz->fixed && tz->fixed_off == 0;
}

int32_t wf_tz_offset_at(const wf_tz *tz, int64_t utc) {
    if (tz->fixed)
        return tz->fixed_off;
    if (tz->n == 0)
        return tz->has_rule ? rule_offset(&tz->rule, utc) : tz->off[0];
    if (utc < tz->trans[0])
        return tz->off[0]; /* RFC 8536: time type 0 before the first transition */
    if (utc >= tz->trans[tz->n - 1])
        return tz->has_rule ? rule_offset(&tz->rule, utc) : tz->off[tz->idx[tz->n - 1]];
    int64_t lo = 0, hi = tz->n - 1; /* trans[lo] <= utc < trans[hi] */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[tz->idx[lo]];
}

wf_tz_local wf_tz_local_to_utc(const wf_tz *tz, int64_t local, int64_t *utc) {
    if (tz->fixed) {
        *utc = local - tz->fixed_off;
        return WF_TZ_UNIQUE;
    }
    int found = 0;
    int64_t best = 0;
    for (int i = 0; i < tz->n_offsets; i++) {
        int64_t u = local - tz->offsets[i];
        if (wf_tz_offset_at(tz, u) != tz->offsets[i])
            continue;
        if (!found || u < best)
            best = u;
        found++;
    }
    if (!found)
        return WF_TZ_NONEXISTENT;
    *utc = best; /* ambiguous: the earlier instant (Python's fold=0) */
    return found > 1 ? WF_TZ_AMBIGUOUS : WF_TZ_UNIQUE;
}

int wf_tz_row_time(const wf_tz *tz, int64_t local, int64_t *utc, int *ambiguous, char *problem,
                   size_t n) {
    *ambiguous = 0;
    wf_tz_local k = wf_tz_local_to_utc(tz, local, utc);
    if (k == WF_TZ_NONEXISTENT) {
        int64_t y;
        int mo, d;
        int64_t days = floor_div(local, 86400), sod = local - days * 86400;
        civil_from_days(days, &y, &mo, &d);
        snprintf(problem, n,
                 "local time %04lld-%02d-%02d %02d:%02d:%02d does not exist in %s (clock change)",
                 (long long)y, mo, d, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
                 tz->name);
        return -1;
    }
    *ambiguous = k == WF_TZ_AMBIGUOUS;
    return 0;
}

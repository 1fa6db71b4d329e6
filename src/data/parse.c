/*
 * Hand-written number and time parsing for the ingestion hot path (no strtod/sscanf/strptime in
 * the common cases), and exact: a decimal becomes an integer mantissa and a power of ten; when
 * the mantissa is below 2^53 and the power at most 22, one correctly rounded double division or
 * multiplication gives the double nearest the decimal, and rounding that to float equals
 * strtof's result unless the double lands exactly on a float rounding midpoint, in which case
 * (and for everything else: long mantissas, big exponents, subnormals) we fall back to strtof.
 * Times are UTC seconds computed with Howard Hinnant's days_from_civil (no timegm, no TZ).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/data.h"

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int lower_eq(const char *s, size_t n, const char *word) {
    size_t k = strlen(word);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* strtof on a copy (with ',' -> '.' when the decimal is a comma). */
static int parse_float_slow(const char *s, size_t n, char decimal, float *out) {
    char buf[128];
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (s[i] == decimal) ? '.' : s[i];
    buf[n] = '\0';
    char *end = NULL;
    float v = strtof(buf, &end);
    if (end != buf + n)
        return -1;
    *out = v;
    return 0;
}

/* A float rounding midpoint in double: the 29 bits below float precision are 1000...0. */
static int is_float_midpoint(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return (bits & 0x1FFFFFFFull) == 0x10000000ull;
}

int wf_parse_float(const char *s, size_t n, char decimal, float *out) {
    const char *p = s, *end = s + n;
    /* tolerate surrounding spaces (some exports pad numbers) */
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end)
        return -1;
    const char *start = p;
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = (*p == '-');
        p++;
    }
    uint64_t m = 0;
    int digits = 0;  /* significant digits kept in m */
    int dropped = 0; /* integer digits beyond 19 (each multiplies by 10) */
    int frac = 0;    /* digits after the decimal point kept in m */
    int any = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        any = 1;
        if (digits < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            if (m)
                digits++;
        } else {
            dropped++;
        }
        p++;
    }
    if (p < end && *p == decimal) {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            any = 1;
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m)
                    digits++;
                frac++;
            } else if (*p != '0') {
                dropped = -1000; /* inexact: let strtof decide */
            }
            p++;
        }
    }
    if (!any) {
        /* nan, inf, infinity (with sign) */
        size_t k = (size_t)(end - p);
        if (lower_eq(p, k, "nan")) {
            *out = NAN;
            return 0;
        }
        if (lower_eq(p, k, "inf") || lower_eq(p, k, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return 0;
        }
        return -1;
    }
    int e10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = (*p == '-');
            p++;
        }
        if (p == end || (unsigned)(*p - '0') >= 10)
            return -1;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (e10 < 100000)
                e10 = e10 * 10 + (*p - '0');
            p++;
        }
        if (eneg)
            e10 = -e10;
    }
    if (p != end)
        return -1;
    if (dropped < 0 || dropped > 0)
        return parse_float_slow(start, (size_t)(end - start), decimal, out);
    int scale = e10 - frac;
    if (m == 0) {
        *out = neg ? -0.0f : 0.0f;
        return 0;
    }
    if (m < (1ull << 53) && scale >= -22 && scale <= 22) {
        double d = (double)m;
        d = scale < 0 ? d / pow10_exact[-scale] : d * pow10_exact[scale];
        if (d >= 1.1754943508222875e-38 && d <= 3.4028234663852886e+38 && !is_float_midpoint(d)) {
            float f = (float)d;
            *out = neg ? -f : f;
            return 0;
        }
    }
    return parse_float_slow(start, (size_t)(end - start), decimal, out);
}

/* ---------------------------------------------------------------- times */

int64_t wf_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m) {
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static int valid_fields(int64_t y, int mo, int d, int h, int mi, int s) {
    return mo >= 1 && mo <= 12 && d >= 1 && d <= days_in_month(y, mo) && h >= 0 && h <= 23 &&
           mi >= 0 && mi <= 59 && s >= 0 && s <= 60;
}

static int64_t to_epoch(int64_t y, int mo, int d, int h, int mi, int s) {
    return wf_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* n fixed digits at p */
static int fixed_digits(const char *p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned c = (unsigned)(p[i] - '0');
        if (c >= 10)
            return -1;
        v = v * 10 + (int)c;
    }
    *out = v;
    return 0;
}

/* YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM|+HHMM|+HH] (no zone: the wall clock as UTC, and
 * *zoned = 0). */
static int parse_iso(const char *s, size_t n, int64_t *out, int *zoned) {
    *zoned = 0;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    int y, mo, d, h, mi, sec = 0;
    if (n < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') ||
        s[13] != ':')
        return -1;
    if (fixed_digits(s, 4, &y) || fixed_digits(s + 5, 2, &mo) || fixed_digits(s + 8, 2, &d) ||
        fixed_digits(s + 11, 2, &h) || fixed_digits(s + 14, 2, &mi))
        return -1;
    size_t i = 16;
    if (i < n && s[i] == ':') {
        if (i + 3 > n || fixed_digits(s + i + 1, 2, &sec))
            return -1;
        i += 3;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            i++;
            size_t f0 = i;
            while (i < n && (unsigned)(s[i] - '0') < 10)
                i++;
            if (i == f0)
                return -1; /* fraction floored: only whole seconds matter on the grid */
        }
    }
    int64_t off = 0;
    *zoned = i < n;
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
            size_t k = n - i - 1;
            const char *q = s + i + 1;
            if (k == 2) {
                if (fixed_digits(q, 2, &oh))
                    return -1;
            } else if (k == 4) {
                if (fixed_digits(q, 2, &oh) || fixed_digits(q + 2, 2, &om))
                    return -1;
            } else if (k == 5 && q[2] == ':') {
                if (fixed_digits(q, 2, &oh) || fixed_digits(q + 3, 2, &om))
                    return -1;
            } else {
                return -1;
            }
            if (oh > 23 || om > 59)
                return -1;
            off = sign * (oh * 3600 + om * 60);
            i = n;
        } else {
            return -1;
        }
    }
    if (i != n || !valid_fields(y, mo, d, h, mi, sec))
        return -1;
    *out = to_epoch(y, mo, d, h, mi, sec) - off;
    return 0;
}

static const char *const month_abbr[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};

/* 1..maxd digits */
static int var_digits(const char *s, size_t n, size_t *i, int maxd, int *out) {
    int v = 0, k = 0;
    while (*i < n && k < maxd && (unsigned)(s[*i] - '0') < 10) {
        v = v * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (!k)
        return -1;
    *out = v;
    return 0;
}

static int parse_pattern(const char *s, size_t n, const char *fmt, int64_t *out) {
    int y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
    size_t i = 0;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    for (const char *f = fmt; *f; f++) {
        if (*f == ' ') {
            if (i >= n || s[i] != ' ')
                return -1;
            while (i < n && s[i] == ' ')
                i++;
            continue;
        }
        if (*f != '%') {
            if (i >= n || s[i] != *f)
                return -1;
            i++;
            continue;
        }
        f++;
        int r = 0;
        switch (*f) {
        case 'Y':
            r = var_digits(s, n, &i, 4, &y);
            break;
        case 'y': {
            int yy;
            r = var_digits(s, n, &i, 2, &yy);
            y = yy < 69 ? 2000 + yy : 1900 + yy;
            break;
        }
        case 'm':
            r = var_digits(s, n, &i, 2, &mo);
            break;
        case 'd':
            r = var_digits(s, n, &i, 2, &d);
            break;
        case 'H':
            r = var_digits(s, n, &i, 2, &h);
            break;
        case 'M':
            r = var_digits(s, n, &i, 2, &mi);
            break;
        case 'S':
            r = var_digits(s, n, &i, 2, &sec);
            break;
        case 'b': {
            r = -1;
            if (i + 3 <= n) {
                for (int k = 0; k < 12; k++) {
                    if (lower_eq(s + i, 3, month_abbr[k])) {
                        mo = k + 1;
                        r = 0;
                        break;
                    }
                }
            }
            if (r == 0)
                i += 3;
            break;
        }
        case '%':
            r = (i < n && s[i] == '%') ? (i++, 0) : -1;
            break;
        default:
            return -1; /* unsupported directive (wf_config validates patterns) */
        }
        if (r)
            return -1;
    }
    if (i != n || !valid_fields(y, mo, d, h, mi, sec))
        return -1;
    *out = to_epoch(y, mo, d, h, mi, sec);
    return 0;
}

int wf_parse_time_zoned(const char *s, size_t n, const char *fmt, int64_t *out, int *zoned) {
    if (!fmt || !*fmt || !strcmp(fmt, "iso8601"))
        return parse_iso(s, n, out, zoned);
    *zoned = 0; /* patterns have no zone directive */
    return parse_pattern(s, n, fmt, out);
}

int wf_parse_time(const char *s, size_t n, const char *fmt, int64_t *out) {
    int zoned;
    return wf_parse_time_zoned(s, n, fmt, out, &zoned);
}

/* ---------------------------------------------------------------- windows.h time parsing */

wf_status wf_time_parse_iso(const char *s, int64_t *t) {
    int zoned;
    if (!s || parse_iso(s, strlen(s), t, &zoned))
        return WF_ERR_PARSE;
    return WF_OK;
}

#define _GNU_SOURCE
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

static char slots[8][4096];
static int slot;

const char *tu_data(const char *rel) {
    char *b = slots[slot++ & 7];
    snprintf(b, 4096, "%s/%s", WF_TEST_DATA, rel);
    return b;
}

const char *tu_tmpdir(void) {
    char *b = slots[slot++ & 7];
    const char *base = getenv("TMPDIR");
    snprintf(b, 4096, "%s/wftest.XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(b) != NULL, "mkdtemp failed");
    return b;
}

char *tu_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert(buf != NULL);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    ck_assert_msg(got == (size_t)n, "short read %s", path);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

void tu_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

int tu_run(const char *cmd, char **out) {
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_msg(p != NULL, "popen failed: %s", cmd);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[n] = '\0';
    int rc = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static double check_close(const char *what, size_t n, double rtol, double atol,
                          double (*get)(const void *, size_t), const void *g, const void *w) {
    double max_abs = 0, max_rel = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double a = get(g, i), b = get(w, i);
        double d = fabs(a - b);
        if (isnan(a) != isnan(b))
            d = INFINITY;
        if (isnan(a) && isnan(b))
            d = 0;
        if (d > max_abs)
            max_abs = d;
        double rel = d / (fabs(b) > 1e-30 ? fabs(b) : 1e-30);
        if (rel > max_rel && fabs(b) > atol)
            max_rel = rel;
        if (d > atol + rtol * fabs(b)) {
            if (bad < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g want %.9g (diff %.3g)\n", what, i, a, b, d);
            bad++;
        }
    }
    fprintf(stderr, "%s: n=%zu max_abs=%.3g max_rel=%.3g mismatches=%d %s\n", what, n, max_abs,
            max_rel, bad, bad ? "NOT OK" : "OK");
    ck_assert_msg(bad == 0, "%s: %d of %zu values outside rtol=%g atol=%g (max abs %g)", what, bad,
                  n, rtol, atol, max_abs);
    return max_abs;
}

static double get_f(const void *p, size_t i) {
    return ((const float *)p)[i];
}
static double get_d(const void *p, size_t i) {
    return ((const double *)p)[i];
}

double tu_check_close_f(const char *what, const float *got, const float *want, size_t n,
                        double rtol, double atol) {
    return check_close(what, n, rtol, atol, get_f, got, want);
}

double tu_check_close_d(const char *what, const double *got, const double *want, size_t n,
                        double rtol, double atol) {
    return check_close(what, n, rtol, atol, get_d, got, want);
}

/* Skips are recorded in a file (Check may run each test in a forked child, whose memory the
 * runner never sees); tu_run_suite reads it back. */
static char skip_mark[256];

void tu_skip(const char *why) {
    fprintf(stderr, "SKIP: %s\n", why);
    const char *m = getenv("WF_TEST_SKIP_MARK");
    FILE *f = m && *m ? fopen(m, "a") : NULL;
    if (f) {
        fprintf(f, "%s\n", why);
        fclose(f);
    }
}

int tu_run_suite(Suite *s) {
    snprintf(skip_mark, sizeof skip_mark, "%s/wf-skip.%ld",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    remove(skip_mark);
    setenv("WF_TEST_SKIP_MARK", skip_mark, 1);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    FILE *f = fopen(skip_mark, "r");
    int skipped = f != NULL;
    if (f)
        fclose(f);
    remove(skip_mark);
    if (failed)
        return EXIT_FAILURE;
    if (skipped) {
        fprintf(stderr, "some checks were skipped (a reader is missing): reported as skipped\n");
        return TU_EXIT_SKIP;
    }
    return EXIT_SUCCESS;
}

/*
 * Helpers shared by the Check suites: paths to test data, comparing arrays against references
 * with max-abs / max-rel reporting (the first few mismatches are printed, then ck_assert fails).
 */
#ifndef WF_TESTUTIL_H
#define WF_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* WF_TEST_DATA "/" rel into a static rotating buffer (8 slots). */
const char *tu_data(const char *rel);
/* A fresh empty temporary directory (mkdtemp under $TMPDIR or /tmp); static rotating buffer. */
const char *tu_tmpdir(void);
/* Read a whole file (NUL-terminated); aborts the test on failure. Caller frees. */
char *tu_read(const char *path, size_t *len);
/* Write a string to a file; aborts the test on failure. */
void tu_write(const char *path, const char *text);
/* Run a shell command, capture stdout+stderr into *out (malloc'd, may be NULL), return exit code.
 */
int tu_run(const char *cmd, char **out);

/* Compare got[i] with want[i]: fails if any |got-want| > atol + rtol*|want|. Prints the max
 * abs/rel error and the first five mismatches with `what` as label. Returns the max abs error. */
double tu_check_close_f(const char *what, const float *got, const float *want, size_t n,
                        double rtol, double atol);
double tu_check_close_d(const char *what, const double *got, const double *want, size_t n,
                        double rtol, double atol);

/* Exit code of a suite some of whose checks could not run (ctest SKIP_RETURN_CODE). */
#define TU_EXIT_SKIP 77
/* Record that the current check cannot run (e.g. a PDF/XLSX reader is missing) and say why;
 * the caller then returns. The suite then ends with TU_EXIT_SKIP instead of passing. */
void tu_skip(const char *why);
/* Run a Check suite with CK_NOFORK-friendly defaults and return EXIT_SUCCESS, EXIT_FAILURE, or
 * TU_EXIT_SKIP when no check failed but some were skipped. */
int tu_run_suite(Suite *s);

#endif

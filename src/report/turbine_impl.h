/*
 * Internal to src/report (issue 19): a turbine's justification PDF (pdf_turbine.c), its score
 * timeline (charts_timeline.c), the safe file name of each turbine's PDF (turbine_files.c) and
 * the report's words and number/date formats (words.c), read from the template's [words] and
 * [locale] sections with English defaults.
 */
#ifndef WF_REPORT_TURBINE_IMPL_H
#define WF_REPORT_TURBINE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "report/report_impl.h"

/* ---------------------------------------------------------------- words and locale (words.c) */

#define WF_WORDS_MAX_MISSING 8

typedef struct wf_report_words {
    const wf_template *tpl; /* its [words] section, or NULL: English */
    char decimal[4];        /* "." (default) or "," */
    char thousands[4];      /* "" (default) */
    char date_order[4];     /* "ymd" (2024-03-04, default) or "dmy" (04.03.2024) */
    char date_sep[4];       /* "-" or "." */
    char tz_name[16];       /* "UTC" (default) or the label of the configured offset */
    int tz_offset_min;      /* minutes east of UTC: times are printed in this zone */
    int n_missing;          /* words the template's [words] lacks (English used), first few: */
    char missing[WF_WORDS_MAX_MISSING][40];
} wf_report_words;

/* Words and formats from a loaded template (tpl may be NULL: English, UTC, decimal point). A
 * template with a [words] section that lacks a key the report uses falls back to English for
 * that key and records it in missing (wf_report_words_check lists them all). */
wf_status wf_report_words_init(wf_report_words *w, const wf_template *tpl, wf_error *err);
/* The word for key: the template's [words] entry, else the English default; never NULL. */
const char *wf_report_word(const wf_report_words *w, const char *key);
/* The English default of key (NULL when the key is unknown). */
const char *wf_report_word_default(const char *key);
/* Every key the report uses, NULL-terminated (for the template check and the tests). */
const char *const *wf_report_word_keys(void);
/* v with `decimals` decimals in the locale's decimal mark; NaN as "n/a". */
char *wf_report_fmt_num(const wf_report_words *w, char *buf, size_t n, double v, int decimals);
/* Date of t in the locale's zone and order ("2024-03-04" / "04.03.2024"). */
char *wf_report_fmt_date(const wf_report_words *w, char *buf, size_t n, int64_t t);
/* Date and 24-hour time with the zone's name ("2024-03-04 10:00 UTC", "04.03.2024 11:00 MEZ"). */
char *wf_report_fmt_time(const wf_report_words *w, char *buf, size_t n, int64_t t);

/* s with its numbers in the locale's decimal mark (into buf, or s itself when nothing
 * changes): "0.873" -> "0,873"; versions ("1.4.1"), dates and words are left alone. */
const char *wf_report_localize(const wf_report_words *w, const char *s, char *buf, size_t n);

/* ---------------------------------------------------------------- turbine files */

#define WF_TURBINE_FILE_MAX 96

/* The file name (no folder) of each turbine's justification PDF, for every turbine of the
 * analysis (names[i] for a->turbines[i]): the turbine id, as the one id rule of the data stage
 * made it (wf_turbine_id_normalize), with every byte outside [A-Za-z0-9._-] replaced by '_'
 * (one '_' per UTF-8 character), no leading '.', then ".pdf". A name that had to change, and
 * names that equal another ignoring case, get "~" and 8 hex digits of the SHA-256 of the id
 * before ".pdf", so distinct ids give distinct files on every file system. */
void wf_report_turbine_files(const wf_analysis *a, char (*names)[WF_TURBINE_FILE_MAX]);

/* ---------------------------------------------------------------- charts */

/* The turbine's score over time (window end), threshold, flagged windows, episodes, failures. */
wf_status wf_chart_timeline(const wf_chart_ctx *cx, const wf_analysis *a, int turbine,
                            const wf_report_words *words, double w_pt, double h_pt, wf_png *out,
                            wf_error *err);

/* ---------------------------------------------------------------- per-turbine PDFs */

/* Write dir/<name>.pdf for every flagged turbine (only_id: that turbine only, which must be
 * flagged), using analysis a (its `detailed` marks are changed: every episode of the turbine up
 * to o->max_episode_pages gets its detail section). *names (malloc'd array of n malloc'd
 * strings, "turbines/<name>.pdf" relative to the folder above dir) lists what was written, in
 * turbine order; free with wf_report_names_free. */
wf_status wf_report_write_turbine_pdfs(const char *dir, const wf_results *r,
                                       const wf_report_options *o, wf_analysis *a,
                                       const char *only_id, char ***names, int *n, wf_error *err);
void wf_report_names_free(char **names, int n);

/* wf_report_write_all's steps (report_turbines.c): write stage/turbines/ (every flagged
 * turbine's PDF; *names as above); move it to out_dir/turbines, replacing an earlier one, or
 * (per_turbine off) remove an earlier out_dir/turbines, which the new manifest would not list;
 * remove what is left of stage/turbines (both in whyflag/report.h); write the manifest of
 * names + tnames. */
wf_status wf_report_turbines_stage(const wf_results *r, const wf_report_options *o,
                                   const char *stage, char ***names, int *n, wf_error *err);
wf_status wf_report_manifest_with(const char *out_dir, const wf_results *r,
                                  const wf_report_options *o, const char *const *names, int n,
                                  char *const *tnames, int n_t, wf_error *err);

#endif

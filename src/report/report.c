/*
 * wf_report_write_all: results.json, report.pdf, report.xlsx, scores.csv (when there are scores)
 * and manifest.json (+ signature) in one call. The three reports are first written into a staging folder inside out_dir and moved
 * into place only when all of them succeeded, so a failed run leaves no partial report; the
 * manifest is written last, over the final files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "report/report_impl.h"

#ifndef WF_DATA_DIR
#define WF_DATA_DIR "."
#endif

void wf_report_options_default(wf_report_options *o) {
    memset(o, 0, sizeof *o);
    o->max_episode_pages = 200;
}

void wf_report_paths(const wf_report_options *o, char *tpl, char *font, char *font_bold,
                     char *font_mono) {
    const char *data = o && o->data_dir && o->data_dir[0] ? o->data_dir : NULL;
    if (!data)
        data = getenv("WHYFLAG_DATA_DIR");
    if (!data || !data[0])
        data = WF_DATA_DIR;
    if (o && o->template_path && o->template_path[0])
        snprintf(tpl, 1024, "%s", o->template_path);
    else
        snprintf(tpl, 1024, "%s/templates/report.txt", data);
    char fonts[1024];
    if (o && o->fonts_dir && o->fonts_dir[0])
        snprintf(fonts, sizeof fonts, "%s", o->fonts_dir);
    else
        snprintf(fonts, sizeof fonts, "%s/fonts", data);
    snprintf(font, 1024, "%.1000s/DejaVuSans.ttf", fonts);
    snprintf(font_bold, 1024, "%.1000s/DejaVuSans-Bold.ttf", fonts);
    snprintf(font_mono, 1024, "%.1000s/DejaVuSansMono.ttf", fonts);
}

static size_t app(char *buf, size_t size, size_t o, const char *fmt, const char *a1, double d1,
                  long long i1) {
    if (o >= size)
        return o;
    int n;
    if (a1)
        n = snprintf(buf + o, size - o, fmt, a1);
    else if (!isnan(d1))
        n = snprintf(buf + o, size - o, fmt, d1);
    else
        n = snprintf(buf + o, size - o, fmt, i1);
    return n > 0 ? o + (size_t)n : o;
}

void wf_report_methods_text(const wf_results *r, const wf_report_options *o, char *buf,
                            size_t size) {
    if (o && o->methods_text && o->methods_text[0]) {
        snprintf(buf, size, "%s", o->methods_text);
        return;
    }
    const wf_explain_settings *s = r->settings;
    size_t n = 0;
    buf[0] = '\0';
    if (!s) {
        snprintf(buf, size, "No explanation settings were recorded for this run.");
        return;
    }
    if (r->background && r->background->description[0])
        n = app(buf, size, n, "Background (what \"typical\" means): %s.\n",
                r->background->description, NAN, 0);
    else
        n = app(buf, size, n,
                "Background (what \"typical\" means): %lld windows drawn from the run's "
                "unflagged windows.\n",
                NULL, NAN, s->background_size);
    if (s->do_kernelshap) {
        const char *g =
            s->groups == WF_GROUPS_CELL       ? "one player per cell (channel and time step)"
            : s->groups == WF_GROUPS_SEGMENTS ? "one player per channel and time segment"
            : s->groups == WF_GROUPS_EXPLICIT ? "the groups of cells named in the config"
                                              : "one player per channel (its whole "
                                                "row of the window)";
        n = app(buf, size, n, "KernelSHAP players: %s.\n", g, NAN, 0);
        if (s->nsamples == WF_NSAMPLES_EXACT)
            n = app(buf, size, n, "%s",
                    "KernelSHAP samples: every coalition of players was "
                    "evaluated, so the values are exact (no sampling error).\n",
                    NAN, 0);
        else if (s->nsamples == WF_NSAMPLES_AUTO)
            n = app(buf, size, n,
                    "KernelSHAP samples: drawn until the largest standard error fell below "
                    "%g of the spread of the values",
                    NULL, s->convergence, 0);
        else
            n = app(buf, size, n, "KernelSHAP samples: %lld coalitions per window", NULL, NAN,
                    (long long)s->nsamples);
        if (s->nsamples != WF_NSAMPLES_EXACT)
            n = app(buf, size, n,
                    " (at most %lld); the standard errors shown come from this "
                    "sampling.\n",
                    NULL, NAN, (long long)s->max_samples);
        n = app(buf, size, n, "%s",
                s->link == WF_LINK_LOGIT
                    ? "Link: logit. Contributions are in log-odds of failure, which adds up "
                      "across channels more naturally for a probability near 0 or 1.\n"
                : s->link == WF_LINK_LOGIT_OUTPUT
                    ? "Link: logit of each model output. Contributions are in log-odds of "
                      "failure and explain the model's log-odds output window by window (for a "
                      "logistic model these are its exact linear terms).\n"
                    : "Link: identity. Contributions are in the model's own units "
                      "(probability of failure), so they add up to the score.\n",
                NAN, 0);
    }
    if (s->do_ig) {
        const char *b =
            s->baseline == WF_BASELINE_ZEROS    ? "a window of zeros"
            : s->baseline == WF_BASELINE_MEDIAN ? "the per-channel median of the background"
            : s->baseline == WF_BASELINE_FILE   ? "a reference window from a file"
                                                : "the per-channel mean of the background";
        n = app(buf, size, n, "Integrated Gradients reference (baseline): %s.\n", b, NAN, 0);
        if (s->steps > 0)
            n = app(buf, size, n, "Integrated Gradients steps: %lld points on the path", NULL, NAN,
                    (long long)s->steps);
        else
            n = app(buf, size, n,
                    "Integrated Gradients steps: doubled until the completeness gap fell "
                    "below %g of the score change",
                    NULL, s->ig_tol, 0);
        n = app(buf, size, n, " (%s rule).\n",
                s->ig_rule == WF_IG_GAUSS_LEGENDRE ? "Gauss-Legendre" : "Riemann", NAN, 0);
        if (s->expected_gradients)
            n = app(buf, size, n, "%s",
                    "Expected Gradients: references drawn from the background instead of one "
                    "fixed reference.\n",
                    NAN, 0);
    }
    n = app(buf, size, n, "Random seed: %lld (the same seed gives the same numbers).\n", NULL, NAN,
            (long long)s->seed);
    if (r->model_quantized)
        n = app(buf, size, n,
                "The deployed model is int8 quantized: its scores are the int8 model's own; the "
                "gradients Integrated Gradients needs come from %s.\n",
                r->surrogate ? r->surrogate : "a float surrogate of the model", NAN, 0);
    (void)n;
}

static wf_status mkdir_p1(const char *dir, wf_error *err) {
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return wf_error_set(err, WF_ERR_IO, "%s: exists and is not a folder", dir);
        return WF_OK;
    }
    if (mkdir(dir, 0777) != 0)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot create the output folder: %s", dir,
                            strerror(errno));
    return WF_OK;
}

wf_status wf_report_write_all(const wf_results *r, const wf_report_options *o, const char *out_dir,
                              wf_error *err) {
    wf_report_options def;
    if (!o) {
        wf_report_options_default(&def);
        o = &def;
    }
    static const char *const names[] = {"results.json", "report.pdf", "report.xlsx",
                                        "scores.csv"};
    const int n_names = r->scores ? 4 : 3;
    wf_status st = mkdir_p1(out_dir, err);
    if (st)
        return st;
    char stage[4096], from[4200], to[4200];
    if (snprintf(stage, sizeof stage, "%s/.whyflag-staging-XXXXXX", out_dir) >= (int)sizeof stage)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", out_dir);
    if (!mkdtemp(stage))
        return wf_error_set(err, WF_ERR_IO, "%s: cannot write into the output folder: %s", out_dir,
                            strerror(errno));
    for (int i = 0; i < n_names && !st; i++) {
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        if (i == 0)
            st = wf_results_write_json(from, r, err);
        else if (i == 1)
            st = wf_report_write_pdf(from, r, o, err);
        else if (i == 2)
            st = wf_report_write_xlsx(from, r, o, err);
        else
            st = wf_results_write_scores_csv(from, r, err);
    }
    for (int i = 0; i < n_names && !st; i++) {
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        snprintf(to, sizeof to, "%s/%s", out_dir, names[i]);
        if (rename(from, to) != 0)
            st =
                wf_error_set(err, WF_ERR_IO, "%s: cannot move into place: %s", to, strerror(errno));
    }
    for (int i = 0; i < n_names; i++) { /* clean the staging folder whatever happened */
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        remove(from);
    }
    rmdir(stage);
    if (st)
        return st;
    return wf_manifest_write(out_dir, r, o, names, n_names, err);
}

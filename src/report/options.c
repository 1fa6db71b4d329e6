/*
 * Report options shared by every writer, below them all: defaults, the template and font paths,
 * the one list of library versions, and the methods text (the explain stage's own description).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_impl.h"
#include "whyflag/versions.h"

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

void wf_report_versions_complete(wf_report_options *o) {
    if (o->versions_complete)
        return;
    const wf_report_version own[] = {{"whyflag", wf_version()},
                                     {"libharu", wf_report_hpdf_version()},
                                     {"cairo", wf_report_cairo_version()},
                                     {"libxlsxwriter", wf_report_lxw_version()},
                                     {"nettle", wf_core_version_nettle()}};
    const int k = (int)(sizeof own / sizeof own[0]);
    int n = o->n_versions;
    if (n > WF_REPORT_MAX_VERSIONS - k)
        n = WF_REPORT_MAX_VERSIONS - k;
    memmove(o->versions + k, o->versions, sizeof *o->versions * (size_t)n);
    memcpy(o->versions, own, sizeof own);
    o->n_versions = n + k;
    o->versions_complete = 1;
}

/* One methods text: the caller's (the audit hands in wf_explain_describe's), else the explain
 * stage's description of the settings and the background. */
void wf_report_methods_text(const wf_results *r, const wf_report_options *o, char *buf,
                            size_t size) {
    if (o && o->methods_text && o->methods_text[0]) {
        snprintf(buf, size, "%s", o->methods_text);
        return;
    }
    if (r->methods_text && r->methods_text[0]) { /* recorded in results.json (issue 19) */
        snprintf(buf, size, "%s", r->methods_text);
        return;
    }
    if (!r->settings) {
        snprintf(buf, size, "No explanation settings were recorded for this run.");
        return;
    }
    wf_explain_describe(r->settings, r->background, buf, size);
}

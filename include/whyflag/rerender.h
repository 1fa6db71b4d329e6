/*
 * whyflag: an audit's report rendered again from its output folder (issue 19, `whyflag report`),
 * without the model: results.json (checked against manifest.json) gives every number, the log
 * (when it is where the manifest says and its SHA-256 matches) the signals of the explained
 * windows and of the background. With the same template, fonts and SOURCE_DATE_EPOCH as the
 * audit, report.pdf and report.xlsx come out byte for byte as the audit wrote them.
 * Nothing here prints: warnings go into the summary for the caller.
 */
#ifndef WHYFLAG_RERENDER_H
#define WHYFLAG_RERENDER_H

#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_rerender_opts {
    const char *dir;           /* the audit's output folder (results.json, manifest.json) */
    const char *out_dir;       /* where to write; NULL: dir */
    const char *only_turbine;  /* a turbine id: write only turbines/<id>.pdf */
    const char *template_path; /* NULL: the run's (from its config when readable), else default */
    const char *data_dir;      /* folder with templates/ and fonts/; NULL: the build's */
    int force;                 /* render a results.json that does not match its manifest, every
                                  page marked UNVERIFIED (else WF_ERR_VERIFY) */
    int threads;               /* the PDF's charts are drawn on this many threads (0: all cores);
                                  the bytes do not depend on it */
} wf_rerender_opts;

#define WF_RERENDER_MAX_WARNINGS 8

typedef struct wf_rerender_summary {
    int unverified;  /* results.json did not match its manifest (rendered with --force) */
    int signals;     /* 1: the signals came from the log */
    int per_turbine; /* turbines/ written */
    int n_turbine_pdfs;
    int n_warnings;
    char warnings[WF_RERENDER_MAX_WARNINGS][512];
} wf_rerender_summary;

wf_status wf_audit_rerender(const wf_rerender_opts *o, wf_rerender_summary *sum, wf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/*
 * whyflag: the audit outputs (src/report). From a wf_results (plain structs filled by the other
 * stages) to results.json, report.pdf (libharu + cairo charts), report.xlsx (libxlsxwriter) and
 * manifest.json (SHA-256 of every input and output, settings, versions; optional Ed25519
 * signature in manifest.json.sig).
 *
 * Every output is written to a temporary file beside its final name and renamed into place, so a
 * failed run never leaves a half-written report. With the same results (and generated_at fixed,
 * e.g. from SOURCE_DATE_EPOCH) the bytes of every output are identical from run to run.
 *
 * No third-party type crosses this header.
 */
#ifndef WHYFLAG_REPORT_H
#define WHYFLAG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/results.h"
#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WF_REPORT_MAX_VERSIONS 16
#define WF_REPORT_MAX_INPUTS 16

/* One input file to hash into the manifest ("model", "log", "failures", "config", ...). */
typedef struct wf_report_input {
    const char *role;
    const char *path;
    const char *sha256; /* NULL: hashed by the manifest writer; else the 64-hex digest the caller
                           already computed (a large log is then read once, not twice) */
} wf_report_input;

/* A library version reported in the PDF, the workbook and the manifest. */
typedef struct wf_report_version {
    const char *name;  /* "protobuf-c" */
    const char *value; /* "1.4.1" */
} wf_report_version;

typedef struct wf_report_options {
    const char *data_dir;      /* folder holding templates/ and fonts/; NULL = built-in default */
    const char *template_path; /* NULL or "" = data_dir/templates/report.txt */
    const char *fonts_dir;     /* NULL or "" = data_dir/fonts */
    const char *title;         /* fleet / report title; NULL or "" = "Wind fleet" */
    int max_episode_pages;     /* cap on per-episode detail sections; <= 0 = 200 */
    const char *methods_text;  /* plain-words method text (wf_explain_describe); NULL = built
                                  from the settings */
    /* Inputs hashed into the manifest (model is taken from results->model_path if not listed). */
    int n_inputs;
    wf_report_input inputs[WF_REPORT_MAX_INPUTS];
    /* Versions of the libraries the caller links (protobuf-c, cJSON, OpenBLAS, ...). The list
     * is completed once (wf_report_versions_complete: whyflag, libharu, cairo, libxlsxwriter and
     * nettle first) and every writer prints it as it is. */
    int n_versions;
    wf_report_version versions[WF_REPORT_MAX_VERSIONS];
    int versions_complete; /* set by wf_report_versions_complete */
    /* report.xlsx memory mode: 0 auto (streams rows to disk above 100k windows; Summary then
     * has an autofilter instead of an Excel table), 1 always stream, -1 never. */
    int xlsx_stream;
    /* Optional Ed25519 signing of manifest.json (writes manifest.json.sig). */
    int sign;
    uint8_t sign_key[32]; /* private key (seed) when sign != 0 */
    /* Issue 19. per_turbine: wf_report_write_all also writes turbines/<file>.pdf, one
     * justification per flagged turbine (listed in the manifest). */
    int per_turbine;
    int unverified;      /* every page says UNVERIFIED (re-rendered from a results.json that does
                            not match its manifest: `whyflag report --force`) */
    int signals_missing; /* the windows' signals were not available (re-rendered without the
                            log): the pages say so instead of drawing the signal panels */
    int threads;         /* the PDF's charts are drawn and compressed on this many threads (0 = all
                            cores); the bytes written do not depend on it */
} wf_report_options;

/* Defaults: everything NULL/0, max_episode_pages 200. */
void wf_report_options_default(wf_report_options *o);
/* Put whyflag's and the report stage's own library versions in front of o->versions (once). */
void wf_report_versions_complete(wf_report_options *o);

/* Write report.pdf, report.xlsx, results.json and manifest.json (+ manifest.json.sig when
 * o->sign) into out_dir (created if missing). */
wf_status wf_report_write_all(const wf_results *r, const wf_report_options *o, const char *out_dir,
                              wf_error *err);

/* The single writers (atomic). */
wf_status wf_report_write_pdf(const char *path, const wf_results *r, const wf_report_options *o,
                              wf_error *err);
wf_status wf_report_write_xlsx(const char *path, const wf_results *r, const wf_report_options *o,
                               wf_error *err);

/* Issue 19: a staging folder's turbines/ (the per-turbine PDFs wf_report_write_all wrote there)
 * moved to out_dir/turbines, replacing an earlier one; with per_turbine 0 an earlier
 * out_dir/turbines is removed (the new manifest does not list it). _clean removes what is left
 * of stage/turbines. */
wf_status wf_report_turbines_publish(const char *stage, const char *out_dir, int per_turbine,
                                     wf_error *err);
void wf_report_turbines_clean(const char *stage);

/* Issue 19: the per-turbine PDFs alone into out_dir/turbines/ (only_id: that turbine's only,
 * which must be flagged; else every flagged turbine's, replacing an earlier turbines/). *n
 * (may be NULL): PDFs written. */
wf_status wf_report_write_turbines(const char *out_dir, const wf_results *r,
                                   const wf_report_options *o, const char *only_id, int *n,
                                   wf_error *err);
/* The run id the report prints for r (16 hex: digest of model hash, windows and scores). */
wf_status wf_report_run_id(const wf_results *r, char out[17], wf_error *err);
/* Words of the template (report.template or the default) that fell back to English because its
 * [words] section lacks them: *n_missing, and the first few keys in buf (comma separated). */
wf_status wf_report_template_check(const wf_report_options *o, int *n_missing, char *buf,
                                   size_t size, wf_error *err);

/* ---------------------------------------------------------------- manifest */

/* Write out_dir/manifest.json: SHA-256 and size of every input in o->inputs (paths as given) and
 * of every output listed (names relative to out_dir), the settings, versions, seed, platform and
 * time (r->generated_at). */
wf_status wf_manifest_write(const char *out_dir, const wf_results *r, const wf_report_options *o,
                            const char *const *outputs, int n_outputs, wf_error *err);

/* Sign the exact bytes of manifest_path with Ed25519; writes manifest_path + ".sig": one line,
 * 128 hex chars (the 64-byte signature), then a newline. */
wf_status wf_manifest_sign(const char *manifest_path, const uint8_t priv[32], wf_error *err);

/* Reading a manifest back and checking it: whyflag/manifest.h. */

/* ---------------------------------------------------------------- Ed25519 keys */

/* Public key for a private key (the 32-byte seed). */
void wf_ed25519_public_key(uint8_t pub[32], const uint8_t priv[32]);
/* Write a key as 64 lowercase hex chars + newline, atomically, with file mode `mode`. */
wf_status wf_key_write_hex(const char *path, const uint8_t key[32], unsigned mode, wf_error *err);
/* Read a key written by wf_key_write_hex (surrounding whitespace allowed). */
wf_status wf_key_read_hex(const char *path, uint8_t key[32], wf_error *err);

#ifdef __cplusplus
}
#endif
#endif

/* Writing an audit's outputs (see audit_output.c). */
#ifndef WF_CLI_AUDIT_OUTPUT_H
#define WF_CLI_AUDIT_OUTPUT_H

#include <stdint.h>

#include "cli/audit.h"

/* SOURCE_DATE_EPOCH when set (reproducible outputs), else now. */
int64_t wf_audit_run_time(void);
/* Create the output folder if missing; an error if it is not a writable folder. */
wf_status wf_audit_make_dir(const char *path, wf_error *err);
/* results.json, report.pdf, report.xlsx, scores.csv, manifest.json (+ .sig when sign_key). */
wf_status wf_audit_write_outputs(const wf_config *cfg, const wf_model *model,
                                 const wf_predictor *pred, const wf_audit_part *all,
                                 const char *out_dir, const uint8_t *sign_key, wf_error *err);

#endif

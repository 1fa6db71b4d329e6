/*
 * What the CLI prints while a command works: the progress line on stderr (a terminal only), and
 * where templates/ and fonts/ are.
 */
#ifndef WF_CLI_PROGRESS_H
#define WF_CLI_PROGRESS_H

#include <stdint.h>

#include "core/clock.h"

/* Progress on stderr: a line per phase, counts updated in place when stderr is a terminal and
 * the command is not quiet. Pass wf_cli_progress as a wf_audit_progress_fn with the state. */
typedef struct wf_cli_progress_state {
    int quiet, tty;
    double t0;
    char phase[96];
} wf_cli_progress_state;

void wf_cli_progress_init(wf_cli_progress_state *p, int quiet);
void wf_cli_progress(void *user, const char *phase, int64_t done, int64_t total);
/* End the in-place line, if one was printed. */
void wf_cli_progress_end(wf_cli_progress_state *p);

/* The folder with templates/ and fonts/: $WHYFLAG_DATA_DIR, else the build-time WF_DATA_DIR. */
const char *wf_data_dir(void);

#endif

/*
 * Progress lines and the data directory for the CLI (see progress.h).
 */
#include "cli/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void wf_cli_progress_init(wf_cli_progress_state *p, int quiet) {
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->t0 = wf_now_seconds();
}

void wf_cli_progress(void *user, const char *phase, int64_t done, int64_t total) {
    wf_cli_progress_state *p = user;
    if (p->quiet || !p->tty) /* a log file gets the summary lines only */
        return;
    double el = wf_now_seconds() - p->t0;
    if (strcmp(p->phase, phase) != 0) {
        if (p->phase[0])
            fprintf(stderr, "\n");
        snprintf(p->phase, sizeof p->phase, "%s", phase);
    }
    if (total > 0)
        fprintf(stderr, "\r  %s: %lld/%lld (%.0f s, ETA %.0f s)   ", phase, (long long)done,
                (long long)total, el, done > 0 ? el * (double)(total - done) / (double)done : 0.0);
    else
        fprintf(stderr, "\r  %s: %lld (%.0f s, %.0f/s)   ", phase, (long long)done, el,
                el > 0 ? (double)done / el : 0.0);
    fflush(stderr);
}

void wf_cli_progress_end(wf_cli_progress_state *p) {
    if (p->tty && p->phase[0] && !p->quiet)
        fprintf(stderr, "\n");
    p->phase[0] = '\0';
}

const char *wf_data_dir(void) {
    const char *d = getenv("WHYFLAG_DATA_DIR");
    return d && *d ? d : WF_DATA_DIR;
}

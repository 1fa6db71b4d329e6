/*
 * whyflag report DIR [--turbine ID] [--template T] [--out OUT] [--force] [--quiet]
 *
 * Render an audit's report.pdf, report.xlsx and per-turbine PDFs again from its output folder
 * (results.json checked against manifest.json; the log, when unchanged, for the signals), without
 * the model (issue 19). The work is the library's (whyflag/rerender.h); this parses and prints.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "whyflag/audit.h"
#include "whyflag/report.h"
#include "whyflag/rerender.h"

int wf_cmd_report(int argc, char **argv) {
    wf_rerender_opts o;
    memset(&o, 0, sizeof o);
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--turbine") || !strcmp(s, "--template") || !strcmp(s, "--out")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return wf_cli_usage("report", "%s needs a value", s);
            const char *v = argv[++i];
            if (!strcmp(s, "--turbine"))
                o.only_turbine = v;
            else if (!strcmp(s, "--template"))
                o.template_path = v;
            else
                o.out_dir = v;
        } else if (!strcmp(s, "--force")) {
            o.force = 1;
        } else if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            quiet = 1;
        } else if (s[0] == '-' && s[1]) {
            return wf_cli_usage("report", "unknown option %s", s);
        } else if (!o.dir) {
            o.dir = s;
        } else {
            return wf_cli_usage("report", "unexpected argument %s", s);
        }
    }
    if (!o.dir)
        return wf_cli_usage("report", "usage: whyflag report DIR [--turbine ID] [--template T] "
                                      "[--out OUT] [--force] [--quiet]");
    o.data_dir = wf_data_dir();
    wf_error err = {0};
    wf_rerender_summary sum;
    wf_status st = wf_audit_rerender(&o, &sum, &err);
    if (st)
        return wf_cli_fail("report", &err);
    const char *out = o.out_dir ? o.out_dir : o.dir;
    for (int i = 0; i < sum.n_warnings; i++) /* warnings are printed even with --quiet */
        fprintf(stderr, "whyflag report: warning: %s\n", sum.warnings[i]);
    if (sum.unverified)
        fprintf(stderr, "whyflag report: warning: results.json does not match its manifest; "
                        "every page is marked UNVERIFIED (--force)\n");
    if (!quiet) {
        if (o.only_turbine)
            fprintf(stderr, "  wrote %s/turbines/ (the PDF of %s)\n", out, o.only_turbine);
        else
            fprintf(stderr, "  wrote %s/report.pdf, report.xlsx%s%s\n", out,
                    sum.per_turbine ? ", turbines/" : "",
                    sum.signals ? "" : " (without the signals: see the warnings)");
    }
    return 0;
}

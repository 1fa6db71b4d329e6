/* whyflag inspect MODEL.onnx [--json]: inputs, outputs, shapes, op counts, FLOPs, metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "whyflag/model.h"

int wf_cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return wf_cli_usage("inspect", "unknown option %s", argv[i]);
        else if (!path)
            path = argv[i];
        else
            return wf_cli_usage("inspect", "unexpected argument %s", argv[i]);
    }
    if (!path)
        return wf_cli_usage("inspect", "usage: whyflag inspect MODEL.onnx [--json]");
    wf_error err = {0};
    /* Every op whyflag cannot run, at once, so the size of the gap is visible. */
    wf_op_scan scan;
    memset(&scan, 0, sizeof scan);
    if (wf_model_scan_ops(path, &scan, &err) == WF_OK && scan.n > 0) {
        fprintf(stderr, "whyflag inspect: %s: %d op type(s) of %d nodes are not supported:\n", path,
                scan.n, scan.n_nodes);
        for (int i = 0; i < scan.n; i++) {
            char line[600];
            wf_op_scan one = scan;
            one.n = 1;
            one.items = &scan.items[i];
            wf_op_scan_format(&one, line, sizeof line);
            fprintf(stderr, "  %s\n", line);
        }
        fprintf(stderr, "(README: \"Supported models\" lists what runs, and what to do when a "
                        "model is refused)\n");
        wf_op_scan_free(&scan);
        return wf_status_exit_code(WF_ERR_UNSUPPORTED);
    }
    wf_op_scan_free(&scan);
    wf_model *m = NULL;
    if (wf_model_load(path, &m, &err))
        return wf_cli_fail("inspect", &err);
    char *text = NULL;
    if (wf_model_describe(m, json, &text, &err)) {
        wf_model_free(m);
        return wf_cli_fail("inspect", &err);
    }
    fputs(text, stdout);
    free(text);
    wf_model_free(m);
    return 0;
}

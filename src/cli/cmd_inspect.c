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

/* whyflag predict: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_predict(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag predict: not implemented yet\n");
    return 7;
}

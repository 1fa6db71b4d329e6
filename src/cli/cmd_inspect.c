/* whyflag inspect: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_inspect(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag inspect: not implemented yet\n");
    return 7;
}

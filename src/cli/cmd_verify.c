/* whyflag verify: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_verify(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag verify: not implemented yet\n");
    return 7;
}

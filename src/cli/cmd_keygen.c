/* whyflag keygen: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_keygen(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag keygen: not implemented yet\n");
    return 7;
}

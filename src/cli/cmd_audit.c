/* whyflag audit: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_audit(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag audit: not implemented yet\n");
    return 7;
}

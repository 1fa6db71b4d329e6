/* whyflag merge: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_merge(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag merge: not implemented yet\n");
    return 7;
}

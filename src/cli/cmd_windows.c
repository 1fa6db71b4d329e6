/* whyflag windows: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_windows(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag windows: not implemented yet\n");
    return 7;
}

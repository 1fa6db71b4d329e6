/* whyflag explain: placeholder until the subcommand lands. */
#include <stdio.h>

#include "cli/cli.h"

int wf_cmd_explain(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "whyflag explain: not implemented yet\n");
    return 7;
}

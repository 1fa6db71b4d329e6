/*
 * whyflag: main. Dispatches to one subcommand; see README for the commands and exit codes.
 * Never calls setlocale: numbers are written and parsed in the "C" locale everywhere.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/version.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"inspect", wf_cmd_inspect, "MODEL.onnx [--json]: inputs, outputs, ops, FLOPs, metadata"},
    {"predict", wf_cmd_predict,
     "--model M.onnx --windows W.json | --config C.json [--out scores.csv]: score windows"},
    {"windows", wf_cmd_windows, "CONFIG.json [--out W.json]: cut the SCADA log into windows"},
    {"explain", wf_cmd_explain,
     "--model M.onnx --windows W.json --method kernelshap|ig|both ... --out results.json"},
    {"audit", wf_cmd_audit, "CONFIG.json [--out DIR] [--sign KEY] [--quiet]: the full audit"},
    {"verify", wf_cmd_verify, "DIR/manifest.json [--pubkey KEY]: recheck every hash"},
    {"keygen", wf_cmd_keygen, "--out KEY: make an Ed25519 key pair (KEY, KEY.pub)"},
    {"merge", wf_cmd_merge, "SHARD_DIR... --out DIR: merge audit shards"},
};

static void usage(FILE *f) {
    fprintf(f, "%s: explain why a predictive-maintenance model flagged a turbine\n\n",
            WF_TOOL_NAME);
    fprintf(f, "usage: whyflag COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nexit codes: 0 ok, 1 usage, 2 config/argument, 3 model (unsupported/shape),\n"
               "            4 data (parse/values), 5 i/o, 6 verification failed, 7 internal\n");
}

int wf_cli_fail(const char *cmd, const wf_error *err) {
    fprintf(stderr, "whyflag %s: %s: %s\n", cmd, wf_status_str(err->status), err->msg);
    return wf_status_exit_code(err->status);
}

int wf_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "whyflag %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(run `whyflag --help` for usage)\n");
    return WF_EXIT_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? WF_EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("%s\n", WF_TOOL_NAME);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "whyflag: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return WF_EXIT_USAGE;
}

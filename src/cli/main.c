/*
 * whyflag: main. Dispatches to one subcommand; see README for the commands and exit codes.
 * Never calls setlocale: numbers are written and parsed in the "C" locale everywhere.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/text.h"
#include "core/version.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
    const char *usage; /* `whyflag CMD --help`; its --flags feed "did you mean" */
} command;

static const command commands[] = {
    {"init", wf_cmd_init, "LOG.csv [--model M.onnx] [--out config.json]: a starting config",
     "usage: whyflag init LOG.csv [--model M.onnx] [--out config.json] [--force]\n"
     "  Guess the log's delimiter, decimal mark, turbine and time columns, time format, cadence\n"
     "  and channels, and write a starting config (stdout without --out). With --model the\n"
     "  channels are the model's (from its metadata), matched to columns by name. Each guess is\n"
     "  explained on stderr; exit 2 when a model channel matches no column.\n"
     "  --model M.onnx       the model the config is for\n"
     "  --out config.json    write the config there (an existing file needs --force)\n"},
    {"inspect", wf_cmd_inspect, "MODEL.onnx [--json]: inputs, outputs, ops, FLOPs, metadata",
     "usage: whyflag inspect MODEL.onnx [--json]\n"
     "  Describe an ONNX model: inputs, outputs, shapes, op counts, FLOPs, metadata.\n"
     "  --json   print the description as JSON\n"},
    {"predict", wf_cmd_predict,
     "--model M.onnx --windows W.json | --config C.json [--out scores.csv]: score windows",
     "usage: whyflag predict --model M.onnx --windows W.json [--out scores.csv] [--layout "
     "NCT|NTC]\n"
     "       whyflag predict --config C.json [--out scores.csv]\n"
     "  Score every window with the model (one window per model call).\n"
     "  --model M.onnx     the model          --windows W.json  a windows file\n"
     "  --config C.json    score straight from the config's log (replaces --model, --windows)\n"
     "  --out scores.csv   write the scores there (default: stdout)\n"
     "  --layout NCT|NTC   how a flat [N, C*T] input reads a window\n"
     "  --output NAME[:COLUMN]  the model output (and column of an [N, K] head) that is the "
     "score\n"},
    {"windows", wf_cmd_windows, "CONFIG.json [--out W.json]: cut the SCADA log into windows",
     "usage: whyflag windows CONFIG.json [--out W.json] [--quiet]\n"
     "  Cut the SCADA log into windows (and the skipped list with reasons).\n"
     "  --out W.json   the windows file (default <output_dir>/windows.json)\n"
     "  --quiet        no totals on stderr\n"},
    {"explain", wf_cmd_explain,
     "--model M.onnx --windows W.json --method kernelshap|ig|both ... --out results.json",
     "usage: whyflag explain --model M.onnx --windows W.json --out results.json [options]\n"
     "       whyflag explain --config C.json --windows W.json --out results.json [options]\n"
     "  Explain every window of a windows file (KernelSHAP and/or Integrated Gradients).\n"
     "  --config C.json          settings, model and threshold from a config; the background is\n"
     "                           drawn from its log exactly as `whyflag audit` draws it\n"
     "  --method kernelshap|ig|treeshap|both   --treeshap-output margin|probability\n"
     "  --treeshap-covers background|FILE   path-dependent TreeSHAP, node covers counted\n"
     "                           from these windows (default: interventional)\n"
     "  --groups channel|segments:K|cell|auto|hierarchy\n"
     "  --nsamples N|auto|exact  --link identity|logit|logit_output   --seed S\n"
     "  --background sample|file|kmeans   --baseline zeros|mean|median|FILE\n"
     "  --steps N|auto           --ig-method auto|clenshaw_curtis|gausslegendre|riemann_left|\n"
     "                           riemann_right|riemann_middle|riemann_trapezoid\n"
     "  --threshold X            windows at or above X are not drawn into the background\n"
     "  --layout NCT|NTC         --threads N   --quiet\n"
     "  --output NAME[:COLUMN]   the model output (and column) that is the score\n"},
    {"audit", wf_cmd_audit, "CONFIG.json [--out DIR] [--sign KEY] [--quiet]: the full audit",
     "usage: whyflag audit CONFIG.json [--out DIR] [--shard K/N] [--sign KEY] [--threads N] "
     "[--per-turbine] [--quiet]\n"
     "  The main job: stream the log, score, flag, explain, and write report.pdf, report.xlsx,\n"
     "  results.json, scores.csv, episodes.csv, failure_outcomes.csv, attributions.csv and\n"
     "  manifest.json into DIR.\n"
     "  --out DIR      output folder (default: the config's output_dir)\n"
     "  --shard K/N    audit shard K of N of the turbines; combine with `whyflag merge`\n"
     "  --sign KEY     sign manifest.json with an Ed25519 key from `whyflag keygen`\n"
     "  --threads N    threads (0 = all cores; default: the config's explain.threads)\n"
     "  --output NAME[:COLUMN]  the model output that is the score (config: model_output)\n"
     "  --per-turbine  also turbines/<id>.pdf, one justification per flagged turbine\n"
     "                 (config: report.per_turbine)\n"
     "  --quiet, -q    no progress or summary on stderr\n"},
    {"report", wf_cmd_report, "DIR [--turbine ID] [--template T] [--out OUT]: render again",
     "usage: whyflag report DIR [--turbine ID] [--template T] [--out OUT] [--force] [--quiet]\n"
     "  Render an audit's report.pdf, report.xlsx (and turbines/ when the audit wrote them)\n"
     "  again from DIR/results.json, without the model. results.json must match the SHA-256\n"
     "  in DIR/manifest.json; the log, when unchanged, gives the signal panels.\n"
     "  --turbine ID   write only turbines/<ID>.pdf (a flagged turbine)\n"
     "  --template T   the report template (words and locale; default: the run's)\n"
     "  --out OUT      write into OUT (default: DIR)\n"
     "  --force        render a results.json that does not match its manifest, every page\n"
     "                 marked UNVERIFIED (exit 6 without it)\n"
     "  --quiet, -q    no summary on stderr (warnings still)\n"},
    {"verify", wf_cmd_verify, "DIR/manifest.json [--pubkey KEY]: recheck every hash",
     "usage: whyflag verify DIR/manifest.json [--pubkey KEY.pub] [--inputs DIR]\n"
     "  Recompute every SHA-256 the manifest lists; with --pubkey check its signature.\n"
     "  --pubkey KEY.pub   the public key (from `whyflag keygen`)\n"
     "  --inputs DIR       look for moved inputs in DIR, by file name\n"},
    {"keygen", wf_cmd_keygen, "--out KEY: make an Ed25519 key pair (KEY, KEY.pub)",
     "usage: whyflag keygen --out KEY\n"
     "  Make an Ed25519 key pair: KEY (secret, mode 0600) and KEY.pub.\n"},
    {"merge", wf_cmd_merge, "SHARD_DIR... --out DIR: merge audit shards",
     "usage: whyflag merge SHARD_DIR... --out DIR [--sign KEY] [--quiet]\n"
     "  Combine the shard folders of one sharded audit into the outputs of the whole run.\n"
     "  --out DIR   output folder   --sign KEY   sign manifest.json   --quiet, -q\n"},
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

static const command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

/* The known --flag nearest to opt in cmd's usage (edit distance <= 3), or "" when none. */
static void nearest_flag(const command *c, const char *opt, char *best, size_t size) {
    best[0] = '\0';
    int bd = 4;
    for (const char *p = c ? strstr(c->usage, "--") : NULL; p; p = strstr(p + 2, "--")) {
        char flag[40];
        size_t n = 0;
        while (n + 1 < sizeof flag && (p[n] == '-' || (p[n] >= 'a' && p[n] <= 'z')))
            flag[n] = p[n], n++;
        flag[n] = '\0';
        int d = wf_edit_distance(opt, flag, 3);
        if (n > 2 && d < bd && strcmp(opt, flag)) {
            bd = d;
            snprintf(best, size, "%s", flag);
        }
    }
}

int wf_cli_usage(const char *cmd, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "whyflag %s: %s", cmd, msg);
    /* "unknown option --tresholds": name the flag that was probably meant. */
    const char *opt = strstr(msg, " -");
    if ((!strncmp(msg, "unknown option", 14) || !strncmp(msg, "unexpected argument", 19)) && opt) {
        char o[64], best[40];
        size_t n = 0;
        for (opt++; n + 1 < sizeof o && opt[n] && opt[n] != ' ' && opt[n] != '\'' &&
                    opt[n] != '\n' && opt[n] != '=';
             n++)
            o[n] = opt[n];
        o[n] = '\0';
        nearest_flag(find_command(cmd), o, best, sizeof best);
        if (best[0])
            fprintf(stderr, "\ndid you mean %s?", best);
    }
    fprintf(stderr, "\n(run `whyflag %s --help` for usage)\n", cmd);
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
    const command *c = find_command(argv[1]);
    if (c) {
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                fputs(c->usage, stdout);
                return 0;
            }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "whyflag: unknown command '%s'\n", argv[1]);
    {
        int bd = 4;
        const char *best = NULL;
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            int d = wf_edit_distance(argv[1], commands[i].name, 3);
            if (d < bd) {
                bd = d;
                best = commands[i].name;
            }
        }
        if (best)
            fprintf(stderr, "did you mean `whyflag %s`?\n", best);
    }
    usage(stderr);
    return WF_EXIT_USAGE;
}

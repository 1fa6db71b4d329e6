/*
 * The command line program: a thin layer wiring the library's stages. Only the CLI prints and
 * exits. Each subcommand lives in its own file and returns an exit code (see README: exit codes).
 */
#ifndef WF_CLI_H
#define WF_CLI_H

#include "whyflag/status.h"

/* Exit code for bad usage (unknown flag, missing argument). */
#define WF_EXIT_USAGE 1

int wf_cmd_inspect(int argc, char **argv);
int wf_cmd_predict(int argc, char **argv);
int wf_cmd_windows(int argc, char **argv);
int wf_cmd_explain(int argc, char **argv);
int wf_cmd_audit(int argc, char **argv);
int wf_cmd_verify(int argc, char **argv);
int wf_cmd_keygen(int argc, char **argv);
int wf_cmd_merge(int argc, char **argv);
int wf_cmd_init(int argc, char **argv);
int wf_cmd_report(int argc, char **argv);

/* Print "whyflag <cmd>: <status>: <message>" to stderr and return the status's exit code. */
int wf_cli_fail(const char *cmd, const wf_error *err);
/* Print a usage error and return WF_EXIT_USAGE. */
int wf_cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif

/*
 * whyflag verify DIR/manifest.json [--pubkey KEY.pub] [--inputs DIR]: recompute the SHA-256 of
 * every input and output the manifest lists and report every mismatch (naming the file); with
 * --pubkey, also check the Ed25519 signature in manifest.json.sig. Exit 0 when everything matches,
 * 6 when something does not, other codes when the manifest cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "whyflag/manifest.h"
#include "whyflag/report.h"

int wf_cmd_verify(int argc, char **argv) {
    const char *manifest = NULL, *pubkey_path = NULL, *inputs_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pubkey") == 0) {
            if (i + 1 >= argc)
                return wf_cli_usage("verify", "--pubkey needs a key file (KEY.pub)");
            pubkey_path = argv[++i];
        } else if (strcmp(argv[i], "--inputs") == 0) {
            if (i + 1 >= argc)
                return wf_cli_usage("verify", "--inputs needs a folder");
            inputs_dir = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: whyflag verify DIR/manifest.json [--pubkey KEY.pub] [--inputs DIR]\n"
                   "  --inputs DIR  look for inputs by file name in DIR when their recorded\n"
                   "                path does not exist (a copy on another machine)\n");
            return 0;
        } else if (argv[i][0] == '-') {
            return wf_cli_usage("verify", "unknown option '%s'", argv[i]);
        } else if (!manifest) {
            manifest = argv[i];
        } else {
            return wf_cli_usage("verify", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!manifest)
        return wf_cli_usage("verify", "missing DIR/manifest.json");
    wf_error err = {0};
    uint8_t pub[32];
    if (pubkey_path && wf_key_read_hex(pubkey_path, pub, &err) != WF_OK)
        return wf_cli_fail("verify", &err);
    size_t size = 1 << 16;
    char *report = malloc(size);
    if (!report) {
        wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        return wf_cli_fail("verify", &err);
    }
    int problems = 0;
    wf_status st = wf_manifest_verify(manifest, pubkey_path ? pub : NULL, inputs_dir, report, size,
                                      &problems, &err);
    if ((st == WF_ERR_VERIFY || st == WF_ERR_IO) && problems > 0) {
        fputs(report, stderr);
        if (st == WF_ERR_VERIFY)
            fprintf(stderr, "whyflag verify: %s: FAILED, %d problem%s (something changed)\n",
                    manifest, problems, problems == 1 ? "" : "s");
        else
            fprintf(stderr,
                    "whyflag verify: %s: INCOMPLETE, %d file%s not found and nothing changed "
                    "among the rest (moved inputs: --inputs DIR)\n",
                    manifest, problems, problems == 1 ? "" : "s");
        free(report);
        return wf_status_exit_code(st);
    }
    free(report);
    if (st)
        return wf_cli_fail("verify", &err);
    printf("%s: OK, every file matches%s\n", manifest,
           pubkey_path ? " and the signature verifies" : "");
    return 0;
}

/*
 * whyflag verify DIR/manifest.json [--pubkey KEY.pub] [--inputs DIR]: recompute the SHA-256 of
 * every input and output the manifest lists and report every mismatch (naming the file); with
 * --pubkey, also check the Ed25519 signature in manifest.json.sig. Exit 0 when everything matches,
 * 6 when something does not, other codes when the manifest cannot be read.
 *
 * A signed run (manifest.json.sig beside the manifest, or a "signature" entry in it) verified
 * without --pubkey is refused (exit 6: its signature would go unchecked) unless --no-signature
 * says so, and then the OK line says the signature was not checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/fileio.h"
#include "whyflag/audit.h"
#include "whyflag/manifest.h"
#include "whyflag/report.h"

int wf_cmd_verify(int argc, char **argv) {
    const char *manifest = NULL, *pubkey_path = NULL, *inputs_dir = NULL;
    int no_sig = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-signature") == 0) {
            no_sig = 1;
        } else if (strcmp(argv[i], "--pubkey") == 0) {
            if (i + 1 >= argc)
                return wf_cli_usage("verify", "--pubkey needs a key file (KEY.pub)");
            pubkey_path = argv[++i];
        } else if (strcmp(argv[i], "--inputs") == 0) {
            if (i + 1 >= argc)
                return wf_cli_usage("verify", "--inputs needs a folder");
            inputs_dir = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: whyflag verify DIR/manifest.json [--pubkey KEY.pub] [--inputs DIR] "
                   "[--no-signature]\n"
                   "  --inputs DIR      look for inputs by file name in DIR when their recorded\n"
                   "                    path does not exist (a copy on another machine)\n"
                   "  --no-signature    check the hashes of a signed run without its signature\n"
                   "                    (otherwise a signed run needs --pubkey)\n");
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
    /* a signed run needs its key: a signature nobody checks must not read as OK */
    int is_signed = 0;
    if (!pubkey_path) {
        char sigpath[4200];
        struct stat sb;
        snprintf(sigpath, sizeof sigpath, "%s.sig", manifest);
        is_signed = stat(sigpath, &sb) == 0;
        wf_manifest_doc doc;
        wf_error e2 = {0};
        if (!is_signed && wf_manifest_read(manifest, &doc, &e2) == WF_OK) {
            is_signed = doc.text && strstr(doc.text, "\"signature\"") != NULL;
            wf_manifest_doc_free(&doc);
        }
        if (is_signed && !no_sig) {
            free(report);
            fprintf(stderr,
                    "whyflag verify: %s: the run is signed (manifest.json.sig) but no --pubkey was "
                    "given, so its signature would go unchecked: give --pubkey KEY.pub (or "
                    "--no-signature to check the hashes only)\n",
                    manifest);
            return wf_status_exit_code(WF_ERR_VERIFY);
        }
    }
    /* a run killed while publishing: finish moving its committed set first (or say why not) */
    char dir[4200];
    wf_path_dirname(manifest, dir, sizeof dir);
    int recovered = 0;
    wf_error rerr = {0};
    if (wf_audit_recover(dir, &recovered, &rerr) != WF_OK)
        fprintf(stderr, "whyflag verify: note: %s\n", rerr.msg);
    else if (recovered)
        fprintf(stderr,
                "whyflag verify: %s: a run was stopped while moving its outputs into place; "
                "its complete set (journal committed) was moved in now, before checking\n",
                dir);
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
           pubkey_path ? " and the signature verifies"
           : is_signed ? "; the SIGNATURE WAS NOT CHECKED (--no-signature)"
                       : " (the run is not signed)");
    return 0;
}

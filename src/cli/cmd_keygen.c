/*
 * whyflag keygen --out KEY: make an Ed25519 key pair for signing manifests. KEY holds the private
 * key (64 hex chars, mode 0600), KEY.pub the public key. The seed comes from /dev/urandom. An
 * existing KEY or KEY.pub is never overwritten unless --force is given (a lost private key cannot
 * be recovered, and manifests signed with it could no longer be re-signed).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "whyflag/report.h"

int wf_cmd_keygen(int argc, char **argv) {
    const char *out = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc)
                return wf_cli_usage("keygen", "--out needs a file name");
            out = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: whyflag keygen --out KEY [--force]   (writes KEY and KEY.pub; --force "
                   "overwrites them)\n");
            return 0;
        } else {
            return wf_cli_usage("keygen", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!out)
        return wf_cli_usage("keygen", "missing --out KEY");
    wf_error err = {0};
    char pubpath[4096];
    if (snprintf(pubpath, sizeof pubpath, "%s.pub", out) >= (int)sizeof pubpath) {
        wf_error_set(&err, WF_ERR_INVALID, "%s: path too long", out);
        return wf_cli_fail("keygen", &err);
    }
    struct stat sb;
    const char *exists = stat(out, &sb) == 0 ? out : stat(pubpath, &sb) == 0 ? pubpath : NULL;
    if (exists && !force) {
        wf_error_set(&err, WF_ERR_INVALID,
                     "%s already exists: not overwritten (a replaced private key is lost for "
                     "good); choose another --out or add --force",
                     exists);
        return wf_cli_fail("keygen", &err);
    }
    uint8_t priv[32], pub[32];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(priv, 1, sizeof priv, f) != sizeof priv) {
        if (f)
            fclose(f);
        wf_error_set(&err, WF_ERR_IO, "/dev/urandom: cannot read random bytes for the key");
        return wf_cli_fail("keygen", &err);
    }
    fclose(f);
    wf_ed25519_public_key(pub, priv);
    if (wf_key_write_hex(out, priv, 0600, &err) != WF_OK ||
        wf_key_write_hex(pubpath, pub, 0644, &err) != WF_OK) {
        memset(priv, 0, sizeof priv);
        return wf_cli_fail("keygen", &err);
    }
    memset(priv, 0, sizeof priv);
    printf("wrote %s (private, keep it secret) and %s (public, give it to auditors)\n", out,
           pubpath);
    return 0;
}

/*
 * whyflag keygen --out KEY: make an Ed25519 key pair for signing manifests. KEY holds the private
 * key (64 hex chars, mode 0600), KEY.pub the public key. The seed comes from /dev/urandom.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "whyflag/report.h"

int wf_cmd_keygen(int argc, char **argv) {
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc)
                return wf_cli_usage("keygen", "--out needs a file name");
            out = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: whyflag keygen --out KEY   (writes KEY and KEY.pub)\n");
            return 0;
        } else {
            return wf_cli_usage("keygen", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!out)
        return wf_cli_usage("keygen", "missing --out KEY");
    wf_error err = {0};
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
    char pubpath[4096];
    if (snprintf(pubpath, sizeof pubpath, "%s.pub", out) >= (int)sizeof pubpath) {
        wf_error_set(&err, WF_ERR_INVALID, "%s: path too long", out);
        return wf_cli_fail("keygen", &err);
    }
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

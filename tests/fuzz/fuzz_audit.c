/*
 * libFuzzer harness for the whole audit path (issue 17): config + SCADA log + failure log, as a
 * user hands them to `whyflag audit`, through wf_audit_open and wf_audit_run (stream, score,
 * background, explain, checks, report, publish) into a scratch folder.
 *
 * The input is three files separated by a line "====": the config (JSON), the log (CSV) and
 * the failure log (CSV); missing parts are empty files. The config's paths are taken as written
 * (the corpus uses "log.csv", "failures.csv" and "model.onnx", which this harness writes or
 * copies beside the config). The model is the file named by $WF_FUZZ_MODEL, else the build's
 * samples/aurora_int8.onnx; runs are one thread. Invariants: no crash, no sanitizer report, and
 * a run that succeeds leaves a manifest that verifies.
 *
 * Build: CC=clang cmake -S . -B build-fuzz -DWF_FUZZ=ON -DWF_SANITIZE=ON && cmake --build
 * build-fuzz --target fuzz_audit; run: build-fuzz/tests/fuzz/fuzz_audit -max_len=65536
 * tests/fuzz/corpus_audit/ (seeds: two turbines of the sample fleet, short).
 */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "whyflag/audit.h"
#include "whyflag/manifest.h"

#ifndef WF_FUZZ_DEFAULT_MODEL
#define WF_FUZZ_DEFAULT_MODEL "samples/aurora_int8.onnx"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];

static int setup(void) {
    if (dir[0])
        return 0;
    snprintf(dir, sizeof dir, "%s/wffuzzaudit.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    const char *model = getenv("WF_FUZZ_MODEL");
    char *m = NULL;
    size_t mn = 0;
    wf_error err = {0};
    if (wf_file_read_all(model ? model : WF_FUZZ_DEFAULT_MODEL, &m, &mn, &err) != WF_OK) {
        fprintf(stderr, "fuzz_audit: %s\n", err.msg);
        abort();
    }
    char p[512];
    snprintf(p, sizeof p, "%s/model.onnx", dir);
    if (wf_file_write_atomic(p, m, mn, &err) != WF_OK)
        abort();
    free(m);
    return 0;
}

static void put(const char *name, const uint8_t *p, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    wf_error err = {0};
    if (wf_file_write_atomic(path, p, n, &err) != WF_OK)
        abort();
}

/* the next part of data up to a line "====" */
static size_t part(const uint8_t *p, size_t n, size_t *next) {
    for (size_t i = 0; i + 5 <= n; i++)
        if ((i == 0 || p[i - 1] == '\n') && !memcmp(p + i, "====", 4) &&
            (i + 4 == n || p[i + 4] == '\n')) {
            *next = i + 5 <= n ? i + 5 : n;
            return i;
        }
    *next = n;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (setup() != 0)
        return 0;
    size_t at = 0, next;
    const char *names[3] = {"config.json", "log.csv", "failures.csv"};
    for (int k = 0; k < 3; k++) {
        size_t len = at < size ? part(data + at, size - at, &next) : 0;
        put(names[k], data + at, len);
        at = at < size ? at + next : size;
    }
    char cfg[512], out[512];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    wf_audit *a = NULL;
    wf_error err = {0};
    if (wf_audit_open(cfg, &a, &err) == WF_OK) {
        wf_audit_opts o;
        wf_audit_opts_default(&o);
        o.threads = 1;
        o.out_dir = out;
        wf_audit_summary sum;
        if (wf_audit_run(a, &o, &sum, &err) == WF_OK) {
            char man[600], report[4096];
            snprintf(man, sizeof man, "%s/manifest.json", out);
            int problems = 0;
            if (wf_manifest_verify(man, NULL, NULL, report, sizeof report, &problems, &err) !=
                WF_OK) {
                fprintf(stderr, "fuzz_audit: a successful run does not verify: %s%s\n", err.msg,
                        report);
                abort();
            }
        }
    }
    wf_audit_close(a);
    return 0;
}

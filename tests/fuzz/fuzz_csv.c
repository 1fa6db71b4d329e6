/*
 * libFuzzer harness for the SCADA log reader and the windower. The first byte picks the
 * options (delimiter, decimal comma, time format, window shape, missing policy); the rest is the
 * CSV file, header included, read from memory with a 64-byte buffer so that every refill path
 * runs. Checks the invariants: no crash, and valid + skipped windows add up to the stats.
 * Build: CC=clang cmake -DWF_FUZZ=ON -DWF_SANITIZE=ON; run: ./fuzz_csv corpus_csv/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_impl.h"
#include "whyflag/config.h"
#include "whyflag/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct mem {
    const char *p;
    size_t n;
    const wf_log_config *log;
} mem;

static wf_status reopen(void *ctx, wf_log_reader **out, wf_error *err) {
    const mem *m = ctx;
    return wf_log_reader_open_mem(m->log, m->p, m->n, "fuzz.csv", out, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    wf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    wf_channel_config ch[3] = {{"a", "a", ""}, {"b", "b", ""}, {"c", "a", ""}};
    cfg.log.channels = ch;
    cfg.log.n_channels = 3;
    int semi = opt & 1;
    cfg.log.delimiter = semi ? ';' : ',';
    cfg.log.decimal = semi ? ',' : '.';
    strcpy(cfg.log.turbine_column, "id");
    strcpy(cfg.log.time_column, "t");
    strcpy(cfg.log.time_format, (opt & 2) ? "%d %m %Y %H:%M" : "iso8601");
    /* a coarse grid keeps the number of windows a far-away timestamp creates small */
    cfg.log.cadence_seconds = (opt & 4) ? 86400 : 3600 * 24 * 7;
    cfg.window.length = 1 + ((opt >> 3) & 3);
    cfg.window.stride = 1 + ((opt >> 5) & 1);
    cfg.window.missing = (opt & 64) ? WF_MISSING_INTERPOLATE : WF_MISSING_SKIP;
    cfg.window.interpolate_max = 1;
    cfg.failures.horizon_hours = 72;
    mem m = {(const char *)data + 1, size - 1, &cfg.log};
    wf_log_reader *r = NULL;
    wf_error err = {0};
    if (wf_log_reader_open_mem(&cfg.log, m.p, m.n, "fuzz.csv", &r, &err) != WF_OK)
        return 0;
    wf_windows ws;
    wf_data_stats *st = calloc(1, sizeof *st);
    wf_failure f = {"T1", 86400 * 3, "gearbox"};
    if (wf_data_collect_reader(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures}, r, reopen,
                               &m, (opt & 128) ? &f : NULL, 1, &ws, st, &err) == WF_OK) {
        if (ws.n != st->windows_valid || ws.n_skipped != st->windows_skipped)
            abort();
        for (int64_t i = 0; i < ws.n; i++)
            for (int k = 0; k < ws.C * ws.T; k++)
                if (ws.w[i].values[k] != ws.w[i].values[k]) /* NaN in a valid window */
                    abort();
        wf_windows_free(&ws);
    }
    free(st);
    wf_log_reader_free(r);
    return 0;
}

/*
 * Ingestion + windowing benchmark (issue 3): generates a SCADA log of 1,000 turbines x 8
 * channels, rows interleaved in time order (all turbines at t, then t + 10 min, ...), about 1 GB
 * by default, into a temporary folder (or reads an existing log with --path), then streams it
 * through the windower (length 36, stride 18) with a sink that only counts and checksums.
 * Prints MB/s on one core (wall and CPU time) and peak RSS (getrusage ru_maxrss).
 *
 * usage: bench_ingest [--mb N] [--turbines N] [--path LOG.csv] [--keep]
 * The generated file is read right after it is written, so it is usually in the page cache:
 * the figure is the parser's speed, not the disk's. Run by hand; never by ctest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "whyflag/config.h"
#include "whyflag/data.h"

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* value with 2 decimals into p, returns the end */
static char *put_fixed2(char *p, long v) {
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    char tmp[24];
    int n = 0;
    long ip = v / 100, fp = v % 100;
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (n)
        *p++ = tmp[--n];
    *p++ = '.';
    *p++ = (char)('0' + fp / 10);
    *p++ = (char)('0' + fp % 10);
    return p;
}

static int generate(const char *path, long long target_bytes, int turbines) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    static char buf[1 << 20];
    size_t len = 0;
    len += (size_t)snprintf(buf, sizeof buf,
                            "turbine_id,timestamp,wind_speed,rotor_rpm,power_kw,pitch_deg,"
                            "gearbox_oil_temp,bearing_temp,nacelle_temp,vibration_rms\n");
    long long written = 0;
    uint64_t s = 88172645463325252ull;
    int64_t t0 = 1709251200; /* 2024-03-01T00:00:00Z */
    for (long step = 0; written < target_bytes; step++) {
        char ts[32];
        wf_time_format_iso(t0 + step * 600, ts);
        for (int k = 0; k < turbines; k++) {
            if (len + 256 > sizeof buf) {
                fwrite(buf, 1, len, f);
                written += (long long)len;
                len = 0;
            }
            char *p = buf + len;
            p += sprintf(p, "WT%04d,%s", k + 1, ts);
            for (int c = 0; c < 8; c++) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                *p++ = ',';
                p = put_fixed2(p, (long)(s % 200000) - (c == 3 ? 100000 : 0));
            }
            *p++ = '\n';
            len = (size_t)(p - buf);
        }
    }
    fwrite(buf, 1, len, f);
    written += (long long)len;
    return fclose(f);
}

typedef struct counter {
    int64_t valid, skipped;
    double checksum;
} counter;

static wf_status on_window(void *user, const wf_window *w, wf_error *err) {
    (void)err;
    counter *c = user;
    c->valid++;
    c->checksum += w->values[0] + w->values[8 * 36 - 1];
    return WF_OK;
}

static wf_status on_skipped(void *user, const wf_skipped *s, wf_error *err) {
    (void)s;
    (void)err;
    ((counter *)user)->skipped++;
    return WF_OK;
}

static wf_status on_retract(void *user, const char *id, wf_error *err) {
    (void)user;
    (void)id;
    (void)err;
    return WF_OK; /* counts only: a retracted turbine is counted twice (reported) */
}

int main(int argc, char **argv) {
    long long mb = 1024;
    int turbines = 1000, keep = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mb") && i + 1 < argc)
            mb = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--turbines") && i + 1 < argc)
            turbines = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--path") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else {
            fprintf(stderr, "usage: bench_ingest [--mb N] [--turbines N] [--path LOG] [--keep]\n");
            return 1;
        }
    }
    char dir[256] = "", gen[512];
    if (!path) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/wfbench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        snprintf(gen, sizeof gen, "%s/sensor_log.csv", dir);
        double g0 = wall();
        if (generate(gen, mb << 20, turbines)) {
            perror("generate");
            return 1;
        }
        fprintf(stderr, "generated %s (%lld MB target, %d turbines) in %.1f s\n", gen, mb, turbines,
                wall() - g0);
        path = gen;
    }
    static const char *names[8] = {"wind_speed",   "rotor_rpm",        "power_kw",
                                   "pitch_deg",    "gearbox_oil_temp", "bearing_temp",
                                   "nacelle_temp", "vibration_rms"};
    wf_channel_config ch[8];
    memset(ch, 0, sizeof ch);
    for (int c = 0; c < 8; c++) {
        snprintf(ch[c].name, sizeof ch[c].name, "%s", names[c]);
        snprintf(ch[c].column, sizeof ch[c].column, "%s", names[c]);
    }
    wf_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.log.path, sizeof cfg.log.path, "%s", path);
    cfg.log.delimiter = ',';
    cfg.log.decimal = '.';
    snprintf(cfg.log.turbine_column, sizeof cfg.log.turbine_column, "turbine_id");
    snprintf(cfg.log.time_column, sizeof cfg.log.time_column, "timestamp");
    snprintf(cfg.log.time_format, sizeof cfg.log.time_format, "iso8601");
    cfg.log.cadence_seconds = 600;
    cfg.log.channels = ch;
    cfg.log.n_channels = 8;
    cfg.window.length = 36;
    cfg.window.stride = 18;
    cfg.failures.horizon_hours = 72;
    counter cnt = {0, 0, 0};
    wf_data_sink sink = {on_window, on_skipped, on_retract, &cnt, NULL};
    wf_data_stats *st = calloc(1, sizeof *st);
    wf_error err = {0};
    double w0 = wall(), c0 = cpu();
    wf_status s = wf_data_stream_windows(&(wf_data_config){&cfg.log, &cfg.window, &cfg.failures},
                                         NULL, 0, &sink, st, &err);
    double dw = wall() - w0, dc = cpu() - c0;
    if (s) {
        fprintf(stderr, "bench_ingest: %s\n", err.msg);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double mbytes = (double)st->bytes / 1e6;
    printf("log: %s\n", path);
    printf("bytes: %lld (%.1f MB), rows: %lld, turbines: %lld\n", (long long)st->bytes, mbytes,
           (long long)st->rows, (long long)st->turbines);
    printf("windows: %lld valid, %lld skipped (checksum %.6g)\n", (long long)cnt.valid,
           (long long)cnt.skipped, cnt.checksum);
    printf("ingestion + windowing: %.3f s wall, %.3f s cpu -> %.1f MB/s wall, %.1f MB/s cpu, "
           "%.2f M rows/s\n",
           dw, dc, mbytes / dw, mbytes / dc, (double)st->rows / dw / 1e6);
    printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    free(st);
    if (dir[0] && !keep) {
        unlink(gen);
        rmdir(dir);
    }
    return 0;
}

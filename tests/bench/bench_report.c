/*
 * The report phase's PDF (issue 12): wall and CPU seconds to write report.pdf on 1 and 2 threads,
 * best of the repeats, and whether the bytes are the same for every thread count.
 *
 *   bench_report synth [turbines [repeats]]   the synthetic fleet of tests/test_report_synth.h
 *                                             scaled to `turbines` (default 208: 200 flagged),
 *                                             report.pdf alone
 *   bench_report dir AUDIT_DIR [repeats]      an audit's folder rendered again (wf_audit_rerender:
 *                                             report.pdf and report.xlsx, the signals from the
 *                                             log), as `whyflag report` does
 *
 * CPU seconds are the process's (every thread). The calling thread runs everything that is not
 * parallel plus its share of the charts (it is worker 0), so its CPU seconds are what the wall
 * time comes to on idle cores: the figure to compare between 1 and 2 threads on a busy machine,
 * where wall times mostly measure the other processes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/test_report_synth.h"
#include "whyflag/rerender.h"

static double now(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int x = fgetc(fa), y = fgetc(fb);
        if (x != y)
            same = 0;
        if (x == EOF || y == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static long file_size(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "synth";
    int dir_mode = !strcmp(mode, "dir");
    if (!dir_mode && strcmp(mode, "synth")) {
        fprintf(stderr,
                "usage: bench_report synth [turbines [repeats]] | dir AUDIT_DIR [repeats]\n");
        return 2;
    }
    int turbines = !dir_mode && argc > 2 ? atoi(argv[2]) : 208;
    int repeats = argc > 3 ? atoi(argv[3]) : 1;
    if (turbines < 1 || repeats < 1 || (dir_mode && argc < 3)) {
        fprintf(stderr, "bench_report: bad arguments\n");
        return 2;
    }
    char tmp[] = "/tmp/wfbench-report.XXXXXX";
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    sy_run run;
    wf_report_options o;
    if (!dir_mode) {
        sy_build_n(&run, turbines);
        wf_report_options_default(&o);
        o.data_dir = WF_SOURCE_DIR;
        int flagged = 0;
        for (int64_t i = 0, last = -1; i < run.ws.n; i++) {
            int tb = atoi(run.ws.w[i].turbine_id + 2);
            if (run.flags[i] && tb != last) {
                flagged++;
                last = tb;
            }
        }
        printf("synthetic fleet: %d turbines, %d flagged, %lld windows, %lld explained\n", turbines,
               flagged, (long long)run.ws.n, (long long)run.n_expl);
    } else {
        printf("audit folder %s rendered again (report.pdf + report.xlsx)\n", argv[2]);
    }
    int threads[2] = {1, 2};
    char first[4200] = "";
    int all_same = 1;
    for (int ti = 0; ti < 2; ti++) {
        double best_wall = 1e300, best_cpu = 1e300, best_main = 1e300;
        char path[4200];
        for (int r = 0; r < repeats; r++) {
            wf_error err = {0};
            wf_status st;
            double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID),
                   m0 = now(CLOCK_THREAD_CPUTIME_ID);
            if (!dir_mode) {
                snprintf(path, sizeof path, "%s/report_%d.pdf", tmp, threads[ti]);
                o.threads = threads[ti];
                st = wf_report_write_pdf(path, &run.r, &o, &err);
            } else {
                char out[4200];
                snprintf(out, sizeof out, "%s/t%d", tmp, threads[ti]);
                snprintf(path, sizeof path, "%s/report.pdf", out);
                wf_rerender_opts ro = {0};
                ro.dir = argv[2];
                ro.out_dir = out;
                ro.threads = threads[ti];
                wf_rerender_summary sum;
                st = wf_audit_rerender(&ro, &sum, &err);
            }
            double wall = now(CLOCK_MONOTONIC) - w0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0,
                   main_cpu = now(CLOCK_THREAD_CPUTIME_ID) - m0;
            if (st) {
                fprintf(stderr, "bench_report: %s\n", err.msg);
                return 1;
            }
            if (wall < best_wall)
                best_wall = wall;
            if (cpu < best_cpu)
                best_cpu = cpu;
            if (main_cpu < best_main)
                best_main = main_cpu;
        }
        printf("  threads %d: %.2f s wall, %.2f s CPU, %.2f s CPU on the calling thread (best of "
               "%d), report.pdf %ld bytes\n",
               threads[ti], best_wall, best_cpu, best_main, repeats, file_size(path));
        if (!first[0])
            snprintf(first, sizeof first, "%s", path);
        else if (!same_file(first, path))
            all_same = 0;
    }
    printf("  report.pdf byte-identical for 1 and 2 threads: %s\n", all_same ? "yes" : "NO");
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_report: could not remove %s\n", tmp);
    if (!dir_mode)
        sy_free(&run);
    return all_same ? 0 : 1;
}

/*
 * whyflag windows CONFIG.json [--out W.json] [--quiet]: cut the SCADA log into windows, write the
 * windows file (default <output_dir>/windows.json) and print totals on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/fileio.h"
#include "whyflag/config.h"
#include "whyflag/data.h"

static void print_stats(const wf_data_stats *st, const wf_windows *ws, const char *out) {
    fprintf(stderr, "whyflag windows: %lld rows read (%.1f MB), %lld turbines\n",
            (long long)st->rows, (double)st->bytes / 1e6, (long long)st->turbines);
    fprintf(stderr, "  windows valid:   %lld", (long long)st->windows_valid);
    if (st->windows_interpolated)
        fprintf(stderr, " (%lld with interpolated points)", (long long)st->windows_interpolated);
    int64_t pos = 0, unknown = 0;
    for (int64_t i = 0; i < ws->n; i++) {
        pos += ws->w[i].label == 1;
        unknown += ws->w[i].label < 0;
    }
    if (unknown)
        fprintf(stderr, ", labels unknown (no failure log)\n");
    else
        fprintf(stderr, ", labelled positive: %lld\n", (long long)pos);
    fprintf(stderr, "  windows skipped: %lld\n", (long long)st->windows_skipped);
    for (int k = 0; k < WF_SKIP_KIND_MAX; k++)
        if (st->skipped_by_kind[k])
            fprintf(stderr, "    %-20s %lld\n", wf_skip_kind_str((wf_skip_kind)k),
                    (long long)st->skipped_by_kind[k]);
    struct {
        const char *what;
        int64_t n;
    } rows[] = {{"malformed rows", st->malformed_rows},
                {"empty/NaN/unparsable cells", st->bad_cells},
                {"duplicate rows (identical, ignored)", st->duplicate_identical},
                {"duplicate rows (conflicting)", st->duplicate_conflicting},
                {"rows off the time grid (ignored)", st->off_grid_rows},
                {"rows out of order (absorbed)", st->reordered_rows},
                {"turbines re-sorted (rows out of order)", st->turbines_resorted}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].n)
            fprintf(stderr, "  %s: %lld\n", rows[i].what, (long long)rows[i].n);
    for (int i = 0; i < st->n_notes; i++)
        fprintf(stderr, "  note: %s\n", st->notes[i]);
    if (st->notes_dropped)
        fprintf(stderr, "  (%lld more notes not shown)\n", (long long)st->notes_dropped);
    fprintf(stderr, "  wrote %s\n", out);
}

int wf_cmd_windows(int argc, char **argv) {
    const char *cfg_path = NULL, *out = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out")) {
            if (++i >= argc)
                return wf_cli_usage("windows", "--out needs a file name");
            out = argv[i];
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return wf_cli_usage("windows", "unknown option %s", argv[i]);
        } else if (!cfg_path) {
            cfg_path = argv[i];
        } else {
            return wf_cli_usage("windows", "unexpected argument %s", argv[i]);
        }
    }
    if (!cfg_path)
        return wf_cli_usage("windows", "usage: whyflag windows CONFIG.json [--out W.json]");
    wf_error err = {0};
    wf_config cfg;
    if (wf_config_load(cfg_path, &cfg, &err))
        return wf_cli_fail("windows", &err);
    char outbuf[WF_PATH_MAX + 32];
    if (!out) {
        if (mkdir(cfg.output_dir, 0777) != 0 && errno != EEXIST) {
            wf_error_set(&err, WF_ERR_IO, "%s: cannot create output_dir: %s", cfg.output_dir,
                         strerror(errno));
            wf_config_deinit(&cfg);
            return wf_cli_fail("windows", &err);
        }
        snprintf(outbuf, sizeof outbuf, "%s/windows.json", cfg.output_dir);
        out = outbuf;
    }
    wf_windows ws;
    wf_data_stats *stats = calloc(1, sizeof *stats);
    wf_data_config dc;
    int rc = 0;
    if (!stats) {
        wf_error_set(&err, WF_ERR_NOMEM, "out of memory");
        rc = wf_cli_fail("windows", &err);
    } else if ((dc = wf_config_data(&cfg), 0) ||
               wf_data_load_windows(&dc, &ws, NULL, NULL, stats, &err)) {
        rc = wf_cli_fail("windows", &err);
    } else {
        if (wf_windows_write_json(out, &ws, &err))
            rc = wf_cli_fail("windows", &err);
        else if (!quiet)
            print_stats(stats, &ws, out);
        wf_windows_free(&ws);
    }
    free(stats);
    wf_config_deinit(&cfg);
    return rc;
}

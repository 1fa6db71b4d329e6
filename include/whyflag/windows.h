/*
 * whyflag: windows, the unit everything downstream works on.
 *
 * A window is C channels x T timesteps of one turbine, cut from the SCADA log on the time grid
 * (src/data). Values are stored channel-major: values[c * T + t]. Windows that could not be cut
 * (gap, empty cell, NaN) are kept as wf_skipped entries with a reason, so that valid + skipped
 * accounts for every grid window and no window is lost silently.
 */
#ifndef WHYFLAG_WINDOWS_H
#define WHYFLAG_WINDOWS_H

#include <stdint.h>

#include "whyflag/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WF_ID_MAX 64
#define WF_REASON_MAX 256

typedef struct wf_window {
    int64_t index;              /* position in the run's window order (0-based) */
    char turbine_id[WF_ID_MAX]; /* turbine this window belongs to */
    int64_t start, end;         /* first and last grid point, UTC seconds since the epoch */
    int label;                  /* 1 failure within horizon after end, 0 none, -1 unknown */
    char component[WF_ID_MAX];  /* failing component when label == 1, else "" */
    int interpolated;           /* number of grid points filled by interpolation (0 = raw) */
    float *values;              /* (C, T) channel-major; points into wf_windows.data */
} wf_window;

typedef struct wf_skipped {
    char turbine_id[WF_ID_MAX];
    int64_t start;              /* first grid point of the skipped window */
    char reason[WF_REASON_MAX]; /* e.g. "missing row at 2024-03-02T10:20:00Z" */
} wf_skipped;

/* A set of windows and the skipped list. Owns everything it points to. */
typedef struct wf_windows {
    int C, T;        /* channels, timesteps */
    int stride;      /* grid points between window starts (0 if unknown) */
    int64_t cadence; /* seconds between grid points (0 if unknown) */
    char **channels; /* C channel names (owned) */
    char **units;    /* C units, "" when unknown (owned) */
    int64_t n, cap;  /* valid windows */
    wf_window *w;
    float *data; /* n * C * T values; w[i].values == data + i*C*T after wf_windows_push */
    int64_t n_skipped, cap_skipped;
    wf_skipped *skipped;
} wf_windows;

/* Set up an empty set for C channels x T steps; names/units may be NULL (copied). */
wf_status wf_windows_init(wf_windows *ws, int C, int T, const char *const *channels,
                          const char *const *units, wf_error *err);
/* Append a valid window; copies w (its values pointer is read, C*T floats) and fixes up
 * every w[i].values pointer after a reallocation. Sets the index to ws->n if w->index < 0. */
wf_status wf_windows_push(wf_windows *ws, const wf_window *w, wf_error *err);
wf_status wf_windows_push_skipped(wf_windows *ws, const wf_skipped *s, wf_error *err);
void wf_windows_free(wf_windows *ws); /* accepts a zeroed or half-built set */

/* Read a windows file (the format of `whyflag windows` and fixtures/aurora/windows.json):
 * {"channels": [...], "T"?, "stride"?, "windows": [{"turbine_id", "start", "end", "label"?,
 * "component"?, "values": [C][T]}], "skipped"?: [...]}. Errors name the file and the JSON path
 * (windows[12].values[3]). Implemented in src/io (the only cJSON reader). */
wf_status wf_windows_read_json(const char *path, wf_windows *ws, wf_error *err);
/* Write ws as a windows file, atomically. Implemented in src/data. */
wf_status wf_windows_write_json(const char *path, const wf_windows *ws, wf_error *err);

/* UTC seconds -> "2024-03-01T00:00:00Z" (buf size >= 21). */
char *wf_time_format_iso(int64_t t, char *buf);
/* "2024-03-01T00:00:00Z", "...+02:00", "... 00:00:00" -> UTC seconds. Returns WF_ERR_PARSE. */
wf_status wf_time_parse_iso(const char *s, int64_t *t);

#ifdef __cplusplus
}
#endif
#endif

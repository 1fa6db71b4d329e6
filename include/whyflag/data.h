/*
 * whyflag: from a SCADA log to windows (src/data). Streaming CSV ingestion, time parsing,
 * windowing on the time grid and failure labels.
 *
 * Rules (also in the README):
 * - The log is read once, streaming, with a big read buffer. Per turbine only the last `length`
 *   grid points are kept (a ring), so memory is bounded by the windows in flight, not the file.
 * - Grid: per turbine, grid point g is at t0 + g * cadence (t0 = the turbine's first timestamp).
 *   Window k covers grid points k*stride .. k*stride + length - 1 and exists while its last grid
 *   point is at or before the turbine's last timestamp. It is valid iff every grid point has a row
 *   whose configured channels are all present and finite; otherwise it is skipped with the reason
 *   of the first bad grid point (in time order, then channel order).
 * - A broken row never sinks the batch: wrong field count, an unparsable time or number are
 *   recorded (stats + notes, with file:line:column) and the grid points they should have filled
 *   count as bad, so the windows needing them are skipped with a reason naming file:line:column.
 *   When the time of a broken row cannot be read, a window missing a grid point between that
 *   row's neighbours names the broken row in its reason.
 * - Duplicate timestamps: an exact duplicate (same channel values) is counted and ignored; rows
 *   with the same timestamp but different values make that grid point ambiguous, and the windows
 *   touching it are skipped with a reason naming both lines.
 * - Rows off the turbine's grid (time not t0 + k * cadence) are counted and ignored (a note names
 *   the first one).
 * - Rows out of time order within the open windows are absorbed; rows older than an already
 *   finished window make that turbine fall back to buffering: its windows are retracted, its rows
 *   are collected in a second pass over the file, sorted by time and windowed (a note says so).
 * - Rows with an implausible time (before 1970 or from 2100 on) are broken rows. A row more than
 *   366 days before or after the turbine's latest row is held: when the turbine's next row is
 *   back in sequence the held row is rejected as an outlier (outlier_rows, a note with its line);
 *   when the next row follows it the jump is real and a new segment of the grid starts there (no
 *   window spans the gap; a segment before it that gave no window is rejected as outliers). A
 *   held row that is the turbine's last is rejected. Outliers never anchor or stretch a grid.
 * - Missing policy {"interpolate": K}: per channel, a run of at most K consecutive bad grid
 *   points (missing row, empty/NaN/unparsable cell, malformed row) with a valid point on both
 *   sides is filled linearly. The run and its neighbours are looked up on the turbine's grid,
 *   also outside the window (up to K + 1 points beyond it, within the turbine's data), so a
 *   short gap is filled the same way in every window that holds it. Longer runs, runs at the
 *   start or end of the data and conflicting duplicates are never filled (the window is
 *   skipped; the reason says why). Windows with filled points carry `interpolated` = count.
 * - Turbine ids are trimmed, control bytes replaced by '?', and converted from Latin-1 to UTF-8
 *   when they are not valid UTF-8. An id longer than 63 bytes, or one with control bytes, keeps
 *   its first 54 bytes at most (never cut inside a character) followed by '~' and 8 hex digits
 *   of a hash of its raw bytes, so that distinct ids stay distinct turbines. Every stage (log,
 *   failure log, shards, sheets, files) uses this rule (wf_turbine_id_normalize).
 * - Output order (wf_data_load_windows): turbines sorted by id (byte order), windows by start.
 *   It does not depend on how rows are interleaved.
 * - Labels: 1 iff a failure F of the same turbine has end < F <= end + horizon (the earliest
 *   such failure's component is carried); 0 otherwise; -1 when no failure log is configured.
 */
#ifndef WHYFLAG_DATA_H
#define WHYFLAG_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "whyflag/status.h"
#include "whyflag/windows.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The data stage's own settings (config.json's "log", "window" and "failures" sections, parsed by
 * src/io into these plain structs). */
#define WF_PATH_MAX 1024

typedef struct wf_channel_config {
    char name[WF_ID_MAX];   /* the model's channel name */
    char column[WF_ID_MAX]; /* CSV header of its column */
    char unit[32];          /* "m/s", "°C" (UTF-8); "" when not given */
} wf_channel_config;

typedef enum wf_missing_policy {
    WF_MISSING_SKIP = 0,
    WF_MISSING_INTERPOLATE = 1
} wf_missing_policy;

typedef struct wf_log_config {
    char path[WF_PATH_MAX]; /* resolved */
    char delimiter;         /* ',' default */
    char decimal;           /* '.' default, or ',' */
    char turbine_column[WF_ID_MAX];
    char time_column[WF_ID_MAX];
    char time_format[64];    /* "iso8601" or a strptime-style pattern */
    int64_t cadence_seconds; /* 600 default */
    char timezone[64];       /* log.timezone: IANA name or fixed offset for naive times; "" = UTC */
    int n_channels;
    wf_channel_config *channels; /* owned */
} wf_log_config;

typedef struct wf_window_config {
    int length; /* T */
    int stride;
    wf_missing_policy missing;
    int interpolate_max; /* K for {"interpolate": K} */
} wf_window_config;

typedef struct wf_failures_config {
    char path[WF_PATH_MAX]; /* "" when no failure log */
    double horizon_hours;   /* 72 default */
} wf_failures_config;

/* A failure from the failure log (a label source). */
typedef struct wf_failure {
    char turbine_id[WF_ID_MAX];
    int64_t time; /* UTC seconds */
    char component[WF_ID_MAX];
} wf_failure;

/* What the data stage reads: pointers into the caller's settings (wf_config_data() for a whole
 * config). failures may be NULL (no failure log). */
typedef struct wf_data_config {
    const wf_log_config *log;
    const wf_window_config *window;
    const wf_failures_config *failures;
} wf_data_config;

/* ---------------------------------------------------------------- numbers and times */

/* Parse a decimal number s[0..n) ("4.47E-05", "-12", "1,5" when decimal == ',') into *out.
 * The result equals strtof's (exact fast path, strtof fallback). "nan"/"inf" (any case) parse
 * to NaN/Inf. Returns 0 on success, -1 if the text is not a number. */
int wf_parse_float(const char *s, size_t n, char decimal, float *out);

/* Parse a time s[0..n) with format fmt: "iso8601" (fast path) or a strptime-style pattern with
 * %Y %m %d %H %M %S %y %b %% and literal characters (a space matches one or more spaces). The
 * result is UTC seconds (timegm-style; ISO offsets are applied, fractional seconds floored).
 * Returns 0 on success, -1 otherwise. */
int wf_parse_time(const char *s, size_t n, const char *fmt, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (any year). */
int64_t wf_days_from_civil(int64_t y, int m, int d);

/* ---------------------------------------------------------------- time zones */

/* log.timezone: how naive timestamps (no Z, no offset) are read. An IANA name ("Europe/Berlin")
 * is read from the TZif file under $TZDIR or /usr/share/zoneinfo (v1/v2/v3, with the POSIX TZ
 * footer rule after the last transition); "UTC", "Z", "+02:00", "-0530", "+02", "UTC+01:00" are
 * fixed offsets. The process environment is never touched (no TZ, no tzset). */
typedef struct wf_tz wf_tz;
/* name NULL or "" = "UTC". An unknown name is WF_ERR_CONFIG ("found \"X\", expected an IANA time
 * zone name ..."; the caller prefixes the config key). Caller frees with wf_tz_free. */
wf_status wf_tz_load(const char *name, wf_tz **out, wf_error *err);
void wf_tz_free(wf_tz *tz);
const char *wf_tz_name(const wf_tz *tz); /* as given */
int wf_tz_is_utc(const wf_tz *tz);       /* a fixed offset of 0 */
/* UT offset (seconds east of Greenwich) in effect at the UTC instant utc. */
int32_t wf_tz_offset_at(const wf_tz *tz, int64_t utc);
typedef enum wf_tz_local {
    WF_TZ_UNIQUE = 0,     /* one instant */
    WF_TZ_AMBIGUOUS = 1,  /* the repeated hour of a clock change: the earlier instant (fold=0) */
    WF_TZ_NONEXISTENT = 2 /* skipped by a clock change: *utc untouched */
} wf_tz_local;
/* Local wall-clock seconds (a naive time read as if UTC) -> UTC seconds. */
wf_tz_local wf_tz_local_to_utc(const wf_tz *tz, int64_t local, int64_t *utc);

/* wf_parse_time, also telling whether the text carried its own zone (Z or an offset): *zoned = 1
 * (the result is UTC), or 0 (a naive time: the result is the wall clock read as UTC). */
int wf_parse_time_zoned(const char *s, size_t n, const char *fmt, int64_t *out, int *zoned);

/* ---------------------------------------------------------------- row reader (streaming) */

typedef enum wf_cell_state {
    WF_CELL_OK = 0,
    WF_CELL_EMPTY = 1,     /* empty field */
    WF_CELL_NONFINITE = 2, /* NaN or infinite */
    WF_CELL_BAD = 3        /* not a number */
} wf_cell_state;

/* One data row as the reader hands it out. Pointers are valid until the next call. */
typedef struct wf_log_row {
    int64_t line;        /* 1-based physical line where the record starts */
    const char *turbine; /* turbine id (not NUL-terminated) */
    size_t turbine_len;
    int time_ok;          /* 0: the time field could not be parsed (time undefined) */
    int64_t time;         /* UTC seconds */
    int fields;           /* number of fields in the record */
    int malformed;        /* 1: wrong field count (values are unusable) */
    const float *values;  /* (C) channel values in config order; NaN where not OK */
    const uint8_t *state; /* (C) wf_cell_state per channel */
    const int *column;    /* (C) 1-based CSV column of each channel */
    int time_local;       /* a naive time in log.timezone: WF_TZ_NONEXISTENT (then time_ok = 0)
                             or WF_TZ_AMBIGUOUS (read as the earlier instant); else 0 */
    char problem[160];    /* description when malformed / !time_ok / a cell is BAD, else "" */
    int problem_column;   /* 1-based column of the problem (0 = whole row) */
} wf_log_row;

typedef struct wf_log_reader wf_log_reader;

/* Open the log of cfg->log (header read and matched against the configured columns: missing
 * columns are WF_ERR_DATA naming the key log.channels[i].column). Caller frees with
 * wf_log_reader_free. */
wf_status wf_log_reader_open(const wf_log_config *log, wf_log_reader **out, wf_error *err);
/* Next row: *row is filled and *done = 0, or *done = 1 at end of file. Blank lines are skipped.
 * Only I/O errors and a runaway quoted field (> 1 MB) are fatal. */
wf_status wf_log_reader_next(wf_log_reader *r, wf_log_row *row, int *done, wf_error *err);
/* Bytes consumed so far and the file name used in messages. */
int64_t wf_log_reader_bytes(const wf_log_reader *r);
const char *wf_log_reader_name(const wf_log_reader *r);
/* The SHA-256 of every byte the reader read, hashed as it read them (so of exactly the bytes it
 * parsed), into hex: 1 when the log was read to its end (then the digest is the file's), else 0
 * and hex "". */
int wf_log_reader_digest(const wf_log_reader *r, char hex[65]);
void wf_log_reader_free(wf_log_reader *r);

/* ---------------------------------------------------------------- failures */

/* Read a failure log (turbine_id,failure_time,component; the header names the columns, extra
 * columns ignored). Times as ISO 8601 or, failing that, log->time_format. *out is malloc'd
 * (caller frees), sorted by turbine then time. */
wf_status wf_failures_read(const char *path, const wf_log_config *log, wf_failure **out, int64_t *n,
                           wf_error *err);
/* The same, reading the file once: sha256_hex (65 bytes, may be NULL) receives the SHA-256 of
 * exactly the bytes parsed, so a run can check them against the digest it recorded. */
wf_status wf_failures_read_digest(const char *path, const wf_log_config *log, wf_failure **out,
                                  int64_t *n, char sha256_hex[65], wf_error *err);
/* Label of a window of turbine id ending at end: 1/0 and the component (size WF_ID_MAX), or -1
 * when failures == NULL. failures must be sorted as wf_failures_read returns them. */
int wf_window_label(const wf_failure *failures, int64_t n_failures, double horizon_hours,
                    const char *turbine_id, int64_t end, char *component);

/* ---------------------------------------------------------------- windowing */

typedef enum wf_skip_kind {
    WF_SKIP_MISSING_ROW = 0,
    WF_SKIP_EMPTY_CELL = 1,
    WF_SKIP_NONFINITE = 2,
    WF_SKIP_BAD_NUMBER = 3,
    WF_SKIP_MALFORMED_ROW = 4,
    WF_SKIP_DUPLICATE = 5,
    WF_SKIP_KIND_MAX
} wf_skip_kind;

const char *wf_skip_kind_str(wf_skip_kind k); /* "missing row", "empty cell", ... */

#define WF_DATA_NOTES_MAX 32

typedef struct wf_data_stats {
    int64_t bytes; /* bytes of the log read (first pass) */
    int64_t rows;  /* data rows read (first pass; blank lines excluded) */
    int64_t turbines;
    int64_t windows_valid, windows_skipped, windows_interpolated;
    int64_t skipped_by_kind[WF_SKIP_KIND_MAX];
    int64_t malformed_rows;        /* wrong field count, unparsable time or no turbine id */
    int64_t unnamed_rows;          /* of those: rows with an empty turbine id */
    int64_t bad_cells;             /* empty / NaN / unparsable channel cells */
    int64_t duplicate_identical;   /* exact duplicate rows ignored */
    int64_t duplicate_conflicting; /* same timestamp, different values */
    int64_t off_grid_rows;         /* time not on the turbine's grid: ignored */
    int64_t reordered_rows;        /* out-of-order rows absorbed inside open windows */
    int64_t outlier_rows;          /* rows rejected: time > 366 days from the turbine's rows */
    int64_t turbines_resorted;     /* turbines that fell back to buffering + sorting */
    int64_t turbines_filtered;     /* turbines declined by the sink's want() filter */
    int64_t nonexistent_time_rows; /* of the malformed: naive times a clock change skipped */
    int64_t ambiguous_time_rows;   /* naive times in a repeated hour: read as the earlier instant */
    char timezone[64];             /* log.timezone applied to naive times ("UTC" by default) */
    /* the cadence check: per turbine, the median step between consecutive rows */
    int64_t cadence_seconds;    /* log.cadence_seconds of the pass */
    int64_t cadence_turbines;   /* turbines with at least one step between rows */
    int64_t cadence_mismatched; /* of those: a median step other than cadence_seconds */
    int64_t cadence_median_min, cadence_median_max; /* the range of their median steps (exact
                                                       when shards merge, unlike a median) */
    int cadence_approximate; /* a turbine had more than 16 distinct steps: its median is that of
                                the steps tabled (the mismatch itself is exact) */
    char sha256[65]; /* SHA-256 of the bytes of the log the pass parsed ("" if not to its end) */
    int n_notes;     /* notes for the run summary (never printed by the library) */
    int64_t notes_dropped;
    char notes[WF_DATA_NOTES_MAX][WF_REASON_MAX];
} wf_data_stats;

/* Rows rejected (malformed, off the grid, time outliers, conflicting duplicates). */
int64_t wf_data_rows_rejected(const wf_data_stats *s);
/* One line for people: rows read and rejected by reason, windows cut and skipped by reason. */
void wf_data_stats_describe(const wf_data_stats *s, char *buf, size_t n);
/* The cadence warning ("log.cadence_seconds is 60 s, but the median step between a turbine's
 * consecutive rows is 600 s on 3 of 3 turbines ..."): 1 and the sentence in buf when some
 * turbine's median step differs from log.cadence_seconds, else 0 and buf "". */
int wf_data_cadence_warning(const wf_data_stats *s, char *buf, size_t n);

/* Where windows go while the log streams. `window` receives each valid window (values valid
 * only during the call; index = -1); `skipped` each skipped one. `retract` (may be NULL) is
 * called when a turbine's rows turn out to be out of time order after some of its windows were
 * delivered: the sink forgets them, and they are delivered again after the file is read. With
 * retract == NULL such a log is a WF_ERR_DATA error. Delivery order is not canonical: sort by
 * (turbine_id, start) if needed (wf_windows_sort). Any non-OK return stops the stream. */
typedef struct wf_data_sink {
    wf_status (*window)(void *user, const wf_window *w, wf_error *err);
    wf_status (*skipped)(void *user, const wf_skipped *s, wf_error *err);
    wf_status (*retract)(void *user, const char *turbine_id, wf_error *err);
    void *user;
    /* Optional turbine filter (sharding, issue 6): called once per new turbine id; return 0 to
     * ignore that turbine's rows (no windows, no skipped entries, no row statistics). */
    int (*want)(void *user, const char *turbine_id);
} wf_data_sink;

/* Stream cfg's log through the windower into sink. failures may be NULL (labels -1). */
wf_status wf_data_stream_windows(const wf_data_config *cfg, const wf_failure *failures,
                                 int64_t n_failures, const wf_data_sink *sink, wf_data_stats *stats,
                                 wf_error *err);

/* config -> windows (canonical order, indices 0..n-1) + failure list + stats, in one call.
 * ws is initialised here (C, T, channel names and units from the config); failures/n_failures
 * may be NULL when not wanted (*failures is malloc'd: free()). stats may be NULL. */
wf_status wf_data_load_windows(const wf_data_config *cfg, wf_windows *ws, wf_failure **failures,
                               int64_t *n_failures, wf_data_stats *stats, wf_error *err);

/* A guess at a log's layout, for `whyflag init`: log.delimiter, decimal, turbine_column,
 * time_column, time_format and cadence_seconds are set (path and channels are not); channels
 * are the numeric columns, or, when the model names its channels, the columns matching them (by
 * name, case and punctuation ignored) in the model's order, with "" for a channel no column
 * matches (counted in n_unmatched). notes explain each guess in a sentence. */
#define WF_GUESS_NOTES 24
#define WF_GUESS_MAX_CHANNELS 64
typedef struct wf_log_guess {
    wf_log_config log;
    int n_channels;
    wf_channel_config channels[WF_GUESS_MAX_CHANNELS];
    int n_unmatched;
    int naive_times; /* the times carry no zone (read as UTC) */
    int n_notes;
    char notes[WF_GUESS_NOTES][256];
} wf_log_guess;
wf_status wf_log_guess_file(const char *path, const char *const *model_channels, int n_model,
                            wf_log_guess *g, wf_error *err);

/* The one rule for a turbine's identity, used by every stage that keys on it (log, failure log,
 * shards): control bytes replaced by '?', a field that is not UTF-8 read as Latin-1 and
 * converted; an id that is longer than WF_ID_MAX - 1 bytes that way, or had control bytes, is cut
 * to at most WF_ID_MAX - 10 bytes (never inside a UTF-8 sequence) and suffixed with '~' and 8 hex
 * digits of a 64-bit FNV-1a hash (fmix64-mixed, top 32 bits) of the raw bytes. Idempotent. Writes a
 * NUL-terminated id into out (WF_ID_MAX bytes) and returns its length. */
size_t wf_turbine_id_normalize(const char *raw, size_t n, char *out);

/* The one window ordering: windows by (turbine_id, start), skipped entries by (turbine_id,
 * start, reason). wf_windows_sort sorts a set in place (records and values) and renumbers the
 * indices; it fails only when it cannot get its small index (WF_ERR_NOMEM), leaving ws as it
 * was. wf_windows_order gives perm[j] = index of the j-th window in that order (malloc'd), and
 * wf_windows_permute applies it in place (new[j] = old[perm[j]]) to the records and the optional
 * parallel arrays d, l, b, destroying perm. */
wf_status wf_windows_sort(wf_windows *ws, wf_error *err);
void wf_windows_sort_skipped(wf_windows *ws);
wf_status wf_windows_order(const wf_window *w, int64_t n, int64_t **perm, wf_error *err);
void wf_windows_permute(int64_t *perm, int64_t n, wf_window *w, double *d, int64_t *l, uint8_t *b);

#ifdef __cplusplus
}
#endif
#endif

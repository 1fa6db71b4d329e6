/*
 * A starting config.json from a guessed log layout (`whyflag init`): plain JSON, no comments,
 * every key one the loader accepts, so the user edits values, not syntax.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jw.h"
#include "io/io_impl.h"
#include "whyflag/config.h"

wf_status wf_config_starting_json(const wf_log_guess *g, const char *log_path,
                                  const char *model_path, const char *failures_path,
                                  int window_length, char **text, wf_error *err) {
    *text = NULL;
    wf_jw w;
    wf_jw_init(&w, 1);
    wf_jw_obj_begin(&w);
    wf_jw_kstr(&w, "model", model_path && *model_path ? model_path : "MODEL.onnx");
    wf_jw_key(&w, "log");
    wf_jw_obj_begin(&w);
    wf_jw_kstr(&w, "path", log_path);
    char d[2] = {g->log.delimiter, 0}, m[2] = {g->log.decimal, 0};
    wf_jw_kstr(&w, "delimiter", d);
    wf_jw_kstr(&w, "decimal", m);
    wf_jw_kstr(&w, "turbine_column", g->log.turbine_column);
    wf_jw_kstr(&w, "time_column", g->log.time_column);
    wf_jw_kstr(&w, "time_format", g->log.time_format);
    wf_jw_kint(&w, "cadence_seconds", g->log.cadence_seconds);
    if (g->naive_times) /* the times carry no zone: say how they are read, for the user to fix */
        wf_jw_kstr(&w, "timezone", "UTC");
    wf_jw_key(&w, "channels");
    wf_jw_arr_begin(&w);
    for (int c = 0; c < g->n_channels; c++) {
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "name", g->channels[c].name);
        wf_jw_kstr(&w, "column", g->channels[c].column);
        if (g->channels[c].unit[0])
            wf_jw_kstr(&w, "unit", g->channels[c].unit);
        wf_jw_obj_end(&w);
    }
    wf_jw_arr_end(&w);
    wf_jw_obj_end(&w);
    int T = window_length > 0 ? window_length : 36;
    wf_jw_key(&w, "window");
    wf_jw_obj_begin(&w);
    wf_jw_kint(&w, "length", T);
    wf_jw_kint(&w, "stride", T / 2 > 0 ? T / 2 : 1);
    wf_jw_kstr(&w, "missing", "skip");
    wf_jw_obj_end(&w);
    if (failures_path && *failures_path) {
        wf_jw_key(&w, "failures");
        wf_jw_obj_begin(&w);
        wf_jw_kstr(&w, "path", failures_path);
        wf_jw_kdouble(&w, "horizon_hours", 72);
        wf_jw_obj_end(&w);
    }
    wf_jw_kdouble(&w, "threshold", 0.5);
    wf_jw_key(&w, "explain");
    wf_jw_obj_begin(&w);
    wf_jw_kstr(&w, "method", "both");
    wf_jw_kstr(&w, "groups", "channel");
    wf_jw_kstr(&w, "nsamples", g->n_channels <= 16 ? "exact" : "auto");
    wf_jw_kint(&w, "seed", 0);
    wf_jw_obj_end(&w);
    wf_jw_kstr(&w, "output_dir", "out");
    wf_jw_obj_end(&w);
    wf_jw_finish(&w);
    if (w.failed) {
        wf_jw_free(&w);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory writing the config");
    }
    *text = malloc(w.len + 1);
    if (*text) {
        memcpy(*text, w.buf, w.len);
        (*text)[w.len] = '\0';
    }
    wf_jw_free(&w);
    return *text ? WF_OK : wf_error_set(err, WF_ERR_NOMEM, "out of memory");
}

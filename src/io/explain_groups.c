/*
 * explain.groups as an explicit array of players: [{"name": "temps", "channels":
 * ["bearing_temp", "gearbox_oil_temp"], "from": 24, "to": 36}, ...]. Each group holds the cells
 * c*T+t of its channels over [from, to). Groups must be disjoint and non-empty.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"

static wf_status fail(wf_error *err, const char *name, const char *kp, const char *what) {
    return wf_error_set(err, WF_ERR_CONFIG, "%s: %s: %s", name, kp, what);
}

static int int_value(const cJSON *v, int lo, int hi, int *out) {
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (d != floor(d) || d < lo || d > hi)
        return -1;
    *out = (int)d;
    return 0;
}

wf_status wf_config_parse_groups_array(const cJSON *arr, const char *name, const wf_log_config *log,
                                       int T, wf_explain_settings *s, wf_error *err) {
    int n = cJSON_GetArraySize(arr);
    int C = log->n_channels;
    char kp[96], msg[256];
    if (n == 0)
        return fail(err, name, "explain.groups",
                    "found an empty array, expected at least one group");
    if ((int64_t)C * T > 100000000)
        return fail(err, name, "explain.groups", "window too large for explicit groups");
    wf_group *g = calloc((size_t)n, sizeof *g);
    int *owner = malloc(sizeof(int) * (size_t)C * (size_t)T); /* cell -> group, -1 free */
    uint8_t *chan = malloc((size_t)C);
    wf_status st = WF_OK;
    if (!g || !owner || !chan) {
        st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < (int64_t)C * T; i++)
        owner[i] = -1;
    int gi = 0;
    for (const cJSON *e = arr->child; e; e = e->next, gi++) {
        snprintf(kp, sizeof kp, "explain.groups[%d]", gi);
        if (!cJSON_IsObject(e)) {
            st = fail(err, name, kp,
                      "expected an object {\"name\", \"channels\", \"from\", \"to\"}");
            goto done;
        }
        for (const cJSON *k = e->child; k; k = k->next) {
            if (strcmp(k->string, "name") && strcmp(k->string, "channels") &&
                strcmp(k->string, "from") && strcmp(k->string, "to")) {
                snprintf(msg, sizeof msg,
                         "unknown key \"%.60s\"; known keys: name, channels, from, to", k->string);
                st = fail(err, name, kp, msg);
                goto done;
            }
        }
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(nm) || !nm->valuestring[0] ||
            strlen(nm->valuestring) >= sizeof g[gi].name) {
            snprintf(kp, sizeof kp, "explain.groups[%d].name", gi);
            st = fail(err, name, kp, "expected a non-empty string (at most 63 bytes)");
            goto done;
        }
        memcpy(g[gi].name, nm->valuestring, strlen(nm->valuestring) + 1);
        for (int j = 0; j < gi; j++) {
            if (!strcmp(g[j].name, g[gi].name)) {
                snprintf(kp, sizeof kp, "explain.groups[%d].name", gi);
                snprintf(msg, sizeof msg, "found \"%s\", already the name of explain.groups[%d]",
                         g[gi].name, j);
                st = fail(err, name, kp, msg);
                goto done;
            }
        }
        int from = 0, to = T;
        const cJSON *vf = cJSON_GetObjectItemCaseSensitive(e, "from");
        const cJSON *vt = cJSON_GetObjectItemCaseSensitive(e, "to");
        if (vf && int_value(vf, 0, T - 1, &from)) {
            snprintf(kp, sizeof kp, "explain.groups[%d].from", gi);
            snprintf(msg, sizeof msg, "expected an integer time step in [0, %d]", T - 1);
            st = fail(err, name, kp, msg);
            goto done;
        }
        if (vt && int_value(vt, 1, T, &to)) {
            snprintf(kp, sizeof kp, "explain.groups[%d].to", gi);
            snprintf(msg, sizeof msg, "expected an integer time step in [1, %d] (exclusive)", T);
            st = fail(err, name, kp, msg);
            goto done;
        }
        if (from >= to) {
            snprintf(msg, sizeof msg, "from (%d) must be less than to (%d)", from, to);
            st = fail(err, name, kp, msg);
            goto done;
        }
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(e, "channels");
        snprintf(kp, sizeof kp, "explain.groups[%d].channels", gi);
        if (!cJSON_IsArray(ch) || cJSON_GetArraySize(ch) == 0) {
            st = fail(err, name, kp, "expected a non-empty array of channel names or indices");
            goto done;
        }
        memset(chan, 0, (size_t)C);
        int ci = 0, nch = 0;
        for (const cJSON *x = ch->child; x; x = x->next, ci++) {
            int c = -1;
            if (cJSON_IsString(x)) {
                for (int k = 0; k < C; k++)
                    if (!strcmp(log->channels[k].name, x->valuestring))
                        c = k;
                if (c < 0) {
                    snprintf(kp, sizeof kp, "explain.groups[%d].channels[%d]", gi, ci);
                    snprintf(msg, sizeof msg,
                             "found \"%.60s\", expected the name of one of the %d log.channels",
                             x->valuestring, C);
                    st = fail(err, name, kp, msg);
                    goto done;
                }
            } else if (int_value(x, 0, C - 1, &c)) {
                snprintf(kp, sizeof kp, "explain.groups[%d].channels[%d]", gi, ci);
                snprintf(msg, sizeof msg, "expected a channel name or an index in [0, %d]", C - 1);
                st = fail(err, name, kp, msg);
                goto done;
            }
            if (!chan[c])
                nch++;
            chan[c] = 1;
        }
        g[gi].n_cells = (int64_t)nch * (to - from);
        g[gi].cells = malloc(sizeof(int64_t) * (size_t)g[gi].n_cells);
        if (!g[gi].cells) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto done;
        }
        int64_t k = 0;
        for (int c = 0; c < C; c++) {
            if (!chan[c])
                continue;
            for (int t = from; t < to; t++) {
                int64_t cell = (int64_t)c * T + t;
                if (owner[cell] >= 0) {
                    snprintf(kp, sizeof kp, "explain.groups[%d]", gi);
                    snprintf(msg, sizeof msg,
                             "cell (%s, t=%d) is already in group \"%s\"; groups must be disjoint",
                             log->channels[c].name, t, g[owner[cell]].name);
                    st = fail(err, name, kp, msg);
                    goto done;
                }
                owner[cell] = gi;
                g[gi].cells[k++] = cell;
            }
        }
    }
done:
    free(owner);
    free(chan);
    if (st) {
        for (int i = 0; g && i < n; i++)
            free(g[i].cells);
        free(g);
        return st;
    }
    wf_explain_settings_deinit(s);
    s->groups = WF_GROUPS_EXPLICIT;
    s->segments = 0;
    s->n_groups = n;
    s->explicit_groups = g;
    return WF_OK;
}

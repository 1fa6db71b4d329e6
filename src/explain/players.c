/*
 * Players of KernelSHAP: groups of window cells (index c*T+t) with their names. `channel` gives
 * one player per channel row, `segments:K` splits each row into K near-equal time segments named
 * "channel[t0:t1)", `cell` one player per cell named "channel@t", explicit groups come from the
 * config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/explain_impl.h"

void wf_players_free(wf_players *pl) {
    if (!pl)
        return;
    if (pl->names)
        for (int p = 0; p < pl->M; p++)
            free(pl->names[p]);
    free(pl->names);
    free(pl->start);
    free(pl->cells);
    memset(pl, 0, sizeof *pl);
}

static char *dup_name(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

wf_status wf_players_build(const wf_explain_settings *s, int C, int T, char *const *channels,
                           wf_players *pl, wf_error *err) {
    memset(pl, 0, sizeof *pl);
    pl->C = C;
    pl->T = T;
    int64_t CT = (int64_t)C * T;
    int M = 0;
    int K = 1;
    int64_t ncells = CT;
    switch (s->groups) {
    case WF_GROUPS_CHANNEL:
        M = C;
        break;
    case WF_GROUPS_SEGMENTS:
        K = s->segments;
        if (K < 1 || K > T)
            return wf_error_set(err, WF_ERR_CONFIG,
                                "explain.groups: segments:%d does not fit windows of %d steps "
                                "(expected 1 <= K <= %d)",
                                K, T, T);
        M = C * K;
        break;
    case WF_GROUPS_CELL:
        M = (int)CT;
        break;
    case WF_GROUPS_EXPLICIT:
        M = s->n_groups;
        if (M < 1 || !s->explicit_groups)
            return wf_error_set(err, WF_ERR_CONFIG, "explain.groups: no explicit groups given");
        ncells = 0;
        for (int g = 0; g < M; g++)
            ncells += s->explicit_groups[g].n_cells;
        break;
    default:
        return wf_error_set(err, WF_ERR_CONFIG, "explain.groups: unknown kind %d", (int)s->groups);
    }
    pl->M = M;
    pl->start = malloc(sizeof(int64_t) * (size_t)(M + 1));
    pl->cells = malloc(sizeof(int64_t) * (size_t)(ncells ? ncells : 1));
    pl->names = calloc((size_t)M, sizeof(char *));
    if (!pl->start || !pl->cells || !pl->names) {
        wf_players_free(pl);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory building %d players", M);
    }
    char fallback[32], buf[WF_ID_MAX + 32];
#define CHNAME(c)                                                                                  \
    (channels && channels[c] ? channels[c]                                                         \
                             : (snprintf(fallback, sizeof fallback, "c%d", c), fallback))
    int64_t k = 0;
    if (s->groups == WF_GROUPS_EXPLICIT) {
        uint8_t *seen = calloc((size_t)CT, 1);
        if (!seen) {
            wf_players_free(pl);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
        for (int g = 0; g < M; g++) {
            const wf_group *gr = &s->explicit_groups[g];
            pl->start[g] = k;
            if (gr->n_cells < 1) {
                free(seen);
                wf_players_free(pl);
                return wf_error_set(err, WF_ERR_CONFIG,
                                    "explain.groups[%d] (\"%s\") holds no cells", g, gr->name);
            }
            for (int64_t i = 0; i < gr->n_cells; i++) {
                int64_t c = gr->cells[i];
                if (c < 0 || c >= CT || seen[c]) {
                    free(seen);
                    wf_players_free(pl);
                    return wf_error_set(err, WF_ERR_CONFIG,
                                        "explain.groups[%d] (\"%s\"): cell %lld is %s (expected "
                                        "0 <= cell < %lld, each cell in at most one group)",
                                        g, gr->name, (long long)c,
                                        c < 0 || c >= CT ? "out of range" : "already taken",
                                        (long long)CT);
                }
                seen[c] = 1;
                pl->cells[k++] = c;
            }
            pl->names[g] = dup_name(gr->name);
        }
        free(seen);
    } else {
        int p = 0;
        for (int c = 0; c < C; c++) {
            int nseg = s->groups == WF_GROUPS_CELL ? T : K;
            for (int j = 0; j < nseg; j++, p++) {
                /* segment j covers [t0, t1), near-equal lengths (floor division) */
                int t0 = (int)((int64_t)j * T / nseg), t1 = (int)((int64_t)(j + 1) * T / nseg);
                pl->start[p] = k;
                for (int t = t0; t < t1; t++)
                    pl->cells[k++] = (int64_t)c * T + t;
                if (s->groups == WF_GROUPS_CHANNEL)
                    snprintf(buf, sizeof buf, "%s", CHNAME(c));
                else if (s->groups == WF_GROUPS_CELL)
                    snprintf(buf, sizeof buf, "%s@%d", CHNAME(c), t0);
                else
                    snprintf(buf, sizeof buf, "%s[%d:%d)", CHNAME(c), t0, t1);
                pl->names[p] = dup_name(buf);
            }
        }
        pl->is_channels = s->groups == WF_GROUPS_CHANNEL;
    }
#undef CHNAME
    pl->start[M] = k;
    for (int p = 0; p < M; p++)
        if (!pl->names[p]) {
            wf_players_free(pl);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
    return WF_OK;
}

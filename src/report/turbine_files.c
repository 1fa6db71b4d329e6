/*
 * The file name of each turbine's justification PDF (issue 19). Turbine ids reach the report
 * already normalised by the data stage's one id rule (wf_turbine_id_normalize: control bytes
 * replaced, Latin-1 converted, long ids cut with a hash); this only maps that id onto the bytes
 * every file system accepts, and keeps distinct ids distinct (turbine_impl.h states the rule).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/fileio.h"
#include "report/turbine_impl.h"

/* The id's safe stem; returns 1 when a byte had to change. */
static int stem(const char *id, char *out, size_t n) {
    size_t o = 0;
    int changed = 0;
    for (const unsigned char *u = (const unsigned char *)id; *u && o + 1 < n;) {
        if (isalnum(*u) || *u == '-' || *u == '_' || (*u == '.' && o > 0)) {
            out[o++] = (char)*u++;
            continue;
        }
        changed = 1;
        out[o++] = '_';
        if (*u >= 0xC0) /* one '_' for the whole UTF-8 character */
            for (u++; (*u & 0xC0) == 0x80; u++)
                ;
        else
            u++;
    }
    if (o == 0) {
        out[o++] = '_';
        changed = 1;
    }
    out[o] = '\0';
    return changed;
}

void wf_report_turbine_files(const wf_analysis *a, char (*names)[WF_TURBINE_FILE_MAX]) {
    char s[WF_TURBINE_FILE_MAX - 16];
    for (int i = 0; i < a->n_turbines; i++) {
        int changed = stem(a->turbines[i].id, s, sizeof s);
        /* "Wt01" beside "WT01": both get the hash (case-insensitive file systems) */
        char other[WF_TURBINE_FILE_MAX - 16];
        for (int j = 0; j < a->n_turbines && !changed; j++)
            if (j != i) {
                stem(a->turbines[j].id, other, sizeof other);
                changed = strcasecmp(s, other) == 0;
            }
        if (changed) {
            char hex[65];
            wf_sha256_hex(a->turbines[i].id, strlen(a->turbines[i].id), hex);
            snprintf(names[i], WF_TURBINE_FILE_MAX, "%s~%.8s.pdf", s, hex);
        } else {
            snprintf(names[i], WF_TURBINE_FILE_MAX, "%s.pdf", s);
        }
    }
}

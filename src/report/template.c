/*
 * The report template (templates/report.txt): sections in order, `key = text` lines, {name}
 * placeholders. Validated when loaded, so a typo is an error naming the file, line and the
 * offending section, key or placeholder before any page is drawn.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "report/report_impl.h"
#include "report/turbine_impl.h"

typedef struct tpl_spec {
    const char *section;
    const char *keys[12];
    int episode_scope; /* may use episode placeholders */
} tpl_spec;

static const tpl_spec specs[] = {
    {"cover", {"title", "subtitle", "line", "note", NULL}, 0},
    {"summary", {"heading", "text", NULL}, 0},
    {"episodes",
     {"heading", "text", "capped", "title", "why", "outcome_true", "outcome_repeat",
      "outcome_false", "outcome_unknown", NULL},
     1},
    {"review", {"heading", "text", NULL}, 0},
    {"methods", {"heading", "text", NULL}, 0},
    {"model", {"heading", "text", "limitations_heading", "limitation", NULL}, 0},
    {"manifest", {"heading", "text", NULL}, 0},
    {"drift", {"heading", "text", NULL}, 0},
    /* issue 19: a turbine's justification PDF, the report's words and its locale */
    {"turbine", {"title", "text", "closing", NULL}, 1},
    {"words", {NULL}, 0}, /* keys: wf_report_word_keys (words.c) */
    {"locale", {"decimal", "thousands", "date", "time_zone", "time_zone_name", NULL}, 0},
};

static const char *const global_names[] = {"fleet",
                                           "tool",
                                           "model_name",
                                           "model_sha256",
                                           "model_kind",
                                           "period_start",
                                           "period_end",
                                           "run_id",
                                           "generated_at",
                                           "n_turbines",
                                           "n_flagged_turbines",
                                           "n_windows",
                                           "n_skipped",
                                           "n_flagged",
                                           "n_episodes",
                                           "n_true",
                                           "n_false",
                                           "n_missed",
                                           "threshold",
                                           "horizon_hours",
                                           "max_episode_pages",
                                           "n_detailed",
                                           "window_desc",
                                           "n_why",
                                           "n_disagree",
                                           "n_rows",
                                           "n_rows_used",
                                           "n_rows_rejected",
                                           "n_repeat",
                                           "n_caught",
                                           "n_not_observable",
                                           "n_failures",
                                           "precision",
                                           "recall",
                                           "median_lead_hours",
                                           "episode_merge_gap_hours",
                                           "timezone",
                                           NULL};

static const char *const episode_names[] = {"episode_no",
                                            "turbine",
                                            "episode_start",
                                            "episode_end",
                                            "episode_windows",
                                            "score",
                                            "window_start",
                                            "window_end",
                                            "top_channel",
                                            "top_unit",
                                            "top_value",
                                            "direction",
                                            "second_channel",
                                            "base_value",
                                            "lead_hours",
                                            "failure_time",
                                            "component",
                                            "why",
                                            NULL};
/* [turbine] (issue 19) also knows the file name of the turbine's PDF */
static const char *const turbine_names[] = {"turbine_file", NULL};

static int in_list(const char *const *list, const char *name) {
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static const tpl_spec *find_spec(const char *name) {
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].section, name) == 0)
            return &specs[i];
    return NULL;
}

static char *trim(char *s) {
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Walk the {name} placeholders of text; call check for each. Returns the first error. */
static wf_status scan_placeholders(const char *path, int line, const char *text, const tpl_spec *sp,
                                   wf_error *err) {
    for (const char *p = text; *p; p++) {
        if (p[0] == '{' && p[1] == '{') {
            p++;
            continue;
        }
        if (p[0] == '}' && p[1] == '}') {
            p++;
            continue;
        }
        if (*p == '}')
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s:%d: unmatched '}' (write }} for a literal brace)", path, line);
        if (*p != '{')
            continue;
        const char *end = strchr(p + 1, '}');
        if (!end)
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s:%d: unterminated placeholder '%.20s' (expected {name})", path,
                                line, p);
        char name[64];
        size_t n = (size_t)(end - p - 1);
        if (n == 0 || n >= sizeof name)
            return wf_error_set(err, WF_ERR_CONFIG, "%s:%d: bad placeholder '%.*s'", path, line,
                                (int)(n + 2 < 40 ? n + 2 : 40), p);
        memcpy(name, p + 1, n);
        name[n] = '\0';
        if (!in_list(global_names, name) &&
            !(sp->episode_scope && (in_list(episode_names, name) || in_list(turbine_names, name))))
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s:%d: unknown placeholder {%s} in section [%s]%s", path, line,
                                name, sp->section,
                                in_list(episode_names, name)
                                    ? " (episode placeholders are only known in [episodes])"
                                    : "");
        p = end;
    }
    return WF_OK;
}

void wf_template_free(wf_template *t) {
    for (int i = 0; i < t->n; i++) {
        for (int j = 0; j < t->sections[i].n; j++) {
            free(t->sections[i].lines[j].key);
            free(t->sections[i].lines[j].value);
        }
        free(t->sections[i].lines);
    }
    free(t->sections);
    memset(t, 0, sizeof *t);
}

wf_status wf_template_load(const char *path, wf_template *t, wf_error *err) {
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    char *text;
    size_t len;
    wf_status st = wf_file_read_all(path, &text, &len, err);
    if (st)
        return wf_error_prefix(err, "report template: ");
    int lineno = 0;
    const tpl_spec *cur = NULL;
    char *save = text;
    while (save && *save) {
        char *nl = strchr(save, '\n');
        if (nl)
            *nl = '\0';
        char *line = save;
        save = nl ? nl + 1 : NULL;
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1] != '\0') {
                st = wf_error_set(err, WF_ERR_CONFIG, "%s:%d: expected [section], found '%s'", path,
                                  lineno, s);
                goto fail;
            }
            *close = '\0';
            cur = find_spec(s + 1);
            if (!cur) {
                st = wf_error_set(err, WF_ERR_CONFIG,
                                  "%s:%d: unknown section [%s] (expected cover, summary, "
                                  "episodes, review, drift, methods, model, manifest, turbine, "
                                  "words or locale)",
                                  path, lineno, s + 1);
                goto fail;
            }
            if (wf_template_section(t, cur->section)) {
                st = wf_error_set(err, WF_ERR_CONFIG, "%s:%d: section [%s] appears twice", path,
                                  lineno, cur->section);
                goto fail;
            }
            wf_tpl_section *ns = realloc(t->sections, (size_t)(t->n + 1) * sizeof *ns);
            if (!ns)
                goto nomem;
            t->sections = ns;
            memset(&ns[t->n], 0, sizeof ns[t->n]);
            snprintf(ns[t->n].name, sizeof ns[t->n].name, "%s", cur->section);
            ns[t->n].line = lineno;
            t->n++;
            continue;
        }
        char *eq = strchr(s, '=');
        if (!cur || !eq) {
            st = wf_error_set(err, WF_ERR_CONFIG, "%s:%d: expected %s, found '%.40s'", path, lineno,
                              cur ? "key = text" : "a [section] first", s);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (!in_list(cur->keys, key) &&
            !(!strcmp(cur->section, "words") && wf_report_word_default(key))) {
            st = wf_error_set(err, WF_ERR_CONFIG, "%s:%d: unknown key '%s' in section [%s]", path,
                              lineno, key, cur->section);
            goto fail;
        }
        st = scan_placeholders(path, lineno, val, cur, err);
        if (st)
            goto fail;
        wf_tpl_section *sec = &t->sections[t->n - 1];
        wf_tpl_line *nl2 = realloc(sec->lines, (size_t)(sec->n + 1) * sizeof *nl2);
        if (!nl2)
            goto nomem;
        sec->lines = nl2;
        nl2[sec->n].key = strdup(key);
        nl2[sec->n].value = strdup(val);
        nl2[sec->n].line = lineno;
        sec->n++;
        if (!nl2[sec->n - 1].key || !nl2[sec->n - 1].value)
            goto nomem;
    }
    free(text);
    return WF_OK;
nomem:
    st = wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory reading the template", path);
fail:
    free(text);
    wf_template_free(t);
    return st;
}

const wf_tpl_section *wf_template_section(const wf_template *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->sections[i].name, name) == 0)
            return &t->sections[i];
    return NULL;
}

wf_status wf_template_expand(const wf_template *t, const wf_tpl_line *l, wf_tpl_lookup look,
                             void *user, char *out, size_t size, wf_error *err) {
    size_t o = 0;
    for (const char *p = l->value; *p; p++) {
        const char *piece = NULL;
        size_t plen = 0;
        char name[64];
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            piece = p;
            plen = 1;
            p++;
        } else if (*p == '{') {
            const char *end = strchr(p + 1, '}');
            size_t n = end ? (size_t)(end - p - 1) : 0;
            if (!end || n == 0 || n >= sizeof name)
                return wf_error_set(err, WF_ERR_CONFIG, "%s:%d: bad placeholder", t->path, l->line);
            memcpy(name, p + 1, n);
            name[n] = '\0';
            piece = look(user, name);
            if (!piece)
                return wf_error_set(err, WF_ERR_CONFIG, "%s:%d: placeholder {%s} has no value here",
                                    t->path, l->line, name);
            plen = strlen(piece);
            p = end;
        } else {
            piece = p;
            plen = 1;
        }
        if (o + plen + 1 > size)
            plen = size - o - 1;
        memcpy(out + o, piece, plen);
        o += plen;
    }
    out[o] = '\0';
    return WF_OK;
}

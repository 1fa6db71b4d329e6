/*
 * The report's words and its number and date formats (issue 19). English is built in; a
 * template may carry a [words] section (key = word) in another language and a [locale] section:
 *
 *   [locale]
 *   decimal = ,              decimal mark ("." default)
 *   thousands = .            thousands separator ("" default: none)
 *   date = dmy               "ymd" (2024-03-04, default) or "dmy" (04.03.2024)
 *   time_zone = +01:00       the zone times are printed in (fixed offset; "UTC" default)
 *   time_zone_name = MEZ     its label after the time ("UTC" default)
 *
 * A [words] section that lacks a key falls back to the English word for it; the keys it lacks
 * are recorded (wf_report_words.missing) for the caller to warn about. No locale of the C
 * library is used: the formats are applied here, so the JSON writers stay locale-free.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/turbine_impl.h"

typedef struct word {
    const char *key, *en;
} word;

static const word words[] = {
    /* a turbine's justification PDF */
    {"t_title", "Alarm justification"},
    {"t_turbine", "Turbine"},
    {"t_period", "Period"},
    {"t_model", "Model"},
    {"t_model_sha", "Model SHA-256"},
    {"t_run", "Run id"},
    {"t_generated", "Generated"},
    {"t_decision", "Decision"},
    {"t_why", "Why"},
    {"t_outcome", "Outcome"},
    {"t_checks", "Checks"},
    {"t_to", "to"},
    {"t_of", "of"},
    {"t_windows_flagged", "windows flagged"},
    {"t_threshold", "threshold"},
    {"t_episodes", "alarm episodes"},
    {"t_episode_one", "alarm episode"},
    {"t_highest", "highest score"},
    {"t_episode", "Episode"},
    {"t_true", "true alarm"},
    {"t_false", "false alarm"},
    {"t_unknown", "outcome unknown (no failure log)"},
    {"t_failure_at", "failure logged at"},
    {"t_lead", "lead time"},
    {"t_missed", "failures with no alarm before them"},
    {"t_no_why", "no sentence of why was built for this window"},
    {"t_with_why", "flagged windows have a sentence of why"},
    {"t_disagree", "of them: KernelSHAP and Integrated Gradients disagree (not reliable)"},
    {"t_timeline", "Score timeline"},
    {"t_episodes_heading", "Episodes of this turbine"},
    {"t_verify", "Verification"},
    {"t_unverified", "UNVERIFIED: results.json does not match the digest in its manifest"},
    {"t_signals_missing",
     "The signals were not available (the log is missing or does not match the manifest): the "
     "signal panels are left out."},
    {"t_page", "page"},
    {"t_page_of", "of"},
    /* the fleet report (pdf.c, pdf_episodes.c) */
    {"r_footer", "whyflag audit report"},
    {"r_glance", "Flagged turbines at a glance"},
    {"r_turbine", "Turbine"},
    {"r_highest", "Highest score"},
    {"r_flagged_windows", "Flagged windows"},
    {"r_episodes", "Episodes"},
    {"r_outcome", "Outcome"},
    {"r_scored", "Scored"},
    {"r_skipped", "Skipped"},
    {"r_max_score", "Max score"},
    {"r_flagged", "Flagged"},
    {"r_channels_read", "Channels the model reads"},
    {"r_settings", "Settings of this run"},
    {"r_channel", "Channel"},
    {"r_unit", "Unit"},
    {"r_values_range", "Values in this run (min - max)"},
    {"r_inputs", "Inputs"},
    {"r_software", "Software and platform"},
    {"r_role", "Role"},
    {"r_file", "File"},
    {"r_component", "Component"},
    {"r_version", "Version"},
    {"r_decision", "Decision: score"},
    {"r_threshold", "threshold"},
    {"r_was_flagged", "so the window was flagged."},
    {"r_to", "to"},
    {"r_raised", "Window that raised the alarm"},
    {"r_peak", "Window with the highest score"},
    {"r_best", "Explained window with the highest score"},
    {"r_cap_waterfall", "From the fleet base value to this score, channel by channel (KernelSHAP)"},
    {"r_cap_heatmap", "When within the window each channel mattered (Integrated Gradients; red "
                      "raises, blue lowers the score)"},
    {"r_cap_signals", "The top channels over the window, against the fleet's normal range"},
    {"r_checks_of", "Checks of this explanation (window starting"},
    {"r_check", "Check"},
    {"r_value", "Value"},
    {"r_meaning", "Meaning"},
    {"r_all_windows", "All flagged windows of this episode"},
    {"r_window_start", "Window start"},
    {"r_window_end", "Window end"},
    {"r_score", "Score"},
    {"r_why_drivers", "Why (main driver / drivers)"},
    {"r_starts", "Starts"},
    {"r_ends", "Ends"},
    {"r_windows", "Windows"},
    {"r_peak_short", "Peak"},
    {"r_why_short", "Why (drivers)"},
    {"r_detail", "Detail"},
    {"r_none_flagged", "No window was flagged in this run."},
    {"tl_failure", "failure"},
    {"tl_legend", "score per window (at its end); dashed: threshold; dots: flagged windows; "
                  "shaded: alarm episodes (red: true alarm); red line: failure; hatched: no "
                  "scored window (a gap in the data)"},
    {NULL, NULL},
};

const char *wf_report_word_default(const char *key) {
    for (int i = 0; words[i].key; i++)
        if (!strcmp(words[i].key, key))
            return words[i].en;
    return NULL;
}

const char *const *wf_report_word_keys(void) {
    static const char *keys[sizeof words / sizeof words[0]];
    if (!keys[0])
        for (int i = 0; words[i].key; i++)
            keys[i] = words[i].key;
    return keys;
}

const char *wf_report_word(const wf_report_words *w, const char *key) {
    const wf_tpl_section *sec = w && w->tpl ? wf_template_section(w->tpl, "words") : NULL;
    for (int i = 0; sec && i < sec->n; i++)
        if (!strcmp(sec->lines[i].key, key))
            return sec->lines[i].value;
    const char *en = wf_report_word_default(key);
    return en ? en : key;
}

static const char *locale_value(const wf_template *t, const char *key) {
    const wf_tpl_section *sec = t ? wf_template_section(t, "locale") : NULL;
    for (int i = 0; sec && i < sec->n; i++)
        if (!strcmp(sec->lines[i].key, key))
            return sec->lines[i].value;
    return NULL;
}

wf_status wf_report_words_init(wf_report_words *w, const wf_template *tpl, wf_error *err) {
    memset(w, 0, sizeof *w);
    w->tpl = tpl;
    snprintf(w->decimal, sizeof w->decimal, ".");
    snprintf(w->date_order, sizeof w->date_order, "ymd");
    snprintf(w->date_sep, sizeof w->date_sep, "-");
    snprintf(w->tz_name, sizeof w->tz_name, "UTC");
    const char *path = tpl ? tpl->path : "";
    const char *v;
    if ((v = locale_value(tpl, "decimal"))) {
        if (strcmp(v, ".") && strcmp(v, ","))
            return wf_error_set(err, WF_ERR_CONFIG, "%s: [locale] decimal = '%s': expected . or ,",
                                path, v);
        snprintf(w->decimal, sizeof w->decimal, "%s", v);
    }
    if ((v = locale_value(tpl, "thousands"))) {
        if (strlen(v) > 1 || (v[0] && strchr(".,' ", v[0]) == NULL))
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s: [locale] thousands = '%s': expected nothing, . , ' or a "
                                "space",
                                path, v);
        snprintf(w->thousands, sizeof w->thousands, "%s", v);
    }
    if ((v = locale_value(tpl, "date"))) {
        if (strcmp(v, "ymd") && strcmp(v, "dmy"))
            return wf_error_set(err, WF_ERR_CONFIG, "%s: [locale] date = '%s': expected ymd or dmy",
                                path, v);
        snprintf(w->date_order, sizeof w->date_order, "%s", v);
        snprintf(w->date_sep, sizeof w->date_sep, "%s", strcmp(v, "dmy") ? "-" : ".");
    }
    if ((v = locale_value(tpl, "time_zone")) && strcmp(v, "UTC") != 0) {
        int hh = 0, mm = 0, used = 0;
        char sign = v[0];
        if ((sign != '+' && sign != '-') || sscanf(v + 1, "%2d:%2d%n", &hh, &mm, &used) != 2 ||
            v[1 + used] || hh > 14 || mm > 59)
            return wf_error_set(err, WF_ERR_CONFIG,
                                "%s: [locale] time_zone = '%s': expected UTC or an offset "
                                "+HH:MM / -HH:MM",
                                path, v);
        w->tz_offset_min = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
        snprintf(w->tz_name, sizeof w->tz_name, "UTC%s", v);
    }
    if ((v = locale_value(tpl, "time_zone_name")))
        snprintf(w->tz_name, sizeof w->tz_name, "%.10s", v);
    /* [words] present: every key it lacks falls back to English (recorded for a warning) */
    const wf_tpl_section *sec = tpl ? wf_template_section(tpl, "words") : NULL;
    for (int i = 0; sec && words[i].key; i++) {
        int found = 0;
        for (int j = 0; j < sec->n && !found; j++)
            found = !strcmp(sec->lines[j].key, words[i].key);
        if (!found) {
            if (w->n_missing < WF_WORDS_MAX_MISSING)
                snprintf(w->missing[w->n_missing], sizeof w->missing[0], "%s", words[i].key);
            w->n_missing++;
        }
    }
    return WF_OK;
}

char *wf_report_fmt_num(const wf_report_words *w, char *buf, size_t n, double v, int decimals) {
    if (isnan(v)) {
        snprintf(buf, n, "n/a");
        return buf;
    }
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, v);
    const char *dec = w ? w->decimal : ".";
    const char *th = w ? w->thousands : "";
    char *dot = strchr(raw, '.');
    size_t ilen = dot ? (size_t)(dot - raw) : strlen(raw);
    size_t o = 0, lead = raw[0] == '-' ? 1 : 0;
    for (size_t i = 0; i < ilen && o + 4 < n; i++) {
        buf[o++] = raw[i];
        size_t left = ilen - i - 1;
        if (th[0] && i >= lead && left > 0 && left % 3 == 0)
            buf[o++] = th[0];
    }
    if (dot && o + 1 < n) {
        buf[o++] = dec[0];
        for (const char *q = dot + 1; *q && o + 1 < n; q++)
            buf[o++] = *q;
    }
    buf[o < n ? o : n - 1] = '\0';
    return buf;
}

static void local_tm(const wf_report_words *w, int64_t t, struct tm *tmv) {
    time_t tt = (time_t)(t + (w ? (int64_t)w->tz_offset_min * 60 : 0));
    gmtime_r(&tt, tmv);
}

char *wf_report_fmt_date(const wf_report_words *w, char *buf, size_t n, int64_t t) {
    struct tm tmv;
    local_tm(w, t, &tmv);
    const char *sep = w ? w->date_sep : "-";
    if (w && !strcmp(w->date_order, "dmy"))
        snprintf(buf, n, "%02d%s%02d%s%04d", tmv.tm_mday, sep, tmv.tm_mon + 1, sep,
                 tmv.tm_year + 1900);
    else
        snprintf(buf, n, "%04d%s%02d%s%02d", tmv.tm_year + 1900, sep, tmv.tm_mon + 1, sep,
                 tmv.tm_mday);
    return buf;
}

char *wf_report_fmt_time(const wf_report_words *w, char *buf, size_t n, int64_t t) {
    struct tm tmv;
    char d[32];
    local_tm(w, t, &tmv);
    wf_report_fmt_date(w, d, sizeof d, t);
    snprintf(buf, n, "%s %02d:%02d %s", d, tmv.tm_hour, tmv.tm_min, w ? w->tz_name : "UTC");
    return buf;
}

/* Numbers in a text drawn on a page follow the locale's decimal mark: a number with exactly one
 * decimal point (digits, '.', digits, not glued to a letter before it) gets the locale's mark;
 * runs with two or more points (versions 1.4.1, dates 04.03.2024) and words are left alone. */
const char *wf_report_localize(const wf_report_words *w, const char *s, char *buf, size_t n) {
    if (!w || w->decimal[0] != ',' || !strchr(s, '.') || n == 0)
        return s;
    size_t len = strlen(s);
    if (len + 1 > n)
        return s;
    memcpy(buf, s, len + 1);
    for (size_t i = 0; i < len;) {
        if (!isdigit((unsigned char)buf[i])) {
            i++;
            continue;
        }
        int glued = i > 0 && (isalpha((unsigned char)buf[i - 1]) || buf[i - 1] == '_' ||
                              buf[i - 1] == '.' || (unsigned char)buf[i - 1] >= 0x80);
        size_t j = i, dots = 0, dot_at = 0;
        while (j < len && (isdigit((unsigned char)buf[j]) ||
                           (buf[j] == '.' && j + 1 < len && isdigit((unsigned char)buf[j + 1])))) {
            if (buf[j] == '.') {
                dots++;
                dot_at = j;
            }
            j++;
        }
        int tail = j < len && (isalpha((unsigned char)buf[j]) && buf[j] != 'e' && buf[j] != 'E');
        if (dots == 1 && !glued && !tail)
            buf[dot_at] = w->decimal[0];
        i = j;
    }
    return buf;
}

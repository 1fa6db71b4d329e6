/*
 * The report's built-in English words (issue 19): the table a template's [words] section
 * translates, its keys (the template loader accepts exactly these in [words]) and the English
 * fallback. Data only: template.c and words.c both read it.
 */
#include <string.h>

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

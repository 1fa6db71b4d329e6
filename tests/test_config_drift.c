/*
 * config.json's "drift" section (issue 16), table-driven as test_config.c: each bad case gives
 * the status and a fragment of the message, which must name the key path. Plus the defaults, a
 * period reference, another log as reference (resolved against the config's folder) and every
 * threshold set.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/config.h"

#define BASE                                                                                       \
    "\"log\": {\"path\": \"x.csv\", \"channels\": [\"a\", \"b\"]}, \"window\": {\"length\": 4}"
#define REF "\"reference\": {\"from\": \"2024-03-01T00:00:00Z\", \"to\": \"2024-03-08T00:00:00Z\"}"

typedef struct bad_case {
    const char *json;
    const char *frag;
} bad_case;

static const bad_case bad_cases[] = {
    {"{" BASE ", \"drift\": 3}", "c.json: drift: found 3, expected an object"},
    {"{" BASE ", \"drift\": {}}", "c.json: drift.reference: missing (required key"},
    {"{" BASE ", \"drift\": {" REF ", \"perod\": \"day\"}}",
     "c.json: drift.perod: unknown key (did you mean \"period\"?); known keys: reference, period"},
    {"{" BASE ", \"drift\": {\"reference\": {\"form\": \"2024-03-01\"}}}",
     "drift.reference.form: unknown key (did you mean \"from\"?); known keys: from, to, path"},
    {"{" BASE ", \"drift\": {\"reference\": \"train.csv\"}}",
     "drift.reference: found \"train.csv\", expected {\"from\""},
    {"{" BASE ", \"drift\": {\"reference\": {\"from\": \"2024-03-01T00:00:00Z\"}}}",
     "drift.reference.to: found nothing, expected an ISO 8601 time"},
    {"{" BASE ", \"drift\": {\"reference\": {\"from\": \"March\", \"to\": \"2024-03-08\"}}}",
     "drift.reference.from: found \"March\", expected an ISO 8601 time"},
    {"{" BASE ", \"drift\": {\"reference\": {\"from\": \"2024-03-08T00:00:00Z\", \"to\": "
     "\"2024-03-01T00:00:00Z\"}}}",
     "drift.reference.to: found \"2024-03-01T00:00:00Z\", expected a time after "
     "drift.reference.from"},
    {"{" BASE ", \"drift\": {\"reference\": {\"path\": \"\"}}}",
     "drift.reference.path: found \"\", expected a non-empty path"},
    {"{" BASE ", \"drift\": {\"reference\": {\"path\": \"t.csv\", \"from\": \"2024-03-01\"}}}",
     "drift.reference: found both \"path\" and a period"},
    {"{" BASE ", \"drift\": {" REF ", \"period\": \"year\"}}",
     "drift.period: found \"year\", expected \"day\", \"week\" or \"month\""},
    {"{" BASE ", \"drift\": {" REF ", \"ks_alpha\": 0}}", "drift.ks_alpha: found 0, expected"},
    {"{" BASE ", \"drift\": {" REF ", \"ks_alpha\": \"5%\"}}", "drift.ks_alpha: found \"5%\""},
    {"{" BASE ", \"drift\": {" REF ", \"wasserstein_threshold\": -1}}",
     "drift.wasserstein_threshold: found -1"},
    {"{" BASE ", \"drift\": {" REF ", \"psi_bins\": 2.5}}",
     "drift.psi_bins: found 2.5, expected an integer"},
    {"{" BASE ", \"drift\": {" REF ", \"ks_max_reference\": -3}}",
     "drift.ks_max_reference: found -3"},
    {"{" BASE ", \"drift\": {" REF ", \"memory_mb\": 0}}", "drift.memory_mb: found 0"},
    {"{" BASE ", \"drift\": {" REF ", \"out_of_range\": [0.9, 0.1]}}",
     "drift.out_of_range: found an array, expected [low, high] quantiles"},
    {"{" BASE ", \"drift\": {" REF ", \"out_of_range\": 0.01}}", "drift.out_of_range: found 0.01"},
    {"{" BASE ", \"drift\": {" REF ", " REF "}}", "drift.reference: duplicate key"},
    {"{" BASE ", \"drift\": {" REF ", \"ks_pvalue_max_n\": 10}}",
     "drift.ks_pvalue_max_n: found 10, expected 0 or at least drift.ks_max_reference"},
};

START_TEST(test_bad_drift) {
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        wf_config cfg;
        wf_error err = {0};
        wf_status st = wf_config_parse(bad_cases[i].json, "c.json", "/base", &cfg, &err);
        ck_assert_msg(st == WF_ERR_CONFIG, "case %zu (%s): status %d (%s)", i, bad_cases[i].json,
                      st, err.msg);
        ck_assert_msg(strstr(err.msg, bad_cases[i].frag) != NULL,
                      "case %zu: message\n  \"%s\"\nlacks\n  \"%s\"", i, err.msg,
                      bad_cases[i].frag);
    }
}
END_TEST

START_TEST(test_no_drift_section) {
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(wf_config_parse("{" BASE "}", "c.json", "/d", &cfg, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_int_eq(cfg.has_drift, 0);
    wf_config_deinit(&cfg);
}
END_TEST

START_TEST(test_period_defaults) {
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(wf_config_parse("{" BASE ", \"drift\": {" REF "}}", "c.json", "/d", &cfg, &err) ==
                      WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cfg.has_drift, 1);
    const wf_drift_config *d = &cfg.drift;
    ck_assert_int_eq(d->ref_kind, WF_DRIFT_REF_PERIOD);
    ck_assert_int_eq(d->ref_from, 1709251200); /* 2024-03-01T00:00:00Z */
    ck_assert_int_eq(d->ref_to, 1709251200 + 7 * 86400);
    ck_assert_int_eq(d->period, WF_DRIFT_PERIOD_WEEK);
    ck_assert_int_eq(d->memory_mb, 64);
    ck_assert_int_eq(d->unflagged_sample, 8);
    wf_drift_settings def;
    wf_drift_settings_init(&def);
    ck_assert(d->settings.ks_alpha == def.ks_alpha && d->settings.ks_max_ref == def.ks_max_ref);
    ck_assert(d->settings.wasserstein_threshold == 0.1 && d->settings.psi_bins == 10);
    ck_assert(d->settings.oor_q_lo == 0.005 && d->settings.oor_q_hi == 0.995);
    wf_config_deinit(&cfg);
}
END_TEST

START_TEST(test_log_reference_and_thresholds) {
    wf_config cfg;
    wf_error err = {0};
    const char *json = "{" BASE ", \"drift\": {\"reference\": {\"path\": \"train/log.csv\"}, "
                       "\"period\": \"month\", \"ks_alpha\": 0.01, \"ks_max_reference\": 500, "
                       "\"wasserstein_threshold\": 0.2, \"psi_bins\": 20, \"out_of_range\": "
                       "[0.01, 0.99], \"memory_mb\": 64, \"ks_pvalue_max_n\": 200000}}";
    ck_assert_msg(wf_config_parse(json, "c.json", "/data/run", &cfg, &err) == WF_OK, "%s", err.msg);
    const wf_drift_config *d = &cfg.drift;
    ck_assert_int_eq(d->ref_kind, WF_DRIFT_REF_LOG);
    ck_assert_str_eq(d->ref_path, "/data/run/train/log.csv");
    ck_assert_int_eq(d->period, WF_DRIFT_PERIOD_MONTH);
    ck_assert(d->settings.ks_alpha == 0.01);
    ck_assert_uint_eq(d->settings.ks_max_ref, 500);
    ck_assert(d->settings.wasserstein_threshold == 0.2);
    ck_assert_int_eq(d->settings.psi_bins, 20);
    ck_assert(d->settings.oor_q_lo == 0.01 && d->settings.oor_q_hi == 0.99);
    ck_assert_int_eq(d->memory_mb, 64);
    ck_assert_uint_eq(d->settings.ks_pvalue_max_n, 200000);
    wf_config_deinit(&cfg);
    ck_assert_msg(wf_config_parse("{" BASE ", \"drift\": {" REF ", \"period\": \"day\"}}", "c.json",
                                  "/d", &cfg, &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cfg.drift.period, WF_DRIFT_PERIOD_DAY);
    wf_config_deinit(&cfg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("config_drift");
    TCase *tc = tcase_create("config_drift");
    tcase_add_test(tc, test_bad_drift);
    tcase_add_test(tc, test_no_drift_section);
    tcase_add_test(tc, test_period_defaults);
    tcase_add_test(tc, test_log_reference_and_thresholds);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

/*
 * Config loading, table-driven in the jq style: each case is a config text -> expected status and
 * a fragment of the message (the key path, what was found, what was expected). Plus the happy
 * path (defaults, relative paths, the explain and report sections) and the shared string
 * parsers used by the CLI flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "whyflag/config.h"

#define LOG "\"log\": {\"path\": \"x.csv\", \"channels\": [\"a\", \"b\"]}"
#define WIN "\"window\": {\"length\": 4}"
#define BASE LOG ", " WIN

typedef struct bad_case {
    const char *json;
    wf_status status;
    const char *frag;
} bad_case;

static const bad_case bad_cases[] = {
    {"", WF_ERR_CONFIG, "c.json:1:1: invalid JSON"},
    {"{\"log\": {}\n,}", WF_ERR_CONFIG, "c.json:2:3: invalid JSON"},
    {"[]", WF_ERR_CONFIG, "(top level): found an array, expected an object"},
    {"{" WIN "}", WF_ERR_CONFIG, "c.json: log: missing (required section)"},
    {"{" LOG "}", WF_ERR_CONFIG, "window: missing (required section"},
    {"{" BASE ", \"modle\": \"m.onnx\"}", WF_ERR_CONFIG,
     "c.json: modle: unknown key (did you mean \"model\"?)"},
    {"{" BASE ", \"zzz\": 1}", WF_ERR_CONFIG, "zzz: unknown key; known keys: model, layout"},
    {"{" BASE ", \"model\": 3}", WF_ERR_CONFIG, "model: found 3, expected a string"},
    {"{" BASE ", \"model\": \"\"}", WF_ERR_CONFIG, "model: found \"\", expected a non-empty path"},
    {"{" BASE ", \"layout\": \"NHWC\"}", WF_ERR_CONFIG,
     "layout: found \"NHWC\", expected \"NCT\" or \"NTC\""},
    {"{" BASE ", \"threshold\": 1.5}", WF_ERR_CONFIG,
     "threshold: found 1.5, expected a number in [0, 1]"},
    {"{" BASE ", \"threshold\": \"high\"}", WF_ERR_CONFIG, "threshold: found \"high\""},
    {"{" BASE ", \"model\": \"a\", \"model\": \"b\"}", WF_ERR_CONFIG, "model: duplicate key"},
    /* log */
    {"{\"log\": 3, " WIN "}", WF_ERR_CONFIG, "log: found 3, expected an object"},
    {"{\"log\": {\"channels\": [\"a\"]}, " WIN "}", WF_ERR_CONFIG,
     "log.path: missing (required key)"},
    {"{\"log\": {\"path\": \"x.csv\"}, " WIN "}", WF_ERR_CONFIG, "log.channels: missing"},
    {"{\"log\": {\"path\": \"x.csv\", \"channels\": []}, " WIN "}", WF_ERR_CONFIG,
     "log.channels: found an array, expected a non-empty array"},
    {"{\"log\": {\"path\": \"x.csv\", \"chanels\": [\"a\"]}, " WIN "}", WF_ERR_CONFIG,
     "log.chanels: unknown key (did you mean \"channels\"?)"},
    {"{\"log\": {\"path\": \"x.csv\", \"channels\": [\"a\", {\"name\": \"b\", \"colum\": "
     "\"B\"}]}, " WIN "}",
     WF_ERR_CONFIG, "log.channels[1].colum: unknown key (did you mean \"column\"?)"},
    {"{\"log\": {\"path\": \"x.csv\", \"channels\": [\"a\", \"b\", \"c\", {\"name\": \"d\", "
     "\"column\": 7}]}, " WIN "}",
     WF_ERR_CONFIG, "log.channels[3].column: found 7, expected a string"},
    {"{\"log\": {\"path\": \"x.csv\", \"channels\": [\"a\", {\"column\": \"B\"}]}, " WIN "}",
     WF_ERR_CONFIG, "log.channels[1].name: missing (required key)"},
    {"{\"log\": {\"path\": \"x.csv\", \"channels\": [\"a\", \"a\"]}, " WIN "}", WF_ERR_CONFIG,
     "log.channels[1].name: found \"a\", already the name of log.channels[0]"},
    {"{\"log\": {\"path\": \"x.csv\", \"channels\": [3]}, " WIN "}", WF_ERR_CONFIG,
     "log.channels[0]: found 3, expected an object"},
    {"{\"log\": {\"path\": \"x.csv\", \"delimiter\": \";;\", \"channels\": [\"a\"]}, " WIN "}",
     WF_ERR_CONFIG, "log.delimiter: found \";;\", expected a single character"},
    {"{\"log\": {\"path\": \"x.csv\", \"decimal\": \"'\", \"channels\": [\"a\"]}, " WIN "}",
     WF_ERR_CONFIG, "log.decimal: found \"'\", expected \".\" or \",\""},
    {"{\"log\": {\"path\": \"x.csv\", \"decimal\": \",\", \"channels\": [\"a\"]}, " WIN "}",
     WF_ERR_CONFIG, "log.decimal: found \",\", which is also log.delimiter"},
    {"{\"log\": {\"path\": \"x.csv\", \"cadence_seconds\": 0, \"channels\": [\"a\"]}, " WIN "}",
     WF_ERR_CONFIG, "log.cadence_seconds: found 0, expected an integer in [1, 31622400]"},
    {"{\"log\": {\"path\": \"x.csv\", \"cadence_seconds\": 1.5, \"channels\": [\"a\"]}, " WIN "}",
     WF_ERR_CONFIG, "log.cadence_seconds: found 1.5"},
    {"{\"log\": {\"path\": \"x.csv\", \"time_format\": \"%d.%m.%Y %I:%M\", \"channels\": "
     "[\"a\"]}, " WIN "}",
     WF_ERR_CONFIG, "log.time_format: found \"%d.%m.%Y %I:%M\", expected \"iso8601\" or a pattern"},
    {"{\"log\": {\"path\": \"x.csv\", \"time_format\": \"%H:%M\", \"channels\": [\"a\"]}, " WIN "}",
     WF_ERR_CONFIG,
     "log.time_format: found \"%H:%M\", expected \"iso8601\" or a pattern with a "
     "year"},
    /* window */
    {"{" LOG ", \"window\": {}}", WF_ERR_CONFIG, "window.length: missing"},
    {"{" LOG ", \"window\": {\"length\": 0}}", WF_ERR_CONFIG,
     "window.length: found 0, expected an integer in [1, 1000000]"},
    {"{" LOG ", \"window\": {\"length\": 4, \"stride\": -1}}", WF_ERR_CONFIG,
     "window.stride: found -1"},
    {"{" LOG ", \"window\": {\"length\": 4, \"missing\": \"drop\"}}", WF_ERR_CONFIG,
     "window.missing: found \"drop\", expected \"skip\" or {\"interpolate\": K}"},
    {"{" LOG ", \"window\": {\"length\": 4, \"missing\": {\"interpolate\": 9}}}", WF_ERR_CONFIG,
     "window.missing.interpolate: found 9, expected an integer in [1, 4]"},
    {"{" LOG ", \"window\": {\"length\": 4, \"missing\": {\"interp\": 1}}}", WF_ERR_CONFIG,
     "window.missing.interp: unknown key"},
    {"{" LOG ", \"window\": {\"length\": 4, \"strid\": 2}}", WF_ERR_CONFIG,
     "window.strid: unknown key (did you mean \"stride\"?)"},
    /* failures */
    {"{" BASE ", \"failures\": {\"horizon_hours\": 72}}", WF_ERR_CONFIG,
     "failures.path: missing (required key)"},
    {"{" BASE ", \"failures\": {\"path\": \"f.csv\", \"horizon_hours\": 0}}", WF_ERR_CONFIG,
     "failures.horizon_hours: found 0, expected a number > 0"},
    /* explain */
    {"{" BASE ", \"explain\": {\"method\": \"shap\"}}", WF_ERR_CONFIG,
     "explain.method: found \"shap\", expected \"kernelshap\", \"ig\", \"treeshap\" or \"both\""},
    {"{" BASE ", \"explain\": {\"groups\": \"segments:0\"}}", WF_ERR_CONFIG,
     "explain.groups: found \"segments:0\", expected \"channel\", \"segments:K\" (K >= 1), "
     "\"cell\", \"auto\" or \"hierarchy\""},
    {"{" BASE ", \"explain\": {\"groups\": \"Auto\"}}", WF_ERR_CONFIG,
     "explain.groups: found \"Auto\", expected \"channel\""},
    {"{" BASE ", \"explain\": {\"groups\": 3}}", WF_ERR_CONFIG, "explain.groups: found 3"},
    {"{" BASE ", \"explain\": {\"groups\": [{\"name\": \"g\", \"channels\": [\"zz\"]}]}}",
     WF_ERR_CONFIG,
     "explain.groups[0].channels[0]: found \"zz\", expected the name of one of the 2 "
     "log.channels"},
    {"{" BASE ", \"explain\": {\"groups\": [{\"name\": \"g\", \"channels\": [\"a\"]}, {\"name\": "
     "\"h\", \"channels\": [0], \"from\": 2}]}}",
     WF_ERR_CONFIG,
     "explain.groups[1]: cell (a, t=2) is already in group \"g\"; groups must be disjoint"},
    {"{" BASE ", \"explain\": {\"groups\": [{\"name\": \"g\", \"channels\": [\"a\"], \"to\": "
     "5}]}}",
     WF_ERR_CONFIG, "explain.groups[0].to: expected an integer time step in [1, 4]"},
    {"{" BASE ", \"explain\": {\"groups\": [{\"name\": \"g\", \"chans\": [\"a\"]}]}}",
     WF_ERR_CONFIG, "explain.groups[0]: unknown key \"chans\""},
    {"{" BASE ", \"explain\": {\"groups\": []}}", WF_ERR_CONFIG,
     "explain.groups: found an empty array"},
    {"{" BASE ", \"explain\": {\"nsamples\": \"many\"}}", WF_ERR_CONFIG,
     "explain.nsamples: found \"many\", expected a positive integer, \"auto\" or \"exact\""},
    {"{" BASE ", \"explain\": {\"nsamples\": 0}}", WF_ERR_CONFIG,
     "explain.nsamples: found 0, expected a positive integer, \"auto\" or \"exact\""},
    {"{" BASE ", \"explain\": {\"link\": \"probit\"}}", WF_ERR_CONFIG,
     "explain.link: found \"probit\", expected \"identity\", \"logit\" or \"logit_output\""},
    {"{" BASE ", \"explain\": {\"ig_method\": \"simpson\"}}", WF_ERR_CONFIG,
     "explain.ig_method: found \"simpson\", expected \"gausslegendre\""},
    {"{" BASE ", \"explain\": {\"steps\": \"lots\"}}", WF_ERR_CONFIG,
     "explain.steps: found \"lots\", expected a positive integer or \"auto\""},
    {"{" BASE ", \"explain\": {\"steps\": 0}}", WF_ERR_CONFIG, "explain.steps: found 0"},
    {"{" BASE ", \"explain\": {\"baseline\": 0}}", WF_ERR_CONFIG,
     "explain.baseline: found 0, expected \"mean\", \"zeros\", \"median\" or the path"},
    {"{" BASE ", \"explain\": {\"background\": {\"source\": \"file\"}}}", WF_ERR_CONFIG,
     "explain.background.path: missing (required when source is \"file\")"},
    {"{" BASE ", \"explain\": {\"background\": {\"source\": \"sample\", \"path\": \"b.json\"}}}",
     WF_ERR_CONFIG, "explain.background.path: given, but source is \"sample\""},
    {"{" BASE ", \"explain\": {\"background\": {\"sorce\": \"sample\"}}}", WF_ERR_CONFIG,
     "explain.background.sorce: unknown key (did you mean \"source\"?)"},
    {"{" BASE ", \"explain\": {\"background\": {\"size\": 0}}}", WF_ERR_CONFIG,
     "explain.background.size: found 0"},
    {"{" BASE ", \"explain\": {\"expected_gradients\": 1}}", WF_ERR_CONFIG,
     "explain.expected_gradients: found 1, expected true or false"},
    {"{" BASE ", \"explain\": {\"seed\": -1}}", WF_ERR_CONFIG, "explain.seed: found -1"},
    {"{" BASE ", \"explain\": {\"seed\": \"12x\"}}", WF_ERR_CONFIG,
     "explain.seed: found \"12x\", expected a non-negative integer"},
    {"{" BASE ", \"explain\": {\"threads\": 1.5}}", WF_ERR_CONFIG, "explain.threads: found 1.5"},
    {"{" BASE ", \"explain\": {\"convergence\": 0}}", WF_ERR_CONFIG,
     "explain.convergence: found 0, expected a number > 0"},
    {"{" BASE ", \"explain\": {\"tolerance\": 0.1}}", WF_ERR_CONFIG,
     "explain.tolerance: unknown key"},
    /* report */
    {"{" BASE ", \"report\": {\"titel\": \"x\"}}", WF_ERR_CONFIG,
     "report.titel: unknown key (did you mean \"title\"?)"},
    {"{" BASE ", \"report\": {\"max_episode_pages\": -2}}", WF_ERR_CONFIG,
     "report.max_episode_pages: found -2"},
};

START_TEST(test_bad_configs) {
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        wf_config cfg;
        wf_error err = {0};
        wf_status st = wf_config_parse(bad_cases[i].json, "c.json", "/base", &cfg, &err);
        ck_assert_msg(st == bad_cases[i].status, "case %zu (%s): status %d, want %d (%s)", i,
                      bad_cases[i].json, st, bad_cases[i].status, err.msg);
        ck_assert_msg(strstr(err.msg, bad_cases[i].frag) != NULL,
                      "case %zu: message\n  \"%s\"\nlacks\n  \"%s\"", i, err.msg,
                      bad_cases[i].frag);
        ck_assert_ptr_null(cfg.log.channels); /* nothing leaks on failure */
    }
}
END_TEST

START_TEST(test_defaults_and_paths) {
    wf_config cfg;
    wf_error err = {0};
    ck_assert_msg(wf_config_parse("{" BASE "}", "c.json", "/data/run", &cfg, &err) == WF_OK, "%s",
                  err.msg);
    ck_assert_str_eq(cfg.log.path, "/data/run/x.csv");
    ck_assert_int_eq(cfg.log.delimiter, ',');
    ck_assert_int_eq(cfg.log.decimal, '.');
    ck_assert_str_eq(cfg.log.turbine_column, "turbine_id");
    ck_assert_str_eq(cfg.log.time_column, "timestamp");
    ck_assert_str_eq(cfg.log.time_format, "iso8601");
    ck_assert_int_eq(cfg.log.cadence_seconds, 600);
    ck_assert_int_eq(cfg.log.n_channels, 2);
    ck_assert_str_eq(cfg.log.channels[1].name, "b");
    ck_assert_str_eq(cfg.log.channels[1].column, "b");
    ck_assert_int_eq(cfg.window.length, 4);
    ck_assert_int_eq(cfg.window.stride, 4); /* stride defaults to length */
    ck_assert_int_eq(cfg.window.missing, WF_MISSING_SKIP);
    ck_assert_str_eq(cfg.failures.path, "");
    ck_assert(cfg.failures.horizon_hours == 72);
    ck_assert_str_eq(cfg.output_dir, "/data/run/out");
    ck_assert(cfg.threshold == 0.5);
    ck_assert_int_eq(cfg.has_explain, 0);
    ck_assert_int_eq(cfg.explain.groups, WF_GROUPS_CHANNEL);
    ck_assert_int_eq(cfg.explain.nsamples, WF_NSAMPLES_AUTO);
    ck_assert_int_eq(cfg.explain.max_steps, 1024);
    ck_assert_int_eq(cfg.report.max_episode_pages, 200);
    wf_config_deinit(&cfg);
    /* groups "auto" and "hierarchy" (issue 13): kept as kinds, resolved on the background */
    ck_assert_msg(wf_config_parse("{" BASE ", \"explain\": {\"groups\": \"auto\"}}", "c.json",
                                  "/data/run", &cfg, &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cfg.explain.groups, WF_GROUPS_AUTO);
    ck_assert_int_eq(cfg.explain.n_groups, 0);
    wf_config_deinit(&cfg);
    ck_assert_msg(wf_config_parse("{" BASE ", \"explain\": {\"groups\": \"hierarchy\"}}", "c.json",
                                  "/data/run", &cfg, &err) == WF_OK,
                  "%s", err.msg);
    ck_assert_int_eq(cfg.explain.groups, WF_GROUPS_HIERARCHY);
    ck_assert_ptr_null(cfg.explain.hierarchy);
    wf_config_deinit(&cfg);
}
END_TEST

START_TEST(test_full_config_file) {
    /* the sample config of the repository loads, with paths relative to its folder */
    wf_config cfg;
    wf_error err = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/samples/config.json", WF_SOURCE_DIR);
    ck_assert_msg(wf_config_load(path, &cfg, &err) == WF_OK, "%s", err.msg);
    char want[4200];
    snprintf(want, sizeof want, "%s/samples/sensor_log.csv", WF_SOURCE_DIR);
    ck_assert_str_eq(cfg.log.path, want);
    snprintf(want, sizeof want, "%s/samples/aurora_int8.onnx", WF_SOURCE_DIR);
    ck_assert_str_eq(cfg.model, want);
    snprintf(want, sizeof want, "%s/samples/../out", WF_SOURCE_DIR);
    ck_assert_str_eq(cfg.output_dir, want);
    ck_assert_str_eq(cfg.log.channels[3].unit, "\xC2\xB0");
    ck_assert_int_eq(cfg.has_explain, 1);
    ck_assert(cfg.explain.do_kernelshap && cfg.explain.do_ig);
    ck_assert_int_eq(cfg.explain.nsamples, WF_NSAMPLES_EXACT);
    ck_assert_int_eq(cfg.explain.steps, 0);
    ck_assert_int_eq(cfg.explain.seed, 20240301);
    ck_assert_int_eq(cfg.explain.background_size, 50);
    ck_assert_str_eq(cfg.report.title, "Aurora wind farm: predictive-maintenance audit");
    wf_config_deinit(&cfg);

    const char *json =
        "{" LOG ", \"window\": {\"length\": 4, \"stride\": 2, \"missing\": {\"interpolate\": 2}},"
        "\"layout\": \"NTC\", \"threshold\": 0.7,"
        "\"failures\": {\"path\": \"/abs/f.csv\", \"horizon_hours\": 48.5},"
        "\"explain\": {\"method\": \"ig\", \"groups\": [{\"name\": \"late a\", \"channels\": "
        "[\"a\"], \"from\": 2}, {\"name\": \"b\", \"channels\": [1, \"b\"], \"to\": 2}],"
        "\"nsamples\": 500, \"max_samples\": 1000, \"convergence\": 0.05, \"link\": \"logit\","
        "\"background\": {\"source\": \"file\", \"path\": \"bg.json\", \"size\": 20, "
        "\"include_flagged\": true}, \"ig_method\": \"riemann_trapezoid\", \"steps\": 64, "
        "\"max_steps\": 256, \"tol\": 0.001, \"baseline\": \"base.json\", "
        "\"expected_gradients\": true, \"eg_samples\": 10, \"seed\": \"18446744073709551615\", "
        "\"threads\": 2},"
        "\"report\": {\"template\": \"t/tpl.json\", \"fonts_dir\": \"/fonts\", \"title\": \"T\", "
        "\"max_episode_pages\": 5}}";
    ck_assert_msg(wf_config_parse(json, "c.json", "cfgdir", &cfg, &err) == WF_OK, "%s", err.msg);
    ck_assert_str_eq(cfg.layout, "NTC");
    ck_assert(cfg.threshold == 0.7);
    ck_assert_int_eq(cfg.window.missing, WF_MISSING_INTERPOLATE);
    ck_assert_int_eq(cfg.window.interpolate_max, 2);
    ck_assert_str_eq(cfg.failures.path, "/abs/f.csv");
    ck_assert(cfg.failures.horizon_hours == 48.5);
    const wf_explain_settings *s = &cfg.explain;
    ck_assert(!s->do_kernelshap && s->do_ig);
    ck_assert_int_eq(s->groups, WF_GROUPS_EXPLICIT);
    ck_assert_int_eq(s->n_groups, 2);
    ck_assert_str_eq(s->explicit_groups[0].name, "late a");
    ck_assert_int_eq(s->explicit_groups[0].n_cells, 2);
    ck_assert_int_eq(s->explicit_groups[0].cells[0], 2);
    ck_assert_int_eq(s->explicit_groups[0].cells[1], 3);
    ck_assert_int_eq(s->explicit_groups[1].n_cells, 2); /* b listed twice counts once */
    ck_assert_int_eq(s->explicit_groups[1].cells[0], 4);
    ck_assert_int_eq(s->explicit_groups[1].cells[1], 5);
    ck_assert_int_eq(s->nsamples, 500);
    ck_assert_int_eq(s->max_samples, 1000);
    ck_assert(s->convergence == 0.05);
    ck_assert_int_eq(s->link, WF_LINK_LOGIT);
    ck_assert_int_eq(s->background, WF_BACKGROUND_FILE);
    ck_assert_str_eq(s->background_path, "cfgdir/bg.json");
    ck_assert_int_eq(s->background_size, 20);
    ck_assert_int_eq(s->background_include_flagged, 1);
    ck_assert_int_eq(s->ig_rule, WF_IG_RIEMANN_TRAPEZOID);
    ck_assert_int_eq(s->steps, 64);
    ck_assert_int_eq(s->max_steps, 256);
    ck_assert(s->ig_tol == 0.001);
    ck_assert_int_eq(s->baseline, WF_BASELINE_FILE);
    ck_assert_str_eq(s->baseline_path, "cfgdir/base.json");
    ck_assert_int_eq(s->expected_gradients, 1);
    ck_assert_int_eq(s->eg_samples, 10);
    ck_assert(s->seed == UINT64_MAX);
    ck_assert_int_eq(s->threads, 2);
    ck_assert_str_eq(cfg.report.template_path, "cfgdir/t/tpl.json");
    ck_assert_str_eq(cfg.report.fonts_dir, "/fonts");
    ck_assert_int_eq(cfg.report.max_episode_pages, 5);
    wf_config_deinit(&cfg);
    ck_assert_int_eq(wf_config_load("/nonexistent/c.json", &cfg, &err), WF_ERR_IO);
    ck_assert_int_eq(wf_config_parse("{" BASE
                                     ", \"explain\": {\"seed\": \"18446744073709551616\"}}",
                                     "c.json", ".", &cfg, &err),
                     WF_ERR_CONFIG); /* 2^64 overflows */
}
END_TEST

START_TEST(test_cli_string_parsers) {
    wf_explain_settings s;
    wf_explain_settings_default(&s);
    wf_error err = {0};
    ck_assert_int_eq(wf_explain_parse_groups("segments:4", &s, &err), WF_OK);
    ck_assert_int_eq(s.groups, WF_GROUPS_SEGMENTS);
    ck_assert_int_eq(s.segments, 4);
    ck_assert_int_eq(wf_explain_parse_groups("cell", &s, &err), WF_OK);
    ck_assert_int_eq(s.groups, WF_GROUPS_CELL);
    ck_assert_int_eq(wf_explain_parse_groups("auto", &s, &err), WF_OK);
    ck_assert_int_eq(s.groups, WF_GROUPS_AUTO);
    ck_assert_str_eq(wf_groups_name(&s), "auto");
    ck_assert_int_eq(wf_explain_parse_groups("hierarchy", &s, &err), WF_OK);
    ck_assert_int_eq(s.groups, WF_GROUPS_HIERARCHY);
    ck_assert_str_eq(wf_groups_name(&s), "hierarchy");
    ck_assert_int_eq(wf_explain_parse_groups("segments:", &s, &err), WF_ERR_CONFIG);
    ck_assert_int_eq(wf_explain_parse_groups("segments:4x", &s, &err), WF_ERR_CONFIG);
    ck_assert_int_eq(wf_explain_parse_groups(NULL, &s, &err), WF_ERR_CONFIG);
    int64_t n;
    ck_assert_int_eq(wf_explain_parse_nsamples("auto", &n, &err), WF_OK);
    ck_assert_int_eq(n, WF_NSAMPLES_AUTO);
    ck_assert_int_eq(wf_explain_parse_nsamples("exact", &n, &err), WF_OK);
    ck_assert_int_eq(n, WF_NSAMPLES_EXACT);
    ck_assert_int_eq(wf_explain_parse_nsamples("2048", &n, &err), WF_OK);
    ck_assert_int_eq(n, 2048);
    ck_assert_int_eq(wf_explain_parse_nsamples("-5", &n, &err), WF_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "found \"-5\", expected a positive integer, \"auto\" or \"exact\"");
    ck_assert_int_eq(wf_explain_parse_nsamples("99999999999999999999999", &n, &err), WF_ERR_CONFIG);
    int steps;
    ck_assert_int_eq(wf_explain_parse_steps("auto", &steps, &err), WF_OK);
    ck_assert_int_eq(steps, 0);
    ck_assert_int_eq(wf_explain_parse_steps("50", &steps, &err), WF_OK);
    ck_assert_int_eq(steps, 50);
    wf_ig_rule rule;
    ck_assert_int_eq(wf_explain_parse_ig_method("riemann_middle", &rule, &err), WF_OK);
    ck_assert_int_eq(rule, WF_IG_RIEMANN_MIDDLE);
    ck_assert_str_eq(wf_ig_rule_name(rule), "riemann_middle");
    wf_link link;
    ck_assert_int_eq(wf_explain_parse_link("logit", &link, &err), WF_OK);
    ck_assert_str_eq(wf_link_name(link), "logit");
    ck_assert_int_eq(wf_explain_parse_link("logit_output", &link, &err), WF_OK);
    ck_assert_int_eq(link, WF_LINK_LOGIT_OUTPUT);
    ck_assert_str_eq(wf_link_name(link), "logit_output");
    ck_assert_int_eq(wf_explain_parse_baseline("zeros", &s, &err), WF_OK);
    ck_assert_int_eq(s.baseline, WF_BASELINE_ZEROS);
    ck_assert_int_eq(wf_explain_parse_baseline("my/base.json", &s, &err), WF_OK);
    ck_assert_int_eq(s.baseline, WF_BASELINE_FILE);
    ck_assert_str_eq(s.baseline_path, "my/base.json");
    wf_background_kind bg;
    ck_assert_int_eq(wf_explain_parse_background("kmeans", &bg, &err), WF_OK);
    ck_assert_str_eq(wf_background_name(bg), "kmeans");
    ck_assert_int_eq(wf_explain_parse_method("kernelshap", &s, &err), WF_OK);
    ck_assert_str_eq(wf_explain_method_name(&s), "kernelshap");
    wf_explain_settings_deinit(&s);
}
END_TEST

int main(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_bad_configs);
    tcase_add_test(tc, test_defaults_and_paths);
    tcase_add_test(tc, test_full_config_file);
    tcase_add_test(tc, test_cli_string_parsers);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

/*
 * Report outputs on synthetic results (tests/test_report_synth.h): results.json, report.pdf and
 * report.xlsx are checked with real readers, never against whyflag itself: pdftotext/pdfinfo
 * (poppler), qpdf's JSON view of the outline, python's json module, unzip, and LibreOffice
 * headless converting the Summary sheet to CSV. Also the template errors, the episode cap and
 * byte-identical output for a fixed generated_at.
 *
 * Set WF_REPORT_KEEP=DIR to keep the full report in DIR (for looking at the pages).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/jw.h"
#include "test_report_synth.h"
#include "testutil.h"

static sy_run run;
static char out_dir[4096]; /* the report of the default run, written once */
static char in_dir[4096];  /* stand-in input files (model, log, failures, config) */
static char in_paths[4][4200];
static const char *const in_roles[4] = {"model", "log", "failures", "config"};

/* Options as the audit command would fill them: inputs to hash, caller-side versions. */
static void options(wf_report_options *o) {
    wf_report_options_default(o);
    o->data_dir = WF_SOURCE_DIR;
    o->title = "Aurora wind farm (synthetic test fleet)";
    for (int i = 0; i < 4; i++)
        o->inputs[o->n_inputs++] = (wf_report_input){in_roles[i], in_paths[i], NULL};
    o->versions[o->n_versions++] = (wf_report_version){"protobuf-c", "1.4.1"};
    o->versions[o->n_versions++] = (wf_report_version){"cJSON", "1.7.15"};
}

static void setup_once(void) {
    sy_build(&run);
    snprintf(in_dir, sizeof in_dir, "/tmp/wfreport-in.XXXXXX");
    if (!mkdtemp(in_dir))
        abort();
    static const char *const names[4] = {"aurora_int8.onnx", "scada_log.csv", "failures.csv",
                                         "config.json"};
    static const char *const body[4] = {
        "not really an onnx model, bytes to hash\n",
        "turbine_id,timestamp,wind_speed\nWT01,2024-03-01T00:00:00Z,7.5\n",
        "turbine_id,failure_time,component\nWT03,2024-03-08T14:44:00Z,gearbox\n",
        "{\"model\": \"aurora_int8.onnx\"}\n"};
    for (int i = 0; i < 4; i++) {
        snprintf(in_paths[i], sizeof in_paths[i], "%s/%s", in_dir, names[i]);
        FILE *f = fopen(in_paths[i], "wb");
        if (!f)
            abort();
        fputs(body[i], f);
        fclose(f);
    }
    run.r.model_path = in_paths[0];
    wf_error e0;
    wf_sha256_file_hex(in_paths[0], run.r.model_sha256, &e0);
    const char *keep = getenv("WF_REPORT_KEEP");
    if (keep && *keep) {
        snprintf(out_dir, sizeof out_dir, "%s", keep);
        mkdir(out_dir, 0777);
    } else {
        snprintf(out_dir, sizeof out_dir, "/tmp/wfreport-out.XXXXXX");
        if (!mkdtemp(out_dir))
            abort();
    }
    wf_report_options o;
    options(&o);
    wf_error err = {0};
    wf_status st = wf_report_write_all(&run.r, &o, out_dir, &err);
    if (st) {
        fprintf(stderr, "wf_report_write_all: %s\n", err.msg);
        abort();
    }
}

/* Run a command built from fmt with one path argument; output into *out. */
static int sh(char **out, const char *fmt, const char *a1) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, fmt, a1);
    return tu_run(cmd, out);
}

static int tool_missing(const char *tool) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null", tool);
    return tu_run(cmd, NULL) != 0;
}

/* The flagged turbines, their highest score and the top channel of that window. */
typedef struct flagged_info {
    char id[64];
    double score;
    const char *top;
} flagged_info;

static int flagged_turbines(flagged_info *fi) {
    int n = 0;
    for (int64_t i = 0; i < run.n_expl; i++) {
        const wf_explanation *e = &run.expl[i];
        const char *id = run.ws.w[e->window_index].turbine_id;
        int k = 0;
        while (k < n && strcmp(fi[k].id, id) != 0)
            k++;
        if (k == n) {
            snprintf(fi[n].id, sizeof fi[n].id, "%s", id);
            fi[n].score = -1;
            n++;
        }
        if (e->score > fi[k].score) {
            fi[k].score = e->score;
            int best = 0;
            for (int c = 1; c < SY_C; c++)
                if (e->kshap.values[c] > e->kshap.values[best])
                    best = c;
            fi[k].top = sy_channels[best];
        }
    }
    return n;
}

START_TEST(test_results_json) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.json", out_dir);
    /* Python's json module reads it and checks the structure and the numbers we put in. */
    char py[16384];
    snprintf(py, sizeof py,
             "python3 -c \"import csv,json,sys; d=json.load(open('%s'));"
             "s=list(csv.DictReader(open('%s/scores.csv')));"
             "assert list(d)[0]=='schema' and d['schema']=='whyflag.results/2';"
             "assert 'scores' not in d and d['scores_file']=='scores.csv';"
             "assert d['scores_count']==len(s);"
             "w=d['windows'];"
             "assert d['model']['quantized'] is True;"
             "assert d['channels'][4]=='gearbox_oil_temp' and d['units'][3]=='\\u00b0';"
             "assert len(s)==%lld and len(d['skipped'])==%lld and len(w)==%lld;"
             "assert all(k in w[0] for k in "
             "('turbine_id','start','end','score','kernelshap','ig','agreement'));"
             "k=w[0]['kernelshap']; assert abs(sum(k['values'])-(k['f_x']-k['base_value']))<1e-9;"
             "assert len(w[0]['ig']['values'])==8 and len(w[0]['ig']['values'][0])==36;"
             "assert s[0]['start'].endswith('Z') and d['generated_at']=='2024-06-01T00:00:00Z';"
             "assert d['threshold']==0.5 and len(d['episodes'])==5, len(d['episodes']);"
             "e=[x for x in d['episodes'] if x['turbine_id']=='WT03'][0];"
             "assert e['outcome']=='true alarm' and e['component']=='gearbox' and "
             "e['top_channel']=='gearbox_oil_temp';"
             "t=[x for x in d['turbines'] if x['turbine_id']=='WT12'][0]; assert "
             "t['missed_failures']==1;"
             "rv=d['review']; assert rv['true_alarms']==2 and rv['false_alarms']==3, rv;"
             "g=[c for c in rv['channels'] if c['channel']=='gearbox_oil_temp'][0];"
             "assert g['top_driver_true']==1 and g['top_driver_false']==0, g;"
             "assert sum(c['top_driver_false'] for c in rv['channels'])==3;"
             "r=d['channel_ranges'][2]; assert r['unit']=='kW' and 100<r['min']<r['max']<2100, r;"
             "print('ok')\"",
             path, out_dir, (long long)run.ws.n, (long long)run.ws.n_skipped,
             (long long)run.n_expl);
    char *out = NULL;
    int rc = tu_run(py, &out);
    ck_assert_msg(rc == 0, "python check of results.json failed:\n%s", out);
    free(out);
    /* scores round-trip exactly (shortest round-trip doubles), in scores.csv (issue 14) */
    snprintf(path, sizeof path, "%s/scores.csv", out_dir);
    char *text = tu_read(path, NULL);
    char needle[64], d[32];
    snprintf(needle, sizeof needle, ",%s,", wf_fmt_double(d, run.scores[5]));
    ck_assert_msg(strstr(text, needle) != NULL, "scores.csv lacks %s", needle);
    free(text);
}
END_TEST

START_TEST(test_pdf_text_pages_outline) {
    if (tool_missing("pdftotext") || tool_missing("qpdf") || tool_missing("pdfinfo")) {
        tu_skip("poppler-utils or qpdf missing");
        return;
    }
    char pdf[4200];
    snprintf(pdf, sizeof pdf, "%s/report.pdf", out_dir);
    int rc;
    char *info = NULL;
    rc = sh(&info, "pdfinfo '%s'", pdf);
    ck_assert_msg(rc == 0, "pdfinfo failed: %s", info);
    const char *pg = strstr(info, "Pages:");
    ck_assert(pg != NULL);
    int pages = atoi(pg + 6);
    /* cover, summary, episode list, 5 episodes x 2-5 pages, review, methods, manifest */
    ck_assert_msg(pages >= 12 && pages <= 45, "implausible page count %d", pages);
    ck_assert_msg(strstr(info, "CreationDate:") && strstr(info, "2024"),
                  "creation date is not the run's: %s", info);
    free(info);
    char *text = NULL;
    rc = sh(&text, "pdftotext -layout '%s' - 2>/dev/null", pdf);
    ck_assert_int_eq(rc, 0);
    flagged_info fi[12];
    int nf = flagged_turbines(fi);
    ck_assert_int_eq(nf, 4);
    for (int k = 0; k < nf; k++) {
        char sc[32];
        snprintf(sc, sizeof sc, "%.3f", fi[k].score);
        ck_assert_msg(strstr(text, fi[k].id), "PDF text lacks turbine %s", fi[k].id);
        ck_assert_msg(strstr(text, sc), "PDF text lacks %s's score %s", fi[k].id, sc);
        /* the sentence of why names the top channel next to the turbine */
        char why[400];
        snprintf(why, sizeof why, "%.60s was flagged with a score of", fi[k].id);
        ck_assert_msg(strstr(text, why), "PDF lacks the why sentence for %s", fi[k].id);
        ck_assert_msg(strstr(text, fi[k].top), "PDF text lacks top channel %s", fi[k].top);
    }
    ck_assert_msg(strstr(text, "\xc2\xb0"
                               "C"),
                  "degree sign did not survive (UTF-8 fonts)");
    ck_assert_msg(strstr(text, "missed failure"), "WT12's missed failure not reported");
    ck_assert_msg(strstr(text, "Fleet summary") && strstr(text, "Alarm review") &&
                      strstr(text, "Methods") && strstr(text, "Manifest"),
                  "a section is missing");
    free(text);
    /* Outline via qpdf's JSON: one child bookmark per alarm episode under "Episodes". */
    char py[16384];
    snprintf(py, sizeof py,
             "qpdf --json --json-key=outlines '%s' | python3 -c \"import json,sys;"
             "o=json.load(sys.stdin)['outlines'];"
             "ep=[x for x in o if x['title']=='Episodes'][0]['kids'];"
             "print(len(ep)); [print(x['title']) for x in ep]\"",
             pdf);
    char *out = NULL;
    rc = tu_run(py, &out);
    ck_assert_msg(rc == 0, "qpdf outline read failed: %s", out);
    ck_assert_msg(atoi(out) == 5, "expected 5 episode bookmarks, got:\n%s", out);
    ck_assert_msg(strstr(out, "Episode 1: WT03"), "bookmark titles:\n%s", out);
    free(out);
}
END_TEST

/* LibreOffice converts the first sheet (Summary) of xlsx to CSV: its max scores must be the ones
 * in results.json (shown with 3 decimals). */
static void libreoffice_summary_matches(const char *xlsx) {
    int rc;
    const char *tmp = tu_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && HOME='%s' timeout 120 soffice --headless --norestore "
             "--convert-to csv --outdir '%s' '%s' >/dev/null 2>&1; ls '%s'",
             tmp, tmp, tmp, xlsx, tmp);
    char *out = NULL;
    rc = tu_run(cmd, &out);
    free(out);
    char py[16384];
    snprintf(py, sizeof py,
             "python3 -c \"import csv,json;"
             "rows=list(csv.reader(open('%s/report.csv')));"
             "assert rows[0][0]=='Turbine' and rows[0][3]=='Max score', rows[0];"
             "d=json.load(open('%s/results.json'));"
             "want={t['turbine_id']:t['max_score'] for t in d['turbines']};"
             "got={r[0]:float(r[3]) for r in rows[1:] if r};"
             "assert set(got)==set(want), (got,want);"
             "bad=[(k,got[k],want[k]) for k in want if abs(got[k]-want[k])>5e-4];"
             "assert not bad, bad; print(len(got))\"",
             tmp, out_dir);
    rc = tu_run(py, &out);
    ck_assert_msg(rc == 0, "LibreOffice CSV of Summary does not match results.json:\n%s", out);
    ck_assert_int_eq(atoi(out), 12);
    free(out);
}

START_TEST(test_xlsx_sheets_and_libreoffice) {
    if (tool_missing("unzip") || tool_missing("soffice")) {
        tu_skip("unzip or LibreOffice missing");
        return;
    }
    char xlsx[4200];
    snprintf(xlsx, sizeof xlsx, "%s/report.xlsx", out_dir);
    int rc;
    char *wb = NULL;
    rc = sh(&wb, "unzip -p '%s' xl/workbook.xml", xlsx);
    ck_assert_msg(rc == 0, "report.xlsx does not unzip: %s", wb);
    static const char *const sheets[] = {"Summary", "Episodes", "Windows", "Attributions",
                                         "WT03",    "WT05",     "WT07",    "WT10",
                                         "Methods", "Manifest"};
    for (size_t i = 0; i < sizeof sheets / sizeof sheets[0]; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "name=\"%s\"", sheets[i]);
        ck_assert_msg(strstr(wb, needle), "workbook lacks sheet %s", sheets[i]);
    }
    free(wb);
    char *tbl = NULL;
    rc = sh(&tbl, "unzip -l '%s'", xlsx);
    ck_assert_msg(strstr(tbl, "xl/tables/table1.xml") && strstr(tbl, "xl/charts/chart1.xml"),
                  "no Excel table or chart in the workbook:\n%s", tbl);
    free(tbl);
    libreoffice_summary_matches(xlsx);
}
END_TEST

START_TEST(test_reproducible_bytes) {
    const char *d1 = tu_tmpdir();
    wf_report_options o;
    options(&o);
    wf_error err = {0};
    ck_assert_msg(wf_report_write_all(&run.r, &o, d1, &err) == WF_OK, "%s", err.msg);
    static const char *const names[] = {"results.json",    "report.pdf",   "report.xlsx",
                                        "scores.csv",      "episodes.csv", "failure_outcomes.csv",
                                        "attributions.csv"};
    for (int i = 0; i < 7; i++) {
        char a[4200], b[4200], ha[65], hb[65];
        snprintf(a, sizeof a, "%s/%s", out_dir, names[i]);
        snprintf(b, sizeof b, "%s/%s", d1, names[i]);
        ck_assert_int_eq(wf_sha256_file_hex(a, ha, &err), WF_OK);
        ck_assert_int_eq(wf_sha256_file_hex(b, hb, &err), WF_OK);
        ck_assert_msg(strcmp(ha, hb) == 0, "%s differs between two runs", names[i]);
    }
    /* and nothing else was left in the folder (no temp or staging files) */
    char *out = NULL;
    tu_run("ls -A ", &out);
    free(out);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | tr '\\n' ' '", d1);
    tu_run(cmd, &out);
    ck_assert_str_eq(out, "attributions.csv episodes.csv failure_outcomes.csv manifest.json "
                          "report.pdf report.xlsx results.json scores.csv ");
    free(out);
}
END_TEST

START_TEST(test_episode_cap) {
    if (tool_missing("qpdf")) {
        tu_skip("qpdf missing");
        return;
    }
    const char *d1 = tu_tmpdir();
    char pdf[4200];
    snprintf(pdf, sizeof pdf, "%s/report.pdf", d1);
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    o.max_episode_pages = 2;
    wf_error err = {0};
    ck_assert_msg(wf_report_write_pdf(pdf, &run.r, &o, &err) == WF_OK, "%s", err.msg);
    char py[16384];
    snprintf(
        py, sizeof py,
        "qpdf --json --json-key=outlines '%s' | python3 -c \"import json,sys;"
        "o=json.load(sys.stdin)['outlines'];"
        "ep=[x for x in o if x['title']=='Episodes'][0]['kids'];"
        "[print(x['title']) for x in ep]\"; pdftotext '%s' - 2>/dev/null | grep -c 'no detail'",
        pdf, pdf);
    char *out = NULL;
    tu_run(py, &out);
    /* the two highest-scoring episodes get sections (WT03 true alarm at 0.985 and WT07 or WT10),
     * the other three are listed as "(no detail)" */
    ck_assert_msg(strstr(out, "Episode 1: WT03") != NULL, "%s", out);
    int lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    ck_assert_msg(lines == 3, "expected 2 bookmarks and a count line:\n%s", out);
    ck_assert_msg(strstr(out, "\n3\n") != NULL, "expected 3 episodes without detail:\n%s", out);
    free(out);
}
END_TEST

START_TEST(test_template_errors) {
    const char *d = tu_tmpdir();
    char tpl[4200], pdf[4200];
    snprintf(tpl, sizeof tpl, "%s/t.txt", d);
    snprintf(pdf, sizeof pdf, "%s/r.pdf", d);
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    o.template_path = tpl;
    wf_error err = {0};
    tu_write(tpl, "# test\n[cover]\ntitle = Audit of {fleet}\n\n[summary]\nheading = Summary\n"
                  "text = {n_turbines} turbines, {n_trubines} typo\n");
    ck_assert_int_eq(wf_report_write_pdf(pdf, &run.r, &o, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.txt:7") && strstr(err.msg, "{n_trubines}"), "%s", err.msg);
    tu_write(tpl, "[cover]\ntitle = x\n[summary]\nwhy = {turbine}\n");
    ck_assert_int_eq(wf_report_write_pdf(pdf, &run.r, &o, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.txt:4") && strstr(err.msg, "'why'"), "%s", err.msg);
    tu_write(tpl, "[cover]\ntitle = {turbine}\n");
    ck_assert_int_eq(wf_report_write_pdf(pdf, &run.r, &o, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.txt:2") && strstr(err.msg, "{turbine}") &&
                      strstr(err.msg, "only known in [episodes]"),
                  "%s", err.msg);
    tu_write(tpl, "[cover]\ntitle = x\n[appendix]\n");
    ck_assert_int_eq(wf_report_write_pdf(pdf, &run.r, &o, &err), WF_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "t.txt:3") && strstr(err.msg, "[appendix]"), "%s", err.msg);
    /* no half-written report was left behind, neither by the PDF writer nor by write_all */
    struct stat sb;
    ck_assert_int_ne(stat(pdf, &sb), 0);
    char all[4300];
    snprintf(all, sizeof all, "%s/all", d);
    ck_assert_int_eq(wf_report_write_all(&run.r, &o, all, &err), WF_ERR_CONFIG);
    char cmd0[8192];
    snprintf(cmd0, sizeof cmd0, "ls -A '%s' | wc -l", all);
    char *ls = NULL;
    tu_run(cmd0, &ls);
    ck_assert_msg(atoi(ls) == 0, "files left in %s after a failed run: %s", all, ls);
    free(ls);
    /* a reordered, reworded template works and changes the order */
    tu_write(tpl, "[methods]\nheading = How we explain\ntext = Scores at or above {threshold} "
                  "raise an alarm. Braces {{like this}} stay.\n[cover]\ntitle = Report\n");
    ck_assert_msg(wf_report_write_pdf(pdf, &run.r, &o, &err) == WF_OK, "%s", err.msg);
    char *out = NULL;
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "pdftotext '%s' - 2>/dev/null | head -5", pdf);
    tu_run(cmd, &out);
    ck_assert_msg(strstr(out, "How we explain") && strstr(out, "0.500 raise an alarm") &&
                      strstr(out, "{like this}"),
                  "%s", out);
    free(out);
}
END_TEST

START_TEST(test_unwritable_output) {
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = WF_SOURCE_DIR;
    wf_error err = {0};
    wf_status st = wf_report_write_all(&run.r, &o, "/proc/whyflag-no-such/out", &err);
    ck_assert_int_eq(st, WF_ERR_IO);
    ck_assert_msg(strstr(err.msg, "/proc/whyflag-no-such/out"), "%s", err.msg);
    /* missing fonts are named */
    const char *d = tu_tmpdir();
    char pdf[4200];
    snprintf(pdf, sizeof pdf, "%s/r.pdf", d);
    o.fonts_dir = "/nonexistent-fonts";
    st = wf_report_write_pdf(pdf, &run.r, &o, &err);
    ck_assert_int_ne(st, WF_OK);
    ck_assert_msg(strstr(err.msg, "/nonexistent-fonts/DejaVuSans"), "%s", err.msg);
}
END_TEST

/* The `explain` command's shape: no scores, no threshold, one failed explanation. */
START_TEST(test_explain_format_and_failures) {
    wf_results r = run.r;
    r.command = "explain";
    r.scores = NULL;
    r.flagged = NULL;
    r.threshold = NAN;
    r.n_failures = 0;
    r.failures = NULL;
    wf_explanation saved = run.expl[1];
    run.expl[1].status = WF_ERR_NUMERIC;
    snprintf(run.expl[1].error, sizeof run.expl[1].error, "singular system in window 7");
    const char *d = tu_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/results.json", d);
    wf_error err = {0};
    wf_status st = wf_results_write_json(path, &r, &err);
    run.expl[1] = saved;
    ck_assert_msg(st == WF_OK, "%s", err.msg);
    char py[16384];
    snprintf(py, sizeof py,
             "python3 -c \"import json; d=json.load(open('%s'));"
             "assert d['command']=='explain' and d['threshold'] is None;"
             "assert 'scores' not in d and 'episodes' not in d;"
             "w=d['windows']; assert w[1]['status']=='numerical error' or 'status' in w[1], w[1];"
             "assert 'singular system' in w[1]['error'];"
             "assert 'status' not in w[0]; print('ok')\"",
             path);
    char *out = NULL;
    int rc = tu_run(py, &out);
    ck_assert_msg(rc == 0, "%s", out);
    free(out);
}
END_TEST

/* Nothing flagged, no failure log, no background: every output is still written. */
START_TEST(test_nothing_flagged) {
    wf_results r = run.r;
    uint8_t *none = calloc((size_t)run.ws.n, 1);
    r.flagged = none;
    r.n_explained = 0;
    r.expl = NULL;
    r.background = NULL;
    r.n_failures = 0;
    r.failures = NULL;
    const char *d = tu_tmpdir();
    wf_report_options o;
    options(&o);
    wf_error err = {0};
    wf_status st = wf_report_write_all(&r, &o, d, &err);
    free(none);
    ck_assert_msg(st == WF_OK, "%s", err.msg);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "pdftotext '%s/report.pdf' - 2>/dev/null | grep -c 'No window was flagged'", d);
    char *out = NULL;
    tu_run(cmd, &out);
    ck_assert_msg(atoi(out) == 1, "%s", out);
    free(out);
}
END_TEST

/* Every sheet through LibreOffice (all sheets to CSV, full precision) against results.json: the
 * Windows sheet holds every window and every skipped one with its reason, the Attributions sheet
 * the KernelSHAP values, SEs and IG channel sums, the Episodes sheet every episode. */
static const char *const sheets_py =
    "import csv, json, sys, datetime\n"
    "d = json.load(open(sys.argv[1])); base = sys.argv[2]\n"
    "S = list(csv.DictReader(open(sys.argv[1].rsplit('/', 1)[0] + '/' + d['scores_file'])))\n"
    "def rows(name): return list(csv.reader(open(base + '-' + name + '.csv', encoding='utf-8')))\n"
    "def iso(s): return s.replace(' ', 'T') + 'Z'\n"
    "w = rows('Windows'); assert w[0][:5] == ['Turbine','Start','End','Status','Score'], w[0]\n"
    "body = [r for r in w[1:] if r and r[0]]\n"
    "assert len(body) == len(S) + len(d['skipped']), (len(body), len(S))\n"
    "scored = {(r[0], iso(r[1])): r for r in body if r[3] == 'scored'}\n"
    "for s in S:\n"
    "    r = scored[(s['turbine_id'], s['start'])]\n"
    "    assert abs(float(r[4]) - float(s['score'])) <= 1e-12, (r, s)\n"
    "    assert int(r[5]) == int(s['flagged']) and int(r[6]) == int(s['label']), (r, s)\n"
    "skipped = {(r[0], iso(r[1])): r[9] for r in body if r[3] == 'skipped'}\n"
    "for s in d['skipped']: assert skipped[(s['turbine_id'], s['start'])] == s['reason']\n"
    "a = rows('Attributions'); n = 0\n"
    "got = {(r[0], iso(r[1]), r[4]): r for r in a[1:] if r and r[0]}\n"
    "for x in d['windows']:\n"
    "    k = x['kernelshap']; g = x['ig']\n"
    "    for c, name in enumerate(d['channels']):\n"
    "        r = got[(x['turbine_id'], x['start'], name)]\n"
    "        assert abs(float(r[6]) - k['values'][c]) <= 1e-12, (r, k['values'][c])\n"
    "        assert abs(float(r[7]) - k['std_err'][c]) <= 1e-12\n"
    "        assert abs(float(r[8]) - g['channel_sums'][c]) <= 1e-12\n"
    "        assert int(r[9]) == (name == x['top_channel'])\n"
    "        n += 1\n"
    "e = [r for r in rows('Episodes')[1:] if r and r[0]]\n"
    "assert len(e) == len(d['episodes'])\n"
    "for r, x in zip(e, d['episodes']):\n"
    "    assert r[1] == x['turbine_id'] and iso(r[2]) == x['first_start'] and r[7] == "
    "x['outcome']\n"
    "    assert abs(float(r[5]) - x['peak_score']) <= 1e-12\n"
    "print(n)\n";

START_TEST(test_xlsx_all_sheets_libreoffice) {
    if (tool_missing("soffice")) {
        tu_skip("LibreOffice missing");
        return;
    }
    const char *tmp = tu_tmpdir();
    char py[4200], cmd[16384];
    snprintf(py, sizeof py, "%s/check.py", tmp);
    tu_write(py, sheets_py);
    /* token 12 = -1: every sheet to its own file; token 9 false: full precision, not as shown */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && HOME='%s' timeout 120 soffice --headless --norestore --convert-to "
             "'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1' "
             "--outdir '%s' '%s/report.xlsx' >/dev/null 2>&1; python3 '%s' '%s/results.json' "
             "'%s/report'",
             tmp, tmp, tmp, out_dir, py, out_dir, tmp);
    char *out = NULL;
    int rc = tu_run(cmd, &out);
    ck_assert_msg(rc == 0, "workbook sheets do not match results.json:\n%s", out);
    ck_assert_int_eq(atoi(out), (int)run.n_expl * SY_C);
    free(out);
}
END_TEST

/* KernelSHAP over channel x time segments and no IG: the report names the segments. */
START_TEST(test_segment_players) {
    wf_results r = run.r;
    int64_t n = run.n_expl;
    wf_explanation *ex = calloc((size_t)n, sizeof *ex);
    char *names = calloc(16 * 40, 1);
    char *pl[16];
    double vals[16], ses[16];
    for (int m = 0; m < 16; m++) {
        pl[m] = names + m * 40;
        snprintf(pl[m], 40, "%s[%d:%d)", sy_channels[m / 2], (m % 2) * 18, (m % 2) * 18 + 18);
        vals[m] = 0.001 * m;
        ses[m] = 0.002;
    }
    for (int64_t i = 0; i < n; i++) {
        ex[i] = run.expl[i];
        ex[i].has_ig = 0;
        ex[i].agreement = NAN;
        ex[i].kshap.M = 16;
        ex[i].kshap.players = pl;
        ex[i].kshap.values = vals;
        ex[i].kshap.std_err = ses;
    }
    vals[11] = 0.5; /* bearing_temp[18:36) drives every alarm */
    r.expl = ex;
    const char *d = tu_tmpdir();
    char pdf[4200];
    snprintf(pdf, sizeof pdf, "%s/report.pdf", d);
    wf_report_options o;
    options(&o);
    wf_error err = {0};
    wf_status st = wf_report_write_pdf(pdf, &r, &o, &err);
    free(ex);
    free(names);
    ck_assert_msg(st == WF_OK, "%s", err.msg);
    char *out = NULL;
    sh(&out, "pdftotext '%s' - 2>/dev/null | grep -c 'because bearing_temp\\[18:36)'", pdf);
    ck_assert_msg(atoi(out) >= 5, "why sentences do not name the segment:\n%s", out);
    free(out);
}
END_TEST

/* Turbine ids that are not valid or not distinct Excel sheet names still get their sheets. */
START_TEST(test_sheet_names) {
    if (tool_missing("unzip"))
        return;
    /* the sheet-name rule (xlsx.c): forbidden characters -> '_', 31 bytes at a character
     * boundary, case-insensitive clashes numbered " (2)", an id named like one of the fixed
     * sheets prefixed "T " */
    static const char *const ids[3] = {"Nordsee Ost Windpark [A]:03/0001/x",
                                       "nordsee ost windpark [a]:03/0001/y", "summary"};
    char saved[3][WF_ID_MAX];
    snprintf(saved[0], WF_ID_MAX, "WT03");
    snprintf(saved[1], WF_ID_MAX, "WT05");
    snprintf(saved[2], WF_ID_MAX, "WT07");
    for (int64_t i = 0; i < run.ws.n; i++)
        for (int k = 0; k < 3; k++)
            if (strcmp(run.ws.w[i].turbine_id, saved[k]) == 0)
                snprintf(run.ws.w[i].turbine_id, WF_ID_MAX, "%.63s", ids[k]);
    const char *d = tu_tmpdir();
    char xlsx[4200], pdf[4200];
    snprintf(xlsx, sizeof xlsx, "%s/report.xlsx", d);
    snprintf(pdf, sizeof pdf, "%s/report.pdf", d);
    wf_report_options o;
    options(&o);
    wf_error err = {0};
    wf_status st = wf_report_write_xlsx(xlsx, &run.r, &o, &err);
    wf_status st2 = wf_report_write_pdf(pdf, &run.r, &o, &err);
    for (int64_t i = 0; i < run.ws.n; i++) /* restore the shared run */
        for (int k = 0; k < 3; k++)
            if (strcmp(run.ws.w[i].turbine_id, ids[k]) == 0)
                snprintf(run.ws.w[i].turbine_id, WF_ID_MAX, "%.63s", saved[k]);
    ck_assert_msg(st == WF_OK && st2 == WF_OK, "%s", err.msg);
    char *wb = NULL;
    ck_assert_int_eq(sh(&wb, "unzip -p '%s' xl/workbook.xml", xlsx), 0);
    ck_assert_msg(strstr(wb, "name=\"Nordsee Ost Windpark _A__03_000\"") &&
                      strstr(wb, "name=\"nordsee ost windpark _a__03 (2)\"") &&
                      strstr(wb, "name=\"T summary\""),
                  "%s", wb);
    free(wb);
}
END_TEST

/* The streaming (constant-memory) workbook of big runs: same sheets and numbers, no table. */
START_TEST(test_xlsx_streaming_mode) {
    if (tool_missing("unzip") || tool_missing("soffice"))
        return;
    const char *d = tu_tmpdir();
    char xlsx[4200];
    snprintf(xlsx, sizeof xlsx, "%s/report.xlsx", d);
    wf_report_options o;
    options(&o);
    o.xlsx_stream = 1;
    wf_error err = {0};
    ck_assert_msg(wf_report_write_xlsx(xlsx, &run.r, &o, &err) == WF_OK, "%s", err.msg);
    char *wb = NULL;
    int rc = sh(&wb, "unzip -p '%s' xl/workbook.xml", xlsx);
    ck_assert_int_eq(rc, 0);
    ck_assert(strstr(wb, "name=\"Summary\"") && strstr(wb, "name=\"WT10\"") &&
              strstr(wb, "name=\"Windows\""));
    free(wb);
    libreoffice_summary_matches(xlsx);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_results_json);
    tcase_add_test(tc, test_pdf_text_pages_outline);
    tcase_add_test(tc, test_xlsx_sheets_and_libreoffice);
    tcase_add_test(tc, test_reproducible_bytes);
    tcase_add_test(tc, test_episode_cap);
    tcase_add_test(tc, test_template_errors);
    tcase_add_test(tc, test_unwritable_output);
    tcase_add_test(tc, test_explain_format_and_failures);
    tcase_add_test(tc, test_nothing_flagged);
    tcase_add_test(tc, test_xlsx_streaming_mode);
    tcase_add_test(tc, test_segment_players);
    tcase_add_test(tc, test_sheet_names);
    tcase_add_test(tc, test_xlsx_all_sheets_libreoffice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    setup_once();
    int rc = tu_run_suite(suite());
    sy_free(&run);
    /* remove the shared input and report folders (kept when WF_REPORT_KEEP names one) */
    char cmd[9000];
    const char *keep = getenv("WF_REPORT_KEEP");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'%s%s%s", in_dir, keep && *keep ? "" : " '",
             keep && *keep ? "" : out_dir, keep && *keep ? "" : "'");
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", in_dir);
    return rc;
}

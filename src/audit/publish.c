/*
 * The outputs of an audit (one-machine run or merge) from a combined part: results.json,
 * report.pdf, report.xlsx, scores.csv, episodes.csv, failure_outcomes.csv, attributions.csv,
 * manifest.json (+ .sig). Everything is written into a
 * staging folder inside the output folder and moved into place only when all of it was written,
 * so a failed run never leaves a half-written or mismatched set.
 *
 * Two runs publishing into one folder: the output folder itself is locked (flock on the folder,
 * no file left behind) from staging to the last rename, and a second run fails at once naming
 * the folder.
 *
 * Moving the set into place is several renames, so it is a journalled, roll-forward step:
 *   1. everything is written into the staging folder (a kill here leaves the old set alone);
 *   2. the journal staging/.commit is written and synced: one line per name, "+name" to move
 *      into place (files, then manifest.json and its signature last), "-name" for an output of
 *      an earlier run that the new set does not have (a stale signature);
 *   3. the names are moved in the journal's order, then the staging folder is removed.
 * A run killed after step 2 left a committed set: the next run into the folder (holding the
 * lock) and `whyflag verify` (wf_audit_recover) finish steps 3 before anything else; a staging
 * folder without a journal is the debris of step 1 and is removed. So the folder always ends
 * up holding the old set or the new one, never a mix that verify would call tampered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_impl.h"
#include "audit/drift_audit.h"
#include "core/fileio.h"
#include "core/version.h"
#include "whyflag/report.h"
#include "whyflag/versions.h"

static const char *const OUTPUTS[] = {"report.pdf",
                                      "report.xlsx",
                                      "results.json",
                                      "scores.csv",
                                      "episodes.csv",
                                      "failure_outcomes.csv", /* issue 14: the tables */
                                      "attributions.csv",
                                      "manifest.json",
                                      "manifest.json.sig",
                                      "turbines" /* issue 19: per-turbine PDFs (a folder) */};
#define N_OUTPUTS (sizeof OUTPUTS / sizeof OUTPUTS[0])

int64_t wf_audit_run_time(void) {
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (!*end && v >= 0)
            return (int64_t)v;
    }
    return (int64_t)time(NULL);
}

wf_status wf_audit_check_source_date(wf_error *err) {
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (!sde || !*sde)
        return WF_OK;
    char *end;
    errno = 0;
    long long v = strtoll(sde, &end, 10);
    if (*end || v < 0 || errno == ERANGE || v >= 253402300800ll) /* 10000-01-01 */
        return wf_error_set(err, WF_ERR_INVALID,
                            "SOURCE_DATE_EPOCH='%.40s' is not a number of seconds since "
                            "1970-01-01 (0 .. 253402300799); unset it or fix it",
                            sde);
    return WF_OK;
}

wf_status wf_audit_make_dir(const char *path, wf_error *err) {
    /* mkdir -p: parents first (a Slurm array writes shards/shard-K into a fresh shards/) */
    char p[WF_PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", path);
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        mkdir(p, 0777); /* errors surface below, on the folder itself */
        *q = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot create the output folder: %s", path,
                            strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return wf_error_set(err, WF_ERR_IO, "%s: not a folder", path);
    if (access(path, W_OK) != 0)
        return wf_error_set(err, WF_ERR_IO, "%s: the output folder is not writable", path);
    return WF_OK;
}

#define COMMIT_NAME ".commit"
#define STAGING_PREFIX ".whyflag-staging-"

/* Remove a file or a folder tree (the staging folders hold at most a turbines/ folder). */
static void remove_tree(const char *path, int depth) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode) && depth < 8) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char p[WF_PATH_MAX + 400];
                if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) < (int)sizeof p)
                    remove_tree(p, depth + 1);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        remove(path);
    }
}

static void remove_staging(const char *dir) {
    remove_tree(dir, 0);
}

/* Lock out_dir for publishing: *fd (close it to unlock). */
static wf_status lock_out_dir(const char *out_dir, int *fd, wf_error *err) {
    *fd = open(out_dir, O_RDONLY | O_DIRECTORY);
    if (*fd < 0)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot open the output folder: %s", out_dir,
                            strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return wf_error_set(err, WF_ERR_IO,
                                "%s: another whyflag run is writing its outputs into this folder "
                                "now; use another --out or wait for it",
                                out_dir);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot lock the output folder: %s", out_dir,
                            strerror(e));
    }
    return WF_OK;
}

static int is_manifest(const char *name) {
    return !strcmp(name, "manifest.json") || !strcmp(name, "manifest.json.sig");
}

static int cmp_name(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (is_manifest(x) != is_manifest(y))
        return is_manifest(x) - is_manifest(y); /* the manifest last */
    return strcmp(x, y);
}

/* Step 2: the journal of the staged set (see the top of this file). */
static wf_status write_commit(const char *staging, wf_error *err) {
    char *names[64];
    int n = 0;
    DIR *d = opendir(staging);
    if (!d)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot read the staging folder: %s", staging,
                            strerror(errno));
    struct dirent *e;
    wf_status st = WF_OK;
    while (!st && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ., .., the journal, a nested staging folder */
        if (n == (int)(sizeof names / sizeof names[0]))
            st = wf_error_set(err, WF_ERR_INVALID, "%s: too many outputs", staging);
        else if (!(names[n++] = strdup(e->d_name)))
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    closedir(d);
    if (st) {
        while (n > 0)
            free(names[--n]);
        return st;
    }
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    char buf[8192];
    size_t o = 0;
    for (size_t i = 0; i < N_OUTPUTS; i++) { /* outputs of an earlier run the set lacks */
        int have = 0;
        for (int k = 0; k < n; k++)
            have |= !strcmp(names[k], OUTPUTS[i]);
        if (!have)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "-%s\n", OUTPUTS[i]);
    }
    for (int k = 0; k < n; k++) {
        if (o < sizeof buf)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "+%s\n", names[k]);
        free(names[k]);
    }
    if (o >= sizeof buf)
        return wf_error_set(err, WF_ERR_INVALID, "%s: the journal is too long", staging);
    char path[WF_PATH_MAX + 200];
    snprintf(path, sizeof path, "%s/%s", staging, COMMIT_NAME);
    return wf_file_write_atomic(path, buf, o, err); /* written, synced, renamed */
}

/* Step 3 (also the recovery of a killed run): move the journal's names into out_dir, in order,
 * then remove the staging folder. Idempotent: a name already moved is not in staging any more.
 * A folder (turbines/) replaces the old one: the old is moved into staging first, then removed
 * with it. */
static wf_status roll_forward(const char *staging, const char *out_dir, wf_error *err) {
    char path[WF_PATH_MAX + 200];
    snprintf(path, sizeof path, "%s/%s", staging, COMMIT_NAME);
    char *j = NULL;
    size_t jn = 0;
    wf_status st = wf_file_read_all(path, &j, &jn, err);
    if (st)
        return st;
    for (char *line = j; !st && line < j + jn;) {
        char *nl = memchr(line, '\n', (size_t)(j + jn - line));
        if (!nl)
            break; /* the journal is written atomically: a line without its end is not ours */
        *nl = '\0';
        char from[WF_PATH_MAX + 400], to[WF_PATH_MAX + 400], old[WF_PATH_MAX + 400];
        const char *name = line + 1;
        if (!*name || strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, ".")) {
            st = wf_error_set(err, WF_ERR_PARSE, "%s: a name that is not an output: '%s'", path,
                              name);
            break;
        }
        snprintf(to, sizeof to, "%s/%s", out_dir, name);
        if (line[0] == '-') {
            remove_tree(to, 0); /* a file, or an earlier run's turbines/ */
        } else if (line[0] == '+') {
            snprintf(from, sizeof from, "%s/%s", staging, name);
            struct stat sf, so;
            if (lstat(from, &sf) == 0) {
                if (S_ISDIR(sf.st_mode) && lstat(to, &so) == 0) {
                    snprintf(old, sizeof old, "%s/.old-%s", staging, name);
                    remove_tree(old, 0);
                    if (rename(to, old) != 0)
                        st = wf_error_set(err, WF_ERR_IO, "%s: cannot move aside: %s", to,
                                          strerror(errno));
                }
                if (!st && rename(from, to) != 0)
                    st = wf_error_set(err, WF_ERR_IO, "%s: cannot move into place: %s", to,
                                      strerror(errno));
            }
        }
        line = nl + 1;
    }
    free(j);
    if (!st)
        remove_staging(staging);
    return st;
}

/* Staging folders left by runs that died (the lock is held: no live run owns one): a committed
 * set is moved into place, debris is removed. *n_recovered counts the committed sets. */
static wf_status recover_staging(const char *out_dir, int *n_recovered, wf_error *err) {
    *n_recovered = 0;
    DIR *d = opendir(out_dir);
    if (!d)
        return WF_OK;
    char *found[16];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 16)
        if (!strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)))
            found[n++] = strdup(e->d_name);
    closedir(d);
    wf_status st = WF_OK;
    for (int i = 0; i < n; i++) {
        char p[WF_PATH_MAX + 300], c[WF_PATH_MAX + 400];
        if (!found[i] || snprintf(p, sizeof p, "%s/%s", out_dir, found[i]) >= (int)sizeof p) {
            free(found[i]);
            continue;
        }
        snprintf(c, sizeof c, "%s/%s", p, COMMIT_NAME);
        if (access(c, F_OK) == 0) {
            if (!st)
                st = roll_forward(p, out_dir, err);
            if (!st)
                (*n_recovered)++;
        } else {
            remove_staging(p);
        }
        free(found[i]);
    }
    return st;
}

wf_status wf_audit_recover(const char *out_dir, int *n_recovered, wf_error *err) {
    int dummy;
    if (!n_recovered)
        n_recovered = &dummy;
    *n_recovered = 0;
    int fd;
    wf_status st = lock_out_dir(out_dir, &fd, err);
    if (st)
        return st;
    st = recover_staging(out_dir, n_recovered, err);
    close(fd);
    return st;
}

static wf_status publish(const char *staging, const char *out_dir, wf_error *err) {
    wf_status st = write_commit(staging, err);
    if (st) {
        remove_staging(staging); /* not committed: the old set stays */
        return st;
    }
    return roll_forward(staging, out_dir, err);
}

/* What the results and the manifest say of every run and shard: identity, model, settings. */
static void results_common(wf_results *r, const wf_config *cfg, const wf_model *model,
                           const wf_predictor *pred, const wf_audit_part *pt, const char *command) {
    memset(r, 0, sizeof *r);
    r->tool = WF_TOOL_NAME;
    r->command = command;
    r->model_path = cfg->model;
    memcpy(r->model_sha256, pt->id.model, sizeof r->model_sha256);
    r->model_quantized = wf_model_is_quantized(model);
    r->surrogate = pred->surrogate;
    r->output_name = pred->output_name[0] ? pred->output_name : NULL;
    r->output_column = pred->output_column;
    r->output_kind = pred->output_kind;
    r->threshold = cfg->threshold;
    r->generated_at = wf_audit_run_time();
    r->settings = &cfg->explain;
    r->background = pt->has_bg ? &pt->bg : NULL;
    r->windows = &pt->ws;
}

/* An input of the run that is one of the outputs it is about to write into out_dir (a failure
 * log named episodes.csv lying in --out, say) would be overwritten by the run that read it:
 * refused, naming both. Compared by file identity, so links and relative paths are caught. */
static wf_status check_inputs_not_outputs(const char *out_dir, const char *const *paths,
                                          const char *const *roles, int n, wf_error *err) {
    for (int i = 0; i < n; i++) {
        struct stat si, so;
        if (!paths[i] || !paths[i][0] || stat(paths[i], &si) != 0)
            continue;
        for (size_t k = 0; k < N_OUTPUTS; k++) {
            char p[WF_PATH_MAX + 64];
            if (snprintf(p, sizeof p, "%s/%s", out_dir, OUTPUTS[k]) >= (int)sizeof p)
                continue;
            if (stat(p, &so) == 0 && so.st_dev == si.st_dev && so.st_ino == si.st_ino)
                return wf_error_set(err, WF_ERR_INVALID,
                                    "%s (the %s the audit reads) is %s, one of the outputs the "
                                    "audit writes into %s: it would be overwritten; write to "
                                    "another --out or move the input",
                                    paths[i], roles[i], OUTPUTS[k], out_dir);
        }
    }
    return WF_OK;
}

wf_status wf_audit_write_outputs(const wf_config *cfg, const wf_model *model,
                                 const wf_predictor *pred, const wf_audit_part *all,
                                 const char *out_dir, const char *data_dir, const uint8_t *sign_key,
                                 const wf_audit_cmp_model *cmpm, int threads,
                                 double *seconds_compare, wf_error *err) {
    const char *in_paths[] = {cfg->model,
                              cfg->log.path,
                              cfg->failures.path,
                              cfg->config_path,
                              cfg->explain.background_path,
                              cfg->explain.baseline_path,
                              all->cmp ? all->cmp->model : NULL};
    static const char *const in_roles[] = {"model",      "log",      "failure log", "config",
                                           "background", "baseline", "model B"};
    wf_status cst = check_inputs_not_outputs(out_dir, in_paths, in_roles,
                                             (int)(sizeof in_roles / sizeof in_roles[0]), err);
    if (cst)
        return cst;
    char methods[4096 + 1024];
    wf_explain_describe(&cfg->explain, all->has_bg ? &all->bg : NULL, methods, 4096);
    /* The failure log as the run parsed it (a one-machine run: the part kept it); merge, which
     * has only the shards, reads it once here and the bytes must be those the shards recorded. */
    wf_failure *own = NULL;
    const wf_failure *failures = all->failures;
    int64_t n_failures = all->n_failures;
    wf_status st = WF_OK;
    if (cfg->failures.path[0] && !all->has_failures) {
        char hex[65];
        st = wf_failures_read_digest(cfg->failures.path, &cfg->log, &own, &n_failures, hex, err);
        failures = own;
        if (!st && strcmp(hex, all->id.failures) != 0)
            st = wf_error_set(err, WF_ERR_VERIFY,
                              "%s (failures.path) changed during the run (SHA-256 %s when the "
                              "run read it, %s now): nothing was written; rerun the audit",
                              cfg->failures.path, all->id.failures, hex);
        if (st) {
            free(own);
            return st;
        }
    }
    wf_audit_checks checks;
    st = wf_audit_checks_build(cfg, all, &checks, err);
    if (st) {
        free(own);
        return st;
    }
    /* One cleanup path (out:) for everything below. */
    wf_audit_drift_report drift;
    memset(&drift, 0, sizeof drift);
    wf_audit_cmp_report cmp; /* issue 15: model B beside A */
    memset(&cmp, 0, sizeof cmp);
    int lock_fd = -1;
    wf_results r;
    results_common(&r, cfg, model, pred, all, "audit");
    wf_model_card *card = malloc(sizeof *card);
    if (card) {
        wf_model_card_build(model, card);
        r.model_card = card;
    }
    r.dependence = checks.plan.has_dep ? &checks.plan.dep : NULL;
    r.why = checks.why;
    r.scores = all->scores;
    r.flagged = all->flagged;
    r.n_failures = n_failures;
    r.failures = failures;
    r.horizon_hours = cfg->failures.horizon_hours;
    r.episode_merge_gap_hours = cfg->report.episode_merge_gap_hours;
    r.input = &all->stats;
    r.channel_min = all->ch_min;
    r.channel_max = all->ch_max;
    r.n_explained = all->n_expl;
    r.expl = all->expl;
    if (all->drift) {
        if ((st = wf_audit_drift_explain_sample(cfg, pred, all, all->drift, threads, err)) ||
            (st = wf_audit_drift_report_build(cfg, all, &drift, err)))
            goto out;
        r.drift = &drift.r;
    }
    if (all->cmp) {
        if ((st = wf_audit_cmp_report_build(cfg, model, pred, cmpm, all, threads, &cmp, err)))
            goto out;
        r.compare = &cmp.r;
        if (seconds_compare)
            *seconds_compare = cmp.seconds_explain;
        size_t ml = strlen(methods);
        snprintf(methods + ml, sizeof methods - ml,
                 " Model comparison: every window was also scored by %s (%s, flagging at %g) "
                 "with the same engine; paired agreement, Cohen's kappa and the exact "
                 "two-sided McNemar test on window-level correctness; precision and recall with "
                 "95%% percentile bootstrap intervals over turbines (%d resamples, seed %llu). "
                 "%s.",
                 cmp.r.b.name,
                 !strcmp(cmp.r.relation, "teacher")    ? "the teacher A was compressed from"
                 : !strcmp(cmp.r.relation, "student")  ? "a student compressed from A"
                 : !strcmp(cmp.r.relation, "previous") ? "the previous version of A"
                                                       : "a challenger to A",
                 cmp.r.b.threshold, cmp.r.bootstrap, (unsigned long long)cmp.r.seed,
                 cmp.r.settings_text);
    }

    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = data_dir ? data_dir : WF_DATA_DIR;
    o.template_path = cfg->report.template_path;
    o.fonts_dir = cfg->report.fonts_dir;
    o.title = cfg->report.title;
    o.max_episode_pages = cfg->report.max_episode_pages;
    o.methods_text = methods;
    o.per_turbine = cfg->report.per_turbine; /* issue 19: turbines/<file>.pdf */
    o.threads = threads; /* issue 12: the charts are drawn on the run's threads */
    /* The digests of the bytes the run parsed: the manifest records what was read. */
    o.inputs[o.n_inputs++] = (wf_report_input){"model", cfg->model, all->id.model};
    o.inputs[o.n_inputs++] = (wf_report_input){"log", cfg->log.path, all->id.log};
    if (all->cmp)
        o.inputs[o.n_inputs++] = (wf_report_input){"model_b", all->cmp->model, all->cmp->sha256};
    if (cfg->failures.path[0])
        o.inputs[o.n_inputs++] =
            (wf_report_input){"failures", cfg->failures.path, all->id.failures};
    o.inputs[o.n_inputs++] = (wf_report_input){"config", cfg->config_path, all->id.config};
    if (cfg->explain.background == WF_BACKGROUND_FILE)
        o.inputs[o.n_inputs++] =
            (wf_report_input){"background", cfg->explain.background_path, all->id.background};
    if (cfg->explain.baseline == WF_BASELINE_FILE)
        o.inputs[o.n_inputs++] =
            (wf_report_input){"baseline", cfg->explain.baseline_path, all->id.baseline};
    o.versions[o.n_versions++] = (wf_report_version){"protobuf-c", wf_model_version_protobuf_c()};
    o.versions[o.n_versions++] = (wf_report_version){"OpenBLAS", wf_model_version_openblas()};
    o.versions[o.n_versions++] = (wf_report_version){"cJSON", wf_io_version_cjson()};
    if (sign_key) {
        o.sign = 1;
        memcpy(o.sign_key, sign_key, 32);
    }

    char staging[WF_PATH_MAX + 64];
    if (snprintf(staging, sizeof staging, "%s/.whyflag-staging-XXXXXX", out_dir) >=
        (int)sizeof staging) {
        st = wf_error_set(err, WF_ERR_INVALID, "%s: path too long", out_dir);
        goto out;
    }
    st = lock_out_dir(out_dir, &lock_fd, err);
    if (st)
        goto out;
    int n_recovered;
    st = recover_staging(out_dir, &n_recovered, err);
    if (st)
        goto out;
    if (!mkdtemp(staging)) {
        st = wf_error_set(err, WF_ERR_IO, "%s: cannot create a staging folder: %s", out_dir,
                          strerror(errno));
    } else {
        st = wf_report_write_all(&r, &o, staging, err);
        if (!st)
            st = publish(staging, out_dir, err);
        else
            remove_staging(staging);
    }
out:
    free(card);
    wf_audit_drift_report_free(&drift);
    wf_audit_cmp_report_free(&cmp);
    if (lock_fd >= 0)
        close(lock_fd);
    free(own);
    wf_audit_checks_free(&checks);
    return st;
}

/* The partial manifest of a shard folder: inputs, settings and shard.bin. */
wf_status wf_audit_write_shard_manifest(const wf_config *cfg, const wf_model *model,
                                        const wf_predictor *pred, const wf_audit_part *pt,
                                        const char *dir, const char *data_dir, wf_error *err) {
    wf_results r;
    results_common(&r, cfg, model, pred, pt, "audit --shard");
    wf_report_options o;
    wf_report_options_default(&o);
    o.data_dir = data_dir ? data_dir : WF_DATA_DIR;
    o.template_path = cfg->report.template_path;
    o.fonts_dir = cfg->report.fonts_dir;
    o.inputs[o.n_inputs++] = (wf_report_input){"model", cfg->model, pt->id.model};
    o.inputs[o.n_inputs++] = (wf_report_input){"log", cfg->log.path, pt->id.log};
    if (cfg->failures.path[0])
        o.inputs[o.n_inputs++] = (wf_report_input){"failures", cfg->failures.path, pt->id.failures};
    o.inputs[o.n_inputs++] = (wf_report_input){"config", cfg->config_path, pt->id.config};
    static const char *const outs[] = {"shard.bin"};
    return wf_manifest_write(dir, &r, &o, outs, 1, err);
}

/*
 * The per-turbine PDFs in wf_report_write_all (issue 19): written into the staging folder with
 * the other outputs, moved into place with them, listed in the same manifest.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/turbine_impl.h"

wf_status wf_report_turbines_stage(const wf_results *r, const wf_report_options *o,
                                   const char *stage, char ***names, int *n, wf_error *err) {
    wf_analysis a;
    wf_status st = wf_analysis_build(&a, r, o->max_episode_pages, err);
    if (st)
        return st;
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/turbines", stage);
    st = wf_report_write_turbine_pdfs(dir, r, o, &a, NULL, names, n, err);
    wf_analysis_free(&a);
    return st;
}

/* Remove the files of dir, then dir (one level: turbines/ holds files only). */
static void remove_flat(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4600];
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
            remove(p);
    }
    closedir(d);
    rmdir(dir);
}

void wf_report_turbines_clean(const char *stage) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/turbines", stage);
    remove_flat(dir);
}

wf_status wf_report_turbines_publish(const char *stage, const char *out_dir, int per_turbine,
                                     wf_error *err) {
    char from[4300], to[4300], old[4400];
    snprintf(from, sizeof from, "%s/turbines", stage);
    snprintf(to, sizeof to, "%s/turbines", out_dir);
    struct stat sb;
    int have_new = per_turbine && stat(from, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (lstat(to, &sb) == 0) { /* an earlier run's: out of the way first, removed after */
        if (!S_ISDIR(sb.st_mode))
            return wf_error_set(err, WF_ERR_IO, "%s: exists and is not a folder", to);
        snprintf(old, sizeof old, "%s/.whyflag-old-turbines-XXXXXX", out_dir);
        if (!mkdtemp(old))
            return wf_error_set(err, WF_ERR_IO, "%s: cannot write into the folder: %s", out_dir,
                                strerror(errno));
        rmdir(old); /* the unique name only: rename needs it free */
        if (rename(to, old) != 0)
            return wf_error_set(err, WF_ERR_IO, "%s: cannot move the earlier PDFs aside: %s", to,
                                strerror(errno));
        remove_flat(old);
    }
    if (have_new && rename(from, to) != 0)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot move into place: %s", to, strerror(errno));
    return WF_OK;
}

wf_status wf_report_manifest_with(const char *out_dir, const wf_results *r,
                                  const wf_report_options *o, const char *const *names, int n,
                                  char *const *tnames, int n_t, wf_error *err) {
    const char **all = malloc(sizeof *all * (size_t)(n + n_t + 1));
    if (!all)
        return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory (manifest)", out_dir);
    for (int i = 0; i < n; i++)
        all[i] = names[i];
    for (int i = 0; i < n_t; i++)
        all[n + i] = tnames[i];
    wf_status st = wf_manifest_write(out_dir, r, o, all, n + n_t, err);
    free(all);
    return st;
}

wf_status wf_report_write_turbines(const char *out_dir, const wf_results *r,
                                   const wf_report_options *o, const char *only_id, int *n_out,
                                   wf_error *err) {
    wf_report_options oo;
    if (o)
        oo = *o;
    else
        wf_report_options_default(&oo);
    wf_report_versions_complete(&oo);
    o = &oo;
    if (n_out)
        *n_out = 0;
    wf_analysis a;
    wf_status st = wf_analysis_build(&a, r, o->max_episode_pages, err);
    if (st)
        return st;
    char **names = NULL;
    int n = 0;
    char dir[4300];
    if (only_id) { /* one file, written atomically beside the others */
        snprintf(dir, sizeof dir, "%s/turbines", out_dir);
        st = wf_report_write_turbine_pdfs(dir, r, o, &a, only_id, &names, &n, err);
    } else {
        char stage[4200];
        snprintf(stage, sizeof stage, "%s/.whyflag-staging-XXXXXX", out_dir);
        if (!mkdtemp(stage)) {
            st = wf_error_set(err, WF_ERR_IO, "%s: cannot write into the folder: %s", out_dir,
                              strerror(errno));
        } else {
            snprintf(dir, sizeof dir, "%s/turbines", stage);
            st = wf_report_write_turbine_pdfs(dir, r, o, &a, NULL, &names, &n, err);
            if (!st)
                st = wf_report_turbines_publish(stage, out_dir, 1, err);
            wf_report_turbines_clean(stage);
            rmdir(stage);
        }
    }
    wf_report_names_free(names, n);
    wf_analysis_free(&a);
    if (!st && n_out)
        *n_out = n;
    return st;
}

wf_status wf_report_run_id(const wf_results *r, char out[17], wf_error *err) {
    wf_analysis a;
    wf_status st = wf_analysis_build(&a, r, 0, err);
    if (st)
        return st;
    memcpy(out, a.run_id, 17);
    wf_analysis_free(&a);
    return WF_OK;
}

wf_status wf_report_template_check(const wf_report_options *o, int *n_missing, char *buf,
                                   size_t size, wf_error *err) {
    char tpl_path[1024], f1[1024], f2[1024], f3[1024];
    wf_report_paths(o, tpl_path, f1, f2, f3);
    wf_template t;
    wf_status st = wf_template_load(tpl_path, &t, err);
    if (st)
        return st;
    wf_report_words w;
    st = wf_report_words_init(&w, &t, err);
    *n_missing = st ? 0 : w.n_missing;
    size_t o2 = 0;
    if (size)
        buf[0] = '\0';
    for (int i = 0; !st && i < w.n_missing && i < WF_WORDS_MAX_MISSING && o2 + 1 < size; i++)
        o2 += (size_t)snprintf(buf + o2, size - o2, "%s%s", i ? ", " : "", w.missing[i]);
    wf_template_free(&t);
    return st;
}

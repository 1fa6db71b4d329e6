/*
 * Groups "auto" and "hierarchy" (issue 13): the explain settings resolved against the run's
 * background. The dependence of the background's channels is measured once; "auto" explains over
 * its groups, "hierarchy" over the channels with the exact Owen values of its dendrogram.
 */
#include <stdlib.h>
#include <string.h>

#include "whyflag/explain_checks.h"

int wf_dependence_found(const wf_dependence *d) {
    if (!d)
        return 0;
    if (d->cells.n_relations > 0 || d->means.n_relations > 0)
        return 1;
    return d->n_groups < d->C;
}

void wf_explain_plan_deinit(wf_explain_plan *p) {
    if (!p)
        return;
    if (p->owns_groups) {
        for (int i = 0; i < p->s.n_groups; i++)
            free(p->s.explicit_groups[i].cells);
        free(p->s.explicit_groups);
    }
    if (p->has_dep)
        wf_dependence_deinit(&p->dep);
    if (p->h) {
        wf_hierarchy_deinit(p->h);
        free(p->h);
    }
    memset(p, 0, sizeof *p);
}

wf_status wf_explain_plan_build(const wf_explain_settings *s, const wf_background *bg,
                                char *const *names, wf_explain_plan *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    out->s = *s;
    int resolve = s->groups == WF_GROUPS_AUTO || s->groups == WF_GROUPS_HIERARCHY;
    if (!bg || bg->n < 2) {
        if (resolve)
            return wf_error_set(err, WF_ERR_INVALID,
                                "explain.groups \"%s\": the groups are measured on the background, "
                                "which needs at least 2 windows (found %lld)",
                                wf_groups_name(s), (long long)(bg ? bg->n : 0));
        return WF_OK;
    }
    wf_dep_options o;
    wf_dep_options_default(&o);
    wf_status st =
        wf_dependence_measure(bg->x, bg->weight, bg->n, bg->C, bg->T, names, &o, &out->dep, err);
    if (st)
        return st;
    out->has_dep = 1;
    if (s->groups == WF_GROUPS_AUTO) {
        out->s.groups = WF_GROUPS_CHANNEL;
        out->s.n_groups = 0;
        out->s.explicit_groups = NULL;
        if (out->dep.n_groups < bg->C) { /* some group holds 2+ channels */
            st = wf_dependence_groups(&out->dep, bg->T, &out->s.explicit_groups, &out->s.n_groups,
                                      err);
            if (st)
                goto fail;
            out->s.groups = WF_GROUPS_EXPLICIT;
            out->owns_groups = 1;
        }
    } else if (s->groups == WF_GROUPS_HIERARCHY) {
        out->s.groups = WF_GROUPS_CHANNEL;
        out->s.n_groups = 0;
        out->s.explicit_groups = NULL;
        out->h = calloc(1, sizeof *out->h);
        if (!out->h) {
            st = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (bg->C < 2) {
            st = wf_hierarchy_flat(bg->C, out->h, err);
        } else {
            st = wf_hierarchy_from_merges(bg->C, out->dep.merges, out->h, err);
        }
        if (st)
            goto fail;
        out->s.hierarchy = out->h;
    }
    return WF_OK;
fail:
    wf_explain_plan_deinit(out);
    return st;
}

/*
 * The checks of a run's explanations (issue 13), computed from the combined part just before the
 * outputs are written: the dependence of the background's channels (the same plan the windows
 * were explained with, rebuilt from the same background) and, for every explained window, the
 * why sentence, its drivers and the agreement of KernelSHAP and Integrated Gradients. Nothing
 * here depends on how many shards produced the part.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit_impl.h"

void wf_audit_checks_free(wf_audit_checks *c) {
    if (!c)
        return;
    wf_explain_plan_deinit(&c->plan);
    free(c->why);
    memset(c, 0, sizeof *c);
}

wf_status wf_audit_checks_build(const wf_config *cfg, const wf_audit_part *all,
                                wf_audit_checks *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    if (!all->has_bg)
        return WF_OK; /* nothing to measure (IG with a file baseline only) */
    wf_status st =
        wf_explain_plan_build(&cfg->explain, &all->bg, all->ws.channels, &out->plan, err);
    if (st)
        return st;
    if (all->n_expl > 0) {
        out->why = calloc((size_t)all->n_expl, sizeof *out->why);
        if (!out->why) {
            wf_audit_checks_free(out);
            return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
        }
    }
    out->n = all->n_expl;
    for (int64_t i = 0; i < all->n_expl; i++) {
        const wf_explanation *e = &all->expl[i];
        if (e->status != WF_OK || !e->has_kshap)
            continue; /* text "" */
        wf_error werr = {0};
        if (wf_explanation_why(e, &out->plan.s, all->ws.C, all->ws.T, all->ws.channels,
                               &out->why[i], &werr) != WF_OK)
            memset(&out->why[i], 0, sizeof out->why[i]);
    }
    return WF_OK;
}

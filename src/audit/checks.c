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
        wf_explain_checks_build(&cfg->explain, &all->bg, all->ws.C, all->ws.T, all->ws.channels,
                                all->expl, all->n_expl, &out->plan, &out->why, err);
    if (st)
        return st;
    out->n = all->n_expl;
    return WF_OK;
}

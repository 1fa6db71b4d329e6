/*
 * Tree-ensemble models and models without a gradient (issue 11): what the explain settings need
 * to know about the model before a run. TreeSHAP needs the tree model (wf_tree_model_new); IG is
 * not applicable to a model without a gradient, and the reason is recorded instead of failing
 * every window.
 */
#include <string.h>

#include "whyflag/audit.h"
#include "whyflag/trees.h"

wf_status wf_audit_trees_setup(wf_explain_settings *s, const wf_model *m, int C, int T,
                               wf_layout layout, wf_audit_trees *t, wf_error *err) {
    return wf_audit_trees_setup_spec(s, m, C, T, layout, NULL, t, err);
}

wf_status wf_audit_trees_setup_spec(wf_explain_settings *s, const wf_model *m, int C, int T,
                                    wf_layout layout, const char *spec, wf_audit_trees *t,
                                    wf_error *err) {
    memset(t, 0, sizeof *t);
    s->tree_model = NULL;
    s->ig_not_applicable = NULL;
    int diff = wf_model_differentiable(m, t->reason, sizeof t->reason);
    if (!diff)
        s->ig_not_applicable = t->reason;
    /* "both" tries the trees only for a model without a gradient (a tree ensemble has none). */
    if (s->do_treeshap == WF_TREESHAP_ON || (s->do_treeshap == WF_TREESHAP_AUTO && !diff)) {
        wf_error e2 = {0};
        wf_status st = wf_tree_model_new_spec(m, C, T, layout, spec, &t->tm, &e2);
        if (st && s->do_treeshap == WF_TREESHAP_ON) {
            *err = e2;
            wf_error_prefix(err, "explain.method \"treeshap\": ");
            return st;
        }
        if (!st)
            s->tree_model = t->tm;
    }
    return WF_OK;
}

void wf_audit_trees_free(wf_audit_trees *t) {
    if (!t)
        return;
    wf_tree_model_free(t->tm);
    t->tm = NULL;
}

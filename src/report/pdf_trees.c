/*
 * report.pdf for tree-ensemble models and models without a gradient (issue 11): the waterfall
 * from TreeSHAP (on the margin, said so), the sentence that IG does not apply (instead of an
 * empty heat map), and the TreeSHAP rows of a window's checks (efficiency, agreement with
 * KernelSHAP: max |difference| when both explain the margin, else ranks and signs).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/pdf_impl.h"
#include "whyflag/trees.h"

wf_status pdf_treeshap_waterfall(pdf_ctx *p, const wf_explanation *x, wf_error *err) {
    if (!x->has_treeshap)
        return WF_OK;
    const wf_treeshap_result *t = &x->treeshap;
    /* the waterfall chart reads a KernelSHAP result: hand it TreeSHAP's values, in log-odds
     * when the margin is a logistic classifier's */
    wf_explanation tmp = *x;
    memset(&tmp.kshap, 0, sizeof tmp.kshap);
    tmp.kshap.M = t->M;
    tmp.kshap.players = t->players;
    tmp.kshap.values = t->values;
    tmp.kshap.base_value = t->base_value;
    tmp.kshap.f_x = t->f_x;
    const wf_explain_settings *s = p->r->settings;
    int logistic = s && s->tree_model && wf_tree_model_output_link(s->tree_model) == 1;
    tmp.kshap.link =
        t->output == WF_TREESHAP_MARGIN && logistic ? WF_LINK_LOGIT_OUTPUT : WF_LINK_IDENTITY;
    tmp.kshap.exact = 1;
    char cap[256];
    if (t->output == WF_TREESHAP_MARGIN)
        snprintf(cap, sizeof cap,
                 "From the fleet base value to this window's margin, channel by channel "
                 "(TreeSHAP, exact, %s)",
                 logistic ? "margin in log-odds" : "raw margin");
    else
        snprintf(cap, sizeof cap,
                 "From the fleet base value to this score, channel by channel (TreeSHAP, "
                 "approximate)");
    double h = 54 + 14 * (t->M <= 12 ? t->M : 12);
    pdf_ensure(p, h + 16);
    pdf_text_at(p, p->bold, 8.5, PDF_ML, p->y - 9, cap);
    p->y -= 13;
    pdf_args_expl args = {.a = p->a, .e = tmp}; /* tmp is copied; what it points to stays */
    return pdf_chart(p, pdf_draw_waterfall, &args, sizeof args, 0, PDF_TW, h, err);
}

void pdf_ig_not_applicable(pdf_ctx *p, const wf_explanation *x) {
    if (!x->ig_not_applicable || x->has_ig)
        return;
    pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW,
                  "Integrated Gradients does not apply to this model: its score has no "
                  "gradient (a tree ensemble is piecewise constant), so no heat map is drawn.");
}

void pdf_treeshap_checks(pdf_ctx *p, pdf_table *tb, const wf_explanation *x) {
    if (!x->has_treeshap)
        return;
    char v[64], m[200];
    const wf_treeshap_result *t = &x->treeshap;
    snprintf(v, sizeof v, "%.2e", t->efficiency_gap);
    snprintf(m, sizeof m, "%s",
             fabs(t->efficiency_gap) <= 1e-6 * fmax(1, fabs(t->f_x))
                 ? "values add up to the margin minus its base value"
                 : "values do not add up exactly: read with care");
    const char *r1[] = {"TreeSHAP efficiency gap", v, m};
    pdf_table_row(p, tb, r1);
    if (!x->has_kshap)
        return;
    if (!isnan(x->ts_ks_max_diff)) {
        snprintf(v, sizeof v, "%.2e", x->ts_ks_max_diff);
        snprintf(m, sizeof m, "max |TreeSHAP - KernelSHAP|, both on the margin: %s",
                 x->ts_ks_max_diff <= 1e-3 * fmax(1, fabs(t->f_x - t->base_value))
                     ? "they agree"
                     : "they differ: read with care");
        const char *r2[] = {"TreeSHAP vs KernelSHAP", v, m};
        pdf_table_row(p, tb, r2);
    } else {
        snprintf(v, sizeof v, "%.2f", x->ts_ks_spearman);
        snprintf(m, sizeof m,
                 t->path_dependent
                     ? "Spearman of the ranks; %d of %d signs alike (path-dependent)"
                     : "Spearman of the ranks; %d of %d signs alike (TreeSHAP on the margin, "
                       "KernelSHAP on the score: values not comparable)",
                 x->ts_ks_same_sign, t->M);
        const char *r2[] = {"TreeSHAP vs KernelSHAP", v, m};
        pdf_table_row(p, tb, r2);
    }
}

/* After the template's methods paragraphs (which describe KernelSHAP and IG): what changes for
 * a tree-ensemble model. The default template is left as it is, so reports of other models do
 * not change. */
void pdf_methods_trees(pdf_ctx *p) {
    const wf_explain_settings *s = p->r->settings;
    if (!s || (!wf_explain_uses_treeshap(s) && !(s->do_ig && s->ig_not_applicable)))
        return;
    if (wf_explain_uses_treeshap(s) && s->treeshap_covers[0])
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW,
                      "For this model, a tree ensemble, TreeSHAP (path-dependent, as shap's "
                      "tree_path_dependent) computes the channels' shares exactly from the trees: "
                      "a channel left out is averaged over the branches of each split it decides, "
                      "weighted by how many cover windows took each branch (see the explanation "
                      "methods); a leaf no cover window reached counts as 1e-6 of a window. The "
                      "shares move the model's margin from the cover windows' mean margin to this "
                      "window's. KernelSHAP takes left-out channels from background windows "
                      "instead, a different question, so the checks compare ranks and signs.");
    else if (wf_explain_uses_treeshap(s))
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW,
                      "For this model, a tree ensemble, TreeSHAP computes the channels' shares "
                      "exactly from the trees themselves: how much each channel moves the "
                      "model's margin (its log-odds before the final logistic, for a "
                      "classifier) from the fleet's typical margin (the base value) to this "
                      "window's. Where KernelSHAP explains the same margin the two must agree; "
                      "the checks show the largest difference between them, otherwise the rank "
                      "correlation and the signs.");
    if (s->do_ig && s->ig_not_applicable)
        pdf_paragraph(p, p->font, 9.5, PDF_ML, PDF_TW,
                      "Integrated Gradients does not apply to this model: its score has no "
                      "gradient (a tree ensemble is piecewise constant), so there is no heat map "
                      "and no agreement between KernelSHAP and Integrated Gradients.");
}

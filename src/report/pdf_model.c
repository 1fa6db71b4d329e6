/*
 * The [model] section of report.pdf: the model card (what the ONNX file says the model is:
 * producer, opset, inputs, outputs, op counts, parameters and their sparsity, FLOPs,
 * quantization, metadata such as training period and intended use) and the limitations of the
 * explanations, in plain words from the template.
 */
#include <stdio.h>
#include <string.h>

#include "report/pdf_impl.h"
#include "whyflag/model.h"

/* A label and a value; a long value continues on the next rows, cut after a comma or a space. */
static void row2(pdf_ctx *p, pdf_table *t, const char *a, const char *b) {
    const size_t width = 78; /* characters that fit the value column at 8.5 pt */
    char part[256];
    int first = 1;
    do {
        size_t n = strlen(b);
        if (n > width) {
            n = width;
            while (n > width / 2 && b[n] != ' ' && b[n - 1] != ',')
                n--;
            if (n <= width / 2)
                n = width;
        }
        if (n >= sizeof part)
            n = sizeof part - 1;
        memcpy(part, b, n);
        part[n] = '\0';
        const char *cells[] = {first ? a : "", part};
        pdf_table_row(p, t, cells);
        b += n;
        while (*b == ' ')
            b++;
        first = 0;
    } while (*b);
}

wf_status pdf_sec_model(pdf_ctx *p, const wf_tpl_section *sec, wf_error *err) {
    wf_status st = pdf_tpl_heading(p, sec, "Model card and limitations", err);
    if (!st)
        st = pdf_tpl_paragraphs(p, sec, "text", 9.5, err);
    if (st)
        return st;
    const wf_model_card *c = p->r->model_card;
    if (c) {
        static const double w[] = {140, 355};
        static const char al[] = {'l', 'l'};
        static const char *const head[] = {"Model", "As its ONNX file says"};
        pdf_table t = {2, w, al, head, 8.5, 0, NULL};
        pdf_table_begin(p, &t);
        char buf[512];
        row2(p, &t, "File", c->name);
        row2(p, &t, "SHA-256", p->r->model_sha256);
        snprintf(buf, sizeof buf, "%s, ONNX IR %lld, opset %d", c->producer[0] ? c->producer : "-",
                 (long long)c->ir_version, c->opset);
        row2(p, &t, "Exported by", buf);
        for (int i = 0; i < c->n_inputs; i++)
            row2(p, &t, i ? "" : "Input", c->inputs[i]);
        for (int i = 0; i < c->n_outputs; i++)
            row2(p, &t, i ? "" : "Outputs", c->outputs[i]);
        if (p->r->output_name) {
            const char *k = p->r->output_kind ? p->r->output_kind : "unknown";
            snprintf(buf, sizeof buf, "output '%s', column %d: %s", p->r->output_name,
                     p->r->output_column,
                     !strcmp(k, "probability") ? "a probability (the graph ends in a Sigmoid or "
                                                 "Softmax, or a classifier's probabilities)"
                     : !strcmp(k, "logit")     ? "a logit (the graph squashes it into another "
                                                 "output)"
                                               : "the graph does not say whether it is a "
                                                 "probability");
            row2(p, &t, "Score", buf);
        }
        size_t n = 0;
        buf[0] = '\0';
        for (int k = 0; k < c->n_ops && n + 1 < sizeof buf; k++) {
            int m = snprintf(buf + n, sizeof buf - n, "%s%s x%d", k ? ", " : "", c->op_name[k],
                             c->op_count[k]);
            n += m > 0 ? (size_t)m : 0;
        }
        char nodes[32];
        snprintf(nodes, sizeof nodes, "%d nodes", c->n_nodes);
        row2(p, &t, nodes, buf);
        snprintf(buf, sizeof buf, "%lld (%.1f%% exactly zero%s)", (long long)c->parameters,
                 c->parameters ? 100.0 * (double)c->zero_parameters / (double)c->parameters : 0.0,
                 c->zero_parameters * 5 > c->parameters ? ": pruned" : "");
        row2(p, &t, "Parameters", buf);
        if (c->flops >= 0)
            snprintf(buf, sizeof buf, "%lld per window", (long long)c->flops);
        else
            snprintf(buf, sizeof buf, "unknown");
        row2(p, &t, "FLOPs", buf);
        row2(p, &t, "Arithmetic",
             c->quantized ? "int8 (QDQ / QLinear ops), rerun as int8; gradients from a float "
                            "straight-through surrogate"
                          : "float32");
        row2(p, &t, "Gradient",
             c->differentiable ? "yes (Integrated Gradients applies)"
                               : "no: piecewise constant (Integrated Gradients does not apply)");
        for (int i = 0; i < c->n_meta; i++)
            row2(p, &t, c->meta_key[i], c->meta_value[i]);
        if (c->n_meta == 0)
            row2(p, &t, "Metadata", "none in the file (training period and intended use unknown)");
    }
    const wf_tpl_line *lh = pdf_tpl_key(sec, "limitations_heading");
    if (lh) {
        const char *h = pdf_tpl_text(p, sec, lh, err, &st);
        if (!h)
            return st;
        pdf_heading(p, h, 1);
    }
    return pdf_tpl_paragraphs(p, sec, "limitation", 9.5, err);
}

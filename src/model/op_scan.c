/*
 * wf_model_scan_ops: every op of an ONNX file that whyflag cannot run, at once (op, domain,
 * count, first node), without loading the model, so that `whyflag inspect` can list them all
 * instead of the first one. Reads only the node list (protobuf-c, like onnx_load.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "model/model_impl.h"
#include "onnx.pb-c.h"

void wf_op_scan_free(wf_op_scan *s) {
    if (!s)
        return;
    free(s->items);
    memset(s, 0, sizeof *s);
}

static int node_supported(const char *dom, const char *op) {
    if (!strcmp(dom, "com.microsoft")) /* its quantized ops only */
        return wf_op_find_ms(op) != NULL;
    if (*dom && strcmp(dom, "ai.onnx"))
        return 0;
    return !strcmp(op, "Constant") || wf_op_find(op) != NULL;
}

static void copy_str(char *dst, size_t size, const char *src) {
    snprintf(dst, size, "%s", src ? src : "");
}

wf_status wf_model_scan_ops_mem(const void *data, size_t len, wf_op_scan *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    Onnx__ModelProto *mp = data && len ? onnx__model_proto__unpack(NULL, len, data) : NULL;
    if (!mp || !mp->graph) {
        if (mp)
            onnx__model_proto__free_unpacked(mp, NULL);
        return wf_error_set(err, WF_ERR_PARSE,
                            "not a valid ONNX model (protobuf parse failed or no graph)");
    }
    const Onnx__GraphProto *g = mp->graph;
    wf_status s = WF_OK;
    out->n_nodes = (int)g->n_node;
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *np = g->node[i];
        const char *dom = np->domain ? np->domain : "", *op = np->op_type ? np->op_type : "";
        if (node_supported(dom, op))
            continue;
        int k = 0;
        while (k < out->n && (strcmp(out->items[k].op, op) || strcmp(out->items[k].domain, dom)))
            k++;
        if (k == out->n) {
            wf_op_issue *q = realloc(out->items, (size_t)(out->n + 1) * sizeof *q);
            if (!q) {
                s = wf_error_set(err, WF_ERR_NOMEM, "out of memory");
                break;
            }
            out->items = q;
            memset(&q[k], 0, sizeof q[k]);
            copy_str(q[k].op, sizeof q[k].op, op);
            copy_str(q[k].domain, sizeof q[k].domain, dom);
            copy_str(q[k].first_name, sizeof q[k].first_name, np->name);
            q[k].first_node = (int)i;
            out->n++;
        }
        out->items[k].count++;
    }
    onnx__model_proto__free_unpacked(mp, NULL);
    if (s)
        wf_op_scan_free(out);
    return s;
}

wf_status wf_model_scan_ops(const char *path, wf_op_scan *out, wf_error *err) {
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    wf_status s = wf_file_read_all(path, &data, &len, err);
    if (s)
        return s;
    s = wf_model_scan_ops_mem(data, len, out, err);
    free(data);
    if (s)
        wf_error_prefix(err, "%s: ", path);
    return s;
}

size_t wf_op_scan_format(const wf_op_scan *s, char *buf, size_t size) {
    size_t len = 0;
    if (size)
        buf[0] = 0;
    for (int i = 0; i < s->n; i++) {
        const wf_op_issue *q = &s->items[i];
        int w =
            snprintf(buf + len, size > len ? size - len : 0, "%s%s%s%s (%d node%s, first '%s' #%d)",
                     i ? ", " : "", q->domain[0] ? q->domain : "", q->domain[0] ? "::" : "", q->op,
                     q->count, q->count == 1 ? "" : "s", q->first_name, q->first_node);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return len;
}

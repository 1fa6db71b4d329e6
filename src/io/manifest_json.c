/*
 * manifest.json read back (whyflag/manifest.h) with cJSON, the one JSON reader: the entries of
 * its "inputs" and "outputs" lists, and the file's exact bytes for the signature check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "io/io_impl.h"
#include "whyflag/manifest.h"

void wf_manifest_doc_free(wf_manifest_doc *doc) {
    if (!doc)
        return;
    free(doc->entry);
    free(doc->text);
    memset(doc, 0, sizeof *doc);
}

static wf_status not_manifest(wf_error *err, const char *path, const char *where,
                              const char *what) {
    return wf_error_set(err, WF_ERR_PARSE,
                        "%s: not a whyflag manifest: %s %s (expected \"inputs\" and \"outputs\" "
                        "lists of {role, path, bytes, sha256})",
                        path, where, what);
}

static int copy_str(char *dst, size_t size, const cJSON *v) {
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
        return -1;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 0;
}

wf_status wf_manifest_read(const char *path, wf_manifest_doc *doc, wf_error *err) {
    memset(doc, 0, sizeof *doc);
    wf_status st = wf_file_read_all(path, &doc->text, &doc->len, err);
    if (st)
        return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(doc->text, doc->len, &end, 0);
    if (!cJSON_IsObject(root)) {
        char where[64];
        snprintf(where, sizeof where, "near byte %ld",
                 end ? (long)(end - doc->text) : (long)doc->len);
        cJSON_Delete(root);
        wf_manifest_doc_free(doc);
        return not_manifest(err, path, where, "invalid JSON or not an object");
    }
    static const char *const lists[] = {"inputs", "outputs"};
    int64_t total = 0;
    for (int l = 0; l < 2; l++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, lists[l]);
        if (!cJSON_IsArray(a)) {
            cJSON_Delete(root);
            wf_manifest_doc_free(doc);
            return not_manifest(err, path, lists[l], "is missing or not a list");
        }
        total += cJSON_GetArraySize(a);
    }
    doc->entry = calloc((size_t)(total ? total : 1), sizeof *doc->entry);
    if (!doc->entry) {
        cJSON_Delete(root);
        wf_manifest_doc_free(doc);
        return wf_error_set(err, WF_ERR_NOMEM, "out of memory");
    }
    for (int l = 0; l < 2 && !st; l++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, lists[l]);
        int i = 0;
        for (const cJSON *e = a->child; e && !st; e = e->next, i++) {
            wf_manifest_entry *m = &doc->entry[doc->n];
            char where[64];
            snprintf(where, sizeof where, "%s[%d]", lists[l], i);
            const cJSON *role = cJSON_GetObjectItemCaseSensitive(e, "role");
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "sha256");
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(e, "bytes");
            m->bytes = -1;
            if (!cJSON_IsObject(e))
                st = not_manifest(err, path, where, "is not an object");
            else if (copy_str(m->path, sizeof m->path, p) || !m->path[0])
                st = not_manifest(err, path, where, "has no \"path\" string");
            else if (copy_str(m->sha256, sizeof m->sha256, h) || strlen(m->sha256) != 64)
                st = not_manifest(err, path, where, "has no 64-character \"sha256\"");
            else if (role && copy_str(m->role, sizeof m->role, role))
                st = not_manifest(err, path, where, "has a \"role\" that is not a short string");
            if (!st && !role)
                snprintf(m->role, sizeof m->role, "%s", l ? "output" : "input");
            if (!st && cJSON_IsNumber(b))
                m->bytes = (int64_t)b->valuedouble;
            if (!st)
                doc->n++;
        }
    }
    cJSON_Delete(root);
    if (!st && doc->n == 0)
        st = not_manifest(err, path, "inputs and outputs", "are empty");
    if (st)
        wf_manifest_doc_free(doc);
    return st;
}

/*
 * Internals of interventional TreeSHAP (treeshap.c) that path-dependent TreeSHAP
 * (treeshap_path.c) reuses: the feature -> player map and the tree-input rows of the windows a
 * wf_treeshap was built with.
 */
#ifndef WF_TREESHAP_IMPL_H
#define WF_TREESHAP_IMPL_H

#include <stdint.h>

#include "whyflag/treeshap.h"

/* Borrowed from ts (valid until wf_treeshap_free): feat_player (n_features), rows (n,
 * n_features), weight (n). */
void wf_treeshap_parts(const wf_treeshap *ts, const int32_t **feat_player, const float **rows,
                       const double **weight, int64_t *n);

#endif

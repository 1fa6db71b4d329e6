#!/usr/bin/python3
"""Path-dependent TreeSHAP references from shap's own C implementation.

As gen_shap_cext.py (whose model reading it reuses; see its docstring for how shap's C extension
_cext was built and is found through $SHAP_CEXT_DIR), but with
shap.TreeExplainer(model, feature_perturbation="tree_path_dependent", model_output="raw"):
_cext.dense_tree_shap with FEATURE_DEPENDENCE tree_path_dependent (code 1), MODEL_TRANSFORM
identity, node_sample_weight = node covers counted from data, internal node values from
_cext.compute_expectations, as shap's SingleTree does when handed data.

Covers, for two cover sets: "background" (the 50 windows of tests/data/explain/background.json)
and "training" (every window of tests/data/data/windows.json, the data gen_trees.py trained
on). Rows are counted by shap's _cext.dense_tree_update_weights (x <= threshold goes to the true
child, NaN to the default child). whyflag's rule for nodes no row reaches is then applied here
to shap's counts: a leaf with count 0 gets 1e-6, a branch the sum of its children (the counts of
reached nodes are unchanged: each row goes one way); the script checks that shap's own counts
of branches equal the sums of their children's. (shap's TreeExplainer itself replaces every zero
count, branch or leaf, by 1e-6; with full coverage the two rules agree.)

Writes shap_path_refs.json: per model and cover set, per explained window (those of
shap_refs.json) the per-feature values and the expected value (the bias term).

    SHAP_CEXT_DIR=/path/to/dir/with/_cext.so /usr/bin/python3 tests/data/trees/gen_shap_path.py
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_shap_cext as g  # noqa: E402
from gen_shap_cext import _cext  # noqa: E402

EPS = 1e-6


def covers(cl, cr, cd, feat, thr, ttype, val, n, R):
    """shap's counts of rows R through every node, then the zero-leaf rule."""
    w = np.zeros(cl.shape)
    _cext.dense_tree_update_weights(cl, cr, cd, feat, thr, ttype, val, n, w, R, np.isnan(R))
    counts = w.copy()
    unc = 0
    for t in range(n):
        def fix(j):
            nonlocal unc
            if cl[t, j] < 0:
                if w[t, j] == 0:
                    w[t, j] = EPS
                    unc += 1
                return w[t, j]
            s = fix(cl[t, j]) + fix(cr[t, j])
            assert counts[t, j] == counts[t, cl[t, j]] + counts[t, cr[t, j]], "not additive"
            w[t, j] = s
            return s
        fix(0)
    # unused slots (trees shorter than max_nodes) keep weight 0; shap never visits them
    return w, unc


def main():
    refs = json.load(open(os.path.join(HERE, "shap_refs.json")))
    W = json.load(open(os.path.join(g.ROOT, "tests/data/data/windows.json")))["windows"]
    BG = np.array(json.load(open(os.path.join(g.ROOT, "tests/data/explain/background.json")))
                  ["values"], dtype=np.float32).reshape(50, g.CT)
    TR = np.array([w["values"] for w in W], dtype=np.float32).reshape(-1, g.CT)
    X = np.array([W[i]["values"] for i in refs["shap_windows"]], dtype=np.float32).reshape(-1, g.CT)
    out = {"tool": "shap C extension (shap/cext/_cext.cc, tree_shap.h at df974a19): "
                   "dense_tree_update_weights, compute_expectations, dense_tree_shap with "
                   "FEATURE_DEPENDENCE tree_path_dependent, MODEL_TRANSFORM identity",
           "cover_eps": EPS, "shap_windows": refs["shap_windows"],
           "cover_sets": {"background": "tests/data/explain/background.json (50 windows)",
                          "training": "tests/data/data/windows.json (%d windows)" % len(TR)},
           "models": {}}
    for name in ["gbc_flat", "rf_nct", "gbr_scaled", "xgb_flat", "gbc_deep", "gbc_chmean"]:
        a, trees, leafw, base, front = g.read_model(name)
        cl, cr, cd, feat, thr, ttype, val, _, depth, n = g.shap_arrays(a, trees, leafw)
        Xr = g.rows_of(front, a, X).astype(np.float64)
        F = Xr.shape[1]
        entry = {"n_features": F}
        for cset, Z in [("background", BG), ("training", TR)]:
            Rr = g.rows_of(front, a, Z).astype(np.float64)
            w, unc = covers(cl, cr, cd, feat, thr, ttype, val, n, Rr)
            v = val.copy()
            for t in range(n):
                used = int(np.max(np.concatenate([[0], cl[t][cl[t] >= 0], cr[t][cr[t] >= 0]]))) + 1
                vt = np.ascontiguousarray(v[t, :used])
                _cext.compute_expectations(np.ascontiguousarray(cl[t, :used]),
                                           np.ascontiguousarray(cr[t, :used]),
                                           np.ascontiguousarray(w[t, :used]), vt)
                v[t, :used] = vt
            phi = np.zeros((len(Xr), F + 1, 1))
            _cext.dense_tree_shap(cl, cr, cd, feat, thr, ttype, v, w, depth, Xr,
                                  np.isnan(Xr), None, None, None, n, np.array([base]), phi, 1, 0,
                                  False)
            # additivity: values + bias = the margin
            pred = np.zeros((len(Xr), 1))
            _cext.dense_tree_predict(cl, cr, cd, feat, thr, ttype, val, depth, n,
                                     np.array([base]), 0, Xr, np.isnan(Xr), None, pred)
            gap = np.max(np.abs(phi[:, :, 0].sum(axis=1) - pred[:, 0]))
            entry[cset] = {"phi": phi[:, :F, 0].tolist(), "expected_value": phi[:, F, 0].tolist(),
                           "uncovered_leaves": unc, "leaves": int(np.sum((cl < 0) & (w > 0)))}
            print("%s covers %s: %d of %d leaves uncovered, additivity gap %.3g" %
                  (name, cset, unc, entry[cset]["leaves"], gap))
        out["models"][name] = entry
    json.dump(out, open(os.path.join(HERE, "shap_path_refs.json"), "w"), separators=(",", ":"))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Per-feature interventional TreeSHAP references from shap's own C implementation.

shap is not packaged in Debian; its C extension (shap/cext/_cext.cc + tree_shap.h of
github.com/shap/shap at commit df974a19) was compiled locally against Debian's python3-dev and
numpy, and this script imports it from $SHAP_CEXT_DIR. It calls _cext.dense_tree_shap the way
shap.TreeExplainer(model, data=background, feature_perturbation="interventional",
model_output="raw") does (FEATURE_DEPENDENCE independent, MODEL_TRANSFORM identity), on the
trees read back from the ONNX files of this folder (so the same float32 thresholds and leaf
weights ONNX Runtime uses; BRANCH_LT thresholds become x <= nextafter(t, -inf) in float32, as
shap does for xgboost), with the 50-window background of tests/data/explain/background.json and
the windows named in shap_refs.json. Writes shap_cext_refs.json and prints the largest
difference from the exact enumeration references of gen_trees.py.

    SHAP_CEXT_DIR=/path/to/dir/with/_cext.so /usr/bin/python3 tests/data/trees/gen_shap_cext.py
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.environ.get("SHAP_CEXT_DIR", "."))
import _cext  # noqa: E402

C, T = 8, 36
CT = C * T


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def read_model(name):
    m = onnx.load(os.path.join(HERE, name + ".onnx"))
    front = []
    ens = None
    for n in m.graph.node:
        if n.op_type.startswith("TreeEnsemble"):
            ens = n
        else:
            front.append(n)
    a = attrs(ens)
    cls = ens.op_type == "TreeEnsembleClassifier"
    pre = "class" if cls else "target"
    wids = list(a[pre + "_ids"])
    binary_one = cls and len(set(wids)) == 1
    target = 0 if (not cls or binary_one) else 1
    base = list(a.get("base_values", []))
    b = float(base[0]) if base and (not cls or binary_one or target == 0) else 0.0
    if cls and not binary_one:
        b = 0.0
    trees = {}
    for i, t in enumerate(a["nodes_treeids"]):
        trees.setdefault(t, []).append(i)
    leafw = {}
    for t, nid, k, w in zip(a[pre + "_treeids"], a[pre + "_nodeids"], wids, a[pre + "_weights"]):
        if k == target:
            leafw[(t, nid)] = leafw.get((t, nid), 0.0) + float(np.float32(w))
    return a, trees, leafw, b, front


def shap_arrays(a, trees, leafw):
    tids = sorted(trees)
    max_nodes = max(len(trees[t]) for t in tids)
    n = len(tids)
    cl = -np.ones((n, max_nodes), dtype=np.int32)
    cr = -np.ones((n, max_nodes), dtype=np.int32)
    cd = -np.ones((n, max_nodes), dtype=np.int32)
    feat = -np.ones((n, max_nodes), dtype=np.int32)
    thr = np.zeros((n, max_nodes))
    ttype = np.zeros((n, max_nodes), dtype=np.int32)
    val = np.zeros((n, max_nodes, 1))
    cover = np.ones((n, max_nodes))
    depth = 0
    for ti, t in enumerate(tids):
        idx = trees[t]
        pos = {a["nodes_nodeids"][i]: j for j, i in enumerate(idx)}
        d = {0: 0}
        for j, i in enumerate(idx):
            mode = a["nodes_modes"][i].decode() if isinstance(a["nodes_modes"][i], bytes) \
                else a["nodes_modes"][i]
            if mode == "LEAF":
                val[ti, j, 0] = leafw.get((t, a["nodes_nodeids"][i]), 0.0)
                continue
            th = np.float32(a["nodes_values"][i])
            if mode == "BRANCH_LT":
                th = np.nextafter(th, np.float32(-np.inf))
            elif mode != "BRANCH_LEQ":
                raise RuntimeError("mode %s not mapped" % mode)
            tr, fa = pos[a["nodes_truenodeids"][i]], pos[a["nodes_falsenodeids"][i]]
            cl[ti, j], cr[ti, j] = tr, fa
            miss = a.get("nodes_missing_value_tracks_true")
            cd[ti, j] = tr if (miss is not None and len(miss) and miss[i]) else fa
            feat[ti, j] = a["nodes_featureids"][i]
            thr[ti, j] = float(th)
        # depth by walking
        stack = [(0, 0)]
        while stack:
            j, dd = stack.pop()
            depth = max(depth, dd)
            if cl[ti, j] >= 0:
                stack += [(cl[ti, j], dd + 1), (cr[ti, j], dd + 1)]
    return cl, cr, cd, feat, thr, ttype, val, cover, depth, n


def rows_of(front, a_front_model, Z):
    """Apply the graph in front of the trees (Flatten, Scaler, ReduceMean) in float32."""
    Z = Z.astype(np.float32)
    for n in front:
        at = attrs(n)
        if n.op_type == "Flatten":
            Z = Z.reshape(len(Z), -1)
        elif n.op_type == "Scaler":
            Z = ((Z.reshape(len(Z), -1) - np.array(at["offset"], dtype=np.float32)) *
                 np.array(at["scale"], dtype=np.float32)).astype(np.float32)
        elif n.op_type == "ReduceMean":
            Z = Z.reshape(len(Z), C, T).astype(np.float64).mean(axis=2).astype(np.float32)
        elif n.op_type == "ZipMap":
            pass
        else:
            raise RuntimeError(n.op_type)
    return Z.reshape(len(Z), -1)


def ens_post(name):
    m = onnx.load(os.path.join(HERE, name + ".onnx"))
    for n in m.graph.node:
        if n.op_type.startswith("TreeEnsemble"):
            return attrs(n).get("post_transform", b"NONE").decode()
    return None


def main():
    refs = json.load(open(os.path.join(HERE, "shap_refs.json")))
    W = json.load(open(os.path.join(ROOT, "tests/data/data/windows.json")))["windows"]
    BG = np.array(json.load(open(os.path.join(ROOT, "tests/data/explain/background.json")))
                  ["values"], dtype=np.float32).reshape(50, CT)
    X = np.array([W[i]["values"] for i in refs["shap_windows"]], dtype=np.float32).reshape(-1, CT)
    out = {"tool": "shap C extension (shap/cext/_cext.cc, tree_shap.h at df974a19), "
                   "dense_tree_shap, FEATURE_DEPENDENCE independent, MODEL_TRANSFORM identity",
           "shap_windows": refs["shap_windows"], "models": {}}
    for name in ["gbc_flat", "rf_nct", "gbr_scaled", "xgb_flat", "gbc_deep", "gbc_chmean"]:
        a, trees, leafw, base, front = read_model(name)
        cl, cr, cd, feat, thr, ttype, val, cover, depth, n = shap_arrays(a, trees, leafw)
        Xr = rows_of(front, a, X).astype(np.float64)
        Rr = rows_of(front, a, BG).astype(np.float64)
        F = Xr.shape[1]
        phi = np.zeros((len(Xr), F + 1, 1))
        base_off = np.array([base])
        _cext.dense_tree_shap(cl, cr, cd, feat, thr, ttype, val, cover, depth, Xr,
                              np.zeros(Xr.shape, dtype=bool), None, Rr,
                              np.zeros(Rr.shape, dtype=bool), n, base_off, phi, 0, 0, False)
        vals = phi[:, :F, 0]
        ev = phi[:, F, 0]
        out["models"][name] = {"phi": vals.tolist(), "expected_value": ev.tolist(),
                               "n_features": F}
        if ens_post(name) == "LOGISTIC":
            # model_output="probability" for a LOGISTIC classifier: MODEL_TRANSFORM logistic
            php = np.zeros((len(Xr), F + 1, 1))
            _cext.dense_tree_shap(cl, cr, cd, feat, thr, ttype, val, cover, depth, Xr,
                                  np.zeros(Xr.shape, dtype=bool), None, Rr,
                                  np.zeros(Rr.shape, dtype=bool), n, np.array([base]), php, 0, 1,
                                  False)
            out["models"][name]["phi_probability"] = php[:, :F, 0].tolist()
            out["models"][name]["expected_probability"] = php[:, F, 0].tolist()
        ref = refs["models"][name]
        msg = ""
        if ref["cell_phi"]:
            d = np.max(np.abs(vals - np.array(ref["cell_phi"])))
            msg += " cells vs enumeration %.3g" % d
        # per channel sums are the channel players' values only when features are channels
        if F == C:
            d = np.max(np.abs(vals - np.array(ref["channel_phi"])))
            msg += " channel features vs enumeration %.3g" % d
        d = np.max(np.abs(ev - np.array(ref["channel_base"])))
        msg += " base vs enumeration %.3g" % d
        print(name, "max |shap - enumeration|:" + msg)
    json.dump(out, open(os.path.join(HERE, "shap_cext_refs.json"), "w"), separators=(",", ":"))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Tree-ensemble test models and TreeSHAP references for tests/test_trees.c.

Run with Debian's python3 (python3-sklearn 1.2.1, python3-xgboost 1.7.4, python3-onnx 1.12.0,
numpy 1.24.2) from the repository root:

    /usr/bin/python3 tests/data/trees/gen_trees.py          # models + inputs + SHAP references
    node tests/data/trees/ort_trees.js <node_modules dir>    # ONNX Runtime outputs (ort_*.json)

1. Trains sklearn GradientBoostingClassifier, RandomForestClassifier, GradientBoostingRegressor
   and xgboost XGBClassifier on the Aurora windows (tests/data/data/windows.json, flattened to
   8 x 36 = 288 features, channel-major) and converts them to ONNX with a small converter that
   follows skl2onnx/onnxmltools conventions (TreeEnsembleClassifier [+ ZipMap] with outputs
   output_label / output_probability, TreeEnsembleRegressor with output variable; BRANCH_LEQ
   for sklearn, BRANCH_LT + missing-tracks-true for xgboost; GBC: one weight column, base value
   = the prior log-odds, LOGISTIC; RF: class proportions / n_trees, NONE). A GBC on per-channel
   means has ReduceMean in the graph in front of the trees.
2. Writes synthetic ensembles that use every node mode, NaN routing, AVERAGE/MIN/MAX,
   SOFTMAX/SOFTMAX_ZERO/PROBIT, 3 classes, double *_as_tensor attributes, for the op tests.
3. Computes interventional Shapley values of the raw margin with the 50-window background of
   tests/data/explain/background.json, independently of whyflag:
   - channel groups (8 players): exact enumeration of all 256 coalitions,
     v(S) = mean_b margin(x_S, b_rest);
   - single cells (288 players): per tree and background row, exact enumeration over the
     features whose split decisions differ between x and b on the nodes reachable by some
     composite (every other feature is a null player of that tree/row game), summed over trees
     and averaged over rows (Shapley values are linear in the game).
   Margins are evaluated by the tree walker below in float32 as ONNX Runtime compares (it is
   checked against sklearn's decision_function / xgboost's output_margin).
"""
import itertools
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
C, T = 8, 36
CT = C * T


def load_windows():
    d = json.load(open(os.path.join(ROOT, "tests/data/data/windows.json")))
    X = np.array([w["values"] for w in d["windows"]], dtype=np.float32)  # (n, C, T)
    y = np.array([w["label"] for w in d["windows"]], dtype=np.int64)
    return X, y


def load_background():
    d = json.load(open(os.path.join(ROOT, "tests/data/explain/background.json")))
    return np.array(d["values"], dtype=np.float32)  # (50, C, T)


# ---- a neutral ensemble description: list of trees, each a dict of node arrays ----
# node: feature, threshold (float32), mode, true child, false child, missing_true, leaf values
# (dict target -> weight)


def sk_trees(est_list, scale, value_fn):
    trees = []
    for est in est_list:
        t = est.tree_
        n = t.node_count
        nodes = []
        for i in range(n):
            if t.children_left[i] == -1:
                nodes.append(dict(mode="LEAF", feature=0, thr=0.0, t=0, f=0, miss=0,
                                  w=value_fn(t.value[i], scale)))
            else:
                nodes.append(dict(mode="BRANCH_LEQ", feature=int(t.feature[i]),
                                  thr=float(np.float32(t.threshold[i])),
                                  t=int(t.children_left[i]), f=int(t.children_right[i]),
                                  miss=0, w={}))
        trees.append(nodes)
    return trees


def xgb_trees(booster):
    trees = []
    for js in booster.get_dump(dump_format="json"):
        root = json.loads(js)
        flat = {}

        def visit(nd):
            flat[nd["nodeid"]] = nd
            for ch in nd.get("children", []):
                visit(ch)
        visit(root)
        ids = sorted(flat)
        pos = {k: i for i, k in enumerate(ids)}
        nodes = []
        for k in ids:
            nd = flat[k]
            if "leaf" in nd:
                nodes.append(dict(mode="LEAF", feature=0, thr=0.0, t=0, f=0, miss=0,
                                  w={0: float(np.float32(nd["leaf"]))}))
            else:
                f = int(nd["split"][1:]) if nd["split"].startswith("f") else int(nd["split"])
                nodes.append(dict(mode="BRANCH_LT", feature=f,
                                  thr=float(np.float32(nd["split_condition"])),
                                  t=pos[nd["yes"]], f=pos[nd["no"]],
                                  miss=1 if nd["missing"] == nd["yes"] else 0, w={}))
        trees.append(nodes)
    return trees


def goes_true(mode, x, thr, miss):
    """x: float32 array; thr: float32 scalar. ONNX-ML comparisons in float32."""
    thr = np.float32(thr)
    with np.errstate(invalid="ignore"):
        r = {"BRANCH_LEQ": x <= thr, "BRANCH_LT": x < thr, "BRANCH_GTE": x >= thr,
             "BRANCH_GT": x > thr, "BRANCH_EQ": x == thr, "BRANCH_NEQ": x != thr}[mode]
    if miss:
        r = r | np.isnan(x)
    return r


def tree_leaf(nodes, X):
    """Leaf index per row of X (n, F) float32."""
    idx = np.zeros(len(X), dtype=np.int64)
    while True:
        active = np.array([nodes[i]["mode"] != "LEAF" for i in idx])
        if not active.any():
            return idx
        for i in np.unique(idx[active]):
            nd = nodes[i]
            sel = (idx == i)
            g = goes_true(nd["mode"], X[sel, nd["feature"]], nd["thr"], nd["miss"])
            idx[sel] = np.where(g, nd["t"], nd["f"])


def margin(trees, base, target, X, scale=1.0):
    """base + scale * sum over trees of leaf weight for target (float64)."""
    m = np.full(len(X), base, dtype=np.float64)
    for nodes in trees:
        leaf = tree_leaf(nodes, X)
        m += scale * np.array([nodes[i]["w"].get(target, 0.0) for i in leaf], dtype=np.float64)
    return m


# ---- ONNX writer (skl2onnx / onnxmltools conventions) ----


def ensemble_attrs(trees, prefix):
    a = dict(nodes_treeids=[], nodes_nodeids=[], nodes_featureids=[], nodes_modes=[],
             nodes_values=[], nodes_truenodeids=[], nodes_falsenodeids=[],
             nodes_missing_value_tracks_true=[], nodes_hitrates=[])
    wt, wn, wi, ww = [], [], [], []
    for ti, nodes in enumerate(trees):
        for ni, nd in enumerate(nodes):
            a["nodes_treeids"].append(ti)
            a["nodes_nodeids"].append(ni)
            a["nodes_featureids"].append(nd["feature"])
            a["nodes_modes"].append(nd["mode"])
            a["nodes_values"].append(nd["thr"])
            a["nodes_truenodeids"].append(nd["t"] if nd["mode"] != "LEAF" else 0)
            a["nodes_falsenodeids"].append(nd["f"] if nd["mode"] != "LEAF" else 0)
            a["nodes_missing_value_tracks_true"].append(nd["miss"])
            a["nodes_hitrates"].append(1.0)
            for k, v in sorted(nd["w"].items()):
                wt.append(ti)
                wn.append(ni)
                wi.append(k)
                ww.append(v)
    a[prefix + "_treeids"] = wt
    a[prefix + "_nodeids"] = wn
    a[prefix + "_ids"] = wi
    a[prefix + "_weights"] = ww
    return a


def save(model, name):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name))


def make_model(nodes, inputs, outputs, inits=(), name="trees"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15),
                                            helper.make_opsetid("ai.onnx.ml", 3)],
                          producer_name="whyflag-tests-gen_trees")
    m.ir_version = 8
    helper.set_model_props(m, {"channels": ",".join(CHANNELS)})
    return m


def classifier_model(trees, base, post, in_shape, zipmap, front=(), x_name="input",
                     n_classes=2, extra_inits=(), tree_in=None):
    a = ensemble_attrs(trees, "class")
    kw = dict(a)
    if base is not None:
        kw["base_values"] = base
    node = helper.make_node("TreeEnsembleClassifier", [tree_in or x_name],
                            ["output_label", "probabilities" if zipmap else "output_probability"],
                            domain="ai.onnx.ml", name="TreeEnsembleClassifier",
                            classlabels_int64s=list(range(n_classes)), post_transform=post, **kw)
    nodes = list(front) + [node]
    outs = [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None])]
    if zipmap:
        nodes.append(helper.make_node("ZipMap", ["probabilities"], ["output_probability"],
                                      domain="ai.onnx.ml", name="ZipMap",
                                      classlabels_int64s=list(range(n_classes))))
        mp = onnx.TypeProto()
        mp.map_type.key_type = TensorProto.INT64
        mp.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
        sq = onnx.TypeProto()
        sq.sequence_type.elem_type.CopyFrom(mp)
        outs.append(helper.make_value_info("output_probability", sq))
    else:
        outs.append(helper.make_tensor_value_info("output_probability", TensorProto.FLOAT,
                                                  [None, n_classes]))
    inp = helper.make_tensor_value_info(x_name, TensorProto.FLOAT, in_shape)
    return make_model(nodes, [inp], outs, extra_inits)


def regressor_model(trees, base, in_shape, front=(), tree_in=None, agg="SUM", post="NONE",
                    n_targets=1):
    a = ensemble_attrs(trees, "target")
    kw = dict(a)
    if base is not None:
        kw["base_values"] = base
    node = helper.make_node("TreeEnsembleRegressor", [tree_in or "input"], ["variable"],
                            domain="ai.onnx.ml", name="TreeEnsembleRegressor",
                            n_targets=n_targets, aggregate_function=agg, post_transform=post,
                            **kw)
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)
    out = helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, n_targets])
    return make_model(list(front) + [node], [inp], [out])


# ---- exact Shapley references ----

SHAPLEY_W = {}


def shap_weight(s, n):
    key = (s, n)
    if key not in SHAPLEY_W:
        SHAPLEY_W[key] = math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n)
    return SHAPLEY_W[key]


def shapley_groups(trees, base, target, x_row, bg_rows, groups, scale=1.0, row_fn=None):
    """Exact enumeration over all coalitions of the groups (lists of row feature indices)."""
    M = len(groups)
    nb = len(bg_rows)
    v = {}
    for mask in range(1 << M):
        comp = bg_rows.copy()
        for p in range(M):
            if mask >> p & 1:
                comp[:, groups[p]] = x_row[groups[p]]
        rows = row_fn(comp) if row_fn else comp
        v[mask] = margin(trees, base, target, rows, scale).mean()
    phi = np.zeros(M)
    for p in range(M):
        for mask in range(1 << M):
            if mask >> p & 1:
                continue
            s = bin(mask).count("1")
            phi[p] += shap_weight(s, M) * (v[mask | (1 << p)] - v[mask])
    fx = margin(trees, base, target, (row_fn(x_row[None]) if row_fn else x_row[None]), scale)[0]
    return phi, fx, v[0]


def shapley_cells(trees, base, target, x, bg_rows, scale=1.0):
    """Per-feature interventional Shapley values by enumeration per (tree, background row)."""
    F = len(x)
    phi = np.zeros(F)
    for b in bg_rows:
        for nodes in trees:
            # nodes reachable by some composite; features deciding differently there
            rel, stack = set(), [0]
            while stack:
                i = stack.pop()
                nd = nodes[i]
                if nd["mode"] == "LEAF":
                    continue
                f = nd["feature"]
                gx = bool(goes_true(nd["mode"], np.array([x[f]]), nd["thr"], nd["miss"])[0])
                gb = bool(goes_true(nd["mode"], np.array([b[f]]), nd["thr"], nd["miss"])[0])
                if gx == gb:
                    stack.append(nd["t"] if gx else nd["f"])
                else:
                    rel.add(f)
                    stack.extend([nd["t"], nd["f"]])
            rel = sorted(rel)
            r = len(rel)
            if r == 0:
                continue
            if r > 16:
                raise RuntimeError("too many relevant features (%d) for enumeration" % r)
            vals = {}
            for mask in range(1 << r):
                comp = b.copy()
                for j in range(r):
                    if mask >> j & 1:
                        comp[rel[j]] = x[rel[j]]
                leaf = tree_leaf(nodes, comp[None])[0]
                vals[mask] = scale * nodes[leaf]["w"].get(target, 0.0)
            for j in range(r):
                acc = 0.0
                for mask in range(1 << r):
                    if mask >> j & 1:
                        continue
                    acc += shap_weight(bin(mask).count("1"), r) * (vals[mask | 1 << j] - vals[mask])
                phi[rel[j]] += acc
    return phi / len(bg_rows)


CHANNELS = []


def main():
    global CHANNELS
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                                  RandomForestClassifier)
    import xgboost
    import sklearn

    d = json.load(open(os.path.join(ROOT, "tests/data/data/windows.json")))
    CHANNELS = d["channels"]
    Xw, y = load_windows()
    X = Xw.reshape(len(Xw), CT)
    BGw = load_background()
    BG = BGw.reshape(len(BGw), CT)
    eval_idx = list(range(0, len(X), 17))  # 101 windows
    Xe = X[eval_idx]
    shap_idx = [int(i) for i in np.where(y == 1)[0][:2]] + [0, 850]
    refs = {"tools": "sklearn %s, xgboost %s, onnx %s, numpy %s" % (
        sklearn.__version__, xgboost.__version__, onnx.__version__, np.__version__),
        "eval_windows": eval_idx, "shap_windows": shap_idx, "models": {}}
    inputs = {}

    def channel_groups():
        return [list(range(c * T, (c + 1) * T)) for c in range(C)]

    def add_refs(name, trees, base, target, scale=1.0, cells=True, row_fn=None, check=None):
        entry = {"channel_phi": [], "channel_fx": [], "channel_base": [], "cell_phi": []}
        rows_bg = row_fn(BG) if row_fn else BG
        for wi in shap_idx:
            xr = X[wi]
            phi, fx, b0 = shapley_groups(trees, base, target, xr, BG, channel_groups(), scale,
                                         row_fn)
            entry["channel_phi"].append(phi.tolist())
            entry["channel_fx"].append(float(fx))
            entry["channel_base"].append(float(b0))
            if cells:
                xt = row_fn(xr[None])[0] if row_fn else xr
                pc = shapley_cells(trees, base, target, xt, rows_bg, scale)
                entry["cell_phi"].append(pc.tolist())
                assert abs(pc.sum() - (fx - b0)) < 1e-9, (name, pc.sum(), fx - b0)
        if check is not None:
            m_ours = margin(trees, base, target, row_fn(Xe) if row_fn else Xe, scale)
            entry["walker_vs_library_max_abs"] = float(np.max(np.abs(m_ours - check(Xe))))
            print(name, "walker vs library margin max |diff|",
                  entry["walker_vs_library_max_abs"])
        refs["models"][name] = entry

    # GradientBoostingClassifier: 30 trees depth 3
    gbc = GradientBoostingClassifier(n_estimators=30, max_depth=3, learning_rate=0.1,
                                     random_state=0).fit(X, y)
    gbc_trees = sk_trees(gbc.estimators_[:, 0], gbc.learning_rate,
                         lambda v, s: {0: float(np.float32(s * v[0][0]))})
    prior = gbc.init_.class_prior_
    gbc_base = float(np.float32(math.log(prior[1] / prior[0])))
    save(classifier_model(gbc_trees, [gbc_base], "LOGISTIC", [None, CT], True), "gbc_flat.onnx")
    save(classifier_model(gbc_trees, [gbc_base], "LOGISTIC", [None, CT], False),
         "gbc_flat_nozipmap.onnx")
    add_refs("gbc_flat", gbc_trees, gbc_base, 0, check=gbc.decision_function)

    # a deeper GBC: 60 trees depth 5 (cell references from shap's C extension only:
    # gen_shap_cext.py; the per-tree enumeration would need too many coalitions)
    gbd = GradientBoostingClassifier(n_estimators=60, max_depth=5, learning_rate=0.1,
                                     random_state=1, subsample=0.8).fit(X, y)
    gbd_trees = sk_trees(gbd.estimators_[:, 0], gbd.learning_rate,
                         lambda v, s: {0: float(np.float32(s * v[0][0]))})
    pd_ = gbd.init_.class_prior_
    gbd_base = float(np.float32(math.log(pd_[1] / pd_[0])))
    save(classifier_model(gbd_trees, [gbd_base], "LOGISTIC", [None, CT], False),
         "gbc_deep.onnx")
    add_refs("gbc_deep", gbd_trees, gbd_base, 0, cells=False, check=gbd.decision_function)

    # RandomForestClassifier: 20 trees depth 4, input [N, C, T] -> Flatten
    rf = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    n_est = len(rf.estimators_)

    def rf_value(v, s):
        p = v[0] / v[0].sum()
        return {0: float(np.float32(p[0] / s)), 1: float(np.float32(p[1] / s))}
    rf_trees = sk_trees(rf.estimators_, n_est, rf_value)
    flat = helper.make_node("Flatten", ["input"], ["flat"], name="Flatten", axis=1)
    save(classifier_model(rf_trees, None, "NONE", [None, C, T], True, front=[flat],
                          tree_in="flat"), "rf_nct.onnx")
    save(classifier_model(rf_trees, None, "NONE", [None, C, T], False, front=[flat],
                          tree_in="flat"), "rf_nct_nozipmap.onnx")
    add_refs("rf_nct", rf_trees, 0.0, 1, check=lambda Z: rf.predict_proba(Z)[:, 1])
    # the same forest on [N, T, C] windows: Transpose back to [N, C, T], then Flatten (its
    # TreeSHAP values are rf_nct's)
    tr = helper.make_node("Transpose", ["input"], ["nct"], name="Transpose", perm=[0, 2, 1])
    flat2 = helper.make_node("Flatten", ["nct"], ["flat"], name="Flatten", axis=1)
    save(classifier_model(rf_trees, None, "NONE", [None, T, C], False, front=[tr, flat2],
                          tree_in="flat"), "rf_ntc.onnx")

    # GradientBoostingRegressor with a Scaler in front: 30 trees depth 3 on standardized cells
    mu = X.mean(axis=0).astype(np.float32)
    sd = (X.std(axis=0) + 1e-3).astype(np.float32)
    sc = (1.0 / sd).astype(np.float32)

    def scale_rows(Z):
        return ((Z.astype(np.float32) - mu) * sc).astype(np.float32)
    gbr = GradientBoostingRegressor(n_estimators=30, max_depth=3, learning_rate=0.1,
                                    random_state=0).fit(scale_rows(X), y.astype(np.float64))
    gbr_trees = sk_trees(gbr.estimators_[:, 0], gbr.learning_rate,
                         lambda v, s: {0: float(np.float32(s * v[0][0]))})
    gbr_base = float(np.float32(gbr.init_.constant_[0][0]))
    scaler = helper.make_node("Scaler", ["input"], ["scaled"], domain="ai.onnx.ml",
                              name="Scaler", offset=mu.tolist(), scale=sc.tolist())
    save(regressor_model(gbr_trees, [gbr_base], [None, CT], front=[scaler], tree_in="scaled"),
         "gbr_scaled.onnx")
    add_refs("gbr_scaled", gbr_trees, gbr_base, 0, row_fn=scale_rows,
             check=lambda Z: gbr.predict(scale_rows(Z)))

    # XGBClassifier: 40 trees depth 3 (BRANCH_LT, missing tracks true)
    xgbc = xgboost.XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.2,
                                 random_state=0, tree_method="exact").fit(X, y)
    booster = xgbc.get_booster()
    xgb_t = xgb_trees(booster)
    cfg = json.loads(booster.save_config())
    bs = float(cfg["learner"]["learner_model_param"]["base_score"])
    xgb_base = float(np.float32(math.log(bs / (1 - bs))))
    save(classifier_model(xgb_t, [xgb_base], "LOGISTIC", [None, CT], False), "xgb_flat.onnx")
    add_refs("xgb_flat", xgb_t, xgb_base, 0,
             check=lambda Z: xgbc.predict(Z, output_margin=True))

    # GBC on per-channel means: [N, C, T] -> ReduceMean(axis 2) -> 8 features
    means = Xw.mean(axis=2)
    gbm = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(means, y)
    gbm_trees = sk_trees(gbm.estimators_[:, 0], gbm.learning_rate,
                         lambda v, s: {0: float(np.float32(s * v[0][0]))})
    pm = gbm.init_.class_prior_
    gbm_base = float(np.float32(math.log(pm[1] / pm[0])))
    red = helper.make_node("ReduceMean", ["input"], ["chmean"], name="ReduceMean", axes=[2],
                           keepdims=0)
    save(classifier_model(gbm_trees, [gbm_base], "LOGISTIC", [None, C, T], True, front=[red],
                          tree_in="chmean"), "gbc_chmean.onnx")
    save(classifier_model(gbm_trees, [gbm_base], "LOGISTIC", [None, C, T], False, front=[red],
                          tree_in="chmean"), "gbc_chmean_nozipmap.onnx")

    def mean_rows(Z):
        # ONNX Runtime's ReduceMean in float32 may round differently from numpy: the reference
        # uses float64 means rounded to float32 (the C test allows for that, see the note)
        return Z.reshape(len(Z), C, T).astype(np.float64).mean(axis=2).astype(np.float32)
    add_refs("gbc_chmean", gbm_trees, gbm_base, 0, cells=False, row_fn=mean_rows)

    # GBC behind ArrayFeatureExtractor: the last 12 steps of channels 2 and 5 (24 cells)
    sel = np.array([c * T + t for c in (2, 5) for t in range(T - 12, T)], dtype=np.int64)
    gba = GradientBoostingClassifier(n_estimators=25, max_depth=3, random_state=2).fit(X[:, sel], y)
    gba_trees = sk_trees(gba.estimators_[:, 0], gba.learning_rate,
                         lambda v, s: {0: float(np.float32(s * v[0][0]))})
    pa = gba.init_.class_prior_
    gba_base = float(np.float32(math.log(pa[1] / pa[0])))
    afe = helper.make_node("ArrayFeatureExtractor", ["input", "sel"], ["picked"],
                           domain="ai.onnx.ml", name="ArrayFeatureExtractor")
    sel_init = helper.make_tensor("sel", TensorProto.INT64, [len(sel)], sel.tolist())
    save(classifier_model(gba_trees, [gba_base], "LOGISTIC", [None, CT], False, front=[afe],
                          tree_in="picked", extra_inits=[sel_init]), "gbc_afe.onnx")

    def pick_rows(Z):
        return Z.reshape(len(Z), CT)[:, sel].astype(np.float32)
    add_refs("gbc_afe", gba_trees, gba_base, 0, cells=False, row_fn=pick_rows,
             check=lambda Z: gba.decision_function(Z[:, sel]))
    ent = refs["models"]["gbc_afe"]
    for wi in shap_idx:  # per cell: the picked features' values, 0 for the other cells
        pc = shapley_cells(gba_trees, gba_base, 0, pick_rows(X[wi][None])[0], pick_rows(BG))
        full = np.zeros(CT)
        full[sel] = pc
        ent["cell_phi"].append(full.tolist())

    synthetic(inputs)
    helpers(inputs)
    hostile()
    json.dump(inputs, open(os.path.join(HERE, "inputs.json"), "w"), separators=(",", ":"))
    json.dump(refs, open(os.path.join(HERE, "shap_refs.json"), "w"), separators=(",", ":"))


def synthetic(inputs):
    """Random small ensembles over 6 features exercising every mode, NaN routing, AVERAGE/MIN/
    MAX, the post transforms, 3 classes and double tensor attributes."""
    rng = np.random.default_rng(5)
    F = 6
    modes = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]
    grid = np.round(rng.normal(size=(40, F)) * 2) / 2  # values on a 0.5 grid hit thresholds
    grid = grid.astype(np.float32)
    grid[3, 1] = np.nan
    grid[7, 0] = np.nan
    grid[11, 4] = np.nan
    inputs["synthetic"] = [[None if np.isnan(v) else float(v) for v in r] for r in grid]

    def rand_tree(depth, n_targets, neg=True):
        nodes = []

        def build(dd):
            i = len(nodes)
            nodes.append(None)
            if dd == 0:
                w = {}
                for k in range(n_targets):
                    if rng.random() < 0.8:
                        val = float(np.float32(rng.normal() if neg else rng.random()))
                        w[k] = val
                nodes[i] = dict(mode="LEAF", feature=0, thr=0.0, t=0, f=0, miss=0, w=w)
                return i
            nd = dict(mode=modes[rng.integers(len(modes))], feature=int(rng.integers(F)),
                      thr=float(np.round(rng.normal() * 2) / 2), miss=int(rng.integers(2)), w={})
            nodes[i] = nd
            nd["t"] = build(dd - 1)
            nd["f"] = build(dd - 1)
            return i
        build(depth)
        return nodes

    specs = []
    for post in ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"]:
        specs.append(("syn_cls3_%s" % post.lower(), "cls", 3, post, None, [0.1, -0.2, 0.3]))
    specs.append(("syn_cls3_strings", "clsstr", 3, "SOFTMAX", None, [0.1, -0.2, 0.3]))
    specs.append(("syn_cls2_one_logistic", "cls1", 2, "LOGISTIC", None, [0.25]))
    specs.append(("syn_cls2_one_none_pos", "cls1pos", 2, "NONE", None, None))
    specs.append(("syn_cls2_one_probit", "cls1pos", 2, "PROBIT", None, [0.1]))
    specs.append(("syn_cls2_two_none", "cls", 2, "NONE", None, None))
    specs.append(("syn_cls2_two_softmax_base1", "cls", 2, "SOFTMAX", None, [0.5]))
    for agg in ["SUM", "AVERAGE", "MIN", "MAX"]:
        specs.append(("syn_reg1_%s" % agg.lower(), "reg", 1, "NONE", agg, [0.5]))
        specs.append(("syn_reg2_%s" % agg.lower(), "reg", 2, "NONE", agg, [0.5, -1.0]))
    specs.append(("syn_reg1_probit", "reg", 1, "PROBIT", "SUM", None))
    specs.append(("syn_reg2_logistic", "reg", 2, "LOGISTIC", "SUM", None))
    specs.append(("syn_reg1_tensor", "regtensor", 1, "NONE", "SUM", [0.5]))
    names = []
    for name, kind, k, post, agg, base in specs:
        if kind.startswith("cls1"):
            trees = [rand_tree(3, 1, neg=(kind == "cls1")) for _ in range(5)]
            if kind == "cls1pos":  # small positive weights: a probability-like sum
                for nodes in trees:
                    for nd in nodes:
                        nd["w"] = {kk: float(np.float32(v / 10)) for kk, v in nd["w"].items()}
            m = classifier_model(trees, base, post, [None, F], False, n_classes=2)
        elif kind == "cls":
            trees = [rand_tree(3, k) for _ in range(5)]
            m = classifier_model(trees, base, post, [None, F], False, n_classes=k)
        elif kind == "clsstr":  # string labels: a string label output
            trees = [rand_tree(3, k) for _ in range(5)]
            m = classifier_model(trees, base, post, [None, F], False, n_classes=k)
            node = m.graph.node[-1]
            for a in list(node.attribute):
                if a.name == "classlabels_int64s":
                    node.attribute.remove(a)
            node.attribute.append(helper.make_attribute("classlabels_strings",
                                                        ["low", "mid", "high"]))
            m.graph.output[0].type.tensor_type.elem_type = TensorProto.STRING
            inputs["string_labels"] = ["low", "mid", "high"]
        else:
            trees = [rand_tree(3, k) for _ in range(5)]
            m = regressor_model(trees, base, [None, F], agg=agg, post=post, n_targets=k)
            if kind == "regtensor":  # thresholds/weights/base as tensors (ML opset 3); ORT
                # takes float tensors for float input (double ones only for double input)
                node = m.graph.node[-1]
                keep = []
                for a in node.attribute:
                    if a.name in ("nodes_values", "target_weights", "base_values"):
                        vals = np.array(list(a.floats), dtype=np.float32)
                        keep.append(helper.make_attribute(
                            a.name + "_as_tensor",
                            helper.make_tensor(a.name + "_as_tensor", TensorProto.FLOAT,
                                               [len(vals)], vals.tolist())))
                    else:
                        keep.append(a)
                del node.attribute[:]
                node.attribute.extend(keep)
        save(m, name + ".onnx")
        names.append(name)
    inputs["synthetic_models"] = names


def helpers(inputs):
    """The ai.onnx.ml helpers on the synthetic 6-feature rows (with NaNs)."""
    F = 6
    rng = np.random.default_rng(9)
    names = []

    def one(name, nodes, out_dims, inits=(), outs=None):
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, F])
        if outs is None:
            outs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, out_dims)]
        save(make_model(nodes, [inp], outs, inits), name + ".onnx")
        names.append(name)

    ml = dict(domain="ai.onnx.ml")
    one("help_imputer_nan", [helper.make_node("Imputer", ["input"], ["variable"], **ml,
                                              imputed_value_floats=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                                              replaced_value_float=float("nan"))], [None, F])
    one("help_imputer_val", [helper.make_node("Imputer", ["input"], ["variable"], **ml,
                                              imputed_value_floats=[9.0],
                                              replaced_value_float=0.5)], [None, F])
    one("help_binarizer", [helper.make_node("Binarizer", ["input"], ["variable"], **ml,
                                            threshold=0.25)], [None, F])
    for norm in ["MAX", "L1", "L2"]:
        one("help_normalizer_" + norm.lower(),
            [helper.make_node("Normalizer", ["input"], ["variable"], **ml, norm=norm)], [None, F])
    a = helper.make_tensor("ia", TensorProto.INT64, [4], [4, 0, 2, 2])
    b = helper.make_tensor("ib", TensorProto.INT64, [2], [1, 3])
    one("help_afe_fv", [
        helper.make_node("ArrayFeatureExtractor", ["input", "ia"], ["A"], **ml),
        helper.make_node("ArrayFeatureExtractor", ["input", "ib"], ["B"], **ml),
        helper.make_node("FeatureVectorizer", ["A", "B"], ["variable"], **ml,
                         inputdimensions=[3, 4])], [None, 7], inits=[a, b])

    def coef(k):
        return [float(np.float32(v)) for v in rng.normal(size=k * F)]

    def icpt(k):
        return [float(np.float32(v)) for v in rng.normal(size=k)]
    for k, post in [(1, "NONE"), (1, "PROBIT"), (3, "SOFTMAX"), (3, "LOGISTIC"),
                    (3, "SOFTMAX_ZERO"), (2, "NONE")]:
        one("help_linreg_%d_%s" % (k, post.lower()),
            [helper.make_node("LinearRegressor", ["input"], ["variable"], **ml,
                              coefficients=coef(k), intercepts=icpt(k), targets=k,
                              post_transform=post)], [None, k])
    for k, labels, post in [(1, [0, 1], "LOGISTIC"), (1, [0, 1], "NONE"), (2, [3, 7], "LOGISTIC"),
                            (3, [0, 1, 2], "SOFTMAX"), (3, [5, 6, 7], "NONE"),
                            (3, [0, 1, 2], "SOFTMAX_ZERO")]:
        cols = 2 if (k == 1 and len(labels) == 2) else k
        outs = [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
                helper.make_tensor_value_info("output_probability", TensorProto.FLOAT,
                                              [None, cols])]
        one("help_lincls_%d_%s" % (k, post.lower()),
            [helper.make_node("LinearClassifier", ["input"], ["output_label",
                                                              "output_probability"], **ml,
                              coefficients=coef(k), intercepts=icpt(k), classlabels_ints=labels,
                              post_transform=post)], None, outs=outs)
    inputs["synthetic_models"] += names


def hostile():
    """Broken tree ensembles the loader must reject with a message (saved unchecked)."""
    def tree():
        return [dict(mode="BRANCH_LEQ", feature=1, thr=0.5, t=1, f=2, miss=0, w={}),
                dict(mode="LEAF", feature=0, thr=0.0, t=0, f=0, miss=0, w={0: 0.25}),
                dict(mode="LEAF", feature=0, thr=0.0, t=0, f=0, miss=0, w={0: -0.5})]

    def write(name, m):
        onnx.save(m, os.path.join(HERE, name + ".onnx"))

    def edit(name, fn):
        m = classifier_model([tree(), tree()], [0.0], "LOGISTIC", [None, 4], False)
        fn(m.graph.node[-1])
        write(name, m)

    def set_attr(node, name, value):
        for i, a in enumerate(node.attribute):
            if a.name == name:
                node.attribute.remove(a)
                break
        node.attribute.append(helper.make_attribute(name, value))
    edit("bad_cycle", lambda n: set_attr(n, "nodes_truenodeids", [0, 0, 0, 1, 0, 0]))
    edit("bad_child", lambda n: set_attr(n, "nodes_falsenodeids", [7, 0, 0, 2, 0, 0]))
    edit("bad_classid", lambda n: set_attr(n, "class_ids", [0, 5, 0, 0]))
    edit("bad_mode", lambda n: set_attr(n, "nodes_modes",
                                        ["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_XX", "LEAF",
                                         "LEAF"]))
    edit("bad_weight_node", lambda n: set_attr(n, "class_nodeids", [1, 2, 0, 2]))
    edit("bad_lengths", lambda n: set_attr(n, "nodes_values", [0.5]))
    edit("bad_nolabels", lambda n: set_attr(n, "classlabels_int64s", []))


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""A 3-class tree model and TreeSHAP references for one chosen class (issue 11, multiclass).

gbc3_flat.onnx: sklearn GradientBoostingClassifier (15 rounds x 3 classes, depth 3,
random_state 0) on the flattened Aurora windows (tests/data/data/windows.json) with a synthetic
3-class target (tertiles of the bearing temperature's window mean), converted by gen_trees.py's
converter (TreeEnsembleClassifier, BRANCH_LEQ, class_ids 0..2, base_values = sklearn's initial
raw predictions, post_transform SOFTMAX, no ZipMap).

shap_multiclass_refs.json: for class 2, on the windows of shap_refs.json,
 - sklearn's decision_function (the raw margin of class 2) and predict_proba;
 - interventional TreeSHAP of class 2's margin from shap's own C extension (as
   gen_shap_cext.py; dense_tree_shap, FEATURE_DEPENDENCE independent, MODEL_TRANSFORM identity,
   the 50-window background), per tree feature, and the expected value.

    SHAP_CEXT_DIR=/dir/with/_cext.so /usr/bin/python3 tests/data/trees/gen_trees_multiclass.py
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_trees as g  # noqa: E402

CLASS = 2


def main():
    import onnx
    import sklearn
    from sklearn.ensemble import GradientBoostingClassifier
    sys.path.insert(0, os.environ.get("SHAP_CEXT_DIR", "."))
    import _cext

    d = json.load(open(os.path.join(g.ROOT, "tests/data/data/windows.json")))
    g.CHANNELS = d["channels"]
    Xw, _ = g.load_windows()
    X = Xw.reshape(len(Xw), g.CT)
    m5 = Xw[:, 5].mean(axis=1)
    y = np.digitize(m5, np.quantile(m5, [1 / 3, 2 / 3]))
    clf = GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0).fit(X, y)
    lr = clf.learning_rate
    trees = []
    for i in range(clf.estimators_.shape[0]):
        for k in range(3):
            trees += g.sk_trees([clf.estimators_[i, k]], lr,
                                lambda v, s, k=k: {k: float(np.float32(v[0][0] * s))})
    init = clf._raw_predict_init(X[:1])[0]
    base = [float(np.float32(b)) for b in init]
    m = g.classifier_model(trees, base, "SOFTMAX", [None, g.CT], False, n_classes=3)
    g.save(m, "gbc3_flat.onnx")

    refs = json.load(open(os.path.join(HERE, "shap_refs.json")))
    BG = g.load_background().reshape(50, g.CT)
    Xs = X[refs["shap_windows"]]
    # the margin of class CLASS by the converter's own walker, against sklearn
    own = g.margin(trees, base[CLASS], CLASS, Xs)
    dfun = clf.decision_function(Xs)[:, CLASS]
    print("class %d margin: max |converted - sklearn decision_function| %.3g" %
          (CLASS, np.max(np.abs(own - dfun))))

    # shap's arrays for class CLASS's margin (one output), trees of the other classes are 0
    n = len(trees)
    mx = max(len(t) for t in trees)
    cl = -np.ones((n, mx), dtype=np.int32)
    cr = -np.ones((n, mx), dtype=np.int32)
    feat = -np.ones((n, mx), dtype=np.int32)
    thr = np.zeros((n, mx))
    val = np.zeros((n, mx, 1))
    depth = 0
    for ti, nodes in enumerate(trees):
        for j, nd in enumerate(nodes):
            if nd["mode"] == "LEAF":
                val[ti, j, 0] = nd["w"].get(CLASS, 0.0)
            else:
                cl[ti, j], cr[ti, j] = nd["t"], nd["f"]
                feat[ti, j] = nd["feature"]
                thr[ti, j] = nd["thr"]
        depth = max(depth, 3)
    cd = cr.copy()
    ttype = np.zeros((n, mx), dtype=np.int32)
    cover = np.ones((n, mx))
    Xr = Xs.astype(np.float64)
    Rr = BG.astype(np.float64)
    phi = np.zeros((len(Xr), g.CT + 1, 1))
    _cext.dense_tree_shap(cl, cr, cd, feat, thr, ttype, val, cover, depth, Xr,
                          np.zeros(Xr.shape, dtype=bool), None, Rr, np.zeros(Rr.shape, dtype=bool),
                          n, np.array([base[CLASS]]), phi, 0, 0, False)
    gap = np.max(np.abs(phi[:, :, 0].sum(axis=1) - own))
    print("shap additivity on class %d's margin: %.3g" % (CLASS, gap))
    out = {"tools": "sklearn %s, onnx %s, numpy %s; shap C extension (shap/cext at df974a19), "
                    "dense_tree_shap interventional, MODEL_TRANSFORM identity" %
                    (sklearn.__version__, onnx.__version__, np.__version__),
           "model": "gbc3_flat", "class": CLASS, "shap_windows": refs["shap_windows"],
           "decision_function": dfun.tolist(),
           "predict_proba": clf.predict_proba(Xs)[:, CLASS].tolist(),
           "phi": phi[:, :g.CT, 0].tolist(), "expected_value": phi[:, g.CT, 0].tolist()}
    json.dump(out, open(os.path.join(HERE, "shap_multiclass_refs.json"), "w"),
              separators=(",", ":"))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The TreeSHAP benchmark model: an XGBoost classifier of 100 trees, depth 6, on the flattened
Aurora windows (288 cells), converted to ONNX by tests/data/trees/gen_trees.py's converter
(TreeEnsembleClassifier, BRANCH_LT, LOGISTIC, no ZipMap). Generated at bench time rather than
committed (about 1 MB). The target is a noisy synthetic one (bearing temperature and vibration
above their medians, plus noise, numpy default_rng(7)) so that the trees grow to depth 6.

    /usr/bin/python3 tests/bench/gen_bench_trees.py OUT.onnx

Needs Debian's python3-xgboost, python3-onnx, numpy. Prints the trees, nodes and depth.
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data", "trees"))
import gen_trees as g  # noqa: E402


def main():
    import onnx
    import xgboost
    out = sys.argv[1]
    d = json.load(open(os.path.join(g.ROOT, "tests/data/data/windows.json")))
    g.CHANNELS = d["channels"]
    Xw, _ = g.load_windows()
    X = Xw.reshape(len(Xw), g.CT)
    rng = np.random.default_rng(7)
    s = Xw[:, 5].mean(axis=1) / Xw[:, 5].std() + Xw[:, 7].mean(axis=1) / Xw[:, 7].std()
    y = (s + rng.normal(0, 0.5, len(s)) > np.median(s)).astype(np.int64)
    clf = xgboost.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.1,
                                min_child_weight=0, random_state=0,
                                tree_method="exact").fit(X, y)
    booster = clf.get_booster()
    trees = g.xgb_trees(booster)
    cfg = json.loads(booster.save_config())
    bs = float(cfg["learner"]["learner_model_param"]["base_score"])
    base = float(np.float32(math.log(bs / (1 - bs))))
    m = g.classifier_model(trees, [base], "LOGISTIC", [None, g.CT], False)
    onnx.checker.check_model(m)
    onnx.save(m, out)

    def depth(nodes, i=0):
        n = nodes[i]
        return 0 if n["mode"] == "LEAF" else 1 + max(depth(nodes, n["t"]), depth(nodes, n["f"]))
    print("%s: %d trees, %d nodes, max depth %d, xgboost %s" %
          (out, len(trees), sum(len(t) for t in trees), max(depth(t) for t in trees),
           xgboost.__version__))


if __name__ == "__main__":
    main()

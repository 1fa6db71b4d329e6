#!/usr/bin/python3
"""The Aurora tree-ensemble sample model (samples/aurora_gbc.onnx, issue 11).

Run with Debian's python3 (python3-sklearn 1.2.1, python3-onnx 1.12.0, numpy 1.24.2) from the
repository root:

    /usr/bin/python3 samples/gen_aurora_gbc.py

Trains a small sklearn GradientBoostingClassifier (40 trees, depth 3) on the Aurora windows
(tests/data/data/windows.json: 8 channels x 36 steps, labelled by the failure horizon) with
two kinds of features: each channel's mean over the window (8) and the flattened window
(288 cells, channel-major). The ONNX graph computes them itself from the [N, 8, 36] window
(ReduceMean over the time axis, Flatten, Concat) and feeds them to a TreeEnsembleClassifier
(LOGISTIC, one weight column, base value = prior log-odds) followed by ZipMap, as skl2onnx
writes it; the converter is tests/data/trees/gen_trees.py's. Every feature is a function of
one channel, so TreeSHAP with one player per channel is exact.
"""
import math
import os
import sys

import numpy as np
from onnx import helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "data", "trees"))
import gen_trees as g  # noqa: E402


def main():
    import json
    from sklearn.ensemble import GradientBoostingClassifier

    d = json.load(open(os.path.join(g.ROOT, "tests/data/data/windows.json")))
    g.CHANNELS = d["channels"]
    Xw, y = g.load_windows()
    feats = np.concatenate([Xw.mean(axis=2), Xw.reshape(len(Xw), g.CT)],
                           axis=1).astype(np.float32)
    gbc = GradientBoostingClassifier(n_estimators=40, max_depth=3, learning_rate=0.1,
                                     random_state=0).fit(feats, y)
    trees = g.sk_trees(gbc.estimators_[:, 0], gbc.learning_rate,
                       lambda v, s: {0: float(np.float32(s * v[0][0]))})
    prior = gbc.init_.class_prior_
    base = float(np.float32(math.log(prior[1] / prior[0])))
    front = [
        helper.make_node("ReduceMean", ["input"], ["chmean"], name="ReduceMean", axes=[2],
                         keepdims=0),
        helper.make_node("Flatten", ["input"], ["cells"], name="Flatten", axis=1),
        helper.make_node("Concat", ["chmean", "cells"], ["features"], name="Concat", axis=1),
    ]
    m = g.classifier_model(trees, [base], "LOGISTIC", [None, g.C, g.T], True, front=front,
                           tree_in="features")
    import onnx
    onnx.checker.check_model(m)
    out = os.path.join(HERE, "aurora_gbc.onnx")
    onnx.save(m, out)
    p = gbc.predict_proba(feats)[:, 1]
    print("wrote", out, os.path.getsize(out), "bytes; train accuracy",
          float(((p >= 0.5) == y).mean()), "positives", int(y.sum()), "of", len(y),
          "flagged", int((p >= 0.5).sum()))


if __name__ == "__main__":
    main()

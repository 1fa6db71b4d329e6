#!/usr/bin/env python3
"""Owen values of the Aurora MLP over the channel hierarchy, by shap 0.42.1's PartitionExplainer.

Reference for tests/test_explain_owen_shap.sh (issue 13: whyflag's `--groups hierarchy` must match
shap's PartitionExplainer within 1e-6 on a small model).

The game. Players are the 8 channels; masking a channel replaces its whole row of 36 values by the
background window's; v(S) = mean over the 50 background windows b of f(x_S, b_notS), f the Aurora
MLP's probability (output "prob", link identity). shap masks tabular features, so each channel is
one shap feature whose value is a window number: background row b holds b in every column (the
masker's data), the explained window k holds 50 + k in every column, and the model function
rebuilds every window channel by channel from those numbers before evaluating the MLP.

The MLP (shared/fixtures/aurora/mlp.onnx) is evaluated here with numpy in float64 from its ONNX
initializers (float32 weights and float32 window values widened to float64): Sub/Div
normalisation, Flatten (channel-major), Gemm-Relu-Gemm-Relu-Gemm, Sigmoid.

The hierarchy is scipy's complete linkage on 1 - |r|, r the Pearson correlation of the 8 channels
over the background's 1,800 cells (50 windows x 36 steps): the tree whyflag documents for groups
"hierarchy" (src/explain/dependence.c); the test checks that whyflag's results.json linkage is
this one. The same Z is given to shap.maskers.Partition(bg, clustering=Z).

Exactness. shap 0.42.1's Partition.owen (shap/explainers/_partition.py) with fixed_context=None
walks the tree from the root; at an internal node with children L, R in context (m00, f00, f11)
it evaluates f10 = v(m00 + L) and f01 = v(m00 + R) and pushes four child tasks with half the
weight: L in contexts (m00 -> m00+L) and (m00+R -> m00+R+L), R likewise. A leaf adds
weight * (f11 - f00). That is the expectation over the admissible orders (each internal node
orders its two children uniformly), i.e. the Owen value, provided the queue empties before
eval_count reaches max_evals - 2 (otherwise the rest is left on internal nodes and spread by
lower_credit in proportion to size, which is not exact). The script asserts it did, and also
checks shap's values against the Owen formula enumerated here (all 2^(M-1) = 128 admissible
orders per window).

Run (shap 0.42.1 built from source, see tests/data/README.md):
  PYTHONPATH=/path/to/shap042:/path/to/slicer /usr/bin/python3 gen_owen_shap.py \
      [--fixtures ../../../../shared/fixtures/aurora]
writes windows.json, background.json (whyflag windows files) and owen_shap_ref.json here.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import scipy
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd
from onnx import numpy_helper

import shap

HERE = os.path.dirname(os.path.abspath(__file__))
# ref_windows.json positions: a saturated top alarm, a top alarm, two false alarms, a missed
# failure, a normal window (scores 0.99999996, 0.9991, 0.763, 0.693, 0.402, 0.045)
REF_POS = [0, 1, 9, 12, 14, 17]
MAX_EVALS = 100000


def load_mlp(path):
    m = onnx.load(path)
    ops = [n.op_type for n in m.graph.node]
    assert ops == ["Sub", "Div", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm", "Sigmoid"], ops
    for n in m.graph.node:
        if n.op_type == "Gemm":
            a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
            assert a == {"alpha": 1.0, "beta": 1.0, "transB": 1}, a
    P = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}

    def f(w):  # w: (n, 8, 36) float64 -> (n,) probability
        z = ((w - P["norm.mean"]) / P["norm.std"]).reshape(len(w), -1)
        h = np.maximum(z @ P["fc1.weight"].T + P["fc1.bias"], 0.0)
        h = np.maximum(h @ P["fc2.weight"].T + P["fc2.bias"], 0.0)
        o = (h @ P["fc3.weight"].T + P["fc3.bias"])[:, 0]
        return 1.0 / (1.0 + np.exp(-o))

    return f


def owen_brute(v, M, Z):
    """Owen values by enumerating every admissible order of a binary scipy tree Z."""
    def orders(node):
        if node < M:
            return [[node]]
        a, b = int(Z[node - M, 0]), int(Z[node - M, 1])
        A, B = orders(a), orders(b)
        return [x + y for x in A for y in B] + [y + x for x in A for y in B]

    all_orders = orders(2 * M - 2)
    assert len(all_orders) == 2 ** (M - 1)
    phi = np.zeros(M)
    for o in all_orders:
        S = 0
        prev = v(S)
        for i in o:
            S |= 1 << i
            cur = v(S)
            phi[i] += cur - prev
            prev = cur
    return phi / len(all_orders)


def shapley_brute(v, M):
    """Shapley values over all 2^M coalitions (the flat hierarchy), to show the tree matters."""
    vals = {S: v(S) for S in range(1 << M)}
    fact = [1.0] * (M + 1)
    for i in range(1, M + 1):
        fact[i] = fact[i - 1] * i
    phi = np.zeros(M)
    for S in range(1 << M):
        s = bin(S).count("1")
        for i in range(M):
            if not (S >> i) & 1:
                phi[i] += fact[s] * fact[M - s - 1] / fact[M] * (vals[S | (1 << i)] - vals[S])
    return phi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", default=os.path.join(HERE, "../../../../shared/fixtures/aurora"))
    a = ap.parse_args()
    F = a.fixtures
    allw = json.load(open(os.path.join(F, "windows.json")))
    refw = json.load(open(os.path.join(F, "refs/ref_windows.json")))
    bgr = json.load(open(os.path.join(F, "refs/background.json")))
    byi = {w["index"]: w for w in allw["windows"]}
    hdr = {k: v for k, v in allw.items() if k != "windows"}
    channels = allw["channels"]
    M = len(channels)

    # the whyflag windows files: header of windows.json, windows verbatim
    def windows_file(ws, note):
        d = dict(hdr)
        d["note"] = note
        d["n_windows"] = len(ws)
        d["n_positive"] = sum(w["label"] for w in ws)
        d["windows"] = [{k: w[k] for k in ("index", "turbine_id", "start", "end", "label", "values")}
                        for w in ws]
        return d

    sel = [byi[refw["windows"][p]["index"]] for p in REF_POS]
    for p, w in zip(REF_POS, sel):
        assert w["values"] == refw["windows"][p]["values"]
    bgw = [byi[i] for i in bgr["indices"]]
    for w, vals in zip(bgw, bgr["values"]):
        assert w["values"] == vals
    json.dump(windows_file(sel, "shared/fixtures/aurora/refs/ref_windows.json positions %s" % REF_POS),
              open(os.path.join(HERE, "windows.json"), "w"), separators=(",", ":"))
    json.dump(windows_file(bgw, "shared/fixtures/aurora/refs/background.json (50 windows)"),
              open(os.path.join(HERE, "background.json"), "w"), separators=(",", ":"))

    # values as whyflag reads them: float32
    X = np.array([w["values"] for w in sel], dtype=np.float32).astype(np.float64)  # (K, 8, 36)
    B = np.array([w["values"] for w in bgw], dtype=np.float32).astype(np.float64)  # (50, 8, 36)
    nb, K = len(B), len(X)
    pool = np.concatenate([B, X])  # window number -> window
    f = load_mlp(os.path.join(F, "mlp.onnx"))

    # the hierarchy: complete linkage on 1 - |r| over the background's cells
    cells = B.transpose(1, 0, 2).reshape(M, -1)  # (8, 1800)
    r = np.corrcoef(cells)
    D = 1.0 - np.abs(r)
    np.fill_diagonal(D, 0.0)
    D = (D + D.T) / 2
    Z = sch.linkage(ssd.squareform(D, checks=False), method="complete")

    def model(idx):  # (n, 8) window numbers -> (n,) probability
        idx = np.rint(np.asarray(idx, dtype=np.float64)).astype(int)
        w = pool[idx, np.arange(M)[None, :], :]  # (n, 8, 36): channel c from window idx[:, c]
        return f(w)

    bg_index = np.repeat(np.arange(nb, dtype=np.float64)[:, None], M, axis=1)  # (50, 8)
    x_index = np.repeat((nb + np.arange(K, dtype=np.float64))[:, None], M, axis=1)  # (K, 8)
    masker = shap.maskers.Partition(bg_index, clustering=Z)
    assert masker.data.shape == (nb, M)  # no subsampling (max_samples 100)
    expl = shap.PartitionExplainer(model, masker)
    out = []
    max_diff_brute = 0.0
    for k in range(K):
        e = expl(x_index[k:k + 1], max_evals=MAX_EVALS, silent=True)
        evals = expl.last_eval_count
        assert evals < MAX_EVALS - 2, "max_evals reached: not exact"
        phi = np.asarray(e.values[0], dtype=np.float64)
        base = float(np.asarray(e.base_values).reshape(-1)[0])
        fx = float(model(x_index[k:k + 1])[0])

        def v(S, k=k):
            m = np.array([(S >> c) & 1 for c in range(M)], dtype=bool)
            idx = np.where(m[None, :], nb + k, np.arange(nb)[:, None])
            return model(idx).mean()

        brute = owen_brute(v, M, Z)
        shapley = shapley_brute(v, M)
        d = float(np.max(np.abs(brute - phi)))
        max_diff_brute = max(max_diff_brute, d)
        assert d < 1e-12, d
        assert abs(base + phi.sum() - fx) < 1e-12
        out.append({"index": sel[k]["index"], "ref_position": REF_POS[k], "kind": refw["kinds"][REF_POS[k]],
                    "f_x": fx, "base_value": base, "values": [float(t) for t in phi],
                    "owen_enumerated": [float(t) for t in brute],
                    "shapley_enumerated": [float(t) for t in shapley], "shap_evals": int(evals)})
        print("window %d (index %d): f(x) %.9f base %.9f evals %d |shap - enumeration| %.2e "
              "|Owen - Shapley| %.2e" % (k, sel[k]["index"], fx, base, evals, d,
                                         np.max(np.abs(phi - shapley))))

    ref = {
        "what": "Owen values of mlp.onnx (output prob, link identity) over the channels, hierarchy = "
                "scipy complete linkage on 1 - |r| of the background's cells; players = channels, "
                "a masked channel takes the background window's row; v(S) = mean over the 50 "
                "background windows",
        "tool": "shap %s PartitionExplainer (git v0.42.1, built from source), max_evals %d, "
                "fixed_context None; model evaluated with numpy %s in float64 from the ONNX "
                "initializers; scipy %s linkage; numba %s"
                % (shap.__version__, MAX_EVALS, np.__version__, scipy.__version__,
                   __import__("numba").__version__),
        "model": "mlp.onnx (shared/fixtures/aurora, copied as tests/data/aurora/mlp.onnx)",
        "channels": channels,
        "linkage": [[int(z[0]), int(z[1]), float(z[2]), int(z[3])] for z in Z],
        "max_abs_shap_minus_enumeration": max_diff_brute,
        "windows": out,
    }
    json.dump(ref, open(os.path.join(HERE, "owen_shap_ref.json"), "w"), indent=1)
    print("linkage", ref["linkage"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

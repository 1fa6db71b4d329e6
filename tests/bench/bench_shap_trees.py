#!/usr/bin/python3
"""TreeSHAP speed against shap's TreeExplainer in the same run (run by hand, never by ctest).

Generates the 100-tree depth-6 benchmark model (gen_bench_trees.py) unless it exists, then on the
same windows (windows.json windows k * (1716 // n), k < n) and the same 50-window background
(tests/data/explain/background.json), per tree feature (288 cells), one thread each:
 - shap's C extension as shap.TreeExplainer(model, data=background,
   feature_perturbation="interventional", model_output="raw").shap_values(X) calls it
   (_cext.dense_tree_shap, FEATURE_DEPENDENCE independent; shap's Python wrapper adds its own
   overhead on top, not counted here), best of 3;
 - whyflag's interventional TreeSHAP (bench_treeshap --same-run), which also computes the
   tree-input rows through its engine;
and prints both, the ratio, and the largest difference between their values.

    SHAP_CEXT_DIR=/dir/with/_cext.so /usr/bin/python3 tests/bench/bench_shap_trees.py \\
        BUILD/tests/bench/bench_treeshap [MODEL.onnx] [windows]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data", "trees"))
import gen_shap_cext as g  # noqa: E402
from gen_shap_cext import _cext  # noqa: E402


def main():
    bench = sys.argv[1]
    tmp = tempfile.mkdtemp()
    model = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tmp, "bench100.onnx")
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    if not os.path.exists(model):
        subprocess.check_call([sys.executable, os.path.join(HERE, "gen_bench_trees.py"), model])
    W = json.load(open(os.path.join(g.ROOT, "tests/data/data/windows.json")))["windows"]
    idx = [k * (len(W) // n) for k in range(n)]
    X = np.array([W[i]["values"] for i in idx], dtype=np.float32).reshape(n, g.CT)
    BG = np.array(json.load(open(os.path.join(g.ROOT, "tests/data/explain/background.json")))
                  ["values"], dtype=np.float32).reshape(50, g.CT)
    # read the ONNX trees as gen_shap_cext.py does (from this folder's copy of the model)
    g.HERE = os.path.dirname(os.path.abspath(model))
    name = os.path.splitext(os.path.basename(model))[0]
    a, trees, leafw, base, front = g.read_model(name)
    cl, cr, cd, feat, thr, ttype, val, cover, depth, nt = g.shap_arrays(a, trees, leafw)
    Xr = g.rows_of(front, a, X).astype(np.float64)
    Rr = g.rows_of(front, a, BG).astype(np.float64)
    F = Xr.shape[1]
    best = 1e30
    for _ in range(3):
        phi = np.zeros((n, F + 1, 1))
        t0 = time.perf_counter()
        _cext.dense_tree_shap(cl, cr, cd, feat, thr, ttype, val, cover, depth, Xr,
                              np.isnan(Xr), None, Rr, np.isnan(Rr), nt, np.array([base]), phi, 0,
                              0, False)
        best = min(best, time.perf_counter() - t0)
    shap_ms = 1e3 * best / n
    out = os.path.join(tmp, "phi.f64")
    res = subprocess.run([bench, "--same-run", model, str(n), out], check=True,
                         capture_output=True, text=True).stdout
    print(res, end="")
    wf_ms = float([ln for ln in res.splitlines() if ln.startswith("WHYFLAG_TREESHAP_MS")][0]
                  .split()[1])
    wphi = np.fromfile(out, dtype=np.float64).reshape(n, F)
    diff = np.max(np.abs(wphi - phi[:, :F, 0]))
    print("shap C extension (dense_tree_shap interventional): %.3f ms per window (%d windows, "
          "%d trees, %d features, best of 3)" % (shap_ms, n, nt, F))
    print("whyflag TreeSHAP: %.3f ms per window: %.1fx shap's speed; max |whyflag - shap| %.3g"
          % (wf_ms, shap_ms / wf_ms, diff))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference values for tests/test_compare.c (issue 15), generated once and committed:
  mcnemar_ref.csv  b,c,p_value      scipy.stats.binomtest(b, b + c, 0.5) two-sided p-value
  kappa_ref.csv    both,only_a,only_b,neither,kappa   sklearn.metrics.cohen_kappa_score
  ort_float_scores.csv  turbine_id,start,score   ONNX Runtime's score of samples/aurora_float.onnx
                   (= shared/fixtures/aurora/mlp.onnx) on every window: the `mlp` column of
                   shared/fixtures/aurora/ort_scores.csv
  bad_*.onnx       tiny models B that must be refused (other channels, other T, no score)
Run: /usr/bin/python3 gen_compare_refs.py [path/to/ort_scores.csv]"""
import csv
import sys

import numpy as np
import onnx
import scipy
import sklearn
from onnx import TensorProto, helper
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score

pairs = [(0, 0), (1, 0), (1, 2), (0, 5), (3, 3), (5, 17), (12, 3), (40, 25), (100, 130),
         (1, 30), (250, 300), (7, 0), (0, 1), (2, 9), (1000, 1100)]
with open("mcnemar_ref.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["b", "c", "p_value"])
    for b, c in pairs:
        p = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
        w.writerow([b, c, repr(float(p))])

tables = [(123, 1, 2, 1590), (10, 5, 3, 82), (0, 4, 6, 90), (50, 0, 0, 50), (5, 20, 15, 60),
          (1, 1, 1, 1), (30, 10, 0, 0)]
with open("kappa_ref.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["both", "only_a", "only_b", "neither", "kappa"])
    for both, oa, ob, nei in tables:
        a = [1] * both + [1] * oa + [0] * ob + [0] * nei
        b = [1] * both + [0] * oa + [1] * ob + [0] * nei
        w.writerow([both, oa, ob, nei, repr(float(cohen_kappa_score(a, b)))])

src = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures/aurora/ort_scores.csv"
with open(src) as f, open("ort_float_scores.csv", "w", newline="") as g:
    w = csv.writer(g)
    w.writerow(["turbine_id", "start", "score"])
    for row in csv.DictReader(f):
        w.writerow([row["turbine_id"], row["start"], row["mlp"]])

CH = "wind_speed,rotor_rpm,power_kw,pitch_deg,gearbox_oil_temp,bearing_temp,nacelle_temp,vibration_rms"


def mlp_like(name, C, T, channels, out_identity=False):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", C, T])
    if out_identity:
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", C, T])
        nodes = [helper.make_node("Identity", ["x"], ["y"])]
        inits = []
    else:
        y = helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 1])
        wts = np.full((C * T, 1), 0.01, dtype=np.float32)
        inits = [helper.make_tensor("w", TensorProto.FLOAT, wts.shape, wts.flatten())]
        nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1),
                 helper.make_node("MatMul", ["f", "w"], ["z"]),
                 helper.make_node("Sigmoid", ["z"], ["prob"])]
    g = helper.make_graph(nodes, name, [x], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="gen_compare_refs.py")
    m.ir_version = 8
    for k, v in (("channels", channels), ("T", str(T))):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, name + ".onnx")


mlp_like("bad_channels", 7, 36, ",".join(CH.split(",")[:7]))
mlp_like("bad_T", 8, 24, CH)
mlp_like("bad_output", 8, 36, CH, out_identity=True)
print("scipy", scipy.__version__, "sklearn", sklearn.__version__, "onnx", onnx.__version__)

#!/usr/bin/python3
"""QOperator twins of samples/aurora_int8.onnx (the deployed QDQ MLP) for tests/bench/bench_int8.c:
the same weights, scales and zero points in the two QOperator spellings ONNX Runtime's quantizer
writes (Debian python3-onnx 1.12.0, onnx.helper): mlp_qgemm.onnx (QuantizeLinear -> QGemm ->
QGemm -> QGemm with a float output -> Sigmoid; Relu folded into the u8 zero point 0 as the
quantizer does) and mlp_qlinear.onnx (QLinearMatMul + QLinearAdd per layer, the last layer
dequantized before Sigmoid). The QLinearMatMul twin's new tensors (the matmul output, the bias
as int8, the sum) get their scales as ONNX Runtime's MinMax calibration would (symmetric int8:
max |value| / 127) from the QDQ model's own values on the 1,716 windows of
../data/windows.json, so both twins compute nearly the QDQ function (the QLinearMatMul twin adds
two roundings per layer). Not bit twins: the QDQ graph sums in float.
Usage (from this folder): /usr/bin/python3 gen_qop_twins.py"""
import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

src = onnx.load("../../../samples/aurora_int8.onnx")
I = {i.name: nh.to_array(i) for i in src.graph.initializer}
keep = ["norm_mean", "norm_std", "a0_scale", "a0_zp", "a1_scale", "a1_zp", "a2_scale", "a2_zp"]
for k in range(3):
    assert I["a%d_zp" % min(k + 1, 2)] == 0 or k == 2
    keep += ["W%d_q" % k, "W%d_scale" % k, "W%d_zp" % k, "b%d_q" % k]
import json

# calibration: the QDQ model's values layer by layer (dequantized activations, float sums)
win = json.load(open("../data/windows.json"))["windows"]
x = np.array([w["values"] for w in win], np.float32).reshape(len(win), 8, 36)


def qdq(v, s, z, lo, hi):
    return ((np.clip(np.rint(v / s) + z, lo, hi) - z) * s).astype(np.float32)


def deq(k):
    return ((I["W%d_q" % k].astype(np.float32) - I["W%d_zp" % k]) * I["W%d_scale" % k]).astype(
        np.float32)


a = ((x - I["norm_mean"]) / I["norm_std"]).reshape(len(win), -1).astype(np.float32)
a = qdq(a, I["a0_scale"], I["a0_zp"].astype(np.float32), 0, 255)
calib = []
for k in range(3):
    mm = a @ deq(k).T
    bf = (I["b%d_q" % k].astype(np.float32) * I["a%d_scale" % k] * I["W%d_scale" % k]).astype(
        np.float32)
    sm = mm + bf
    calib.append((float(np.abs(mm).max()), float(np.abs(sm).max())))
    if k < 2:
        a = qdq(np.maximum(sm, 0), I["a%d_scale" % (k + 1)], 0.0, 0, 255)

pre = [h.make_node("Sub", ["x", "norm_mean"], ["xs"]), h.make_node("Div", ["xs", "norm_std"], ["xn"]),
       h.make_node("Flatten", ["xn"], ["a0"], axis=1),
       h.make_node("QuantizeLinear", ["a0", "a0_scale", "a0_zp"], ["a0_q"])]


def model(name, nodes, extra):
    inits = [nh.from_array(I[k], k) for k in keep] + extra
    g = h.make_graph(pre + nodes, name, list(src.graph.input),
                     [h.make_tensor_value_info("prob", TP.FLOAT, ["N", 1])], initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13), h.make_opsetid("com.microsoft", 1)],
                     producer_name="gen_qop_twins.py")
    m.ir_version = 8
    for p in src.metadata_props:
        m.metadata_props.append(p)
    onnx.save(m, name + ".onnx")


qg = []
for k in range(3):
    ins = ["a%d_q" % k, "a%d_scale" % k, "a%d_zp" % k, "W%d_q" % k, "W%d_scale" % k, "W%d_zp" % k,
           "b%d_q" % k]
    if k < 2:
        ins += ["a%d_scale" % (k + 1), "a%d_zp" % (k + 1)]
    qg.append(h.make_node("QGemm", ins, ["a%d_q" % (k + 1) if k < 2 else "g2"], transB=1,
                          domain="com.microsoft"))
model("mlp_qgemm", qg + [h.make_node("Sigmoid", ["g2"], ["prob"])], [])

ql, extra = [], []
for k in range(3):
    out_s, out_z = ("a%d_scale" % (k + 1), "a%d_zp" % (k + 1)) if k < 2 else (None, None)
    # y = a W^T in the output's quantization, then + b (b in a_scale * W_scale units, as u8)
    extra.append(nh.from_array(I["W%d_q" % k].T.copy(), "W%dT_q" % k))
    ql.append(h.make_node("QLinearMatMul", ["a%d_q" % k, "a%d_scale" % k, "a%d_zp" % k, "W%dT_q" % k,
                                            "W%d_scale" % k, "W%d_zp" % k, "mm%d_scale" % k,
                                            "mm%d_zp" % k], ["mm%d_q" % k]))
    bf = I["b%d_q" % k].astype(np.float32) * I["a%d_scale" % k] * I["W%d_scale" % k]
    mm_s = np.float32(calib[k][0] / 127)
    s_s = np.float32(calib[k][1] / 127)
    bs = np.float32(max(np.abs(bf).max(), 1e-6) / 127)
    extra += [nh.from_array(mm_s, "mm%d_scale" % k), nh.from_array(np.int8(0), "mm%d_zp" % k),
              nh.from_array(np.clip(np.rint(bf / bs), -127, 127).astype(np.int8), "bq%d" % k),
              nh.from_array(bs, "bq%d_scale" % k), nh.from_array(np.int8(0), "bq%d_zp" % k),
              nh.from_array(s_s, "s%d_scale" % k), nh.from_array(np.int8(0), "s%d_zp" % k)]
    # QLinearAdd needs one type: the matmul output and the bias are int8, the next activation u8
    # comes from a QuantizeLinear of the dequantized sum (Relu by the u8 zero point 0)
    ql.append(h.make_node("QLinearAdd", ["mm%d_q" % k, "mm%d_scale" % k, "mm%d_zp" % k, "bq%d" % k,
                                         "bq%d_scale" % k, "bq%d_zp" % k, "s%d_scale" % k,
                                         "s%d_zp" % k], ["s%d_q" % k], domain="com.microsoft"))
    ql.append(h.make_node("DequantizeLinear", ["s%d_q" % k, "s%d_scale" % k, "s%d_zp" % k],
                          ["s%d" % k]))
    if k < 2:
        ql.append(h.make_node("QuantizeLinear", ["s%d" % k, out_s, out_z], ["a%d_q" % (k + 1)]))
model("mlp_qlinear", ql + [h.make_node("Sigmoid", ["s2"], ["prob"])], extra)
print("mlp_qgemm.onnx, mlp_qlinear.onnx; calibrated max |mm|, |mm + b| per layer:", calib)

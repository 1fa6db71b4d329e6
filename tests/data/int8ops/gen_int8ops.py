#!/usr/bin/python3
"""Hand-built graphs of the dynamic-quantization ops (DynamicQuantizeLinear, MatMulInteger,
ConvInteger) with onnx.helper (Debian python3-onnx 1.12.0, numpy 1.24.2), and their inputs
(numpy default_rng(12)): writes <case>.onnx and cases.json ({model, inputs: [{name, dtype, dims,
data}]} per case). gen_ort_int8ops.js then adds ONNX Runtime's outputs (refs.json).
Usage (from this folder): /usr/bin/python3 gen_int8ops.py"""
import json

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(12)
NP = {TP.FLOAT: np.float32, TP.UINT8: np.uint8, TP.INT8: np.int8, TP.INT32: np.int32}
NAME = {TP.FLOAT: "float32", TP.UINT8: "uint8", TP.INT8: "int8", TP.INT32: "int32"}


def save(name, nodes, inputs, outputs, inits, opset=13):
    g = h.make_graph(nodes, name, inputs, outputs, initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="gen_int8ops.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, name + ".onnx")


def vi(name, t, dims):
    return h.make_tensor_value_info(name, t, dims)


def init(name, arr):
    return nh.from_array(np.asarray(arr), name)


cases = []


def case(model, **inputs):
    ins = []
    for k, (t, a) in inputs.items():
        a = np.asarray(a, dtype=NP[t])
        ins.append({"name": k, "dtype": NAME[t], "dims": list(a.shape), "data": a.ravel().tolist()})
    cases.append({"model": model + ".onnx", "inputs": ins})


def q8(t, shape):
    lo, hi = (0, 256) if t == TP.UINT8 else (-128, 128)
    return rng.integers(lo, hi, size=shape)


# DynamicQuantizeLinear on [N, 8]: signed data, all positive (x_min 0), all negative (x_max 0),
# all zeros (empty range: scale 1), exact ties of x / scale, one large outlier.
save("dql", [h.make_node("DynamicQuantizeLinear", ["x"], ["y", "y_scale", "y_zp"])],
     [vi("x", TP.FLOAT, ["N", 8])],
     [vi("y", TP.UINT8, ["N", 8]), vi("y_scale", TP.FLOAT, []), vi("y_zp", TP.UINT8, [])], [])
case("dql", x=(TP.FLOAT, rng.normal(0, 3, (4, 8))))
case("dql", x=(TP.FLOAT, rng.uniform(0.1, 7, (3, 8))))
case("dql", x=(TP.FLOAT, -rng.uniform(0.1, 7, (3, 8))))
case("dql", x=(TP.FLOAT, np.zeros((2, 8))))
case("dql", x=(TP.FLOAT, np.array([[-2.55, 0, 0.5, 1.5, 2.5, -0.5, -1.5, 2.55]])))
case("dql", x=(TP.FLOAT, np.concatenate([rng.normal(0, 1, (1, 7)), [[1000.0]]], 1)))

# MatMulInteger: u8 x u8 with scalar zero points, batched A; u8 x s8 with a per-column B zero
# point; s8 x s8 without zero points. (A per-row A zero point is valid ONNX but ONNX Runtime
# refuses it: "input1 zero point must be a scalar or 1D tensor of size 1"; whyflag refuses it too.)
for name, ta, tb, azp, bzp, ash in (("mmi_u8u8", TP.UINT8, TP.UINT8, "s", "s", [2, 3, 6]),
                                    ("mmi_u8s8_col", TP.UINT8, TP.INT8, "s", "c", [3, 6]),
                                    ("mmi_s8s8", TP.INT8, TP.INT8, None, None, [3, 6])):
    inits = [init("B", q8(tb, (6, 5)).astype(NP[tb]))]
    ins = ["A", "B"]
    if azp:
        inits.append(init("azp", q8(ta, () if azp == "s" else (3,)).astype(NP[ta])))
        ins.append("azp")
    elif bzp:
        ins.append("")
    if bzp:
        inits.append(init("bzp", q8(tb, () if bzp == "s" else (5,)).astype(NP[tb])))
        ins.append("bzp")
    save(name, [h.make_node("MatMulInteger", ins, ["Y"])], [vi("A", ta, ash)],
         [vi("Y", TP.INT32, ash[:-1] + [5])], inits)
    case(name, A=(ta, q8(ta, ash)))

# ConvInteger: 1-D with padding (padded cells are the zero point), 2-D with stride and padding,
# per-channel weight zero points, grouped.
save("ci_1d", [h.make_node("ConvInteger", ["x", "w", "xzp", "wzp"], ["y"], pads=[1, 1])],
     [vi("x", TP.UINT8, [2, 3, 10])], [vi("y", TP.INT32, [2, 4, 10])],
     [init("w", q8(TP.UINT8, (4, 3, 3)).astype(np.uint8)), init("xzp", np.uint8(131)),
      init("wzp", np.uint8(120))])
case("ci_1d", x=(TP.UINT8, q8(TP.UINT8, (2, 3, 10))))
save("ci_2d", [h.make_node("ConvInteger", ["x", "w", "xzp", "wzp"], ["y"], pads=[1, 1, 1, 1],
                           strides=[2, 2])],
     [vi("x", TP.UINT8, [1, 2, 7, 7])], [vi("y", TP.INT32, [1, 3, 4, 4])],
     [init("w", q8(TP.UINT8, (3, 2, 3, 3)).astype(np.uint8)), init("xzp", np.uint8(7)),
      init("wzp", np.uint8(200))])
case("ci_2d", x=(TP.UINT8, q8(TP.UINT8, (1, 2, 7, 7))))
save("ci_group_dil", [h.make_node("ConvInteger", ["x", "w", "xzp"], ["y"], group=2, dilations=[2])],
     [vi("x", TP.UINT8, [1, 4, 12])], [vi("y", TP.INT32, [1, 2, 8])],
     [init("w", q8(TP.UINT8, (2, 2, 3)).astype(np.uint8)), init("xzp", np.uint8(90))])
case("ci_group_dil", x=(TP.UINT8, q8(TP.UINT8, (1, 4, 12))))

# A dynamically quantized dense layer as ONNX Runtime's quantize_dynamic writes it:
# x -> DynamicQuantizeLinear -> MatMulInteger (int8 weights) -> Cast -> Mul(x scale * w scale)
# -> Add bias -> Relu, on one window per call (the scale depends on the batch).
W = rng.normal(0, 0.3, (8, 4))
ws = np.float32(np.abs(W).max() / 127)
Wq = np.clip(np.rint(W / ws), -127, 127).astype(np.int8)
save("dyn_dense", [
    h.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xzp"]),
    h.make_node("MatMulInteger", ["xq", "Wq", "xzp"], ["acc"]),
    h.make_node("Cast", ["acc"], ["accf"], to=TP.FLOAT),
    h.make_node("Mul", ["xs", "ws"], ["s"]),
    h.make_node("Mul", ["accf", "s"], ["yf"]),
    h.make_node("Add", ["yf", "b"], ["z"]),
    h.make_node("Relu", ["z"], ["y"])],
    [vi("x", TP.FLOAT, [1, 8])], [vi("y", TP.FLOAT, [1, 4])],
    [init("Wq", Wq), init("ws", ws), init("b", rng.normal(0, 0.1, 4).astype(np.float32))])
for i in range(3):
    case("dyn_dense", x=(TP.FLOAT, rng.normal(0, 2, (1, 8))))

json.dump({"cases": cases}, open("cases.json", "w"))
print(len(cases), "cases")

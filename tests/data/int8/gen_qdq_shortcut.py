#!/usr/bin/python3
"""Two small QDQ window models built with onnx.helper (Debian python3-onnx 1.12.0, numpy 1.24.2;
weights from numpy default_rng(13)) whose first layer the KernelSHAP shortcut must reach through
the input quantization, in shapes the Aurora int8 MLP does not have:
  qdq_conv1d.onnx: x [N, 8, 36] -> Sub/Div -> QuantizeLinear/DequantizeLinear (uint8, per tensor)
    -> Conv 1-D (int8 weights dequantized per output channel, int32 bias) -> Relu -> Q/DQ ->
    Flatten -> Gemm -> Sigmoid
  qdq_ntc.onnx: x [N, 36, 8] (time-major) -> Mul -> Q/DQ (int8, per channel on the last axis) ->
    Flatten -> MatMul (int8 weights per column) -> Add -> Relu -> Q/DQ -> MatMul -> Sigmoid
Usage (from this folder): /usr/bin/python3 gen_qdq_shortcut.py"""
import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

rng = np.random.default_rng(13)


def init(name, a):
    return nh.from_array(np.asarray(a), name)


def save(name, nodes, xin, inits):
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", TP.FLOAT, xin)],
                     [h.make_tensor_value_info("prob", TP.FLOAT, ["N", 1])], initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], producer_name="gen_qdq_shortcut.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, name)


def qw(w, axis):
    s = (np.abs(w).max(axis=tuple(i for i in range(w.ndim) if i != axis)) / 127).astype(np.float32)
    shp = [1] * w.ndim
    shp[axis] = -1
    return np.clip(np.rint(w / s.reshape(shp)), -127, 127).astype(np.int8), s


W0 = rng.normal(0, 0.3, (6, 8, 5))
W0q, W0s = qw(W0, 0)
b0s = (W0s * np.float32(0.05)).astype(np.float32)
L = 36 - 5 + 1
W1 = rng.normal(0, 0.1, (1, 6 * L)).astype(np.float32)
save("qdq_conv1d.onnx", [
    h.make_node("Sub", ["x", "mean"], ["xs"]),
    h.make_node("Div", ["xs", "std"], ["xn"]),
    h.make_node("QuantizeLinear", ["xn", "a0s", "a0z"], ["xq"]),
    h.make_node("DequantizeLinear", ["xq", "a0s", "a0z"], ["xd"]),
    h.make_node("DequantizeLinear", ["W0q", "W0s", "W0z"], ["W0d"], axis=0),
    h.make_node("DequantizeLinear", ["b0q", "b0s", "b0z"], ["b0d"], axis=0),
    h.make_node("Conv", ["xd", "W0d", "b0d"], ["c0"]),
    h.make_node("Relu", ["c0"], ["r0"]),
    h.make_node("QuantizeLinear", ["r0", "a1s", "a1z"], ["rq"]),
    h.make_node("DequantizeLinear", ["rq", "a1s", "a1z"], ["rd"]),
    h.make_node("Flatten", ["rd"], ["f"]),
    h.make_node("Gemm", ["f", "W1", "b1"], ["g"], transB=1),
    h.make_node("Sigmoid", ["g"], ["prob"])], ["N", 8, 36], [
    init("mean", rng.normal(0, 1, (8, 1)).astype(np.float32)),
    init("std", rng.uniform(0.5, 2, (8, 1)).astype(np.float32)),
    init("a0s", np.float32(0.03)), init("a0z", np.uint8(128)),
    init("W0q", W0q), init("W0s", W0s), init("W0z", np.zeros(6, np.int8)),
    init("b0q", rng.integers(-50, 50, 6).astype(np.int32)), init("b0s", b0s),
    init("b0z", np.zeros(6, np.int32)),
    init("a1s", np.float32(0.02)), init("a1z", np.uint8(0)),
    init("W1", W1), init("b1", np.zeros(1, np.float32))])

V0 = rng.normal(0, 0.2, (36 * 8, 16))
V0q, V0s = qw(V0, 1)
save("qdq_ntc.onnx", [
    h.make_node("Mul", ["x", "k"], ["xk"]),
    h.make_node("QuantizeLinear", ["xk", "cs", "cz"], ["xq"], axis=2),
    h.make_node("DequantizeLinear", ["xq", "cs", "cz"], ["xd"], axis=2),
    h.make_node("Flatten", ["xd"], ["f"]),
    h.make_node("DequantizeLinear", ["V0q", "V0s", "V0z"], ["V0d"], axis=1),
    h.make_node("MatMul", ["f", "V0d"], ["m0"]),
    h.make_node("Add", ["m0", "c0"], ["h0"]),
    h.make_node("Relu", ["h0"], ["r0"]),
    h.make_node("QuantizeLinear", ["r0", "a1s", "a1z"], ["rq"]),
    h.make_node("DequantizeLinear", ["rq", "a1s", "a1z"], ["rd"]),
    h.make_node("MatMul", ["rd", "V1"], ["g"]),
    h.make_node("Sigmoid", ["g"], ["prob"])], ["N", 36, 8], [
    init("k", rng.uniform(0.02, 0.1, (1, 8)).astype(np.float32)),
    init("cs", rng.uniform(0.005, 0.02, 8).astype(np.float32)), init("cz", np.zeros(8, np.int8)),
    init("V0q", V0q), init("V0s", V0s), init("V0z", np.zeros(16, np.int8)),
    init("c0", rng.normal(0, 0.1, 16).astype(np.float32)),
    init("a1s", np.float32(0.01)), init("a1z", np.uint8(0)),
    init("V1", rng.normal(0, 0.5, (16, 1)).astype(np.float32))])
print("ok")

#!/usr/bin/python3
"""int8-activation variants of the QOperator twins (gen_qop_twins.py) for tests/test_qop_shortcut.c:
every uint8 initializer (the activations' zero points) becomes int8 with 128 subtracted, so each
QuantizeLinear writes int8 codes (the uint8 code - 128) and QGemm / QLinearMatMul read s8 x s8.
Same function up to the QLinearAdd's float rounding. Debian python3-onnx 1.12.0.
Usage (from this folder): /usr/bin/python3 gen_qop_s8.py"""
import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import numpy_helper as nh

for name in ["mlp_qgemm", "mlp_qlinear"]:
    m = onnx.load(name + ".onnx")
    for i, t in enumerate(m.graph.initializer):
        if t.data_type == TP.UINT8:
            a = nh.to_array(t).astype(np.int16) - 128
            m.graph.initializer[i].CopyFrom(nh.from_array(a.astype(np.int8), t.name))
    m.producer_name = "gen_qop_s8.py"
    onnx.checker.check_model(m)
    onnx.save(m, name + "_s8.onnx")
    print(name + "_s8.onnx")

# Writes unsupported_ops.onnx: a [N,8,36] -> [N,1] graph with three op types whyflag does not run
# (Einsum twice, Trilu, com.microsoft::FusedGemm) between supported ones, for `whyflag inspect`'s
# "every unsupported op at once" test. Run with Debian's python3-onnx: /usr/bin/python3 gen_unsupported.py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 36])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])
w = numpy_helper.from_array(np.ones((36, 36), np.float32), "w")
w2 = numpy_helper.from_array(np.ones((288, 1), np.float32), "w2")
shape = numpy_helper.from_array(np.array([-1, 288], np.int64), "shape")
nodes = [
    helper.make_node("Einsum", ["x", "w"], ["a"], name="mix", equation="nct,tu->ncu"),
    helper.make_node("Trilu", ["a"], ["b"], name="lower", upper=0),
    helper.make_node("Einsum", ["b", "w"], ["c"], name="mix2", equation="nct,tu->ncu"),
    helper.make_node("Reshape", ["c", "shape"], ["d"], name="flat"),
    helper.make_node("FusedGemm", ["d", "w2"], ["e"], name="head", domain="com.microsoft"),
    helper.make_node("Sigmoid", ["e"], ["y"], name="prob"),
]
g = helper.make_graph(nodes, "unsupported", [x], [y], [w, w2, shape])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                        helper.make_opsetid("com.microsoft", 1)])
m.producer_name = "whyflag tests (onnx.helper)"
onnx.save(m, "unsupported_ops.onnx")

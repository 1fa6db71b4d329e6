/* The table of supported ops: name -> definition. */
#include <string.h>

#include "model/ops/ops.h"

static const wf_opdef *const table[] = {
    &wf_op_add,          &wf_op_sub,        &wf_op_mul,
    &wf_op_div,          &wf_op_relu,       &wf_op_leaky_relu,
    &wf_op_sigmoid,      &wf_op_tanh,       &wf_op_softmax,
    &wf_op_flatten,      &wf_op_reshape,    &wf_op_transpose,
    &wf_op_squeeze,      &wf_op_unsqueeze,  &wf_op_concat,
    &wf_op_pad,          &wf_op_identity,   &wf_op_dropout,
    &wf_op_reduce_mean,  &wf_op_gemm,       &wf_op_matmul,
    &wf_op_conv,         &wf_op_maxpool,    &wf_op_avgpool,
    &wf_op_gavgpool,     &wf_op_gmaxpool,   &wf_op_batchnorm,
    &wf_op_quantize,     &wf_op_dequantize, &wf_op_qlinear_matmul,
    &wf_op_qlinear_conv,
};

/* dynamic quantization (ops_qinteger.c) */
static const wf_opdef *const table_qinteger[] = {&wf_op_dynamic_quantize, &wf_op_matmul_integer,
                                                 &wf_op_conv_integer};

const wf_opdef *wf_op_find(const char *op_type) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i]->name, op_type))
            return table[i];
    for (size_t i = 0; i < sizeof table_qinteger / sizeof table_qinteger[0]; i++)
        if (!strcmp(table_qinteger[i]->name, op_type))
            return table_qinteger[i];
    return wf_op_find10(op_type);
}

const char *wf_op_supported_list(void) {
    return "Add, Sub, Mul, Div, Relu, LeakyRelu, Sigmoid, Tanh, Softmax, Flatten, Reshape, "
           "Transpose, Squeeze, Unsqueeze, Concat, Pad, Constant, Identity, Dropout, ReduceMean, "
           "Gemm, MatMul, Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, "
           "BatchNormalization, QuantizeLinear, DequantizeLinear, QLinearMatMul, "
           "QLinearConv, DynamicQuantizeLinear, MatMulInteger, ConvInteger, " WF_OPS10_LIST;
}

/* The ops with a packed path (issue 12): their weights packed once per engine. */
const wf_op_packing *wf_op_packing_of(const wf_opdef *op) {
    if (op == &wf_op_gemm)
        return &wf_pack_gemm;
    if (op == &wf_op_qgemm)
        return &wf_pack_qgemm;
    if (op == &wf_op_qlinear_matmul)
        return &wf_pack_qlinear_matmul;
    return NULL;
}

/*
 * libFuzzer harness for the ONNX loader: any bytes must give WF_OK or a clean error, never a
 * crash, leak or undefined behaviour. A loaded model is also described (which plans it at batch 1).
 * Build: CC=clang cmake -DWF_FUZZ=ON -DWF_SANITIZE=ON; run: ./fuzz_onnx corpus-onnx/
 * -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/engine.h"
#include "whyflag/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wf_model *m = NULL;
    wf_error err;
    if (wf_model_load_mem(data, size, "fuzz", &m, &err) != WF_OK)
        return 0;
    /* Exercise the accessors; running fuzzed graphs is left out: a legal graph may plan
     * activations of up to 2^31 elements, which is a resource limit, not a bug. */
    for (int i = 0; i < wf_model_n_inputs(m); i++) {
        int rank;
        int64_t dims[WF_MAX_RANK];
        wf_dtype dt;
        wf_model_input_info(m, i, &dt, &rank, dims);
    }
    char *text = NULL;
    if (wf_model_describe(m, 1, &text, &err) == WF_OK)
        free(text);
    wf_model_free(m);
    return 0;
}

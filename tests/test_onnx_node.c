/*
 * ONNX's own backend node tests (ONNX v1.22.0, tests/data/onnx/node/): every test folder's
 * model.onnx is loaded and run on test_data_set_0/input_N.pb; outputs are compared with
 * output_N.pb at ONNX's tolerance (rtol 1e-3, atol 1e-7; integer outputs exactly). Tests of ops
 * or dtypes whyflag does not support must fail at load with a message naming the op or dtype;
 * the table below lists each of them and why, so the count of passing tests is explicit.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/onnx_tensor.h"
#include "testutil.h"
#include "whyflag/engine.h"
#include "whyflag/model.h"

typedef struct expect_fail {
    const char *test;    /* folder name */
    const char *message; /* fragment the load error must contain */
} expect_fail;

/* Ops and dtypes outside whyflag's scope (see README: supported ops). */
static const expect_fail expected[] = {
    /* dtypes: int16/uint16/uint32/uint64 tensors */
    {"test_add_int16", "int16"},
    {"test_add_uint16", "uint16"},
    {"test_add_uint32", "uint32"},
    {"test_add_uint64", "uint64"},
    {"test_sub_int16", "int16"},
    {"test_sub_uint16", "uint16"},
    {"test_sub_uint32", "uint32"},
    {"test_sub_uint64", "uint64"},
    {"test_mul_int16", "int16"},
    {"test_mul_uint16", "uint16"},
    {"test_mul_uint32", "uint32"},
    {"test_mul_uint64", "uint64"},
    {"test_div_int16", "int16"},
    {"test_div_uint16", "uint16"},
    {"test_div_uint32", "uint32"},
    {"test_div_uint64", "uint64"},
    {"test_dequantizelinear_int16", "int16"},
    {"test_dequantizelinear_uint16", "uint16"},
    {"test_quantizelinear_int16", "int16"},
    {"test_quantizelinear_uint16", "uint16"},
    {"test_quantizelinear_blocked_symmetric", "blocked quantization"},
    /* float8 / float4 / int4 / int2 / float16 */
    {"test_dequantizelinear_e4m3fn", "float8e4m3fn"},
    {"test_dequantizelinear_e4m3fn_float16", "float8e4m3fn"},
    {"test_dequantizelinear_e4m3fn_zero_point", "float8e4m3fn"},
    {"test_dequantizelinear_e5m2", "float8e5m2"},
    {"test_dequantizelinear_float4e2m1", "float4e2m1"},
    {"test_dequantizelinear_int2", "int2"},
    {"test_dequantizelinear_int4", "int4"},
    {"test_dequantizelinear_uint2", "uint2"},
    {"test_dequantizelinear_uint4", "uint4"},
    {"test_quantizelinear_e4m3fn", "float8e4m3fn"},
    {"test_quantizelinear_e5m2", "float8e5m2"},
    {"test_quantizelinear_float4e2m1", "float4e2m1"},
    {"test_quantizelinear_int2", "int2"},
    {"test_quantizelinear_int4", "int4"},
    {"test_quantizelinear_uint2", "uint2"},
    {"test_quantizelinear_uint4", "uint4"},
    {"test_qlinearmatmul_2D_int8_float16", "float16"},
    {"test_qlinearmatmul_2D_uint8_float16", "float16"},
    {"test_qlinearmatmul_3D_int8_float16", "float16"},
    {"test_qlinearmatmul_3D_uint8_float16", "float16"},
    /* blocked quantization */
    {"test_dequantizelinear_blocked", "blocked quantization"},
    {"test_quantizelinear_blocked_asymmetric", "blocked quantization"},
    /* training-mode BatchNormalization */
    {"test_batchnorm_epsilon_training_mode", "training-mode BatchNormalization"},
    {"test_batchnorm_example_training_mode", "training-mode BatchNormalization"},
    /* ops outside the supported set */
    {"test_lstm_with_peepholes", "peephole weights P are not supported"},
    {"test_rnn_seq_length", "op 'RNN' is not supported"},
    {"test_simple_rnn_batchwise", "op 'RNN' is not supported"},
    {"test_simple_rnn_defaults", "op 'RNN' is not supported"},
    {"test_simple_rnn_with_initial_bias", "op 'RNN' is not supported"},
    {"test_leakyrelu_default_expanded", "op 'CastLike' is not supported"},
    {"test_leakyrelu_example_expanded", "op 'CastLike' is not supported"},
    {"test_leakyrelu_expanded", "op 'CastLike' is not supported"},
    {"test_relu_expanded_ver18", "op 'CastLike' is not supported"},
};
#define N_EXPECTED ((int)(sizeof expected / sizeof expected[0]))

static const char *expected_msg(const char *test) {
    for (int i = 0; i < N_EXPECTED; i++)
        if (!strcmp(expected[i].test, test))
            return expected[i].message;
    return NULL;
}

static int read_pb(const char *path, wf_tensor *t, char *msg, size_t msz) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    wf_error err;
    wf_status s = wf_onnx_read_tensor(buf, got, t, NULL, 0, &err);
    free(buf);
    if (s) {
        snprintf(msg, msz, "%s: %s", path, err.msg);
        return -2;
    }
    return 0;
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* Runs one test folder. Returns 1 pass, 0 fail (message in why). */
static int run_one(const char *dir, const char *name, int *expected_fail_ok, char *why,
                   size_t wsz) {
    char path[8192];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    wf_model *m = NULL;
    wf_error err;
    wf_status s = wf_model_load(path, &m, &err);
    const char *want = expected_msg(name);
    *expected_fail_ok = 0;
    if (want) {
        if (s == WF_OK) {
            wf_model_free(m);
            snprintf(why, wsz, "expected a load failure containing \"%s\", but it loaded", want);
            return 0;
        }
        if (!strstr(err.msg, want)) {
            snprintf(why, wsz, "load failed but the message lacks \"%s\": %s", want, err.msg);
            return 0;
        }
        *expected_fail_ok = 1;
        return 1;
    }
    if (s) {
        snprintf(why, wsz, "load failed: %s", err.msg);
        return 0;
    }
    int ni = wf_model_n_inputs(m), ok = 1;
    wf_tensor *in = calloc((size_t)ni + 1, sizeof *in);
    for (int i = 0; i < ni; i++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        if (read_pb(path, &in[i], why, wsz)) {
            ok = 0;
            break;
        }
    }
    wf_engine *e = NULL;
    if (ok && wf_engine_new(m, 1, 0, &e, &err)) {
        snprintf(why, wsz, "engine: %s", err.msg);
        ok = 0;
    }
    if (ok && wf_engine_run(e, in, ni, &err)) {
        snprintf(why, wsz, "run: %s", err.msg);
        ok = 0;
    }
    for (int o = 0; ok && o < wf_model_n_outputs(m); o++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, o);
        if (!exists(path))
            break;
        wf_tensor want_t;
        if (read_pb(path, &want_t, why, wsz)) {
            ok = 0;
            break;
        }
        const wf_tensor *got = wf_engine_output(e, o);
        int64_t n = wf_tensor_numel(&want_t);
        if (got->dtype != want_t.dtype || wf_tensor_numel(got) != n || got->rank != want_t.rank) {
            snprintf(why, wsz, "output %d: got %s rank %d (%lld values), want %s rank %d (%lld)", o,
                     wf_dtype_name(got->dtype), got->rank, (long long)wf_tensor_numel(got),
                     wf_dtype_name(want_t.dtype), want_t.rank, (long long)n);
            ok = 0;
        }
        for (int d = 0; ok && d < got->rank; d++)
            if (got->dims[d] != want_t.dims[d]) {
                snprintf(why, wsz, "output %d: dim %d is %lld, want %lld", o, d,
                         (long long)got->dims[d], (long long)want_t.dims[d]);
                ok = 0;
            }
        for (int64_t i = 0; ok && i < n; i++) {
            double a, b;
            switch (want_t.dtype) {
            case WF_DTYPE_FLOAT:
                a = ((const float *)got->data)[i];
                b = ((const float *)want_t.data)[i];
                if (!(fabs(a - b) <= 1e-7 + 1e-3 * fabs(b)) && !(isnan(a) && isnan(b)) &&
                    !(isinf(a) && a == b)) {
                    snprintf(why, wsz, "output %d[%lld] = %.9g, want %.9g", o, (long long)i, a, b);
                    ok = 0;
                }
                break;
            default: {
                size_t es = wf_dtype_size(want_t.dtype);
                if (memcmp((const char *)got->data + (size_t)i * es,
                           (const char *)want_t.data + (size_t)i * es, es)) {
                    snprintf(why, wsz, "output %d[%lld] differs (integer dtype %s)", o,
                             (long long)i, wf_dtype_name(want_t.dtype));
                    ok = 0;
                }
            }
            }
        }
        free(want_t.data);
    }
    for (int i = 0; i < ni; i++)
        free(in[i].data);
    free(in);
    wf_engine_free(e);
    wf_model_free(m);
    return ok;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect test folders (those holding model.onnx), one level of grouping (simple/, ...). */
static int collect(const char *root, char ***out) {
    int n = 0, cap = 512;
    char **list = malloc((size_t)cap * sizeof *list);
    const char *groups[] = {"", "pytorch-converted/", "simple/"};
    for (int gi = 0; gi < 3; gi++) {
        char gdir[4096];
        snprintf(gdir, sizeof gdir, "%s/%s", root, groups[gi]);
        DIR *d = opendir(gdir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strncmp(de->d_name, "test_", 5))
                continue;
            char p[8192];
            snprintf(p, sizeof p, "%s%s/model.onnx", gdir, de->d_name);
            if (!exists(p))
                continue;
            if (n == cap)
                list = realloc(list, (size_t)(cap *= 2) * sizeof *list);
            snprintf(p, sizeof p, "%s%s", groups[gi], de->d_name);
            list[n++] = strdup(p);
        }
        closedir(d);
    }
    qsort(list, (size_t)n, sizeof *list, cmp_str);
    *out = list;
    return n;
}

START_TEST(test_node_tests) {
    char **list;
    int n = collect(tu_data("onnx/node"), &list);
    ck_assert_msg(n >= 200, "only %d node tests found", n);
    int pass = 0, load_fail_ok = 0, fail = 0;
    for (int i = 0; i < n; i++) {
        char dir[4096], why[2048] = "";
        snprintf(dir, sizeof dir, "%s/%s", tu_data("onnx/node"), list[i]);
        const char *base = strrchr(list[i], '/');
        base = base ? base + 1 : list[i];
        int efok = 0;
        if (run_one(dir, base, &efok, why, sizeof why)) {
            if (efok)
                load_fail_ok++;
            else
                pass++;
        } else {
            fail++;
            printf("FAIL %s: %s\n", list[i], why);
        }
        free(list[i]);
    }
    free(list);
    printf("ONNX node tests: %d run and match, %d rejected at load as expected, %d failed "
           "(of %d)\n",
           pass, load_fail_ok, fail, n);
    ck_assert_int_eq(fail, 0);
    /* The supported set must stay as large as it is now. */
    ck_assert_int_ge(pass, 176);
}
END_TEST

int main(void) {
    Suite *s = suite_create("onnx_node");
    TCase *tc = tcase_create("node");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_node_tests);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}

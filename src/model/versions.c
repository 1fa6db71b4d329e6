/* Versions of the libraries src/model links (protobuf-c, OpenBLAS). */
#include <cblas.h>
#include <protobuf-c/protobuf-c.h>

#include "whyflag/versions.h"

const char *wf_model_version_protobuf_c(void) {
    return protobuf_c_version();
}

const char *wf_model_version_openblas(void) {
    /* e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64" */
    return openblas_get_config();
}

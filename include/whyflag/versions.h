/*
 * whyflag: versions of whyflag and of the third-party libraries each module links, for the
 * manifest and the reports. Each module reports its own libraries (the only module that may
 * touch them), so the caller never includes a third-party header.
 */
#ifndef WHYFLAG_VERSIONS_H
#define WHYFLAG_VERSIONS_H

#ifdef __cplusplus
extern "C" {
#endif

const char *wf_version(void);                  /* "0.1.0" */
const char *wf_model_version_protobuf_c(void); /* src/model */
const char *wf_model_version_openblas(void);   /* src/model: OpenBLAS config string */
const char *wf_io_version_cjson(void);         /* src/io */
const char *wf_core_version_nettle(void);      /* src/core */
const char *wf_build_commit(void);             /* git commit of the build ("unknown" if none) */

#ifdef __cplusplus
}
#endif
#endif

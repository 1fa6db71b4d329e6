/* Versions of whyflag itself and of nettle (src/core's library). */
#include <nettle/version.h>

#include "core/version.h"
#include "whyflag/versions.h"

#define WF_STR_(x) #x
#define WF_STR(x) WF_STR_(x)

const char *wf_version(void) {
    return WF_VERSION;
}

const char *wf_core_version_nettle(void) {
    /* The version whyflag was built against (nettle keeps its ABI within a major version). */
    return WF_STR(NETTLE_VERSION_MAJOR) "." WF_STR(NETTLE_VERSION_MINOR);
}

#ifndef WF_GIT_COMMIT
#define WF_GIT_COMMIT "unknown"
#endif

const char *wf_build_commit(void) {
    /* `git describe --always --dirty` of the source tree when CMake configured the build. */
    return WF_GIT_COMMIT;
}

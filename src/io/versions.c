/* Version of the library src/io links (cJSON). */
#include <cjson/cJSON.h>

#include "whyflag/versions.h"

const char *wf_io_version_cjson(void) {
    return cJSON_Version();
}

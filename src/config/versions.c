/* Version of the library src/config links (cJSON). */
#include <cjson/cJSON.h>

#include "whyflag/versions.h"

const char *wf_config_version_cjson(void) {
    return cJSON_Version();
}

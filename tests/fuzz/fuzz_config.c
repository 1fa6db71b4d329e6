/*
 * libFuzzer harness for the config loader (cJSON + validation + explicit groups) and the
 * explain-settings string parsers. Build: CC=clang cmake -DWF_FUZZ=ON -DWF_SANITIZE=ON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "whyflag/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    wf_config cfg;
    wf_error err = {0};
    if (wf_config_parse(s, "fuzz.json", "base", &cfg, &err) == WF_OK)
        wf_config_deinit(&cfg);
    else if (!err.msg[0] || cfg.log.channels)
        abort(); /* every failure says why and leaks nothing */
    wf_explain_settings es;
    wf_explain_settings_default(&es);
    int64_t n;
    int steps;
    wf_explain_parse_groups(s, &es, &err);
    wf_explain_parse_nsamples(s, &n, &err);
    wf_explain_parse_steps(s, &steps, &err);
    wf_explain_parse_baseline(s, &es, &err);
    wf_explain_settings_deinit(&es);
    free(s);
    return 0;
}

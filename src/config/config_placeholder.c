/* placeholder: module config */
typedef int wf_config_placeholder_t;

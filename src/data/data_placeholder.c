/* placeholder: module data */
typedef int wf_data_placeholder_t;

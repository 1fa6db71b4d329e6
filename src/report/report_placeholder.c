/* placeholder: module report */
typedef int wf_report_placeholder_t;

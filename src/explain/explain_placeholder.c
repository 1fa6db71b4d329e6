/* placeholder: module explain */
typedef int wf_explain_placeholder_t;

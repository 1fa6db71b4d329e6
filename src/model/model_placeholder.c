typedef int wf_model_placeholder_t;

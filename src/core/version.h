#ifndef WF_CORE_VERSION_H
#define WF_CORE_VERSION_H
#define WF_VERSION "0.1.0"
#define WF_TOOL_NAME "whyflag " WF_VERSION
#endif

/* Wall-clock helpers (monotonic seconds for timings). */
#ifndef WF_CORE_CLOCK_H
#define WF_CORE_CLOCK_H

/* Seconds on the monotonic clock (for durations only). */
double wf_now_seconds(void);

#endif

/* crash.c -- what a crash leaves behind, with crash capture on.
   Teaches: obs_crash_capture() (or OBS_CRASH_CAPTURE=true): on a fatal signal obs.h writes a
            FATAL line and a backtrace to stderr, ends the open spans as errors, tries to send
            what is queued, then lets the signal kill the program as it would have.
   Run:     make build/crash && ./build/crash; echo "exit status $?"   (139 = SIGSEGV)
   Expect:  the span tree with status ERROR "SIGSEGV", "obs: FATAL: caught SIGSEGV" and frames. */
#define OBS_IMPLEMENTATION
#include "../obs.h"

#include <stdio.h>

static int parse_count(const char *text) {
    volatile int *nowhere = NULL;
    OBS_WARN("parsing %s", text);
    if (text[0] == '!') return *nowhere; /* the bug: a NULL dereference */
    return 1;
}

int main(void) {
    obs_config cfg = {0};
    obs_span *s;
    if (!getenv("OTEL_TRACES_EXPORTER")) cfg.traces_exporter = "console";
    if (!getenv("OTEL_LOGS_EXPORTER")) cfg.logs_exporter = "console";
    cfg.crash_capture = 1;
    if (obs_init(&cfg) != OBS_OK) return 1;
    s = obs_span_start(obs_tracer_get("crash-example", NULL), "import-file");
    obs_span_set_str(s, "file.path", "activities.csv");
    printf("count: %d\n", parse_count("!oops"));
    obs_span_end(s);
    obs_shutdown();
    return 0;
}

/* hello.c -- the course's first step, in C: one request, traced.
   Teaches: obs_init() from the environment; a SERVER span for the request; a child span
            with attributes; a span opened in another function (nesting is automatic:
            the current span is per thread); logs that join the span they are written in.
   Run:     make demo            (console exporter: a tree per trace on stdout, logs on stderr)
            OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 ./build/hello
   Next:    tool.c traces a command-line tool; backend.c serves real HTTP. */
#define OBS_IMPLEMENTATION
#include "../obs.h"

#include <stdio.h>
#include <time.h>

static obs_tracer *tracer;

/* A function with its own span: it becomes a child of whatever span is current. */
static int count_results(int n) {
    obs_span *s = obs_span_start(tracer, "count-results");
    obs_span_set_int(s, "app.count.input", n);
    obs_span_end(s);
    return n;
}

/* The course's HomeActivities.run(): mock data, with the time and the result length. */
static int home_activities(void) {
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    int n;
    obs_span *s = obs_span_start(tracer, "home-activities-mock-data");
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    obs_span_set_str(s, "app.now", now);
    OBS_INFO("HomeActivities: building the mock activities");
    n = count_results(3);
    obs_span_set_int(s, "app.result_length", n);
    obs_span_end(s);
    return n;
}

int main(void) {
    obs_span_opts server_opts = {0};
    obs_span *req;
    obs_result r;
    int i;
    /* Demo defaults: the console, unless the environment chose an exporter. */
    obs_config cfg = {0};
    if (!getenv("OTEL_TRACES_EXPORTER")) cfg.traces_exporter = "console";
    if (!getenv("OTEL_LOGS_EXPORTER")) cfg.logs_exporter = "console";
    if (!getenv("OTEL_SERVICE_NAME")) cfg.service_name = "backend-flask";

    server_opts.kind = OBS_SPAN_KIND_SERVER;
    r = obs_init(&cfg);
    if (r != OBS_OK) {
        fprintf(stderr, "obs_init: %s\n", obs_result_string(r));
        return 1;
    }
    tracer = obs_tracer_get("app.home", "1.0");

    /* What a web framework's middleware does for each request: two requests, two traces.
       Log lines print as they happen (stderr); a trace's tree when its root span ends. */
    for (i = 0; i < 2; i++) {
        req = obs_span_start_ex(tracer, "GET /api/activities/home", &server_opts);
        obs_span_set_str(req, "http.request.method", "GET");
        obs_span_set_str(req, "url.path", "/api/activities/home");
        OBS_INFO("request %d started", i + 1);
        obs_span_set_int(req, "app.activities", home_activities());
        obs_span_set_int(req, "http.response.status_code", 200);
        OBS_INFO("request %d done", i + 1);
        obs_span_end(req);
    }

    obs_shutdown(); /* flushes what is queued */
    return 0;
}

/* tests/static_b.c -- the second private copy (see static_a.c). */
#define OBS_STATIC
#define OBS_IMPLEMENTATION
#include "../obs.h"

int b_spans(void);
int b_spans(void) {
    obs_config cfg = {0};
    obs_exporter *mem = obs_memory_exporter_new(8);
    size_t n;
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.simple_processor = 1;
    cfg.span_exporters[0] = mem;
    obs_init(&cfg); /* this copy's own state: its obs_init succeeds while a's runs */
    obs_span_end(obs_span_start(obs_tracer_get("b", NULL), "from-b"));
    n = obs_memory_exporter_span_count(mem);
    obs_shutdown();
    obs_memory_exporter_free(mem);
    return (int)n;
}

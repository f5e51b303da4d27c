/* tests/static_a.c -- two private (OBS_STATIC) copies of obs.h linked into one program
   (with static_b.c): no symbol clashes, and each copy keeps its own state. */
#define OBS_STATIC
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include <stdio.h>

int b_spans(void);

int main(void) {
    obs_config cfg = {0};
    obs_exporter *mem = obs_memory_exporter_new(8);
    int ok;
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.simple_processor = 1;
    cfg.span_exporters[0] = mem;
    obs_init(&cfg);
    obs_span_end(obs_span_start(obs_tracer_get("a", NULL), "from-a"));
    ok = b_spans() == 1 && obs_memory_exporter_span_count(mem) == 1;
    obs_shutdown();
    obs_memory_exporter_free(mem);
    printf("%d passed, %d failed\n", ok, !ok);
    return !ok;
}

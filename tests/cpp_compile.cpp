// obs.h as C++: declarations, then the implementation, included twice (guards must hold).
#include "../obs.h"
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "../obs.h"
int main() {
    obs_config cfg = {};
    cfg.traces_exporter = "none";
    if (obs_init(&cfg) != OBS_OK) return 1;
    obs_span *s = obs_span_start(obs_tracer_get("cpp", "1"), "x");
    obs_span_set_int(s, "k", 1);
    obs_span_end(s);
    obs_shutdown();
    return 0;
}

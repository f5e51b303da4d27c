/* tests/disable_compile.c -- with OBS_DISABLE every call compiles to nothing: this program
   uses the API, links without any implementation, and the log macros' arguments are not
   evaluated (function arguments are: they are ordinary inline calls). */
#define OBS_DISABLE
#include "../obs.h"
#include <stdio.h>
#include <string.h>

static int evaluated;
static const char *side_effect(void) { evaluated++; return "x"; }

int main(void) {
    obs_config cfg;
    obs_tracer *t = obs_tracer_get("disabled", "1");
    obs_span *s;
    char buf[64];
    memset(&cfg, 0, sizeof cfg);
    if (obs_init(&cfg) != OBS_OK) return 1;
    s = obs_span_start(t, "name");
    obs_span_set_str(s, "k", "v");
    obs_span_set_int(s, "k", 1);
    obs_span_set_double(s, "k", 1.0);
    obs_span_set_bool(s, "k", 1);
    obs_span_add_event(s, "e");
    obs_span_set_status(s, OBS_STATUS_ERROR, "d");
    obs_span_record_error(s, "t", "m");
    obs_span_end(s);
    OBS_INFO("never %s", side_effect());
    OBS_SPAN_SCOPE(t, "block") { evaluated += 0; }
    {
        OBS_SPAN_AUTO(a, t, "auto");
        (void)a;
    }
    if (obs_span_traceparent(obs_span_current(), buf, sizeof buf) != 0) return 1;
    obs_flush(0);
    obs_shutdown();
    printf("%d passed, %d failed\n", evaluated == 0, evaluated != 0);
    return evaluated != 0;
}

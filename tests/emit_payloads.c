/* tests/emit_payloads.c -- makes every kind of OTLP payload obs.h writes and saves the request
   bodies as JSON Lines (traces to argv[1], logs to argv[2]), for `make interop`, which checks
   them against the official OTLP protobuf schema. */
#include "receiver.h"
#define OBS_IMPLEMENTATION
#include "../obs.h"

static FILE *out[2];
static void save(void *arg, const char *path, int protobuf, const char *body, size_t len) {
    (void)arg;
    if (protobuf) return;
    fwrite(body, 1, len, out[strcmp(path, "/v1/logs") == 0]);
    fputc('\n', out[strcmp(path, "/v1/logs") == 0]);
}

static void every_span_kind(obs_tracer *t) {
    static const char *strs[] = {"a", "", "\xC3\xA9t\xC3\xA9", "bad \xff byte"};
    static const int64_t ints[] = {0, -1, INT64_MAX, INT64_MIN};
    static const double dbls[] = {0.25, -1e-300, 1e300, 3.0};
    static const int bools[] = {1, 0};
    obs_span_opts o;
    obs_link link;
    obs_attr la[2], ea[3];
    obs_span *root, *s;
    int k;
    memset(&o, 0, sizeof o);
    o.kind = OBS_SPAN_KIND_SERVER;
    o.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    o.tracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    root = obs_span_start_ex(t, "GET /api/activities/home", &o);
    obs_span_set_str(root, "http.request.method", "GET");
    obs_span_set_int(root, "http.response.status_code", 200);
    obs_span_set_double(root, "app.ratio", 0.5);
    obs_span_set_bool(root, "app.cached", 1);
    obs_span_set_str_array(root, "app.tags", strs, 4);
    obs_span_set_int_array(root, "app.ints", ints, 4);
    obs_span_set_double_array(root, "app.doubles", dbls, 4);
    obs_span_set_bool_array(root, "app.bools", bools, 2);
    obs_span_set_int_array(root, "app.empty", NULL, 0);
    obs_span_set_str(root, "app.control", "tab\there\nnewline \x01 \"quoted\" \\ slash");
    ea[0] = obs_attr_str("app.step", "fetch");
    ea[1] = obs_attr_int("app.rows", 3);
    ea[2] = obs_attr_double("app.ms", 1.5);
    obs_span_add_event_attrs(root, "cache-miss", ea, 3);
    obs_span_add_event(root, "no-attributes");
    for (k = OBS_SPAN_KIND_INTERNAL; k <= OBS_SPAN_KIND_CONSUMER; k++) {
        memset(&o, 0, sizeof o);
        o.kind = (obs_span_kind)k;
        s = obs_span_start_ex(t, "child", &o);
        obs_span_set_status(s, k == OBS_SPAN_KIND_CLIENT ? OBS_STATUS_ERROR : OBS_STATUS_OK, "boom");
        obs_span_end(s);
    }
    memset(&link, 0, sizeof link);
    obs_span_ids(root, link.trace_id, link.span_id);
    link.trace_flags = 1;
    link.trace_state = "rojo=00f067aa0ba902b7";
    la[0] = obs_attr_str("link.reason", "retry");
    la[1] = obs_attr_int("link.n", 2);
    link.attrs = la;
    link.n_attrs = 2;
    s = obs_span_start(t, "linked");
    obs_span_add_link(s, &link);
    obs_span_record_error(s, "ValueError", "bad input \xff");
    for (k = 0; k < 6; k++) obs_span_set_int(s, k % 2 ? "odd" : "even", k); /* replaced keys */
    obs_span_end(s);
    obs_span_end(root);
    memset(&o, 0, sizeof o);
    o.root = 1;
    s = obs_span_start_ex(t, "over-limits", &o);
    for (k = 0; k < 5; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        obs_span_set_str(s, key, "a value longer than the limit");
        obs_span_add_event(s, "e");
        obs_span_add_link(s, &link);
    }
    obs_span_end(s);
}

static void every_log_kind(obs_tracer *t) {
    obs_attr a[3];
    obs_span *s = obs_span_start(t, "with-logs");
    a[0] = obs_attr_str("user.id", "42");
    a[1] = obs_attr_int("rows", 3);
    a[2] = obs_attr_bool("ok", 1);
    OBS_TRACE("trace %d", 1);
    OBS_DEBUG("debug %s", "x");
    OBS_INFO_ATTRS(a, 3, "info with attributes %d%%", 50);
    OBS_WARN("warn \xff invalid byte");
    OBS_ERROR("error");
    OBS_FATAL("fatal");
    obs_report_error("ValueError", "reported");
    obs_span_end(s);
    obs_log(OBS_LEVEL_INFO, "outside any span");
}

int main(int argc, char **argv) {
    rcv_config rc;
    rcv *r;
    obs_config cfg;
    char url[64];
    obs_tracer *t;
    if (argc < 3 || !(out[0] = fopen(argv[1], "w")) || !(out[1] = fopen(argv[2], "w"))) {
        fprintf(stderr, "usage: emit_payloads TRACES.jsonl LOGS.jsonl\n");
        return 2;
    }
    memset(&rc, 0, sizeof rc);
    rc.retry_after_s = -1;
    rc.on_accept = save;
    if (!(r = rcv_start(&rc))) return 1;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", rcv_port(r));
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "otlp";
    cfg.logs_exporter = "otlp";
    cfg.otlp_endpoint = url;
    cfg.otlp_protocol = "http/json";
    cfg.log_level = OBS_LEVEL_TRACE;
    cfg.service_name = "interop";
    cfg.resource_attributes = "deployment.environment=test,team=obs%20h";
    if (obs_init(&cfg) != OBS_OK) return 1;
    t = obs_tracer_get("interop.spans", "1.0.0");
    every_span_kind(t);
    every_log_kind(obs_tracer_get("interop.logs", NULL));
    obs_shutdown();
    /* The limits case: a second run with small limits gives dropped counts. */
    cfg.attribute_count_limit = 2;
    cfg.event_count_limit = 2;
    cfg.link_count_limit = 2;
    cfg.attribute_value_length_limit = 8;
    if (obs_init(&cfg) != OBS_OK) return 1;
    every_span_kind(obs_tracer_get("interop.limits", NULL));
    obs_shutdown();
    printf("emit_payloads: %ld spans, %ld log records\n", rcv_get_stats(r).spans, rcv_get_stats(r).logs);
    rcv_stop(r);
    fclose(out[0]);
    fclose(out[1]);
    return 0;
}

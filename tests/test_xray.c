/* tests/test_xray.c -- issue 5 in one process: the X-Ray sampling rule (reservoir per second,
   fixed rate, statistically; parent decisions), the HTTP server/client span helpers (remote
   parents, attributes, the access log, inject -> extract round trips), and the X-Ray daemon
   exporter against a UDP listener in the test (header line, document fields, JSON validity,
   errors, exceptions, trimming to the UDP limit). */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#define TRACE_HEX "0af7651916cd43dd8448eb211c80319c"
#define PARENT_HEX "b7ad6b7169203331"
#define TP_SAMPLED "00-" TRACE_HEX "-" PARENT_HEX "-01"
#define TP_UNSAMPLED "00-" TRACE_HEX "-" PARENT_HEX "-00"

static obs_exporter *mem;
static obs_tracer *tr;

static void start(obs_exporter *extra) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(10000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.service_name = "backend-flask";
    c.simple_processor = 1;
    c.span_exporters[0] = mem;
    c.span_exporters[1] = extra;
    c.log_exporters[0] = mem;
    CHECK(obs_init(&c) == OBS_OK);
    tr = obs_tracer_get("test_xray", "1");
}
static void stop(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}

static void hex(const uint8_t *id, size_t n, char *out) {
    obs__hex_encode(id, n, out);
    out[2 * n] = 0;
}
static const obs_attr *attr(const obs_attr *a, size_t n, const char *key) {
    return obs_attr_find(a, n, key);
}
static int attr_is(const obs_attr *a, size_t n, const char *key, const char *v) {
    const obs_attr *x = attr(a, n, key);
    return x && x->type == OBS_ATTR_STRING && strcmp(x->v.s, v) == 0;
}
static int attr_int_is(const obs_attr *a, size_t n, const char *key, int64_t v) {
    const obs_attr *x = attr(a, n, key);
    return x && x->type == OBS_ATTR_INT && x->v.i == v;
}
static const obs_span_data *span_named(const char *name) {
    size_t i;
    for (i = obs_memory_exporter_span_count(mem); i-- > 0;) {
        const obs_span_data *s = obs_memory_exporter_span(mem, i);
        if (strcmp(s->name, name) == 0) return s;
    }
    return NULL;
}
static const obs_log_data *last_log(void) {
    size_t n = obs_memory_exporter_log_count(mem);
    return n ? obs_memory_exporter_log(mem, n - 1) : NULL;
}

/* ---- a small JSON validator (RFC 8259 grammar; strings: escapes checked, bytes >= 0x20) ---- */
static const char *js_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}
static const char *js_value(const char *p, int depth);
static const char *js_string(const char *p) {
    if (*p++ != '"') return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                int i;
                for (i = 1; i <= 4; i++) {
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i]) return NULL;
                }
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}
static const char *js_number(const char *p) {
    const char *s = p;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return NULL;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') p++;
    }
    return p > s ? p : NULL;
}
static const char *js_value(const char *p, int depth) {
    p = js_ws(p);
    if (depth > 64) return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = js_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (obj) {
                if (!(p = js_string(js_ws(p)))) return NULL;
                p = js_ws(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = js_value(p, depth + 1))) return NULL;
            p = js_ws(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    if (*p == '"') return js_string(p);
    if (!strncmp(p, "true", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    if (!strncmp(p, "null", 4)) return p + 4;
    return js_number(p);
}
static int json_valid(const char *doc) {
    const char *end = js_value(doc, 0);
    return end && *js_ws(end) == 0;
}

/* ---- the X-Ray sampling rule ---- */

static uint64_t rng_state = 12345;
static void random_trace(uint8_t *id) {
    uint64_t a = obs__rng_next(&rng_state), b = obs__rng_next(&rng_state);
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}
static void rule(obs__xray_sampler *x, uint32_t reservoir, double rate) {
    memset(x, 0, sizeof *x);
    x->reservoir = reservoir;
    x->threshold = obs__ratio_threshold(rate);
}
static int sample_n(obs__xray_sampler *x, int64_t now_ns, int n) {
    uint8_t id[16];
    int i, k = 0;
    for (i = 0; i < n; i++) {
        random_trace(id);
        k += obs__xray_sample(x, now_ns, id);
    }
    return k;
}

static void test_reservoir_per_second(void) {
    obs__xray_sampler x;
    const int64_t sec = 1700000000LL * 1000000000LL;
    rule(&x, 5, 0.0);
    CHECK(sample_n(&x, sec, 20) == 5);                 /* 5 a second, the rest at rate 0 */
    CHECK(sample_n(&x, sec + 999999999, 20) == 0);     /* same second: spent */
    CHECK(sample_n(&x, sec + 1000000000, 20) == 5);    /* next second: 5 again */
    CHECK(sample_n(&x, sec + 1500000000, 3) == 0);
    CHECK(sample_n(&x, sec, 20) == 5);                 /* a clock stepped back: not starved */
    rule(&x, 0, 0.0);
    CHECK(sample_n(&x, sec, 1000) == 0);               /* no reservoir, no rate: nothing */
    rule(&x, 0, 1.0);
    CHECK(sample_n(&x, sec, 1000) == 1000);
    rule(&x, 1, 0.0);                                  /* one a second, over ten seconds */
    {
        int s, k = 0;
        for (s = 0; s < 10; s++) k += sample_n(&x, sec + (int64_t)s * 1000000000 + 12345, 100);
        CHECK(k == 10);
    }
}

static void test_rate_statistics(void) {
    obs__xray_sampler x;
    const int64_t sec = 1700000000LL * 1000000000LL;
    int k;
    /* rate 0.1 of 200000: mean 20000, sd 134; allow +-1000 (7 sd) */
    rule(&x, 0, 0.1);
    k = sample_n(&x, sec, 200000);
    CHECK(k > 19000 && k < 21000);
    /* the course's rule (ReservoirSize 5, FixedRate 0.1), 10000 requests in one second:
       5 + 0.1 * 9995 = 1004.5, sd 30 */
    rule(&x, 5, 0.1);
    k = sample_n(&x, sec, 10000);
    CHECK(k > 1004 - 200 && k < 1004 + 200);
    /* the X-Ray default rule (1 a second + 5%) over 20 seconds of 1000 requests:
       20 + 0.05 * 19980 = 1019, sd 31 */
    rule(&x, 1, 0.05);
    {
        int s;
        k = 0;
        for (s = 0; s < 20; s++) k += sample_n(&x, sec + (int64_t)s * 1000000000, 1000);
        CHECK(k > 1019 - 200 && k < 1019 + 200);
    }
    /* the rate is decided by the trace id: the same id gets the same answer */
    {
        uint8_t id[16];
        int i, same = 1;
        rule(&x, 0, 0.5);
        for (i = 0; i < 100; i++) {
            int a, b;
            random_trace(id);
            a = obs__xray_sample(&x, sec, id);
            b = obs__xray_sample(&x, sec + 5000000000LL, id);
            same &= a == b;
        }
        CHECK(same);
    }
}

typedef struct race_arg {
    obs__xray_sampler *x;
    int64_t now;
    int taken;
} race_arg;
static void *race_main(void *p) {
    race_arg *a = (race_arg *)p;
    uint8_t id[16];
    int i;
    memset(id, 0, sizeof id); /* rate 0 and a zero id: only the reservoir can say yes */
    for (i = 0; i < 20000; i++) a->taken += obs__xray_sample(a->x, a->now, id);
    return NULL;
}
/* The reservoir is exact under contention: one CAS per decision, no lock. */
static void test_reservoir_threads(void) {
    obs__xray_sampler x;
    pthread_t th[8];
    race_arg args[8];
    int i, total = 0;
    rule(&x, 100, 0.0);
    for (i = 0; i < 8; i++) {
        args[i].x = &x;
        args[i].now = 1700000000LL * 1000000000LL + 1000;
        args[i].taken = 0;
        pthread_create(&th[i], NULL, race_main, &args[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += args[i].taken;
    }
    CHECK(total == 100);
}

static void test_rule_parse(void) {
    static const struct {
        const char *arg;
        int ok;
        uint32_t res;
        double rate;
    } cases[] = {
        {"reservoir=5,rate=0.1", 1, 5, 0.1},
        {"rate=0.1,reservoir=5", 1, 5, 0.1},
        {" Reservoir = 7 , RATE=1 ", 1, 7, 1.0},
        {"rate=0.25", 1, 9, 0.25},        /* reservoir untouched (9 = the value before) */
        {"reservoir=0", 1, 0, 0.5},
        {"0.3", 1, 9, 0.3},               /* a bare number: the rate */
        {"reservoir=5,", 1, 5, 0.5},      /* an empty member */
        {"reservoir=1000000", 1, 1000000, 0.5},
        {"reservoir=1000001", 0, 9, 0.5},
        {"reservoir=1.5", 0, 9, 0.5},
        {"reservoir=-1", 0, 9, 0.5},
        {"reservoir=", 0, 9, 0.5},
        {"rate=2", 0, 9, 0.5},
        {"rate=-0.1", 0, 9, 0.5},
        {"rate=nan", 0, 9, 0.5},
        {"rate=0.1x", 0, 9, 0.5},
        {"fixed=0.1", 0, 9, 0.5},
        {"reservoir=5;rate=0.1", 0, 9, 0.5},
        {"1.5", 0, 9, 0.5},
        {"", 0, 9, 0.5},
        {"reservoir=5,bogus", 0, 9, 0.5}, /* all or nothing */
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t res = 9;
        double rate = 0.5;
        int ok = obs__xray_rule_parse(cases[i].arg, &res, &rate);
        if (ok != cases[i].ok || res != cases[i].res || rate != cases[i].rate) {
            fprintf(stderr, "rule_parse(\"%s\"): ok=%d res=%u rate=%g\n", cases[i].arg, ok, res,
                    rate);
        }
        CHECK(ok == cases[i].ok && res == cases[i].res && rate == cases[i].rate);
    }
}

static void test_sampler_setup(void) {
    obs__xray_sampler x;
    obs__xray_sampler_setup(&x, 0, 0.0, NULL); /* the X-Ray default rule: 1 a second + 5% */
    CHECK(x.reservoir == 1 && x.threshold == obs__ratio_threshold(0.05));
    obs__xray_sampler_setup(&x, 0, 0.0, "reservoir=5,rate=0.1"); /* the course's rule */
    CHECK(x.reservoir == 5 && x.threshold == obs__ratio_threshold(0.1));
    obs__xray_sampler_setup(&x, 0, 0.0, "nonsense"); /* reported, then the default */
    CHECK(x.reservoir == 1 && x.threshold == obs__ratio_threshold(0.05));
    obs__xray_sampler_setup(&x, 3, 0.5, "reservoir=5,rate=0.1"); /* obs_config wins */
    CHECK(x.reservoir == 3 && x.threshold == obs__ratio_threshold(0.5));
    obs__xray_sampler_setup(&x, -1, -1.0, NULL); /* negative: 0 */
    CHECK(x.reservoir == 0 && x.threshold == obs__ratio_threshold(0.0));
}

/* Parent decisions: parent-based follows any parent; xray follows local parents only. */
static void test_decide(void) {
    obs__xray_sampler x;
    uint8_t id[16];
    int i, k;
    memset(id, 0, sizeof id);
    rule(&x, 0, 0.0); /* the rule alone says no */
    CHECK(obs__xray_decide(&x, 1, 1, 1, 1, id) == 1); /* remote parent sampled: yes */
    CHECK(obs__xray_decide(&x, 1, 1, 0, 1, id) == 1); /* local parent sampled: yes */
    CHECK(obs__xray_decide(&x, 1, 0, 0, 0, id) == 0); /* root: the rule */
    CHECK(obs__xray_decide(&x, 0, 1, 1, 1, id) == 0); /* xray: a remote parent is an entry */
    CHECK(obs__xray_decide(&x, 0, 1, 0, 1, id) == 1); /* xray: a local parent is followed */
    rule(&x, 0, 1.0); /* the rule alone says yes */
    CHECK(obs__xray_decide(&x, 1, 1, 1, 0, id) == 0); /* remote parent not sampled: no */
    CHECK(obs__xray_decide(&x, 1, 1, 0, 0, id) == 0);
    CHECK(obs__xray_decide(&x, 1, 0, 0, 0, id) == 1);
    CHECK(obs__xray_decide(&x, 0, 1, 1, 0, id) == 1);
    CHECK(obs__xray_decide(&x, 0, 1, 0, 0, id) == 0);
    rule(&x, 5, 0.0); /* the real clock: 5 a second (10 when the loop straddles a second) */
    for (i = k = 0; i < 50; i++) k += obs__xray_decide(&x, 1, 0, 0, 0, id);
    CHECK(k >= 5 && k <= 10);
}

/* 1 once obs.h knows the X-Ray sampler names (parts/xray.h spliced and wired). */
static int wired;

/* A span with a remote parent (traceparent tp, or X-Ray header xh) and one local child:
   2 * child recording + parent recording. */
static int entry_and_child(const char *tp, const char *xh) {
    obs_span_opts o;
    obs_span *s, *c;
    int r;
    memset(&o, 0, sizeof o);
    o.traceparent = tp;
    o.xray_header = xh;
    s = obs_span_start_ex(tr, "entry", &o);
    c = obs_span_start(tr, "local child");
    r = obs_span_is_recording(s) + 2 * obs_span_is_recording(c);
    obs_span_end(c);
    obs_span_end(s);
    return r;
}

/* Through obs_init and the environment, once obs.h knows the names (the lead wires them). */
static void test_sampler_env(void) {
    int i, k = 0;
    setenv("OTEL_TRACES_SAMPLER", "parentbased_xray", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "reservoir=5,rate=0", 1);
    start(NULL);
    wired = (int)obs__g.sampler.kind > (int)OBS_SAMPLER_PARENTBASED_TRACEIDRATIO;
    if (!wired) {
        printf("  (parentbased_xray not wired into obs.h yet: environment checks skipped)\n");
    } else {
        obs_span_opts o;
        obs_span *s;
        for (i = 0; i < 50; i++) {
            s = obs_span_start(tr, "root");
            k += obs_span_is_recording(s);
            obs_span_end(s);
        }
        CHECK(k >= 5 && k <= 10);
        memset(&o, 0, sizeof o);
        o.traceparent = TP_SAMPLED; /* the caller sampled: so do we, reservoir or not */
        for (i = k = 0; i < 20; i++) {
            s = obs_span_start_ex(tr, "child of -01", &o);
            k += obs_span_is_recording(s);
            obs_span_end(s);
        }
        CHECK(k == 20);
        o.traceparent = TP_UNSAMPLED;
        s = obs_span_start_ex(tr, "child of -00", &o);
        CHECK(s && !obs_span_is_recording(s));
        obs_span_end(s);
        /* X-Ray Sampled=? leaves it to the rule (this second's reservoir is spent: rate 0) */
        CHECK(entry_and_child(
                  NULL,
                  "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?") ==
              0);
        CHECK(entry_and_child(
                  NULL,
                  "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1") ==
              3);
        stop();
        /* xray: the rule decides at the entry whatever the caller said; local children follow */
        setenv("OTEL_TRACES_SAMPLER", "xray", 1);
        setenv("OTEL_TRACES_SAMPLER_ARG", "reservoir=0,rate=1", 1);
        start(NULL);
        CHECK(entry_and_child(TP_UNSAMPLED, NULL) == 3);
        stop();
        setenv("OTEL_TRACES_SAMPLER_ARG", "reservoir=0,rate=0", 1);
        start(NULL);
        CHECK(entry_and_child(TP_SAMPLED, NULL) == 0);
        s = obs_span_start(tr, "root");
        CHECK(s && !obs_span_is_recording(s));
        obs_span_end(s);
    }
    stop();
    unsetenv("OTEL_TRACES_SAMPLER");
    unsetenv("OTEL_TRACES_SAMPLER_ARG");
}

/* ---- HTTP helpers ---- */

static obs_http_server_req home_req(void) {
    obs_http_server_req r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.target = "/api/activities/home?x=1";
    r.route = "/api/activities/home";
    r.host = "localhost:4567";
    r.client_address = "127.0.0.1";
    r.user_agent = "curl/8.0";
    return r;
}

static void test_server_span(void) {
    obs_http_server_req r = home_req();
    const obs_span_data *d;
    const obs_log_data *l;
    obs_span *s, *outer;
    char tid[33], sid[17], pid[17];
    uint8_t span_id[8];
    start(NULL);
    outer = obs_span_start(tr, "unrelated current span"); /* must not become the parent */
    r.traceparent = TP_SAMPLED;
    r.tracestate = "congo=t61rcWkgMzE";
    s = obs_http_server_start(tr, &r);
    CHECK(obs_span_is_recording(s) && obs_span_current() == s);
    obs_span_ids(s, NULL, span_id);
    obs_http_server_end(s, &r, 200, 1234);
    obs_span_end(outer);
    d = span_named("GET /api/activities/home");
    CHECK(d != NULL);
    if (d) {
        hex(d->trace_id, 16, tid);
        hex(d->parent_span_id, 8, pid);
        hex(d->span_id, 8, sid);
        CHECK_STR(tid, TRACE_HEX);
        CHECK_STR(pid, PARENT_HEX);
        CHECK(d->has_parent && d->parent_is_remote && d->kind == OBS_SPAN_KIND_SERVER);
        CHECK_STR(d->trace_state, "congo=t61rcWkgMzE");
        CHECK(attr_is(d->attrs, d->n_attrs, "http.request.method", "GET"));
        CHECK(attr_is(d->attrs, d->n_attrs, "url.path", "/api/activities/home"));
        CHECK(attr_is(d->attrs, d->n_attrs, "url.query", "x=1"));
        CHECK(attr_is(d->attrs, d->n_attrs, "url.scheme", "http"));
        CHECK(attr_is(d->attrs, d->n_attrs, "server.address", "localhost"));
        CHECK(attr_int_is(d->attrs, d->n_attrs, "server.port", 4567));
        CHECK(attr_is(d->attrs, d->n_attrs, "client.address", "127.0.0.1"));
        CHECK(attr_is(d->attrs, d->n_attrs, "user_agent.original", "curl/8.0"));
        CHECK(attr_int_is(d->attrs, d->n_attrs, "http.response.status_code", 200));
        CHECK(attr_int_is(d->attrs, d->n_attrs, "http.response.body.size", 1234));
        CHECK(d->status == OBS_STATUS_UNSET && !attr(d->attrs, d->n_attrs, "error.type"));
        CHECK(attr_is(d->attrs, d->n_attrs, "http.route", "/api/activities/home"));
    }
    /* the access log, joined to the server span although another span was current */
    l = last_log();
    CHECK(l != NULL);
    if (l) {
        CHECK_STR(l->body, "127.0.0.1 GET http /api/activities/home?x=1 200");
        CHECK(l->level == OBS_LEVEL_INFO);
        CHECK(memcmp(l->span_id, span_id, 8) == 0 && (l->trace_flags & 1));
        CHECK(attr_int_is(l->attrs, l->n_attrs, "http.response.status_code", 200));
        CHECK(attr_is(l->attrs, l->n_attrs, "url.path", "/api/activities/home"));
        CHECK(attr_is(l->attrs, l->n_attrs, "client.address", "127.0.0.1"));
        CHECK(attr_int_is(l->attrs, l->n_attrs, "http.response.body.size", 1234));
    }
    stop();
}

/* -00 under the parent-based default: nothing recorded, the access log still written. */
static void test_server_unsampled(void) {
    obs_http_server_req r = home_req();
    const obs_log_data *l;
    obs_span *s, *child;
    size_t before;
    start(NULL);
    r.traceparent = TP_UNSAMPLED;
    before = obs_memory_exporter_span_count(mem);
    s = obs_http_server_start(tr, &r);
    CHECK(s != NULL && !obs_span_is_recording(s));
    child = obs_span_start(tr, "home-activities-mock-data"); /* inherits the decision */
    CHECK(child != NULL && !obs_span_is_recording(child));
    obs_span_end(child);
    obs_http_server_end(s, &r, 200, 10);
    CHECK(obs_memory_exporter_span_count(mem) == before);
    l = last_log();
    CHECK(l && strstr(l->body, " 200") != NULL && !(l->trace_flags & 1));
    if (l) {
        char tid[33];
        hex(l->trace_id, 16, tid);
        CHECK_STR(tid, TRACE_HEX); /* the log still names the caller's trace */
    }
    stop();
}

static void test_server_variants(void) {
    obs_http_server_req r = home_req();
    const obs_span_data *d;
    const obs_log_data *l;
    obs_span *s;
    char tid[33], pid[17], longpath[1024], longroute[300];
    start(NULL);
    /* 5xx: an error, logged at ERROR */
    s = obs_http_server_start(tr, &r);
    obs_http_server_end(s, &r, 503, -1);
    d = span_named("GET /api/activities/home");
    CHECK(d && d->status == OBS_STATUS_ERROR && attr_is(d->attrs, d->n_attrs, "error.type", "503"));
    CHECK(d && !attr(d->attrs, d->n_attrs, "http.response.body.size"));
    CHECK(d && !d->has_parent); /* no headers: a new trace */
    l = last_log();
    CHECK(l && l->level == OBS_LEVEL_ERROR);
    /* 4xx: the client's error, not the server's */
    obs_memory_exporter_clear(mem);
    s = obs_http_server_start(tr, &r);
    obs_http_server_end(s, &r, 404, 0);
    d = span_named("GET /api/activities/home");
    CHECK(d && d->status == OBS_STATUS_UNSET);
    /* an invalid traceparent falls back to X-Amzn-Trace-Id */
    obs_memory_exporter_clear(mem);
    r.traceparent = "00-" TRACE_HEX "-" PARENT_HEX "-0"; /* too short */
    r.xray_header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    s = obs_http_server_start(tr, &r);
    obs_http_server_end(s, &r, 200, 0);
    d = span_named("GET /api/activities/home");
    CHECK(d != NULL);
    if (d) {
        hex(d->trace_id, 16, tid);
        hex(d->parent_span_id, 8, pid);
        CHECK_STR(tid, "5759e988bd862e3fe1be46a994272793");
        CHECK_STR(pid, "53995c3f42cd8ad8");
    }
    /* a route names the span; an unknown method is _OTHER and "HTTP" */
    obs_memory_exporter_clear(mem);
    r = home_req();
    r.method = "PURGE";
    r.target = "/api/users/42/short";
    r.route = "/api/users/:id/short";
    r.host = "[::1]:8080";
    r.scheme = "https";
    s = obs_http_server_start(tr, &r);
    obs_http_server_end(s, NULL, 200, 0);
    d = span_named("HTTP /api/users/:id/short");
    CHECK(d != NULL);
    if (d) {
        CHECK(attr_is(d->attrs, d->n_attrs, "http.request.method", "_OTHER"));
        CHECK(attr_is(d->attrs, d->n_attrs, "http.request.method_original", "PURGE"));
        CHECK(attr_is(d->attrs, d->n_attrs, "http.route", "/api/users/:id/short"));
        CHECK(attr_is(d->attrs, d->n_attrs, "url.path", "/api/users/42/short"));
        CHECK(attr_is(d->attrs, d->n_attrs, "server.address", "::1"));
        CHECK(attr_int_is(d->attrs, d->n_attrs, "server.port", 8080));
        CHECK(attr_is(d->attrs, d->n_attrs, "url.scheme", "https"));
        CHECK(!attr(d->attrs, d->n_attrs, "url.query"));
    }
    /* no route: named by the method alone; absolute-form target; host without a port;
       a long route cut on a UTF-8 boundary */
    obs_memory_exporter_clear(mem);
    memset(longpath, 0, sizeof longpath);
    memcpy(longpath, "http://example.com/", 19);
    memset(longpath + 19, 'a', 300);
    memcpy(longpath + 19 + 300, "\xc3\xa9?q=1", 6);
    r = home_req();
    r.target = longpath;
    r.route = NULL;
    r.host = "example.com:";
    s = obs_http_server_start(tr, &r);
    obs_http_server_end(s, NULL, 200, 0);
    memcpy(longroute, longpath + 18, 250); /* "/" + 249 'a', then a 2-byte character that */
    memcpy(longroute + 250, "\xc3\xa9", 3); /* does not fit the 255-byte name: left out */
    r.route = longroute;
    s = obs_http_server_start(tr, &r);
    obs_http_server_end(s, NULL, 200, 0);
    CHECK(obs_memory_exporter_span_count(mem) == 2);
    d = obs_memory_exporter_span_count(mem) == 2 ? obs_memory_exporter_span(mem, 1) : NULL;
    CHECK(d && strlen(d->name) == 4 + 250 && strncmp(d->name, "GET /aaaa", 9) == 0);
    d = obs_memory_exporter_span_count(mem) ? obs_memory_exporter_span(mem, 0) : NULL;
    if (d) {
        const obs_attr *p = attr(d->attrs, d->n_attrs, "url.path");
        CHECK_STR(d->name, "GET");
        CHECK(!attr(d->attrs, d->n_attrs, "http.route"));
        CHECK(p && p->n == 1 + 300 + 2 && p->v.s[0] == '/');
        CHECK(attr_is(d->attrs, d->n_attrs, "url.query", "q=1"));
        CHECK(attr_is(d->attrs, d->n_attrs, "server.address", "example.com"));
        CHECK(!attr(d->attrs, d->n_attrs, "server.port"));
    }
    /* NULL request and NULL span are safe */
    s = obs_http_server_start(tr, NULL);
    CHECK(s != NULL);
    obs_http_server_end(s, NULL, 200, -1);
    obs_http_server_end(NULL, &r, 200, -1);
    stop();
    CHECK(obs_http_server_start(tr, &r) == NULL); /* after shutdown */
}

static void test_client_span(void) {
    obs_http_headers h;
    obs_span_opts o;
    obs_span *root, *c;
    const obs_span_data *d, *rd;
    char expect[80], tid[33], sid[17];
    start(NULL);
    memset(&o, 0, sizeof o);
    o.traceparent = TP_SAMPLED;
    o.tracestate = "congo=t61rcWkgMzE";
    root = obs_span_start_ex(tr, "frontend: load home", &o);
    c = obs_http_client_start(tr, "GET", "http://user:secret@127.0.0.1:4567/api/activities/home",
                              &h);
    CHECK(obs_span_current() == c);
    obs_http_client_end(c, 200);
    obs_span_end(root);
    d = span_named("GET");
    rd = span_named("frontend: load home");
    CHECK(d && rd);
    if (d && rd) {
        hex(d->trace_id, 16, tid);
        hex(d->span_id, 8, sid);
        CHECK(d->kind == OBS_SPAN_KIND_CLIENT && memcmp(d->parent_span_id, rd->span_id, 8) == 0);
        snprintf(expect, sizeof expect, "00-%s-%s-01", tid, sid);
        CHECK_STR(h.traceparent, expect);
        CHECK_STR(h.tracestate, "congo=t61rcWkgMzE");
        snprintf(expect, sizeof expect, "Root=1-%.8s-%s;Parent=%s;Sampled=1", tid, tid + 8, sid);
        CHECK_STR(h.xray, expect);
        CHECK(attr_is(d->attrs, d->n_attrs, "url.full",
                      "http://REDACTED:REDACTED@127.0.0.1:4567/api/activities/home"));
        CHECK(attr_is(d->attrs, d->n_attrs, "server.address", "127.0.0.1"));
        CHECK(attr_int_is(d->attrs, d->n_attrs, "server.port", 4567));
        CHECK(attr_is(d->attrs, d->n_attrs, "http.request.method", "GET"));
        CHECK(attr_int_is(d->attrs, d->n_attrs, "http.response.status_code", 200));
        CHECK(d->status == OBS_STATUS_UNSET);
    }
    /* 4xx is an error for a client; no response too; default ports */
    obs_memory_exporter_clear(mem);
    c = obs_http_client_start(tr, "POST", "https://example.com/x", &h);
    obs_http_client_end(c, 404);
    d = span_named("POST");
    CHECK(d && d->status == OBS_STATUS_ERROR && attr_is(d->attrs, d->n_attrs, "error.type", "404"));
    CHECK(d && attr_int_is(d->attrs, d->n_attrs, "server.port", 443));
    CHECK(d && attr_is(d->attrs, d->n_attrs, "url.full", "https://example.com/x"));
    obs_memory_exporter_clear(mem);
    c = obs_http_client_start(tr, NULL, "http://example.com", NULL);
    obs_http_client_end(c, 0);
    d = span_named("GET");
    CHECK(d && d->status == OBS_STATUS_ERROR &&
          attr_is(d->attrs, d->n_attrs, "error.type", "_OTHER"));
    CHECK(d && attr_int_is(d->attrs, d->n_attrs, "server.port", 80));
    /* a non-recording client span still propagates (with -00) */
    o.traceparent = TP_UNSAMPLED;
    o.tracestate = NULL;
    root = obs_span_start_ex(tr, "unsampled", &o);
    c = obs_http_client_start(tr, "GET", "http://127.0.0.1:1/", &h);
    CHECK(strncmp(h.traceparent, "00-" TRACE_HEX "-", 36) == 0 &&
          strcmp(h.traceparent + 52, "-00") == 0);
    CHECK(strstr(h.xray, ";Sampled=0") != NULL && h.tracestate[0] == 0);
    obs_http_client_end(c, 200);
    obs_span_end(root);
    stop();
    /* before obs_init / after shutdown: NULL, empty headers */
    memset(&h, 'x', sizeof h);
    CHECK(obs_http_client_start(tr, "GET", "http://x/", &h) == NULL);
    CHECK(h.traceparent[0] == 0 && h.tracestate[0] == 0 && h.xray[0] == 0);
    obs_http_inject(NULL, NULL);
}

/* inject -> extract: a client's headers start the next service's server span. */
static void test_round_trip(void) {
    obs_http_headers h;
    obs_http_server_req r = home_req();
    obs_span *root, *c, *s;
    uint8_t ctid[16], csid[8], stid[16];
    const obs_span_data *d;
    int via;
    start(NULL);
    for (via = 0; via < 2; via++) { /* 0: traceparent + tracestate, 1: X-Amzn-Trace-Id alone */
        char ts[64] = "";
        obs_span_opts o;
        memset(&o, 0, sizeof o);
        obs_tracestate_set(ts, sizeof ts, "obs", "v1");
        o.tracestate = ts;
        o.traceparent = TP_SAMPLED;
        root = obs_span_start_ex(tr, "frontend", &o);
        c = obs_http_client_start(tr, "GET", "http://127.0.0.1:4567/api/activities/home", &h);
        obs_span_ids(c, ctid, csid);
        r.traceparent = via == 0 ? h.traceparent : NULL;
        r.tracestate = via == 0 ? h.tracestate : NULL;
        r.xray_header = via == 1 ? h.xray : NULL;
        obs_memory_exporter_clear(mem);
        s = obs_http_server_start(tr, &r); /* "the other service" */
        obs_span_ids(s, stid, NULL);
        obs_http_server_end(s, &r, 200, 0);
        obs_http_client_end(c, 200);
        obs_span_end(root);
        d = span_named("GET /api/activities/home");
        CHECK(d && memcmp(d->trace_id, ctid, 16) == 0 && memcmp(d->parent_span_id, csid, 8) == 0);
        CHECK(d && d->parent_is_remote && (d->trace_flags & 1));
        CHECK(d && strcmp(d->trace_state, via == 0 ? "obs=v1" : "") == 0);
    }
    stop();
}

/* ---- the X-Ray exporter ---- */

static int udp_listen(int *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}
/* One datagram into buf (NUL-terminated); its length, or -1 after timeout_ms. */
static long udp_recv(int fd, char *buf, size_t cap, int timeout_ms) {
    struct pollfd p;
    ssize_t n;
    p.fd = fd;
    p.events = POLLIN;
    if (poll(&p, 1, timeout_ms) != 1) return -1;
    n = recv(fd, buf, cap - 1, 0);
    if (n < 0) return -1;
    buf[n] = 0;
    return (long)n;
}

#define HEADER "{\"format\": \"json\", \"version\": 1}\n"
static char dgram[8][70000];

/* The document of the datagram whose "id" is span_id, from n received ones. */
static const char *doc_for(int n, const uint8_t *span_id) {
    char want[40], sid[17];
    int i;
    hex(span_id, 8, sid);
    snprintf(want, sizeof want, "\"id\":\"%s\"", sid);
    for (i = 0; i < n; i++) {
        if (strstr(dgram[i], want)) return dgram[i] + strlen(HEADER);
    }
    return NULL;
}
/* "key":<number>; the number, or -1. */
static double num_field(const char *doc, const char *key) {
    char want[64];
    const char *p;
    snprintf(want, sizeof want, "\"%s\":", key);
    p = doc ? strstr(doc, want) : NULL;
    return p ? strtod(p + strlen(want), NULL) : -1;
}

static void test_xray_udp(void) {
    int port, fd = udp_listen(&port), n = 0, i;
    char addr[64], tid[33], sid[17], want[128];
    obs_exporter *x;
    obs_http_server_req r = home_req();
    obs_span *s, *child, *client, *root;
    uint8_t s_id[8], child_id[8], client_id[8], root_id[8], root_tid[16];
    const char *doc;
    double now = (double)time(NULL);
    obs_xray_stats st;
    CHECK(fd >= 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    x = obs_xray_exporter_new(addr);
    CHECK(x != NULL && strcmp(x->name, "xray") == 0);
    start(x);
    r.traceparent = TP_SAMPLED;
    s = obs_http_server_start(tr, &r);
    child = obs_span_start(tr, "home-activities-mock-data");
    obs_span_set_str(child, "app.now", "2026-11-29T12:00:00Z");
    obs_span_set_int(child, "app.result_length", 3);
    obs_span_set_bool(child, "app.cached", 0);
    obs_span_set_double(child, "app.ratio", 0.25);
    {
        const char *handles[] = {"andrewbrown", "worf", "garek"};
        obs_span_set_str_array(child, "app.handles", handles, 3);
    }
    obs_span_set_str(child, "app-result.length", "collides with app.result_length");
    client = obs_http_client_start(tr, "GET", "http://db.internal:5432/q", NULL);
    obs_span_ids(client, NULL, client_id);
    obs_http_client_end(client, 200);
    obs_span_ids(child, NULL, child_id);
    obs_span_end(child);
    obs_span_ids(s, NULL, s_id);
    obs_http_server_end(s, &r, 200, 321);
    root = obs_span_start(tr, "cron: cleanup (daily)*");
    obs_span_ids(root, root_tid, root_id);
    obs_span_end(root);
    while (n < 8 && udp_recv(fd, dgram[n], sizeof dgram[n], n < 4 ? 2000 : 100) > 0) n++;
    CHECK(n == 4);
    for (i = 0; i < n; i++) {
        CHECK(strncmp(dgram[i], HEADER, strlen(HEADER)) == 0);
        CHECK(json_valid(dgram[i] + strlen(HEADER)));
        if (!json_valid(dgram[i] + strlen(HEADER))) fprintf(stderr, "invalid: %s\n", dgram[i]);
    }
    /* the server span: a segment named by the service, under the remote caller */
    doc = doc_for(n, s_id);
    CHECK(doc != NULL);
    if (doc) {
        hex(s_id, 8, sid);
        CHECK(strncmp(doc, "{\"name\":\"backend-flask\",\"id\":\"", 30) == 0);
        CHECK(strstr(doc, "\"trace_id\":\"1-0af76519-16cd43dd8448eb211c80319c\"") != NULL);
        CHECK(strstr(doc, "\"parent_id\":\"" PARENT_HEX "\"") != NULL);
        CHECK(!strstr(doc, "\"type\"") && !strstr(doc, "\"namespace\""));
        CHECK(num_field(doc, "start_time") > now - 60 && num_field(doc, "start_time") < now + 60);
        CHECK(num_field(doc, "end_time") >= num_field(doc, "start_time"));
        {
            const char *t = strstr(doc, "\"start_time\":"), *dot = t ? strchr(t, '.') : NULL;
            CHECK(dot && strspn(dot + 1, "0123456789") == 6); /* microseconds */
        }
        CHECK(
            strstr(doc,
                   "\"http\":{\"request\":{\"method\":\"GET\",\"url\":\"http://localhost:4567/api/"
                   "activities/home?x=1\",\"user_agent\":\"curl/8.0\",\"client_ip\":\"127.0.0.1\"},"
                   "\"response\":{\"status\":200,\"content_length\":321}}") != NULL);
        CHECK(!strstr(doc, "\"error\"") && !strstr(doc, "\"fault\"") && !strstr(doc, "\"cause\""));
        /* every other attribute went into the http block */
        CHECK(strstr(doc, "\"annotations\":{\"http_route\":\"/api/activities/home\"}") != NULL);
        CHECK(strstr(
                  doc,
                  "\"metadata\":{\"default\":{\"otel.span.name\":\"GET /api/activities/home\"}}") !=
              NULL);
        CHECK(strstr(doc, "\"aws\":{\"xray\":{\"sdk\":\"obs.h\"") != NULL);
    }
    /* the child: an independent subsegment, with annotations and metadata */
    doc = doc_for(n, child_id);
    CHECK(doc != NULL);
    if (doc) {
        hex(s_id, 8, sid);
        snprintf(want, sizeof want, "\"parent_id\":\"%s\",\"type\":\"subsegment\"", sid);
        CHECK(strncmp(doc, "{\"name\":\"home-activities-mock-data\"", 35) == 0);
        CHECK(strstr(doc, want) != NULL);
        CHECK(strstr(doc, "\"trace_id\":\"1-0af76519-16cd43dd8448eb211c80319c\"") != NULL);
        CHECK(
            strstr(doc,
                   "\"annotations\":{\"app_now\":\"2026-11-29T12:00:00Z\",\"app_result_length\":3,"
                   "\"app_cached\":false,\"app_ratio\":0.25}") != NULL);
        CHECK(strstr(
                  doc,
                  "\"metadata\":{\"default\":{\"app.handles\":[\"andrewbrown\",\"worf\",\"garek\"],"
                  "\"app-result.length\":\"collides with app.result_length\"}}") != NULL);
        CHECK(!strstr(doc, "\"http\"") && !strstr(doc, "\"aws\""));
    }
    /* the client: a remote subsegment named by the host it called */
    doc = doc_for(n, client_id);
    CHECK(doc != NULL);
    if (doc) {
        hex(child_id, 8, sid);
        snprintf(want, sizeof want,
                 "\"parent_id\":\"%s\",\"type\":\"subsegment\",\"namespace\":\"remote\"", sid);
        CHECK(strncmp(doc, "{\"name\":\"db.internal\"", 21) == 0);
        CHECK(strstr(doc, want) != NULL);
        CHECK(
            strstr(
                doc,
                "\"http\":{\"request\":{\"method\":\"GET\",\"url\":\"http://db.internal:5432/q\"},"
                "\"response\":{\"status\":200}}") != NULL);
        CHECK(strstr(doc, "\"otel.span.name\":\"GET\"") != NULL);
    }
    /* a local root: a segment without parent_id; the span name goes to metadata */
    doc = doc_for(n, root_id);
    CHECK(doc != NULL);
    if (doc) {
        hex(root_tid, 16, tid);
        snprintf(want, sizeof want, "\"trace_id\":\"1-%.8s-%s\"", tid, tid + 8);
        CHECK(strstr(doc, want) != NULL);
        CHECK(!strstr(doc, "\"parent_id\"") && !strstr(doc, "\"type\""));
        CHECK(strstr(doc, "\"otel.span.name\":\"cron: cleanup (daily)*\"") != NULL);
    }
    if (wired) { /* with an X-Ray exporter, new trace ids start with the Unix time */
        uint32_t t = (uint32_t)root_tid[0] << 24 | (uint32_t)root_tid[1] << 16 |
            (uint32_t)root_tid[2] << 8 | root_tid[3];
        CHECK((double)t > now - 60 && (double)t < now + 60);
    }
    st = obs_xray_exporter_stats(x);
    CHECK(st.segments_sent == 4 && st.segments_trimmed == 0 && st.segments_dropped == 0);
    CHECK(obs_xray_exporter_stats(mem).segments_sent == 0); /* another kind of exporter */
    CHECK(obs_xray_exporter_stats(NULL).segments_sent == 0);
    stop(); /* frees x */
    close(fd);
}

/* error / throttle / fault, and cause.exceptions with a stack */
static void test_xray_errors(void) {
    int port, fd = udp_listen(&port), n = 0;
    char addr[64];
    obs_exporter *x;
    obs_span *s[5];
    uint8_t id[5][8];
    static const int codes[] = {404, 429, 503, 0, 0};
    const char *doc;
    int i;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    setenv("AWS_XRAY_DAEMON_ADDRESS", addr, 1); /* NULL address: the environment */
    x = obs_xray_exporter_new(NULL);
    unsetenv("AWS_XRAY_DAEMON_ADDRESS");
    CHECK(x != NULL);
    start(x);
    for (i = 0; i < 5; i++) {
        obs_http_server_req r = home_req();
        s[i] = obs_http_server_start(tr, &r);
        obs_span_ids(s[i], NULL, id[i]);
        if (i == 3) obs_span_record_error(s[i], "KeyError", "'handle'");
        if (i == 4) obs_span_set_status(s[i], OBS_STATUS_ERROR, "database \"down\"");
        obs_http_server_end(s[i], NULL, codes[i], -1);
    }
    while (n < 8 && udp_recv(fd, dgram[n], sizeof dgram[n], n < 5 ? 2000 : 100) > 0) n++;
    CHECK(n == 5);
    doc = doc_for(n, id[0]);
    CHECK(doc && strstr(doc, "\"error\":true") && !strstr(doc, "\"fault\"") &&
          !strstr(doc, "\"throttle\""));
    doc = doc_for(n, id[1]);
    CHECK(doc && strstr(doc, "\"error\":true,\"throttle\":true") && !strstr(doc, "\"fault\""));
    doc = doc_for(n, id[2]);
    CHECK(doc && strstr(doc, "\"fault\":true") && !strstr(doc, "\"error\""));
    CHECK(doc && strstr(doc, "\"status\":503"));
    doc = doc_for(n, id[3]);
    CHECK(doc && strstr(doc, "\"fault\":true,\"cause\":{\"exceptions\":[{\"id\":\""));
    CHECK(doc && strstr(doc, "\"type\":\"KeyError\",\"message\":\"'handle'\""));
#ifdef OBS__HAVE_BACKTRACE
    CHECK(doc && strstr(doc, ",\"stack\":[{\"path\":\""));
#endif
    doc = doc_for(n, id[4]);
    CHECK(doc && strstr(doc, "\"fault\":true,\"cause\":{\"exceptions\":[{\"id\":\""));
    CHECK(doc && strstr(doc, "\"message\":\"database \\\"down\\\"\"}]}"));
    for (i = 0; i < n; i++) CHECK(json_valid(dgram[i] + strlen(HEADER)));
    stop();
    close(fd);
}

/* Documents built directly: stacks, names, trimming to the UDP limit. */
static void test_xray_documents(void) {
    obs__buf b, tmp;
    obs_span_data d;
    obs_attr a[3], ev_attrs[3];
    obs_event ev;
    const char *big[100];
    char chunk[1001], *huge, stack[4096];
    obs__xray xr;
    int level, i;
    start(NULL);
    memset(&b, 0, sizeof b);
    memset(&tmp, 0, sizeof tmp);
    memset(&d, 0, sizeof d);
    memset(chunk, 'm', 1000);
    chunk[1000] = 0;
    for (i = 0; i < 100; i++) big[i] = chunk;
    memset(d.trace_id, 0x11, 16);
    memset(d.span_id, 0x22, 8);
    memset(d.parent_span_id, 0x33, 8);
    d.has_parent = 1;
    d.kind = OBS_SPAN_KIND_INTERNAL;
    d.name = "work \"quoted\" (x)*";
    d.start_time_ns = 1700000000123456789LL;
    d.end_time_ns = 1700000001000000000LL;
    d.status_message = "";
    d.trace_state = "";
    /* times, ids, the name's characters */
    obs__xray_segment(&b, &tmp, &d, 0);
    CHECK(json_valid(b.p));
    CHECK(strstr(b.p, "{\"name\":\"work _quoted_ _x__\",\"id\":\"2222222222222222\","
                      "\"trace_id\":\"1-11111111-111111111111111111111111\","
                      "\"start_time\":1700000000.123456,\"end_time\":1700000001.000000,"
                      "\"parent_id\":\"3333333333333333\",\"type\":\"subsegment\"}") == b.p);
    /* a stack parsed from backtrace_symbols() lines, at most 32 frames */
    stack[0] = 0;
    for (i = 0; i < 40; i++) {
        char line[96];
        snprintf(line, sizeof line, "%s./build/backend(handler_%d+0x1a) [0x4011d6]", i ? "\n" : "",
                 i);
        strcat(stack, line);
    }
    ev_attrs[0] = obs_attr_str("exception.type", "Boom");
    ev_attrs[1] = obs_attr_str("exception.message", "it broke");
    ev_attrs[2] = obs_attr_str("exception.stacktrace", stack);
    ev.name = "exception";
    ev.time_ns = d.start_time_ns;
    ev.attrs = ev_attrs;
    ev.n_attrs = 3;
    ev.dropped_attrs = 0;
    d.events = &ev;
    d.n_events = 1;
    obs__buf_reset(&b);
    obs__xray_segment(&b, &tmp, &d, 0);
    CHECK(json_valid(b.p));
    CHECK(strstr(b.p, "\"stack\":[{\"path\":\"./build/backend\",\"label\":\"handler_0+0x1a\"},") !=
          NULL);
    CHECK(strstr(b.p, "handler_31+0x1a") && !strstr(b.p, "handler_32+0x1a"));
    CHECK(strstr(b.p, "],\"truncated\":8}]}") != NULL);
    CHECK(!strstr(b.p, "\"fault\"")); /* an exception event alone is not a fault */
    d.events = NULL;
    d.n_events = 0;
    /* too big: metadata goes first */
    a[0] = obs__attr_make("app.big", OBS_ATTR_STRING_ARRAY, 100);
    a[0].v.sa = big;
    a[1] = obs_attr_int("app.result_length", 3);
    d.attrs = a;
    d.n_attrs = 2;
    memset(&xr, 0, sizeof xr);
    xr.max_datagram = OBS__XRAY_MAX_DATAGRAM;
    level = obs__xray_datagram(&xr, &d);
    CHECK(level == 1 && xr.out.len <= OBS__XRAY_MAX_DATAGRAM);
    CHECK(strstr(xr.out.p, "\"annotations\":{\"app_result_length\":3}") &&
          !strstr(xr.out.p, "\"metadata\""));
    CHECK(json_valid(xr.out.p + strlen(HEADER)));
    /* then annotations and stacks; then long strings */
    huge = (char *)malloc(200001);
    memset(huge, 'h', 200000);
    huge[200000] = 0;
    a[0] = obs_attr_str("url.full", huge); /* in the http block: cut only at level 3 */
    a[1] = obs_attr_str("app.note", "small");
    level = obs__xray_datagram(&xr, &d);
    CHECK(level == 3 && xr.out.len <= OBS__XRAY_MAX_DATAGRAM);
    CHECK(!strstr(xr.out.p, "\"annotations\"") && json_valid(xr.out.p + strlen(HEADER)));
    {
        const char *u = strstr(xr.out.p, "\"url\":\"");
        CHECK(u && strspn(u + 7, "h") == OBS__XRAY_SHORT);
    }
    /* annotation values are cut at 1000 bytes, on a UTF-8 boundary */
    memset(huge, 'a', 999);
    memcpy(huge + 999, "\xc3\xa9", 2); /* a 2-byte character across the cut */
    huge[1001] = 0;
    a[0] = obs_attr_str("app.long", huge);
    d.n_attrs = 1;
    obs__buf_reset(&b);
    obs__xray_segment(&b, &tmp, &d, 0);
    {
        const char *v = strstr(b.p, "\"app_long\":\"");
        CHECK(v && strspn(v + 12, "a") == 999 && v[12 + 999] == '"');
    }
    free(huge);
    obs__buf_free(&xr.out);
    obs__buf_free(&xr.tmp);
    obs__buf_free(&b);
    obs__buf_free(&tmp);
    stop();
}

static void test_xray_address(void) {
    static const struct {
        const char *spec, *host, *port;
    } ok[] = {
        {"127.0.0.1:2000", "127.0.0.1", "2000"},
        {"localhost:2001", "localhost", "2001"},
        {"tcp:127.0.0.1:2000 udp:127.0.0.2:2001", "127.0.0.2", "2001"},
        {"udp:10.0.0.1:3000 tcp:10.0.0.1:2000", "10.0.0.1", "3000"},
        {"[::1]:2000", "::1", "2000"},
        {"  xray-daemon:2000", "xray-daemon", "2000"},
    };
    static const char *const bad[] = {"127.0.0.1", "127.0.0.1:", ":2000", "host:port", "h:99999",
                                      "tcp:127.0.0.1:2000", "a:1 b:2", "[::1]2000", "h:0", ""};
    char host[64], port[8];
    size_t i;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int r = obs__xray_addr(ok[i].spec, host, sizeof host, port, sizeof port);
        CHECK(r && strcmp(host, ok[i].host) == 0 && strcmp(port, ok[i].port) == 0);
        if (!r) fprintf(stderr, "address \"%s\" refused\n", ok[i].spec);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int r = obs__xray_addr(bad[i], host, sizeof host, port, sizeof port);
        CHECK(!r);
        if (r) fprintf(stderr, "address \"%s\" accepted\n", bad[i]);
    }
    CHECK(obs_xray_exporter_new("no-port-here") == NULL);
}

/* OTEL_TRACES_EXPORTER=xray (once wired): the exporter from AWS_XRAY_DAEMON_ADDRESS. */
static void test_xray_from_env(void) {
    int port, fd = udp_listen(&port);
    char addr[64];
    obs_config c;
    obs_span *s;
    if (!wired) {
        printf("  (OTEL_TRACES_EXPORTER=xray not wired into obs.h yet: skipped)\n");
        close(fd);
        return;
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    setenv("AWS_XRAY_DAEMON_ADDRESS", addr, 1);
    setenv("OTEL_TRACES_EXPORTER", "xray", 1);
    memset(&c, 0, sizeof c);
    c.logs_exporter = "none";
    c.service_name = "from-env";
    CHECK(obs_init(&c) == OBS_OK);
    tr = obs_tracer_get("test_xray", "1");
    s = obs_span_start(tr, "via env");
    obs_span_end(s);
    CHECK(obs_flush(5000) == OBS_OK);
    CHECK(udp_recv(fd, dgram[0], sizeof dgram[0], 5000) > 0);
    CHECK(strstr(dgram[0], "{\"name\":\"from-env\"") &&
          strstr(dgram[0], "\"otel.span.name\":\"via env\""));
    obs_shutdown();
    unsetenv("AWS_XRAY_DAEMON_ADDRESS");
    unsetenv("OTEL_TRACES_EXPORTER");
    close(fd);
}

/* A daemon that is not there costs nothing: UDP, unconnected, non-blocking. */
static void test_xray_no_daemon(void) {
    int port, fd = udp_listen(&port), i;
    char addr[64];
    obs_exporter *x;
    int64_t t0;
    close(fd); /* nobody listens there now */
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    x = obs_xray_exporter_new(addr);
    start(x);
    t0 = obs__mono_ms();
    for (i = 0; i < 2000; i++) {
        obs_span *s = obs_span_start(tr, "nobody listens");
        obs_span_end(s);
    }
    CHECK(obs__mono_ms() - t0 < 5000);
    CHECK(obs_xray_exporter_stats(x).segments_sent + obs_xray_exporter_stats(x).segments_dropped ==
          2000);
    stop();
}

/* OBS_ID_GENERATOR=xray without the xray exporter (a Collector's awsxray exporter downstream):
   root trace ids start with the time in seconds; random is the default; a bad value warns. */
static void test_id_generator_env(void) {
    obs_config cfg;
    obs_span *s;
    uint8_t id[16];
    uint32_t secs;
    time_t now;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    setenv("OBS_ID_GENERATOR", "xray", 1);
    CHECK(obs_init(&cfg) == OBS_OK);
    s = obs_span_start(obs_tracer_get("ids", NULL), "stamped");
    obs_span_ids(s, id, NULL);
    obs_span_end(s);
    obs_shutdown();
    now = time(NULL);
    secs = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    CHECK((int64_t)secs >= (int64_t)now - 5 && (int64_t)secs <= (int64_t)now + 5);
    unsetenv("OBS_ID_GENERATOR");
}

int main(void) {
    RUN(test_reservoir_per_second);
    RUN(test_rate_statistics);
    RUN(test_reservoir_threads);
    RUN(test_rule_parse);
    RUN(test_sampler_setup);
    RUN(test_decide);
    RUN(test_sampler_env);
    RUN(test_server_span);
    RUN(test_server_unsampled);
    RUN(test_server_variants);
    RUN(test_client_span);
    RUN(test_round_trip);
    RUN(test_xray_udp);
    RUN(test_xray_errors);
    RUN(test_xray_documents);
    RUN(test_xray_address);
    RUN(test_xray_from_env);
    RUN(test_xray_no_daemon);
    RUN(test_id_generator_env);
    return TEST_EXIT_CODE();
}

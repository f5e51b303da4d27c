/* tests/test_span.c -- span context, parents (local, explicit, remote), ids, headers, names,
   links, events, status, errors, the current span, and NULL spans. */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <time.h>

static obs_exporter *mem;
static obs_tracer *tr;

/* obs with only the in-memory exporter behind a simple (synchronous) processor. */
static void setup_sampler(obs_sampler_kind sampler) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(1000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.simple_processor = 1;
    c.sampler = sampler;
    c.span_exporters[0] = mem;
    CHECK(obs_init(&c) == OBS_OK);
    tr = obs_tracer_get("test_span", "1.0");
    CHECK(tr != NULL);
}
static void setup(void) { setup_sampler(OBS_SAMPLER_DEFAULT); }
static void teardown(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
    tr = NULL;
}

/* The last exported span called name, or NULL. */
static const obs_span_data *find(const char *name) {
    size_t i = obs_memory_exporter_span_count(mem);
    while (i-- > 0) {
        const obs_span_data *d = obs_memory_exporter_span(mem, i);
        if (strcmp(d->name, name) == 0) return d;
    }
    return NULL;
}
static int is_zero(const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i]) return 0;
    }
    return 1;
}
static void hex(const uint8_t *p, size_t n, char *out) {
    size_t i;
    for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}
static int is_lower_hex(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    }
    return 1;
}
/* child is a direct child of parent: same trace, parent id = parent's span id. */
static int is_child_of(const obs_span_data *child, const obs_span_data *parent) {
    return child && parent && child->has_parent &&
           memcmp(child->trace_id, parent->trace_id, 16) == 0 &&
           memcmp(child->parent_span_id, parent->span_id, 8) == 0;
}
static const obs_attr *attr(const obs_attr *a, size_t n, const char *key) { return obs_attr_find(a, n, key); }

/* ---- nesting through the current span ---- */

static void leaf(void) {
    obs_span *s = obs_span_start(tr, "leaf");
    CHECK(obs_span_current() == s);
    obs_span_end(s);
}
static void middle(void) {
    obs_span *s = obs_span_start(tr, "middle");
    leaf();
    CHECK(obs_span_current() == s);
    obs_span_end(s);
}

static void test_nesting_across_functions(void) {
    obs_span *root;
    const obs_span_data *r, *m, *l;
    setup();
    CHECK(obs_span_current() == NULL);
    root = obs_span_start(tr, "root");
    middle();
    CHECK(obs_span_current() == root);
    obs_span_end(root);
    CHECK(obs_span_current() == NULL);
    CHECK(obs_memory_exporter_span_count(mem) == 3);
    r = find("root");
    m = find("middle");
    l = find("leaf");
    CHECK(r && m && l);
    if (r && m && l) {
        CHECK(!r->has_parent && is_zero(r->parent_span_id, 8) && !r->parent_is_remote);
        CHECK(!is_zero(r->trace_id, 16) && !is_zero(r->span_id, 8));
        CHECK(is_child_of(m, r));
        CHECK(is_child_of(l, m));
        CHECK(!m->parent_is_remote && !l->parent_is_remote);
        CHECK(memcmp(r->span_id, m->span_id, 8) != 0 && memcmp(m->span_id, l->span_id, 8) != 0);
        CHECK(r->trace_flags & 1);
        CHECK(strcmp(r->scope->name, "test_span") == 0 && strcmp(r->scope->version, "1.0") == 0);
        CHECK(l->start_time_ns >= m->start_time_ns && l->end_time_ns <= m->end_time_ns);
        CHECK(r->start_time_ns > 1600000000LL * 1000000000LL); /* Unix epoch ns, after 2020 */
        CHECK(r->end_time_ns >= r->start_time_ns);
    }
    /* a new root after the first trace ended: a different trace */
    root = obs_span_start(tr, "root2");
    obs_span_end(root);
    if (r && find("root2")) CHECK(memcmp(find("root2")->trace_id, r->trace_id, 16) != 0);
    teardown();
}

static void test_explicit_parent_root_no_activate(void) {
    obs_span *a, *b, *c, *d, *e;
    obs_span_opts o;
    setup();
    a = obs_span_start(tr, "a");
    memset(&o, 0, sizeof o);
    o.no_activate = 1;
    b = obs_span_start_ex(tr, "b", &o);
    CHECK(obs_span_current() == a); /* no_activate: a stays current */
    memset(&o, 0, sizeof o);
    o.parent = b;
    c = obs_span_start_ex(tr, "c", &o); /* explicit parent wins over the current span */
    CHECK(obs_span_current() == c);
    obs_span_end(c);
    CHECK(obs_span_current() == a);
    memset(&o, 0, sizeof o);
    o.root = 1;
    d = obs_span_start_ex(tr, "d", &o);
    obs_span_end(d);
    memset(&o, 0, sizeof o);
    o.root = 1;
    o.parent = b; /* root wins over an explicit parent too */
    e = obs_span_start_ex(tr, "e", &o);
    obs_span_end(e);
    obs_span_end(b);
    CHECK(obs_span_current() == a);
    obs_span_end(a);
    CHECK(obs_span_current() == NULL);
    CHECK(is_child_of(find("b"), find("a")));
    CHECK(is_child_of(find("c"), find("b")));
    CHECK(find("d") && !find("d")->has_parent && is_zero(find("d")->parent_span_id, 8));
    CHECK(find("d") && find("a") && memcmp(find("d")->trace_id, find("a")->trace_id, 16) != 0);
    CHECK(find("e") && !find("e")->has_parent);
    teardown();
}

/* ---- remote parents ---- */

#define TP_TRACE "0af7651916cd43dd8448eb211c80319c"
#define TP_SPAN "b7ad6b7169203331"
#define TP_VALID "00-" TP_TRACE "-" TP_SPAN "-01"

static obs_span *start_remote(const char *name, const char *tp, const char *ts) {
    obs_span_opts o;
    memset(&o, 0, sizeof o);
    o.traceparent = tp;
    o.tracestate = ts;
    o.kind = OBS_SPAN_KIND_SERVER;
    return obs_span_start_ex(tr, name, &o);
}

static void test_remote_parent_traceparent(void) {
    obs_span *local, *s, *child;
    const obs_span_data *d, *cd;
    char buf[64];
    setup();
    local = obs_span_start(tr, "local"); /* a current span must not win over the header */
    s = start_remote("server", TP_VALID, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7");
    CHECK(s != NULL && obs_span_is_recording(s));
    CHECK_STR(obs_span_tracestate(s), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    child = obs_span_start(tr, "server-child");
    obs_span_end(child);
    obs_span_end(s);
    obs_span_end(local);
    d = find("server");
    cd = find("server-child");
    CHECK(d != NULL && cd != NULL);
    if (d) {
        hex(d->trace_id, 16, buf);
        CHECK(strcmp(buf, TP_TRACE) == 0);
        hex(d->parent_span_id, 8, buf);
        CHECK(strcmp(buf, TP_SPAN) == 0);
        CHECK(d->has_parent == 1);
        CHECK(d->parent_is_remote == 1);
        CHECK(d->trace_flags & 1);
        CHECK(d->kind == OBS_SPAN_KIND_SERVER);
        CHECK_STR(d->trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
        CHECK(find("local") && memcmp(find("local")->trace_id, d->trace_id, 16) != 0);
    }
    if (d && cd) {
        CHECK(is_child_of(cd, d));
        CHECK(cd->parent_is_remote == 0);
        CHECK_STR(cd->trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"); /* inherited */
    }
    teardown();
}

static void test_remote_parent_invalid(void) {
    static const char *const bad[] = {
        "00-" TP_TRACE "-" TP_SPAN "-0",                        /* too short */
        "00-0AF7651916CD43DD8448EB211C80319C-" TP_SPAN "-01",   /* uppercase */
        "ff-" TP_TRACE "-" TP_SPAN "-01",                       /* version ff */
        "00-00000000000000000000000000000000-" TP_SPAN "-01",   /* zero trace id */
        "00-" TP_TRACE "-0000000000000000-01",                  /* zero parent id */
        "00-" TP_TRACE "-" TP_SPAN "-01-extra",                 /* version 00 with more */
        "",
        "garbage"};
    size_t i;
    char name[16];
    setup();
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        obs_span *s;
        const obs_span_data *d;
        sprintf(name, "bad%u", (unsigned)i);
        s = start_remote(name, bad[i], "congo=t61rcWkgMzE");
        CHECK(s != NULL);
        CHECK_STR(obs_span_tracestate(s), ""); /* dropped with the invalid traceparent */
        obs_span_end(s);
        d = find(name);
        CHECK(d != NULL);
        if (d) {
            char buf[40];
            CHECK(!d->has_parent && !d->parent_is_remote && is_zero(d->parent_span_id, 8));
            hex(d->trace_id, 16, buf);
            CHECK(strcmp(buf, TP_TRACE) != 0 && !is_zero(d->trace_id, 16)); /* a new trace */
            CHECK_STR(d->trace_state, "");
        }
    }
    /* a valid traceparent with an invalid tracestate: parent kept, tracestate discarded */
    obs_span_end(start_remote("badts", TP_VALID, "Bad Key=1,rojo=00f067aa0ba902b7"));
    obs_span_end(start_remote("dupts", TP_VALID, "a=1,a=2"));
    obs_span_end(start_remote("nots", TP_VALID, NULL));
    CHECK(find("badts") && find("badts")->parent_is_remote && find("badts")->trace_state[0] == 0);
    CHECK(find("dupts") && find("dupts")->parent_is_remote && find("dupts")->trace_state[0] == 0);
    CHECK(find("nots") && find("nots")->parent_is_remote && find("nots")->trace_state[0] == 0);
    /* a higher version: longer is fine, sent on as 00 */
    {
        obs_span *s = start_remote("v01", "01-" TP_TRACE "-" TP_SPAN "-01-future", NULL);
        char tp[64];
        CHECK(obs_span_traceparent(s, tp, sizeof tp) == 55);
        CHECK(strncmp(tp, "00-" TP_TRACE "-", 36) == 0);
        obs_span_end(s);
        CHECK(find("v01") && find("v01")->parent_is_remote);
    }
    teardown();
}

#define XR_ROOT "1-5759e988-bd862e3fe1be46a994272793"
#define XR_TRACE "5759e988bd862e3fe1be46a994272793"
#define XR_PARENT "53995c3f42cd8ad8"

static const obs_span_data *start_end_xray(const char *name, const char *header) {
    obs_span_opts o;
    memset(&o, 0, sizeof o);
    o.xray_header = header;
    obs_span_end(obs_span_start_ex(tr, name, &o));
    return find(name);
}

static void test_remote_parent_xray(void) {
    const obs_span_data *d;
    char buf[40];
    setup();
    d = start_end_xray("xr", "Root=" XR_ROOT ";Parent=" XR_PARENT ";Sampled=1");
    CHECK(d != NULL);
    if (d) {
        hex(d->trace_id, 16, buf);
        CHECK(strcmp(buf, XR_TRACE) == 0);
        hex(d->parent_span_id, 8, buf);
        CHECK(strcmp(buf, XR_PARENT) == 0);
        CHECK(d->has_parent && d->parent_is_remote && (d->trace_flags & 1));
    }
    /* Sampled=0 with the default parent-based sampler: not recorded, not exported */
    CHECK(start_end_xray("xr0", "Root=" XR_ROOT ";Parent=" XR_PARENT ";Sampled=0") == NULL);
    /* a traceparent wins over the X-Ray header */
    {
        obs_span_opts o;
        memset(&o, 0, sizeof o);
        o.traceparent = TP_VALID;
        o.xray_header = "Root=" XR_ROOT ";Parent=" XR_PARENT ";Sampled=1";
        obs_span_end(obs_span_start_ex(tr, "both", &o));
        d = find("both");
        CHECK(d != NULL);
        if (d) {
            hex(d->trace_id, 16, buf);
            CHECK(strcmp(buf, TP_TRACE) == 0);
        }
    }
    /* an invalid header: a new trace */
    d = start_end_xray("xrbad", "Root=1-5759e988-BD862E3FE1BE46A994272793;Parent=" XR_PARENT ";Sampled=1");
    CHECK(d && !d->has_parent);
    /* "Sampled=?" (or absent) asks the receiver to decide: obs.h's parser says so (it returns
       2, "let the sampler decide"), so the default sampler (parentbased_always_on) must
       decide like for a root and record the span, keeping the X-Ray trace and parent. */
    d = start_end_xray("xrq", "Root=" XR_ROOT ";Parent=" XR_PARENT ";Sampled=?");
    CHECK(d != NULL);
    if (d) {
        hex(d->trace_id, 16, buf);
        CHECK(strcmp(buf, XR_TRACE) == 0);
        CHECK(d->has_parent && d->parent_is_remote);
    }
    d = start_end_xray("xrnone", "Root=" XR_ROOT ";Parent=" XR_PARENT);
    CHECK(d != NULL);
    teardown();
}

static void test_kinds_and_times(void) {
    static const obs_span_kind kinds[] = {OBS_SPAN_KIND_INTERNAL, OBS_SPAN_KIND_SERVER,
                                          OBS_SPAN_KIND_CLIENT, OBS_SPAN_KIND_PRODUCER,
                                          OBS_SPAN_KIND_CONSUMER};
    const int64_t t0 = 1700000000LL * 1000000000LL + 123456789;
    obs_span_opts o;
    obs_span *s;
    size_t i;
    char name[16];
    setup();
    for (i = 0; i < 5; i++) {
        memset(&o, 0, sizeof o);
        o.kind = kinds[i];
        sprintf(name, "kind%u", (unsigned)i);
        obs_span_end(obs_span_start_ex(tr, name, &o));
        CHECK(find(name) && find(name)->kind == kinds[i]);
    }
    CHECK(find("kind0") && find("kind0")->kind == OBS_SPAN_KIND_INTERNAL); /* the default */
    memset(&o, 0, sizeof o);
    o.start_time_ns = t0;
    s = obs_span_start_ex(tr, "timed", &o);
    obs_span_end_at(s, t0 + 5000);
    CHECK(find("timed") && find("timed")->start_time_ns == t0);
    CHECK(find("timed") && find("timed")->end_time_ns == t0 + 5000);
    s = obs_span_start_ex(tr, "backwards", &o);
    obs_span_end_at(s, t0 - 1); /* an end before the start is clamped to the start */
    CHECK(find("backwards") && find("backwards")->end_time_ns == t0);
    s = obs_span_start_ex(tr, "endnow", &o);
    obs_span_end(s); /* start in 2023, end now */
    CHECK(find("endnow") && find("endnow")->end_time_ns > t0 + 1000000000LL);
    teardown();
}

static void test_end_twice_and_out_of_order(void) {
    obs_span *a, *b, *c, *d;
    obs_stats st;
    setup();
    a = obs_span_start(tr, "twice");
    obs_span_end(a);
    CHECK(!obs_span_is_recording(a));
    obs_span_end(a); /* harmless: no second export */
    CHECK(obs_memory_exporter_span_count(mem) == 1);
    st = obs_get_stats();
    CHECK(st.spans_ended == 1 && st.spans_started == 1);

    /* parent ends before its child: the child stays current, then nothing is */
    a = obs_span_start(tr, "outer");
    b = obs_span_start(tr, "inner");
    obs_span_end(a);
    CHECK(obs_span_current() == b);
    c = obs_span_start(tr, "after-outer-ended"); /* child of b, the current one */
    obs_span_end(c);
    obs_span_end(b);
    CHECK(obs_span_current() == NULL);
    d = obs_span_start(tr, "fresh");
    obs_span_end(d);
    CHECK(is_child_of(find("inner"), find("outer")));
    CHECK(is_child_of(find("after-outer-ended"), find("inner")));
    CHECK(find("fresh") && !find("fresh")->has_parent);

    /* the ended parent's pool item is reused by the next span: a stale stack entry must not
       make the new span current */
    a = obs_span_start(tr, "p1");
    b = obs_span_start(tr, "p2");
    obs_span_end(a);
    c = obs_span_start_ex(tr, "reuse", NULL);
    obs_span_end(b); /* not the top: c stays current */
    CHECK(obs_span_current() == c);
    obs_span_end(c);
    CHECK(obs_span_current() == NULL);
    teardown();
}

static void test_traceparent_and_xray_format(void) {
    obs_span *s;
    char buf[128], small[56], ids[40];
    uint8_t tid[16], sid[8];
    setup();
    s = obs_span_start(tr, "fmt");
    obs_span_ids(s, tid, sid);
    CHECK(!is_zero(tid, 16) && !is_zero(sid, 8));
    CHECK(obs_span_traceparent(s, buf, sizeof buf) == 55);
    CHECK(strlen(buf) == 55);
    CHECK(strncmp(buf, "00-", 3) == 0 && buf[35] == '-' && buf[52] == '-');
    CHECK(is_lower_hex(buf + 3, 32) && is_lower_hex(buf + 36, 16));
    CHECK(strcmp(buf + 53, "01") == 0);
    hex(tid, 16, ids);
    CHECK(strncmp(buf + 3, ids, 32) == 0);
    hex(sid, 8, ids);
    CHECK(strncmp(buf + 36, ids, 16) == 0);
    memset(small, 'x', sizeof small);
    CHECK(obs_span_traceparent(s, small, 55) == 0); /* no room for the NUL */
    CHECK(small[0] == 'x');                         /* nothing written */
    CHECK(obs_span_traceparent(s, small, 56) == 55);
    CHECK(strcmp(small, buf) == 0);
    CHECK(obs_span_traceparent(s, small, 0) == 0);

    CHECK(obs_span_xray_header(s, buf, sizeof buf) == 74);
    CHECK(strlen(buf) == 74);
    CHECK(strncmp(buf, "Root=1-", 7) == 0 && buf[15] == '-');
    hex(tid, 4, ids);
    CHECK(strncmp(buf + 7, ids, 8) == 0);
    hex(tid + 4, 12, ids);
    CHECK(strncmp(buf + 16, ids, 24) == 0);
    hex(sid, 8, ids);
    CHECK(strncmp(buf + 40, ";Parent=", 8) == 0 && strncmp(buf + 48, ids, 16) == 0);
    CHECK(strcmp(buf + 64, ";Sampled=1") == 0);
    memset(buf, 'x', sizeof buf);
    CHECK(obs_span_xray_header(s, buf, 74) == 0 && buf[0] == 'x');
    obs_span_end(s);
    teardown();
}

static void test_update_name(void) {
    obs_span *s;
    char name[32];
    setup();
    strcpy(name, "original");
    s = obs_span_start(tr, name);
    strcpy(name, "clobbered"); /* the name was copied */
    obs_span_update_name(s, "renamed");
    obs_span_end(s);
    obs_span_update_name(s, "after-end"); /* ignored */
    CHECK(find("renamed") != NULL);
    CHECK(find("original") == NULL && find("clobbered") == NULL && find("after-end") == NULL);
    s = obs_span_start(tr, "");
    obs_span_end(s);
    CHECK(obs_memory_exporter_span_count(mem) == 2);
    if (obs_memory_exporter_span_count(mem) == 2) {
        CHECK(obs_memory_exporter_span(mem, 1)->name[0] != 0); /* OTLP needs a name */
    }
    teardown();
}

static void test_links(void) {
    obs_link links[2];
    obs_attr la[2];
    obs_link extra;
    obs_span_opts o;
    obs_span *s;
    const obs_span_data *d;
    char key[16];
    setup();
    memset(links, 0, sizeof links);
    memset(links[0].trace_id, 0x11, 16);
    memset(links[0].span_id, 0x22, 8);
    links[0].trace_flags = 1;
    links[0].trace_state = "vendor=abc";
    strcpy(key, "link.kind");
    la[0] = obs_attr_str(key, "follows");
    la[1] = obs_attr_int("link.n", 7);
    links[0].attrs = la;
    links[0].n_attrs = 2;
    memset(links[1].trace_id, 0x33, 16);
    memset(links[1].span_id, 0x44, 8);
    memset(&o, 0, sizeof o);
    o.links = links;
    o.n_links = 2;
    s = obs_span_start_ex(tr, "linked", &o);
    strcpy(key, "clobbered"); /* keys are copied */
    memset(&extra, 0, sizeof extra);
    memset(extra.trace_id, 0x55, 16);
    memset(extra.span_id, 0x66, 8);
    la[0] = obs_attr_bool("late", 1);
    extra.attrs = la;
    extra.n_attrs = 1;
    obs_span_add_link(s, &extra);
    obs_span_add_link(s, NULL); /* ignored */
    obs_span_end(s);
    d = find("linked");
    CHECK(d && d->n_links == 3 && d->dropped_links == 0);
    if (d && d->n_links == 3) {
        uint8_t want[16];
        memset(want, 0x11, 16);
        CHECK(memcmp(d->links[0].trace_id, want, 16) == 0);
        memset(want, 0x22, 8);
        CHECK(memcmp(d->links[0].span_id, want, 8) == 0);
        CHECK(d->links[0].trace_flags == 1);
        CHECK_STR(d->links[0].trace_state, "vendor=abc");
        CHECK(d->links[0].n_attrs == 2);
        CHECK(attr(d->links[0].attrs, d->links[0].n_attrs, "link.kind") &&
              strcmp(attr(d->links[0].attrs, d->links[0].n_attrs, "link.kind")->v.s, "follows") == 0);
        CHECK(attr(d->links[0].attrs, d->links[0].n_attrs, "link.n") &&
              attr(d->links[0].attrs, d->links[0].n_attrs, "link.n")->v.i == 7);
        CHECK(d->links[1].n_attrs == 0);
        memset(want, 0x33, 16);
        CHECK(memcmp(d->links[1].trace_id, want, 16) == 0);
        memset(want, 0x55, 16);
        CHECK(memcmp(d->links[2].trace_id, want, 16) == 0);
        CHECK(d->links[2].n_attrs == 1 && d->links[2].attrs[0].type == OBS_ATTR_BOOL &&
              d->links[2].attrs[0].v.b == 1);
    }
    teardown();
}

static void test_events(void) {
    obs_span *s;
    obs_attr ea[3];
    const obs_span_data *d;
    char value[16];
    setup();
    s = obs_span_start(tr, "evented");
    obs_span_add_event(s, "first");
    strcpy(value, "v1");
    ea[0] = obs_attr_str("k.str", value);
    ea[1] = obs_attr_int("k.int", -42);
    ea[2] = obs_attr_double("k.dbl", 2.5);
    obs_span_add_event_attrs(s, "second", ea, 3);
    strcpy(value, "XX"); /* copied */
    obs_span_add_event_attrs(s, "third", NULL, 5); /* NULL attrs with a count: no attributes */
    obs_span_end(s);
    obs_span_add_event(s, "after-end"); /* ignored */
    d = find("evented");
    CHECK(d && d->n_events == 3 && d->dropped_events == 0);
    if (d && d->n_events == 3) {
        CHECK_STR(d->events[0].name, "first");
        CHECK(d->events[0].n_attrs == 0);
        CHECK_STR(d->events[1].name, "second");
        CHECK(d->events[1].n_attrs == 3);
        CHECK(attr(d->events[1].attrs, d->events[1].n_attrs, "k.str") &&
              strcmp(attr(d->events[1].attrs, 3, "k.str")->v.s, "v1") == 0);
        CHECK(attr(d->events[1].attrs, 3, "k.int") && attr(d->events[1].attrs, 3, "k.int")->v.i == -42);
        CHECK(attr(d->events[1].attrs, 3, "k.dbl") && attr(d->events[1].attrs, 3, "k.dbl")->v.d == 2.5);
        CHECK_STR(d->events[2].name, "third");
        CHECK(d->events[2].n_attrs == 0);
        CHECK(d->events[0].time_ns >= d->start_time_ns);
        CHECK(d->events[1].time_ns >= d->events[0].time_ns);
        CHECK(d->events[2].time_ns <= d->end_time_ns);
    }
    teardown();
}

static void test_status_rules(void) {
    obs_span *s;
    char msg[32];
    setup();
    s = obs_span_start(tr, "unset");
    obs_span_end(s);
    CHECK(find("unset") && find("unset")->status == OBS_STATUS_UNSET);
    CHECK(find("unset") && strcmp(find("unset")->status_message, "") == 0);

    s = obs_span_start(tr, "error");
    strcpy(msg, "disk full");
    obs_span_set_status(s, OBS_STATUS_ERROR, msg);
    strcpy(msg, "clobbered"); /* the description is copied */
    obs_span_set_status(s, OBS_STATUS_UNSET, "ignored"); /* UNSET never changes anything */
    obs_span_end(s);
    CHECK(find("error") && find("error")->status == OBS_STATUS_ERROR);
    CHECK(find("error") && strcmp(find("error")->status_message, "disk full") == 0);

    s = obs_span_start(tr, "ok-final");
    obs_span_set_status(s, OBS_STATUS_ERROR, "first");
    obs_span_set_status(s, OBS_STATUS_OK, "no message for OK");
    obs_span_set_status(s, OBS_STATUS_ERROR, "too late");
    obs_span_end(s);
    CHECK(find("ok-final") && find("ok-final")->status == OBS_STATUS_OK);
    CHECK(find("ok-final") && strcmp(find("ok-final")->status_message, "") == 0);

    s = obs_span_start(tr, "error-twice");
    obs_span_set_status(s, OBS_STATUS_ERROR, "first");
    obs_span_set_status(s, OBS_STATUS_ERROR, "second");
    obs_span_end(s);
    CHECK(find("error-twice") && strcmp(find("error-twice")->status_message, "second") == 0);

    s = obs_span_start(tr, "error-null");
    obs_span_set_status(s, OBS_STATUS_ERROR, NULL);
    obs_span_end(s);
    obs_span_set_status(s, OBS_STATUS_OK, NULL); /* after end: ignored */
    CHECK(find("error-null") && find("error-null")->status == OBS_STATUS_ERROR);
    CHECK(find("error-null") && strcmp(find("error-null")->status_message, "") == 0);
    teardown();
}

static void test_record_error(void) {
    obs_span *s;
    const obs_span_data *d;
    setup();
    s = obs_span_start(tr, "failing");
    obs_span_record_error(s, "IOError", "connection reset");
    obs_span_end(s);
    d = find("failing");
    CHECK(d && d->n_events == 1);
    if (d && d->n_events == 1) {
        const obs_event *e = &d->events[0];
        CHECK_STR(e->name, "exception");
        CHECK(attr(e->attrs, e->n_attrs, "exception.type") &&
              strcmp(attr(e->attrs, e->n_attrs, "exception.type")->v.s, "IOError") == 0);
        CHECK(attr(e->attrs, e->n_attrs, "exception.message") &&
              strcmp(attr(e->attrs, e->n_attrs, "exception.message")->v.s, "connection reset") == 0);
        CHECK(d->status == OBS_STATUS_ERROR);
        CHECK(strstr(d->status_message, "connection reset") != NULL);
    }
    s = obs_span_start(tr, "failing-null");
    obs_span_record_error(s, NULL, NULL); /* still an exception event and ERROR, no crash */
    obs_span_end(s);
    d = find("failing-null");
    CHECK(d && d->n_events == 1 && d->status == OBS_STATUS_ERROR);
    if (d && d->n_events == 1) CHECK_STR(d->events[0].name, "exception");
    teardown();
}

static void test_current_activate_deactivate(void) {
    obs_span *a, *b, *c;
    obs_span_opts o;
    setup();
    memset(&o, 0, sizeof o);
    o.no_activate = 1;
    a = obs_span_start_ex(tr, "handed-over", &o);
    CHECK(obs_span_current() == NULL);
    obs_span_activate(a);
    CHECK(obs_span_current() == a);
    b = obs_span_start(tr, "under-activated");
    obs_span_end(b);
    CHECK(obs_span_current() == a);
    obs_span_deactivate(a);
    CHECK(obs_span_current() == NULL);
    obs_span_deactivate(a); /* not current: nothing happens */
    c = obs_span_start(tr, "not-under");
    obs_span_end(c);
    obs_span_end(a);
    obs_span_activate(a); /* ended: refused */
    CHECK(obs_span_current() == NULL);
    CHECK(is_child_of(find("under-activated"), find("handed-over")));
    CHECK(find("not-under") && !find("not-under")->has_parent);
    teardown();
}

static void test_null_span_everywhere(void) {
    char buf[128];
    uint8_t tid[16], sid[8];
    obs_attr a = obs_attr_int("k", 1);
    obs_link l;
    obs_span_opts o;
    setup();
    memset(&l, 0, sizeof l);
    memset(tid, 7, sizeof tid);
    obs_span_end(NULL);
    obs_span_end_at(NULL, 5);
    obs_span_set_str(NULL, "k", "v");
    obs_span_set_int(NULL, "k", 1);
    obs_span_set_double(NULL, "k", 1.0);
    obs_span_set_bool(NULL, "k", 1);
    obs_span_set_str_array(NULL, "k", NULL, 0);
    obs_span_set_int_array(NULL, "k", NULL, 0);
    obs_span_set_double_array(NULL, "k", NULL, 0);
    obs_span_set_bool_array(NULL, "k", NULL, 0);
    obs_span_set_attrs(NULL, &a, 1);
    obs_span_update_name(NULL, "x");
    obs_span_add_event(NULL, "e");
    obs_span_add_event_attrs(NULL, "e", &a, 1);
    obs_span_add_link(NULL, &l);
    obs_span_set_status(NULL, OBS_STATUS_ERROR, "x");
    obs_span_record_error(NULL, "t", "m");
    obs_span_activate(NULL);
    obs_span_deactivate(NULL);
    CHECK(obs_span_current() == NULL);
    CHECK(obs_span_is_recording(NULL) == 0);
    obs_span_ids(NULL, tid, sid);
    CHECK(tid[0] == 7); /* untouched */
    CHECK(obs_span_traceparent(NULL, buf, sizeof buf) == 0);
    CHECK(obs_span_xray_header(NULL, buf, sizeof buf) == 0);
    CHECK_STR(obs_span_tracestate(NULL), "");
    memset(&o, 0, sizeof o);
    o.parent = NULL;
    CHECK(obs_span_start_ex(NULL, "no tracer", &o) == NULL);
    CHECK(obs_span_start(NULL, "no tracer") == NULL);
    /* a NULL name and NULL opts are fine */
    obs_span_end(obs_span_start(tr, NULL));
    CHECK(obs_memory_exporter_span_count(mem) == 1);
    CHECK(obs_get_stats().spans_started == 1);
    teardown();
}

/* Recursion deeper than any fixed stack: every level is the child of the one above. */
#define DEEP 100
static int deep_not_current; /* levels where the span was not current after its callee */
static void descend(int level) {
    obs_span *s;
    if (level == DEEP) return;
    s = obs_span_start(tr, "deep");
    obs_span_set_int(s, "level", level);
    descend(level + 1);
    deep_not_current += obs_span_current() != s;
    obs_span_end(s);
}

static void test_deep_nesting(void) {
    size_t i, n, wrong = 0;
    const obs_span_data *by_level[DEEP];
    setup();
    deep_not_current = 0;
    descend(0);
    CHECK(deep_not_current == 0);
    CHECK(obs_span_current() == NULL);
    n = obs_memory_exporter_span_count(mem);
    CHECK(n == DEEP);
    memset(by_level, 0, sizeof by_level);
    for (i = 0; i < n && i < DEEP; i++) {
        const obs_span_data *d = obs_memory_exporter_span(mem, i);
        const obs_attr *a = attr(d->attrs, d->n_attrs, "level");
        if (a && a->v.i >= 0 && a->v.i < DEEP) by_level[a->v.i] = d;
    }
    for (i = 1; i < DEEP; i++) wrong += !is_child_of(by_level[i], by_level[i - 1]);
    CHECK(by_level[0] && !by_level[0]->has_parent);
    CHECK(wrong == 0);
    teardown();
}

static void test_tracers(void) {
    obs_tracer *a, *b, *c, *d;
    setup();
    a = obs_tracer_get("lib", "1.0");
    b = obs_tracer_get("lib", "1.0");
    c = obs_tracer_get("lib", "2.0");
    d = obs_tracer_get(NULL, NULL);
    CHECK(a != NULL && a == b && c != NULL && c != a && d != NULL);
    obs_span_end(obs_span_start(c, "scoped"));
    CHECK(find("scoped") && strcmp(find("scoped")->scope->name, "lib") == 0 &&
          strcmp(find("scoped")->scope->version, "2.0") == 0);
    obs_span_end(obs_span_start(d, "anon"));
    CHECK(find("anon") && find("anon")->scope->name && find("anon")->scope->version);
    teardown();
}

static int64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Span times are wall-clock times: each lies between two CLOCK_REALTIME reads taken around
   it (50 us of slack), also a while after obs_init with only a simple processor (no batch
   thread to re-synchronise anything), and durations are true durations. */
static void test_clock(void) {
    struct timespec pause = {0, 20 * 1000000}, gap = {0, 480 * 1000000};
    const int64_t slack = 50000;
    int64_t before, after;
    const obs_span_data *d;
    obs_span *s;
    int i, outside = 0, short_durations = 0;
    setup();
    for (i = 0; i < 4; i++) { /* at about 0, 0.5, 1 and 1.5 s after obs_init */
        if (i) nanosleep(&gap, NULL);
        before = wall_ns();
        s = obs_span_start(tr, "clocked");
        nanosleep(&pause, NULL);
        obs_span_end(s);
        after = wall_ns();
        d = find("clocked");
        CHECK(d != NULL);
        if (!d) break;
        outside += d->start_time_ns < before - slack || d->start_time_ns > after + slack;
        outside += d->end_time_ns < before - slack || d->end_time_ns > after + slack;
        short_durations += d->end_time_ns - d->start_time_ns < 20 * 1000000;
        CHECK(d->end_time_ns - d->start_time_ns < 2000LL * 1000000);
        obs_memory_exporter_clear(mem);
    }
    CHECK(outside == 0);
    CHECK(short_durations == 0);
    teardown();
}

int main(void) {
    RUN(test_nesting_across_functions);
    RUN(test_explicit_parent_root_no_activate);
    RUN(test_remote_parent_traceparent);
    RUN(test_remote_parent_invalid);
    RUN(test_remote_parent_xray);
    RUN(test_kinds_and_times);
    RUN(test_end_twice_and_out_of_order);
    RUN(test_traceparent_and_xray_format);
    RUN(test_update_name);
    RUN(test_links);
    RUN(test_events);
    RUN(test_status_rules);
    RUN(test_record_error);
    RUN(test_current_activate_deactivate);
    RUN(test_null_span_everywhere);
    RUN(test_deep_nesting);
    RUN(test_tracers);
    RUN(test_clock);
    return TEST_EXIT_CODE();
}

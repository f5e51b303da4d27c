/* tests/test_protobuf.c -- the OTLP/protobuf encoder (obs__pb_request) and the partialSuccess
   reader (obs__pb_partial_rejected). Spans and log records come from the real pipeline (the
   in-memory exporter); a small protobuf reader written here walks every byte against the
   OTLP schema (field numbers, wire types, minimal varints, UTF-8) and checks the values.
   `test_protobuf --emit DIR` writes one rich batch in both encodings (DIR/pb_traces.bin and
   .json, DIR/pb_logs.bin and .json) for tests/interop/run.sh --protobuf F.bin --json F.json,
   and prints bytes/span and encode rates of both encoders. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

/* An allocator that can be told to fail, to test out-of-memory while encoding. */
static int oom_armed, oom_left;
static void *t_malloc(size_t n) {
    if (oom_armed && oom_left-- <= 0) return NULL;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n) {
    if (oom_armed && oom_left-- <= 0) return NULL;
    return realloc(p, n);
}
#define OBS_MALLOC(n) t_malloc(n)
#define OBS_REALLOC(p, n) t_realloc(p, n)
#define OBS_FREE(p) free(p)
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"

#include <stdint.h>

/* ---- a tiny protobuf reader ---------------------------------------------------------------- */
typedef struct pbm { /* a message's bytes; p == NULL: absent */
    const unsigned char *p;
    size_t n;
} pbm;
typedef struct pbf {
    uint32_t no;
    int wire;
    uint64_t v;  /* varint or fixed value; length for wire type 2 */
    pbm data;    /* wire type 2 */
    size_t vlen; /* bytes the value's varint took (wire type 0) */
} pbf;
static int nonminimal; /* varints longer than needed, seen by the reader */

static int rd_varint(const unsigned char **p, const unsigned char *end, uint64_t *v, size_t *len) {
    uint64_t r = 0;
    unsigned c;
    size_t k = 0;
    do {
        if (*p >= end || k == 10) return 0;
        c = *(*p)++;
        r |= (uint64_t)(c & 0x7f) << (7 * k);
        k++;
    } while (c & 0x80);
    if (k > 1 && c == 0) nonminimal++;
    *v = r;
    if (len) *len = k;
    return 1;
}
/* The field at *pos of m: 1, 0 at the end, -1 when malformed. */
static int rd_field(pbm m, size_t *pos, pbf *f) {
    const unsigned char *p = m.p + *pos, *end = m.p + m.n;
    uint64_t tag;
    if (*pos >= m.n) return 0;
    memset(f, 0, sizeof *f);
    if (!rd_varint(&p, end, &tag, NULL) || (tag >> 3) == 0 || tag > 0xffffffffu) return -1;
    f->no = (uint32_t)(tag >> 3);
    f->wire = (int)(tag & 7);
    switch (f->wire) {
    case 0:
        if (!rd_varint(&p, end, &f->v, &f->vlen)) return -1;
        break;
    case 1: case 5: {
        int i, nb = f->wire == 1 ? 8 : 4;
        if (end - p < nb) return -1;
        for (i = 0; i < nb; i++) f->v |= (uint64_t)p[i] << (8 * i);
        p += nb;
        break;
    }
    case 2:
        if (!rd_varint(&p, end, &f->v, NULL) || f->v > (uint64_t)(end - p)) return -1;
        f->data.p = p;
        f->data.n = (size_t)f->v;
        p += f->v;
        break;
    default: return -1;
    }
    *pos = (size_t)(p - m.p);
    return 1;
}
/* The idx-th occurrence of field no; 0 when absent. */
static int getf(pbm m, uint32_t no, int idx, pbf *out) {
    size_t pos = 0;
    pbf f;
    if (!m.p) return 0;
    while (rd_field(m, &pos, &f) == 1) {
        if (f.no == no && idx-- == 0) {
            *out = f;
            return 1;
        }
    }
    return 0;
}
static int count(pbm m, uint32_t no) {
    size_t pos = 0;
    int n = 0;
    pbf f;
    if (!m.p) return 0;
    while (rd_field(m, &pos, &f) == 1) n += f.no == no;
    return n;
}
static int has(pbm m, uint32_t no) { return count(m, no) > 0; }
static pbm sub(pbm m, uint32_t no, int idx) {
    pbf f;
    pbm none = {NULL, 0};
    return getf(m, no, idx, &f) && f.wire == 2 ? f.data : none;
}
/* The value of field no with wire type `wire`; 0 when absent, ~0 when of another type. */
static uint64_t num(pbm m, uint32_t no, int wire) {
    pbf f;
    if (!getf(m, no, 0, &f)) return 0;
    return f.wire == wire ? f.v : ~(uint64_t)0;
}
static int bytes_eq(pbm m, uint32_t no, const void *s, size_t n) {
    pbm d = sub(m, no, 0);
    return d.p && d.n == n && memcmp(d.p, s, n) == 0;
}
static int str_eq(pbm m, uint32_t no, const char *s) { return bytes_eq(m, no, s, strlen(s)); }
static pbm whole(const obs__buf *b) {
    pbm m;
    m.p = (const unsigned char *)b->p;
    m.n = b->len;
    return m;
}
/* The AnyValue of the KeyValue called key among the fields no of m. */
static pbm attr(pbm m, uint32_t no, const char *key) {
    int i, n = count(m, no);
    pbm none = {NULL, 0};
    for (i = 0; i < n; i++) {
        pbm kv = sub(m, no, i);
        if (str_eq(kv, 1, key)) return sub(kv, 2, 0);
    }
    return none;
}
static int any_is(pbm any, const void *bytes, size_t n) {
    return any.p && any.n == n && memcmp(any.p, bytes, n) == 0;
}

/* ---- the OTLP schema, to walk every byte ---------------------------------------------------- */
enum { REQ_T, REQ_L, RS, RL, RES, SS, SL, SCOPE, SPAN, EVENT, LINK, STATUS, LOG, KV, ANY, ARR };
enum { SCALAR = -1, STR = -2, ID16 = -3, ID8 = -4 };
typedef struct fdesc {
    int msg;
    uint32_t no;
    int wire, child, repeated;
} fdesc;
static const fdesc schema[] = {
    {REQ_T, 1, 2, RS, 1}, {REQ_L, 1, 2, RL, 1},
    {RS, 1, 2, RES, 0}, {RS, 2, 2, SS, 1}, {RS, 3, 2, STR, 0},
    {RL, 1, 2, RES, 0}, {RL, 2, 2, SL, 1}, {RL, 3, 2, STR, 0},
    {RES, 1, 2, KV, 1}, {RES, 2, 0, SCALAR, 0},
    {SS, 1, 2, SCOPE, 0}, {SS, 2, 2, SPAN, 1}, {SS, 3, 2, STR, 0},
    {SL, 1, 2, SCOPE, 0}, {SL, 2, 2, LOG, 1}, {SL, 3, 2, STR, 0},
    {SCOPE, 1, 2, STR, 0}, {SCOPE, 2, 2, STR, 0}, {SCOPE, 3, 2, KV, 1}, {SCOPE, 4, 0, SCALAR, 0},
    {SPAN, 1, 2, ID16, 0}, {SPAN, 2, 2, ID8, 0}, {SPAN, 3, 2, STR, 0}, {SPAN, 4, 2, ID8, 0},
    {SPAN, 5, 2, STR, 0}, {SPAN, 6, 0, SCALAR, 0}, {SPAN, 7, 1, SCALAR, 0}, {SPAN, 8, 1, SCALAR, 0},
    {SPAN, 9, 2, KV, 1}, {SPAN, 10, 0, SCALAR, 0}, {SPAN, 11, 2, EVENT, 1}, {SPAN, 12, 0, SCALAR, 0},
    {SPAN, 13, 2, LINK, 1}, {SPAN, 14, 0, SCALAR, 0}, {SPAN, 15, 2, STATUS, 0}, {SPAN, 16, 5, SCALAR, 0},
    {EVENT, 1, 1, SCALAR, 0}, {EVENT, 2, 2, STR, 0}, {EVENT, 3, 2, KV, 1}, {EVENT, 4, 0, SCALAR, 0},
    {LINK, 1, 2, ID16, 0}, {LINK, 2, 2, ID8, 0}, {LINK, 3, 2, STR, 0}, {LINK, 4, 2, KV, 1},
    {LINK, 5, 0, SCALAR, 0}, {LINK, 6, 5, SCALAR, 0},
    {STATUS, 2, 2, STR, 0}, {STATUS, 3, 0, SCALAR, 0},
    {LOG, 1, 1, SCALAR, 0}, {LOG, 2, 0, SCALAR, 0}, {LOG, 3, 2, STR, 0}, {LOG, 5, 2, ANY, 0},
    {LOG, 6, 2, KV, 1}, {LOG, 7, 0, SCALAR, 0}, {LOG, 8, 5, SCALAR, 0}, {LOG, 9, 2, ID16, 0},
    {LOG, 10, 2, ID8, 0}, {LOG, 11, 1, SCALAR, 0},
    {KV, 1, 2, STR, 0}, {KV, 2, 2, ANY, 0},
    {ANY, 1, 2, STR, 0}, {ANY, 2, 0, SCALAR, 0}, {ANY, 3, 0, SCALAR, 0}, {ANY, 4, 1, SCALAR, 0},
    {ANY, 5, 2, ARR, 0},
    {ARR, 1, 2, ANY, 1},
};
static int utf8_valid(const unsigned char *s, size_t n) { /* RFC 3629, written again here */
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, min, cp, k;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) need = 1, min = 0x80, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) need = 2, min = 0x800, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) need = 3, min = 0x10000, cp = c & 0x07;
        else return 0;
        if (i + need >= n) return 0;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += need + 1;
    }
    return 1;
}
static int schema_errors;
static void bad(const char *what, int msg, uint32_t no) {
    if (schema_errors++ < 10) fprintf(stderr, "  protobuf: %s (message %d, field %u)\n", what, msg, no);
}
/* Walks m as message type t: every field known, of its wire type, at most once unless
   repeated, ids of their size, strings UTF-8, an AnyValue with exactly one member. */
static void walk(int t, pbm m, int depth) {
    size_t pos = 0, i;
    int seen[17] = {0}, rc, members = 0;
    pbf f;
    if (depth > 12) {
        bad("too deep", t, 0);
        return;
    }
    while ((rc = rd_field(m, &pos, &f)) == 1) {
        const fdesc *d = NULL;
        for (i = 0; i < sizeof schema / sizeof schema[0]; i++) {
            if (schema[i].msg == t && schema[i].no == f.no) d = &schema[i];
        }
        if (!d) {
            bad("unknown field", t, f.no);
            continue;
        }
        if (f.wire != d->wire) bad("wrong wire type", t, f.no);
        if (!d->repeated && seen[f.no]++) bad("non-repeated field twice", t, f.no);
        members++;
        if (f.wire != 2) continue;
        if (d->child >= 0) walk(d->child, f.data, depth + 1);
        else if (d->child == STR && !utf8_valid(f.data.p, f.data.n)) bad("string not UTF-8", t, f.no);
        else if (d->child == ID16 && f.data.n != 16) bad("trace id not 16 bytes", t, f.no);
        else if (d->child == ID8 && f.data.n != 8) bad("span id not 8 bytes", t, f.no);
    }
    if (rc < 0) bad("malformed", t, 0);
    if (t == ANY && members != 1) bad("AnyValue without exactly one value", t, 0);
    if (t == KV && !has(m, 1)) bad("KeyValue without a key", t, 0);
}
/* The whole buffer is a valid request of kind logs, with minimal varints only. */
static int valid_request(const obs__buf *b, int logs) {
    schema_errors = 0;
    nonminimal = 0;
    walk(logs ? REQ_L : REQ_T, whole(b), 0);
    if (nonminimal) bad("non-minimal varint", -1, 0);
    return b->len > 0 && !b->oom && schema_errors == 0;
}

/* ---- the pipeline ---------------------------------------------------------------------------- */
static obs_exporter *mem;
static void start_limits(int attrs, int events, int links) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(100000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.simple_processor = 1;
    c.service_name = "pb-test";
    c.resource_attributes = "deployment.environment=test";
    c.log_level = OBS_LEVEL_TRACE;
    c.attribute_count_limit = attrs;
    c.event_count_limit = events;
    c.link_count_limit = links;
    c.span_exporters[0] = mem;
    c.log_exporters[0] = mem;
    CHECK(obs_init(&c) == OBS_OK);
}
static void start(void) { start_limits(0, 0, 0); }
static void stop(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}
/* Every exported span (logs 0) or record (1), in export order. */
static const void **items_of(int logs, size_t *n) {
    size_t i, k = logs ? obs_memory_exporter_log_count(mem) : obs_memory_exporter_span_count(mem);
    const void **v = (const void **)malloc((k + 1) * sizeof *v);
    for (i = 0; v && i < k; i++) {
        v[i] = logs ? (const void *)obs_memory_exporter_log(mem, i)
                    : (const void *)obs_memory_exporter_span(mem, i);
    }
    *n = v ? k : 0;
    return v;
}
static const obs_span_data *span_named(const char *name) {
    size_t i = obs_memory_exporter_span_count(mem);
    while (i-- > 0) {
        const obs_span_data *d = obs_memory_exporter_span(mem, i);
        if (strcmp(d->name, name) == 0) return d;
    }
    return NULL;
}
static void encode(obs__buf *b, int logs, int json) {
    size_t n;
    const void **v = items_of(logs, &n);
    obs__buf_reset(b);
    if (json) obs__otlp_request(b, logs, (const void *const *)v, n);
    else obs__pb_request(b, logs, (const void *const *)v, n);
    free((void *)v);
}
/* The idx-th span (or record) of the first scope group. */
static pbm first_item(const obs__buf *b, int idx) {
    return sub(sub(sub(whole(b), 1, 0), 2, 0), 2, idx);
}

static const char *const SA[] = {"a", "", "\xc3\xbc", "\xff"};
static const int64_t IA[] = {-1, 0, 300, INT64_MIN, INT64_MAX};
static const double DA[] = {1.5, -0.25, 1e300, 0.0};
static const int BA[] = {1, 0, 7};
static const uint8_t LINK_TRACE[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t LINK_SPAN[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
#define TP "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

/* "rich": a server span under a remote parent with every attribute type, events, a link and
   an error status; "child": a child in another scope; "typical": the benchmark's span. */
static void make_rich(void) {
    obs_tracer *t = obs_tracer_get("test.pb", "1.2.3");
    obs_tracer *t2 = obs_tracer_get("test.pb.other", NULL);
    obs_span_opts o;
    obs_link l;
    obs_attr la[2], ea[2];
    obs_span *s, *c;
    memset(&o, 0, sizeof o);
    memset(&l, 0, sizeof l);
    memcpy(l.trace_id, LINK_TRACE, 16);
    memcpy(l.span_id, LINK_SPAN, 8);
    l.trace_flags = 1;
    l.trace_state = "k=v";
    la[0] = obs_attr_str("link.kind", "follows");
    la[1] = obs_attr_int("link.n", -7);
    l.attrs = la;
    l.n_attrs = 2;
    o.kind = OBS_SPAN_KIND_SERVER;
    o.traceparent = TP;
    o.tracestate = "congo=t61rcWkgMzE";
    o.links = &l;
    o.n_links = 1;
    s = obs_span_start_ex(t, "GET /api/\xc3\xbcsers", &o);
    obs_span_set_str(s, "http.method", "GET");
    obs_span_set_str(s, "empty", "");
    obs_span_set_str(s, "bad.utf8", "a\xff" "b");
    obs_span_set_int(s, "neg", -42);
    obs_span_set_int(s, "zero", 0);
    obs_span_set_int(s, "max", INT64_MAX);
    obs_span_set_int(s, "min", INT64_MIN);
    obs_span_set_double(s, "pi", 3.14159);
    obs_span_set_double(s, "dzero", 0.0);
    obs_span_set_double(s, "dneg", -2.5e-300);
    obs_span_set_bool(s, "yes", 1);
    obs_span_set_bool(s, "no", 0);
    obs_span_set_str_array(s, "sa", SA, 4);
    obs_span_set_int_array(s, "ia", IA, 5);
    obs_span_set_double_array(s, "da", DA, 4);
    obs_span_set_bool_array(s, "ba", BA, 3);
    obs_span_set_int_array(s, "ia.empty", IA, 0);
    ea[0] = obs_attr_str("ev.s", "x");
    ea[1] = obs_attr_double("ev.d", 0.5);
    obs_span_add_event_attrs(s, "ev1", ea, 2);
    obs_span_add_event(s, "ev2");
    obs_span_set_status(s, OBS_STATUS_ERROR, "boom");
    c = obs_span_start(t2, "child");
    obs_span_set_int(c, "n", 1);
    obs_span_end(c);
    obs_span_end(s);
}
static void make_typical(obs_tracer *t) {
    obs_attr ev[1];
    obs_span *s = obs_span_start(t, "home-activities-mock-data");
    ev[0] = obs_attr_str("app.detail", "cache miss");
    obs_span_set_str(s, "app.now", "2026-11-29T12:00:00Z");
    obs_span_set_int(s, "app.result_length", 3);
    obs_span_set_double(s, "app.ratio", 0.25);
    obs_span_add_event_attrs(s, "cache", ev, 1);
    obs_span_end(s);
}

/* ---- tests ------------------------------------------------------------------------------------ */
static void wire_primitives(void) {
    unsigned char tmp[16], *e;
    CHECK(obs__pb_vsize(0) == 1 && obs__pb_vsize(127) == 1 && obs__pb_vsize(128) == 2);
    CHECK(obs__pb_vsize(16383) == 2 && obs__pb_vsize(16384) == 3 && obs__pb_vsize(2097151) == 3);
    CHECK(obs__pb_vsize(2097152) == 4 && obs__pb_vsize(UINT64_MAX) == 10);
    CHECK(obs__pb_vsize((uint64_t)INT64_MAX) == 9 && obs__pb_vsize((uint64_t)1 << 63) == 10);
    e = obs__pb_varint(tmp, (uint64_t)(int64_t)-1);
    CHECK(e - tmp == 10 && tmp[0] == 0xff && tmp[8] == 0xff && tmp[9] == 0x01);
    e = obs__pb_varint(tmp, 300);
    CHECK(e - tmp == 2 && tmp[0] == 0xac && tmp[1] == 0x02);
    e = obs__pb_le64(tmp, 0x0102030405060708ULL);
    CHECK(e - tmp == 8 && tmp[0] == 8 && tmp[7] == 1);
    /* invalid UTF-8 becomes U+FFFD per byte, as in the JSON */
    CHECK(obs__pb_utf8_len("plain ascii text!", 17) == 17);
    CHECK(obs__pb_utf8_len("\xc3\xbc", 2) == 2);
    CHECK(obs__pb_utf8_len("\xff", 1) == 3);
    CHECK(obs__pb_utf8_len("\xe2\x82", 2) == 6);
    CHECK(obs__pb_utf8_len("\xed\xa0\x80", 3) == 9); /* a surrogate */
    CHECK(obs__pb_utf8_len("0123456789abcdef\xf0\x9f\x98\x80", 20) == 20);
    e = obs__pb_utf8_put(tmp, "a\xff" "b", 3, 5);
    CHECK(e - tmp == 5 && memcmp(tmp, "a\xef\xbf\xbd" "b", 5) == 0);
    CHECK(OBS__PB_TAG(16, 5) == 133); /* Span.flags: a two-byte tag */
}

static void rich_span_fields(void) {
    obs__buf b;
    const obs_span_data *d;
    pbm req, rs, res, ss, sp, a, arr, ev, lk, st;
    uint8_t parent[8] = {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31};
    uint8_t trace[16] = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                         0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
    uint64_t bits;
    double pi = 3.14159;
    int i;
    memset(&b, 0, sizeof b);
    start();
    make_rich();
    d = span_named("GET /api/\xc3\xbcsers");
    CHECK(d != NULL);
    encode(&b, 0, 0);
    CHECK(valid_request(&b, 0));
    req = whole(&b);
    CHECK(count(req, 1) == 1);
    rs = sub(req, 1, 0);
    res = sub(rs, 1, 0);
    CHECK(res.p != NULL);
    CHECK(any_is(attr(res, 1, "service.name"), "\x0a\x07pb-test", 9));
    CHECK(any_is(attr(res, 1, "deployment.environment"), "\x0a\x04test", 6));
    CHECK(attr(res, 1, "telemetry.sdk.name").p != NULL);
    CHECK(count(rs, 2) == 2); /* two scopes: the child ended first, so its scope comes first */
    CHECK(str_eq(sub(sub(rs, 2, 0), 1, 0), 1, "test.pb.other"));
    CHECK(!has(sub(sub(rs, 2, 0), 1, 0), 2)); /* no version */
    ss = sub(rs, 2, 1);
    CHECK(str_eq(sub(ss, 1, 0), 1, "test.pb") && str_eq(sub(ss, 1, 0), 2, "1.2.3"));
    CHECK(count(ss, 2) == 1);
    sp = sub(ss, 2, 0);
    if (!d || !sp.p) return;
    CHECK(bytes_eq(sp, 1, trace, 16));
    CHECK(bytes_eq(sp, 2, d->span_id, 8));
    CHECK(str_eq(sp, 3, "congo=t61rcWkgMzE"));
    CHECK(bytes_eq(sp, 4, parent, 8));
    CHECK(str_eq(sp, 5, "GET /api/\xc3\xbcsers"));
    CHECK(num(sp, 6, 0) == 2); /* SERVER + 1 */
    CHECK(num(sp, 7, 1) == (uint64_t)d->start_time_ns && d->start_time_ns > 0);
    CHECK(num(sp, 8, 1) == (uint64_t)d->end_time_ns);
    CHECK(num(sp, 16, 5) == 0x301); /* sampled, parent-remote known, remote */
    CHECK(!has(sp, 10) && !has(sp, 12) && !has(sp, 14));
    CHECK(count(sp, 9) == 17);
    CHECK(any_is(attr(sp, 9, "http.method"), "\x0a\x03GET", 5));
    CHECK(any_is(attr(sp, 9, "empty"), "\x0a\x00", 2)); /* a oneof member: kept when empty */
    CHECK(any_is(attr(sp, 9, "bad.utf8"), "\x0a\x05" "a\xef\xbf\xbd" "b", 7));
    a = attr(sp, 9, "neg"); /* int64 -42: a 10-byte varint */
    CHECK(a.n == 11 && a.p[0] == 0x18 && num(a, 3, 0) == (uint64_t)(int64_t)-42);
    CHECK(any_is(attr(sp, 9, "zero"), "\x18\x00", 2));
    CHECK(num(attr(sp, 9, "max"), 3, 0) == (uint64_t)INT64_MAX && attr(sp, 9, "max").n == 10);
    CHECK(num(attr(sp, 9, "min"), 3, 0) == (uint64_t)1 << 63 && attr(sp, 9, "min").n == 11);
    memcpy(&bits, &pi, 8);
    a = attr(sp, 9, "pi");
    CHECK(a.n == 9 && a.p[0] == 0x21 && num(a, 4, 1) == bits);
    CHECK(any_is(attr(sp, 9, "dzero"), "\x21\0\0\0\0\0\0\0\0", 9));
    CHECK(any_is(attr(sp, 9, "yes"), "\x10\x01", 2));
    CHECK(any_is(attr(sp, 9, "no"), "\x10\x00", 2));
    arr = sub(attr(sp, 9, "sa"), 5, 0); /* ArrayValue { values = 1 } */
    CHECK(count(arr, 1) == 4);
    CHECK(any_is(sub(arr, 1, 0), "\x0a\x01" "a", 3));
    CHECK(any_is(sub(arr, 1, 1), "\x0a\x00", 2));
    CHECK(any_is(sub(arr, 1, 2), "\x0a\x02\xc3\xbc", 4));
    CHECK(any_is(sub(arr, 1, 3), "\x0a\x03\xef\xbf\xbd", 5));
    arr = sub(attr(sp, 9, "ia"), 5, 0);
    CHECK(count(arr, 1) == 5);
    for (i = 0; i < 5; i++) CHECK(num(sub(arr, 1, i), 3, 0) == (uint64_t)IA[i]);
    CHECK(any_is(sub(arr, 1, 1), "\x18\x00", 2));
    CHECK(sub(arr, 1, 0).n == 11);
    arr = sub(attr(sp, 9, "da"), 5, 0);
    CHECK(count(arr, 1) == 4);
    for (i = 0; i < 4; i++) {
        memcpy(&bits, &DA[i], 8);
        CHECK(num(sub(arr, 1, i), 4, 1) == bits && sub(arr, 1, i).n == 9);
    }
    arr = sub(attr(sp, 9, "ba"), 5, 0);
    CHECK(count(arr, 1) == 3);
    CHECK(any_is(sub(arr, 1, 0), "\x10\x01", 2) && any_is(sub(arr, 1, 1), "\x10\x00", 2));
    CHECK(any_is(sub(arr, 1, 2), "\x10\x01", 2)); /* 7 is true */
    CHECK(any_is(attr(sp, 9, "ia.empty"), "\x2a\x00", 2)); /* an empty ArrayValue */
    CHECK(count(sp, 11) == 2);
    ev = sub(sp, 11, 0);
    CHECK(num(ev, 1, 1) == (uint64_t)d->events[0].time_ns && d->events[0].time_ns > 0);
    CHECK(str_eq(ev, 2, "ev1") && count(ev, 3) == 2 && !has(ev, 4));
    CHECK(any_is(attr(ev, 3, "ev.s"), "\x0a\x01x", 3));
    CHECK(attr(ev, 3, "ev.d").n == 9);
    ev = sub(sp, 11, 1);
    CHECK(str_eq(ev, 2, "ev2") && !has(ev, 3));
    CHECK(count(sp, 13) == 1);
    lk = sub(sp, 13, 0);
    CHECK(bytes_eq(lk, 1, LINK_TRACE, 16) && bytes_eq(lk, 2, LINK_SPAN, 8));
    CHECK(str_eq(lk, 3, "k=v") && count(lk, 4) == 2 && !has(lk, 5));
    CHECK(num(attr(lk, 4, "link.n"), 3, 0) == (uint64_t)(int64_t)-7);
    CHECK(num(lk, 6, 5) == 0x01); /* W3C flags only: whether a link is remote is unknown */
    st = sub(sp, 15, 0);
    CHECK(str_eq(st, 2, "boom") && num(st, 3, 0) == 2);
    /* the child: same trace, parent = the rich span, kind INTERNAL = 1, local parent */
    sp = sub(sub(rs, 2, 0), 2, 0);
    CHECK(bytes_eq(sp, 1, trace, 16) && bytes_eq(sp, 4, d->span_id, 8));
    CHECK(num(sp, 6, 0) == 1 && num(sp, 16, 5) == 0x101 && !has(sp, 15));
    CHECK(str_eq(sp, 3, "congo=t61rcWkgMzE")); /* inherited from the parent */
    CHECK(any_is(attr(sp, 9, "n"), "\x18\x01", 2));
    stop();
    obs__buf_free(&b);
}

static void dropped_counts_root_and_ok_status(void) {
    obs__buf b;
    obs_tracer *t;
    obs_span_opts o;
    obs_link l[3];
    obs_span *s;
    pbm sp;
    memset(&b, 0, sizeof b);
    memset(&o, 0, sizeof o);
    memset(l, 0, sizeof l);
    start_limits(2, 1, 1);
    t = obs_tracer_get("limits", "");
    l[0].trace_id[0] = l[1].trace_id[0] = 1;
    l[0].span_id[0] = l[1].span_id[0] = 1;
    o.links = l;
    o.n_links = 2;
    o.kind = OBS_SPAN_KIND_CONSUMER;
    s = obs_span_start_ex(t, "limited", &o);
    obs_span_set_int(s, "a", 1);
    obs_span_set_int(s, "b", 2);
    obs_span_set_int(s, "c", 3);
    obs_span_set_int(s, "d", 4);
    obs_span_add_event(s, "e1");
    obs_span_add_event(s, "e2");
    obs_span_add_event(s, "e3");
    obs_span_set_status(s, OBS_STATUS_OK, "ignored");
    obs_span_end(s);
    encode(&b, 0, 0);
    CHECK(valid_request(&b, 0));
    sp = first_item(&b, 0);
    CHECK(!has(sub(sub(sub(whole(&b), 1, 0), 2, 0), 1, 0), 2)); /* version "": left out */
    CHECK(count(sp, 9) == 2 && num(sp, 10, 0) == 2);
    CHECK(count(sp, 11) == 1 && num(sp, 12, 0) == 2);
    CHECK(count(sp, 13) == 1 && num(sp, 14, 0) == 1);
    CHECK(!has(sub(sp, 13, 0), 6)); /* link flags 0: left out */
    CHECK(!has(sp, 4) && !has(sp, 3)); /* a root: no parent, no tracestate */
    CHECK(num(sp, 6, 0) == 5);         /* CONSUMER + 1 */
    CHECK(num(sp, 16, 5) == 0x101);    /* sampled, parent-remote known, not remote */
    CHECK(any_is(sub(sp, 15, 0), "\x18\x01", 2)); /* OK: the code only */
    stop();
    obs__buf_free(&b);
}

static void log_records(void) {
    obs__buf b;
    obs_tracer *t;
    obs_span *s;
    obs_attr at[2];
    uint8_t tid[16], sid[8];
    pbm ss, r, body;
    int i, n;
    memset(&b, 0, sizeof b);
    start();
    t = obs_tracer_get("logs", "1");
    OBS_WARN("outside %d", 1);
    s = obs_span_start(t, "work");
    obs_span_ids(s, tid, sid);
    at[0] = obs_attr_int("neg", -1);
    at[1] = obs_attr_str("s", "\xc3\xa9t\xc3\xa9");
    OBS_INFO_ATTRS(at, 2, "hello %d", 42);
    obs_log(OBS_LEVEL_ERROR, "%s", "");
    obs_span_end(s);
    encode(&b, 1, 0);
    CHECK(valid_request(&b, 1));
    CHECK(attr(sub(sub(whole(&b), 1, 0), 1, 0), 1, "service.name").p != NULL);
    ss = sub(sub(whole(&b), 1, 0), 2, 0);
    n = count(ss, 2);
    CHECK(n == 3);
    CHECK(sub(ss, 1, 0).p != NULL);
    r = sub(ss, 2, 0); /* outside a span: no ids, no flags */
    CHECK(num(r, 2, 0) == 13 && str_eq(r, 3, "WARN"));
    CHECK(!has(r, 8) && !has(r, 9) && !has(r, 10));
    CHECK(any_is(sub(r, 5, 0), "\x0a\x09outside 1", 11));
    r = sub(ss, 2, 1);
    CHECK(num(r, 1, 1) != 0 && num(r, 1, 1) == num(r, 11, 1));
    CHECK(num(r, 2, 0) == 9 && str_eq(r, 3, "INFO"));
    body = sub(r, 5, 0);
    CHECK(any_is(body, "\x0a\x08hello 42", 10));
    CHECK(bytes_eq(r, 9, tid, 16) && bytes_eq(r, 10, sid, 8) && num(r, 8, 5) == 1);
    CHECK(num(attr(r, 6, "neg"), 3, 0) == UINT64_MAX && attr(r, 6, "neg").n == 11);
    CHECK(any_is(attr(r, 6, "s"), "\x0a\x05\xc3\xa9t\xc3\xa9", 7));
    CHECK(attr(r, 6, "code.file.path").p != NULL && attr(r, 6, "code.line.number").p != NULL);
    r = sub(ss, 2, 2); /* an empty body is still an AnyValue holding "" */
    CHECK(num(r, 2, 0) == 17 && str_eq(r, 3, "ERROR"));
    CHECK(any_is(sub(r, 5, 0), "\x0a\x00", 2));
    for (i = 0; i < n; i++) CHECK(!has(sub(ss, 2, i), 7));
    stop();
    obs__buf_free(&b);
}

/* Synthetic views, for what the pipeline never makes: zero and max times, empty names. */
static obs_span_data plain_span(const obs_scope *sc) {
    obs_span_data s;
    memset(&s, 0, sizeof s);
    s.scope = sc;
    s.name = "s";
    s.trace_id[15] = 1;
    s.span_id[7] = 1;
    s.trace_flags = 1;
    s.status_message = "";
    s.trace_state = "";
    s.start_time_ns = 1;
    s.end_time_ns = 2;
    return s;
}

static void zero_values_and_extreme_times(void) {
    obs__buf b;
    obs_scope sc = {"", NULL};
    obs_span_data s = plain_span(&sc), s2 = plain_span(&sc);
    obs_event ev;
    obs_log_data r;
    const void *items[2];
    pbm sp, ss;
    memset(&b, 0, sizeof b);
    memset(&ev, 0, sizeof ev);
    memset(&r, 0, sizeof r);
    start();
    s.name = "";
    s.trace_state = NULL;
    s.status_message = NULL;
    s.start_time_ns = 0;
    s.end_time_ns = INT64_MAX;
    s.events = &ev; /* time 0, name "": an empty Event message, still present */
    s.n_events = 1;
    s.status = OBS_STATUS_ERROR; /* without a message */
    s2.start_time_ns = -5;       /* negative: written as 0, i.e. left out (JSON: "0") */
    s2.end_time_ns = INT64_MAX - 1;
    s2.status = OBS_STATUS_UNSET;
    s2.status_message = "not sent";
    s2.name = "bad \xfe name \xc3\xbc"; /* invalid bytes: U+FFFD, as in the JSON */
    items[0] = &s;
    items[1] = &s2;
    obs__pb_request(&b, 0, items, 2);
    CHECK(valid_request(&b, 0));
    ss = sub(sub(whole(&b), 1, 0), 2, 0);
    CHECK(any_is(sub(ss, 1, 0), "", 0) && sub(ss, 1, 0).p != NULL); /* scope: present, empty */
    sp = sub(ss, 2, 0);
    CHECK(!has(sp, 5) && !has(sp, 3) && !has(sp, 7));
    CHECK(num(sp, 8, 1) == (uint64_t)INT64_MAX);
    CHECK(count(sp, 11) == 1 && sub(sp, 11, 0).n == 0);
    CHECK(any_is(sub(sp, 15, 0), "\x18\x02", 2));
    sp = sub(ss, 2, 1);
    CHECK(!has(sp, 7) && num(sp, 8, 1) == (uint64_t)INT64_MAX - 1 && !has(sp, 15));
    CHECK(str_eq(sp, 5, "bad \xef\xbf\xbd name \xc3\xbc"));
    /* a record with zero everything: times, level and flags left out; body and text kept */
    r.scope = &sc;
    r.body = NULL;
    items[0] = &r;
    obs__buf_reset(&b);
    obs__pb_request(&b, 1, items, 1);
    CHECK(valid_request(&b, 1));
    sp = sub(sub(sub(whole(&b), 1, 0), 2, 0), 2, 0);
    CHECK(!has(sp, 1) && !has(sp, 11) && !has(sp, 2) && !has(sp, 8) && !has(sp, 9));
    CHECK(str_eq(sp, 3, "UNSPECIFIED") && any_is(sub(sp, 5, 0), "\x0a\x00", 2));
    /* no items: a request with the resource and no scope group, as the JSON has */
    obs__buf_reset(&b);
    obs__pb_request(&b, 0, items, 0);
    CHECK(valid_request(&b, 0));
    CHECK(count(sub(whole(&b), 1, 0), 2) == 0 && has(sub(whole(&b), 1, 0), 1));
    stop();
    obs__buf_free(&b);
}

/* Length slots too narrow and too wide: tiny spans (slot shrinks), long strings (KeyValue
   3-byte length, span grows), a big event (event grows), a group over 2 MiB (groups grow). */
static void nested_lengths(void) {
    obs__buf b;
    obs_scope sc = {"len", "1"};
    obs_span_data s[4];
    obs_event ev;
    obs_attr big, evattr, hugeattr;
    const void *items[4];
    char *huge = (char *)malloc(3u << 20), *mid = (char *)malloc(20001), *small = (char *)malloc(301);
    pbm sp, a;
    size_t i;
    memset(&b, 0, sizeof b);
    if (!huge || !mid || !small) return;
    for (i = 0; i < (3u << 20); i++) huge[i] = (char)('a' + i % 26);
    memset(mid, 'm', 20000);
    mid[20000] = 0;
    memset(small, 'e', 300);
    small[300] = 0;
    start();
    for (i = 0; i < 4; i++) s[i] = plain_span(&sc);
    s[0].name = "x"; /* about 60 bytes: the 2-byte slot shrinks to 1 */
    items[0] = &s[0];
    obs__pb_request(&b, 0, items, 1);
    CHECK(valid_request(&b, 0));
    sp = first_item(&b, 0);
    CHECK(sp.p && sp.n < 128 && sp.p[-1] == sp.n && sp.p[-2] == 0x12);

    big = obs_attr_str("mid", mid);
    evattr = obs_attr_str("small", small);
    memset(&ev, 0, sizeof ev);
    ev.name = "big event";
    ev.time_ns = 5;
    ev.attrs = &evattr;
    ev.n_attrs = 1;
    s[1].attrs = &big;
    s[1].n_attrs = 1;
    s[1].events = &ev;
    s[1].n_events = 1;
    items[1] = &s[1];
    obs__buf_reset(&b);
    obs__pb_request(&b, 0, items, 2);
    CHECK(valid_request(&b, 0));
    sp = first_item(&b, 1);
    CHECK(sp.n > 20000 && sp.n < 2097152);
    a = attr(sp, 9, "mid");
    CHECK(a.n == 20000 + 4 && a.p && memcmp(a.p + 4, mid, 20000) == 0);
    CHECK(sub(sp, 11, 0).n > 300 && str_eq(sub(sp, 11, 0), 2, "big event"));
    CHECK(num(sub(sp, 11, 0), 1, 1) == 5);

    hugeattr = obs_attr_str("huge", "");
    hugeattr.v.s = huge; /* not NUL-terminated: n is the length */
    hugeattr.n = 3u << 20;
    s[2].attrs = &hugeattr;
    s[2].n_attrs = 1;
    items[2] = &s[2];
    items[3] = &s[3];
    obs__buf_reset(&b);
    obs__pb_request(&b, 0, items, 4);
    CHECK(valid_request(&b, 0));
    CHECK(b.len > (3u << 20) + 20000 && b.len < (3u << 20) + 24000);
    CHECK((unsigned char)b.p[0] == 0x0a && ((unsigned char)b.p[4] & 0x80) == 0); /* 4-byte length */
    a = attr(first_item(&b, 2), 9, "huge");
    CHECK(a.n == (3u << 20) + 5 && memcmp(a.p + 5, huge, 3u << 20) == 0);
    CHECK(str_eq(first_item(&b, 3), 5, "s") && str_eq(first_item(&b, 0), 5, "x"));
    stop();
    obs__buf_free(&b);
    free(huge);
    free(mid);
    free(small);
}

/* Scope groups in the order of each scope's first item, past the 32 remembered scopes. */
static void scope_groups(void) {
    obs__buf b;
    obs_scope sc[40];
    char names[40][16];
    obs_span_data s[80];
    const void *items[80];
    pbm rs;
    int i, ok = 1;
    memset(&b, 0, sizeof b);
    start();
    for (i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "sc%d", i);
        sc[i].name = names[i];
        sc[i].version = i % 2 ? "v" : NULL;
    }
    for (i = 0; i < 80; i++) {
        s[i] = plain_span(&sc[(i * 7) % 40]); /* 0, 7, 14, ... each scope twice */
        items[i] = &s[i];
    }
    obs__pb_request(&b, 0, items, 80);
    CHECK(valid_request(&b, 0));
    rs = sub(whole(&b), 1, 0);
    CHECK(count(rs, 2) == 40);
    for (i = 0; i < 40; i++) {
        pbm g = sub(rs, 2, i);
        ok &= str_eq(sub(g, 1, 0), 1, names[(i * 7) % 40]) && count(g, 2) == 2;
        ok &= has(sub(g, 1, 0), 2) == ((i * 7) % 40) % 2;
    }
    CHECK(ok);
    stop();
    obs__buf_free(&b);
}

/* Out of memory at every step of growing the buffer: no crash, no bad write, oom set. */
static void out_of_memory(void) {
    obs__buf ref, b;
    size_t n;
    const void **v;
    int k, failed = 0, ok = 0;
    memset(&ref, 0, sizeof ref);
    start();
    make_rich();
    v = items_of(0, &n);
    obs__pb_request(&ref, 0, (const void *const *)v, n);
    for (k = 0; k < 12; k++) {
        memset(&b, 0, sizeof b);
        oom_left = k;
        oom_armed = 1;
        obs__pb_request(&b, 0, (const void *const *)v, n);
        oom_armed = 0;
        if (b.oom) failed++;
        else ok += b.len == ref.len && memcmp(b.p, ref.p, b.len) == 0;
        obs__buf_free(&b);
    }
    CHECK(failed > 0 && failed + ok == 12);
    memset(&b, 0, sizeof b);
    b.oom = 1; /* already failed: nothing is written */
    obs__pb_request(&b, 0, (const void *const *)v, n);
    CHECK(b.len == 0);
    free((void *)v);
    obs__buf_free(&ref);
    stop();
}

/* ---- partialSuccess ---- */
static uint64_t partial(const void *p, size_t n, char *msg, size_t cap) {
    return obs__pb_partial_rejected(p, n, 0, msg, cap);
}
static void partial_success(void) {
    static const unsigned char ok[] = {0x0a, 0x09, 0x08, 0x05, 0x12, 0x05, 'h', 'e', 'l', 'l', 'o'};
    static const unsigned char other_order[] = {0x0a, 0x08, 0x12, 0x03, 'b', 'a', 'd', 0x08, 0x96, 0x01};
    static const unsigned char unknown[] = {0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1d, 1, 2, 3, 4, 0x20, 0x7f,
                                            0x0a, 0x0b, 0x0d, 0, 0, 0, 0, 0x08, 0x02, 0x18, 0x01, 0x2a, 0x00};
    static const unsigned char twice[] = {0x0a, 0x02, 0x08, 0x01, 0x0a, 0x04, 0x12, 0x02, 'x', 'y',
                                          0x0a, 0x02, 0x08, 0x03};
    static const unsigned char neg[] = {0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0x01};
    static const unsigned char huge_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x08, 0x01};
    static const unsigned char huge_inner[] = {0x0a, 0x03, 0x12, 0xff, 0x7f};
    static const unsigned char long_varint[] = {0x0a, 0x0c, 0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
                                                0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    static const unsigned char group[] = {0x0b, 0x0c, 0x0a, 0x02, 0x08, 0x01};
    static const unsigned char field0[] = {0x02, 0x00};
    static const unsigned char utf8[] = {0x0a, 0x06, 0x12, 0x04, 'a', 0xc3, 0xa9, 'b'};
    static const unsigned char empty_ps[] = {0x0a, 0x00};
    char msg[64], small[3];
    unsigned char rnd[64];
    uint64_t x = 12345;
    size_t i, j;
    int crashes_none = 1;
    CHECK(partial(ok, sizeof ok, msg, sizeof msg) == 5 && strcmp(msg, "hello") == 0);
    CHECK(obs__pb_partial_rejected(ok, sizeof ok, 1, msg, sizeof msg) == 5); /* logs: same */
    CHECK(partial(other_order, sizeof other_order, msg, sizeof msg) == 150 && strcmp(msg, "bad") == 0);
    CHECK(partial(unknown, sizeof unknown, msg, sizeof msg) == 2 && msg[0] == 0);
    CHECK(partial(twice, sizeof twice, msg, sizeof msg) == 3 && strcmp(msg, "xy") == 0);
    CHECK(partial(empty_ps, sizeof empty_ps, msg, sizeof msg) == 0 && msg[0] == 0);
    CHECK(partial("", 0, msg, sizeof msg) == 0 && msg[0] == 0); /* absent: an empty response */
    CHECK(partial(NULL, 0, msg, sizeof msg) == 0);
    CHECK(partial(NULL, 0, NULL, 0) == 0);
    CHECK(partial(ok, sizeof ok, NULL, 0) == 5);
    CHECK(partial(neg, sizeof neg, msg, sizeof msg) == 0); /* -1: not a count */
    strcpy(msg, "junk");
    CHECK(partial(huge_len, sizeof huge_len, msg, sizeof msg) == 0 && msg[0] == 0);
    CHECK(partial(huge_inner, sizeof huge_inner, msg, sizeof msg) == 0);
    CHECK(partial(long_varint, sizeof long_varint, msg, sizeof msg) == 0);
    CHECK(partial(group, sizeof group, msg, sizeof msg) == 0);
    CHECK(partial(field0, sizeof field0, msg, sizeof msg) == 0);
    CHECK(partial("{}", 2, msg, sizeof msg) == 0); /* a JSON body: not protobuf */
    CHECK(partial("{\"partialSuccess\":{}}", 21, msg, sizeof msg) == 0);
    CHECK(partial(ok, sizeof ok, small, sizeof small) == 5 && strcmp(small, "he") == 0);
    CHECK(partial(utf8, sizeof utf8, small, sizeof small) == 0 && strcmp(small, "a") == 0);
    CHECK(partial(ok, sizeof ok, small, 1) == 5 && small[0] == 0);
    for (i = 0; i < sizeof ok; i++) { /* every truncation: malformed, or the fields before it */
        uint64_t r;
        unsigned char *cut = (unsigned char *)malloc(i ? i : 1); /* exact size: ASan sees overreads */
        if (!cut) continue;
        memcpy(cut, ok, i);
        r = partial(cut, i, msg, sizeof msg);
        CHECK(r == 0 && msg[0] == 0);
        free(cut);
    }
    for (i = 0; i < 20000; i++) { /* garbage: never crashes, never reads past the end */
        size_t n = (size_t)(x % sizeof rnd);
        unsigned char *g;
        for (j = 0; j < sizeof rnd; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            rnd[j] = (unsigned char)(x >> 56);
            if (j < 2 && i % 3 == 0) rnd[j] = j ? (unsigned char)(n > 2 ? n - 2 : 0) : 0x0a;
        }
        if (!(g = (unsigned char *)malloc(n ? n : 1))) continue;
        memcpy(g, rnd, n);
        partial(g, n, msg, sizeof msg);
        crashes_none &= strlen(msg) < sizeof msg;
        free(g);
    }
    CHECK(crashes_none);
}

/* ---- the JSON twin: the same batch in both encodings ---- */
static void make_batch(void) {
    obs_tracer *t = obs_tracer_get("test.pb", "1.2.3");
    obs_span_opts o;
    obs_span *s;
    obs_attr la[3];
    const char *sa[2] = {"x", "\xe2\x82"};
    char *longs = (char *)malloc(70001);
    int i;
    make_rich();
    for (i = 0; i < 3; i++) make_typical(t);
    memset(&o, 0, sizeof o);
    o.kind = OBS_SPAN_KIND_PRODUCER;
    o.start_time_ns = INT64_MAX - 1000;
    s = obs_span_start_ex(t, "max-times", &o);
    if (longs) {
        memset(longs, 'L', 70000);
        longs[70000] = 0;
        obs_span_set_str(s, "long", longs);
        free(longs);
    }
    obs_span_set_str(s, "ctl", "tab\tnl\nnul-free \x01\x7f quote\" back\\");
    obs_span_record_error(s, "io_error", "disk \xff full");
    obs_span_end_at(s, INT64_MAX);
    o.kind = OBS_SPAN_KIND_CLIENT;
    o.start_time_ns = 0;
    o.root = 1;
    s = obs_span_start_ex(t, "client \xfe\xc3\xbc", &o);
    obs_span_set_status(s, OBS_STATUS_OK, NULL);
    la[0] = obs_attr_int("retry", -3);
    la[1] = obs_attr_bool("ok", 0);
    la[2] = obs__attr_make("list", OBS_ATTR_STRING_ARRAY, 2);
    la[2].v.sa = sa;
    OBS_ERROR_ATTRS(la, 3, "request failed: %s", "timeout");
    obs_span_end(s);
    OBS_DEBUG("debug %s", "outside");
    obs_log(OBS_LEVEL_FATAL, "%s", "");
    obs_log(OBS_LEVEL_TRACE, "bad \xc0 utf8");
    obs_log((obs_level)10, "info2");
}
static int write_file(const char *dir, const char *name, const obs__buf *b) {
    char path[1024];
    FILE *f;
    size_t w;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "wb"))) return 0;
    w = fwrite(b->p, 1, b->len, f);
    return fclose(f) == 0 && w == b->len;
}

static void json_twin_sizes(void) {
    obs__buf j, p;
    size_t n, i;
    const void **v;
    memset(&j, 0, sizeof j);
    memset(&p, 0, sizeof p);
    start();
    make_batch();
    encode(&p, 0, 0);
    encode(&j, 0, 1);
    CHECK(valid_request(&p, 0));
    CHECK(p.len < j.len);
    encode(&p, 1, 0);
    encode(&j, 1, 1);
    CHECK(valid_request(&p, 1));
    CHECK(p.len < j.len);
    /* appending: the encoder adds to what the buffer holds */
    v = items_of(1, &n);
    obs__buf_reset(&p);
    obs__buf_puts(&p, "xyz");
    obs__pb_request(&p, 1, (const void *const *)v, n);
    i = p.len;
    obs__buf_reset(&j);
    obs__pb_request(&j, 1, (const void *const *)v, n);
    CHECK(i == j.len + 3 && memcmp(p.p + 3, j.p, j.len) == 0 && p.p[p.len] == 0);
    free((void *)v);
    stop();
    obs__buf_free(&j);
    obs__buf_free(&p);
}

/* --emit DIR: the batch in both encodings, and what each costs. */
static double now_s(void) { return (double)obs__mono_ns() / 1e9; }
static int emit(const char *dir) {
    obs__buf j, p;
    size_t n, k;
    const void **v;
    obs_tracer *t;
    int rc = 0, rounds, r, json;
    memset(&j, 0, sizeof j);
    memset(&p, 0, sizeof p);
    start();
    make_batch();
    encode(&p, 0, 0);
    encode(&j, 0, 1);
    rc |= !write_file(dir, "pb_traces.bin", &p) || !write_file(dir, "pb_traces.json", &j);
    printf("traces: %lu spans, protobuf %lu bytes, JSON %lu bytes\n",
           (unsigned long)obs_memory_exporter_span_count(mem), (unsigned long)p.len, (unsigned long)j.len);
    encode(&p, 1, 0);
    encode(&j, 1, 1);
    rc |= !write_file(dir, "pb_logs.bin", &p) || !write_file(dir, "pb_logs.json", &j);
    printf("logs: %lu records, protobuf %lu bytes, JSON %lu bytes\n",
           (unsigned long)obs_memory_exporter_log_count(mem), (unsigned long)p.len, (unsigned long)j.len);
    /* 512 of the benchmark's span (3 attributes, 1 event), the batch size of the exporter */
    obs_memory_exporter_clear(mem);
    t = obs_tracer_get("bench", "1.0");
    for (k = 0; k < 512; k++) make_typical(t);
    v = items_of(0, &n);
    for (json = 0; json < 2; json++) {
        double t0, dt;
        obs__buf *b = json ? &j : &p;
        obs__buf_reset(b);
        if (json) obs__otlp_request(b, 0, (const void *const *)v, 1);
        else obs__pb_request(b, 0, (const void *const *)v, 1);
        k = b->len;
        rounds = 400;
        t0 = now_s();
        for (r = 0; r < rounds; r++) {
            obs__buf_reset(b);
            if (json) obs__otlp_request(b, 0, (const void *const *)v, n);
            else obs__pb_request(b, 0, (const void *const *)v, n);
        }
        dt = now_s() - t0;
        printf("%-8s one typical span: %lu bytes/request; 512 per request: %.1f bytes/span, "
               "%.2f Mspans/s, %.0f MB/s\n", json ? "JSON" : "protobuf", (unsigned long)k,
               (double)b->len / (double)n, (double)n * rounds / dt / 1e6,
               (double)b->len * rounds / dt / 1e6);
    }
    free((void *)v);
    stop();
    obs__buf_free(&j);
    obs__buf_free(&p);
    return rc;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--emit") == 0) return emit(argv[2]);
    RUN(wire_primitives);
    RUN(rich_span_fields);
    RUN(dropped_counts_root_and_ok_status);
    RUN(log_records);
    RUN(zero_values_and_extreme_times);
    RUN(nested_lengths);
    RUN(scope_groups);
    RUN(out_of_memory);
    RUN(partial_success);
    RUN(json_twin_sizes);
    return TEST_EXIT_CODE();
}

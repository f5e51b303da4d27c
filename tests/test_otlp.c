/* tests/test_otlp.c -- the OTLP/HTTP JSON exporter against the project's loopback receiver:
   what arrives, byte for byte where it matters; retries; refusals; a receiver that is down,
   slow or black-holed; partial success; the payload's JSON rules. */
#include "receiver.h" /* first: POSIX feature macros */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"

#include <stdlib.h>

static rcv *server(rcv_config *c) {
    c->keep_bodies = 1;
    if (!c->fail_status) c->fail_status = 503;
    return rcv_start(c);
}
static rcv_config faults(void) {
    rcv_config c;
    memset(&c, 0, sizeof c);
    c.retry_after_s = -1;
    return c;
}

/* obs_init with OTLP to 127.0.0.1:port (or a URL), console and logs off; batches go out
   every schedule_ms (or when full, or at a flush). */
static int schedule_ms = 20;
static void start_otlp(const char *url, int timeout_ms) {
    obs_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "otlp";
    cfg.logs_exporter = "otlp";
    cfg.otlp_endpoint = url;
    cfg.otlp_timeout_ms = timeout_ms;
    cfg.otlp_protocol = "http/json"; /* readable bodies to check; test_protobuf covers the other */
    cfg.service_name = "cruddur-backend";
    cfg.spans.schedule_delay_ms = schedule_ms;
    cfg.logs.schedule_delay_ms = schedule_ms;
    CHECK(obs_init(&cfg) == OBS_OK);
}
static const char *url_of(rcv *r) {
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", rcv_port(r));
    return url;
}

static void make_spans(int n) {
    obs_tracer *t = obs_tracer_get("test.otlp", "1.2.3");
    int i;
    for (i = 0; i < n; i++) {
        obs_span *s = obs_span_start(t, "GET /api/activities/home");
        obs_span *c = obs_span_start(t, "home-activities-mock-data");
        obs_span_set_int(c, "app.result_length", 3);
        obs_span_end(c);
        obs_span_end(s);
    }
}

/* The first stored body, NUL-terminated (caller frees), and its path. */
static char *body_of(rcv *r, int i, char *path) {
    char *body = NULL;
    size_t len = 0;
    if (!rcv_request(r, i, path, 64, &body, &len)) return NULL;
    return body;
}

static void spans_arrive_with_resource_scope_and_ids(void) {
    rcv_config c = faults();
    rcv *r = server(&c);
    char path[64], *body, tp[64], want[40];
    obs_span *s;
    start_otlp(url_of(r), 5000);
    s = obs_span_start(obs_tracer_get("test.otlp", "1.2.3"), "root");
    obs_span_set_str(s, "k", "v\"\n\x01\xff");
    obs_span_traceparent(s, tp, sizeof tp);
    obs_span_end(s);
    CHECK(obs_flush(5000) == OBS_OK);
    CHECK(rcv_count(r) == 1);
    body = body_of(r, 0, path);
    CHECK(body != NULL);
    if (body) {
        CHECK_STR(path, "/v1/traces");
        const char *head = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
                           "\"value\":{\"stringValue\":\"cruddur-backend\"}}";
        CHECK(strncmp(body, head, strlen(head)) == 0);
        CHECK(strstr(body, "\"scope\":{\"name\":\"test.otlp\",\"version\":\"1.2.3\"}") != NULL);
        memcpy(want, tp + 3, 32);
        want[32] = 0;
        CHECK(strstr(body, want) != NULL); /* the hex trace id, lowercase */
        CHECK(strstr(body, "\"flags\":257") != NULL); /* sampled + "parent is not remote" known */
        CHECK(strstr(body, "\"kind\":1") != NULL);
        CHECK(strstr(body, "\"startTimeUnixNano\":\"") != NULL); /* 64-bit ints as strings */
        /* escaped quote and newline, \u0001, invalid byte as U+FFFD */
        CHECK(strstr(body, "{\"stringValue\":\"v\\\"\\n\\u0001\xEF\xBF\xBD\"}") != NULL);
        free(body);
    }
    CHECK(rcv_header(r, 0, "Content-Type", path, sizeof path) && strcmp(path, "application/json") == 0);
    obs_shutdown();
    rcv_stop(r);
}

static void headers_from_env_are_decoded_and_sent(void) {
    rcv_config c = faults();
    rcv *r = server(&c);
    char v[128];
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=abc%20123, x-other = a%2Cb ", 1);
    start_otlp(url_of(r), 5000);
    make_spans(1);
    obs_flush(5000);
    CHECK(rcv_header(r, 0, "x-honeycomb-team", v, sizeof v) && strcmp(v, "abc 123") == 0);
    CHECK(rcv_header(r, 0, "x-other", v, sizeof v) && strcmp(v, "a,b") == 0);
    obs_shutdown();
    /* headers the client writes itself (framing, identity) are not sent twice */
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "content-type=text%2Fplain,Host=evil,user-agent=me,x-b=2", 1);
    setenv("OTEL_LOG_LEVEL", "none", 1);
    start_otlp(url_of(r), 5000);
    unsetenv("OTEL_LOG_LEVEL");
    make_spans(1);
    obs_flush(5000);
    CHECK(rcv_count(r) >= 2 && rcv_header_count(r, 1, "Content-Type") == 1);
    CHECK(rcv_header(r, 1, "Content-Type", v, sizeof v) && strcmp(v, "application/json") == 0);
    CHECK(rcv_header_count(r, 1, "Host") == 1 && rcv_header_count(r, 1, "User-Agent") == 1);
    CHECK(rcv_header(r, 1, "x-b", v, sizeof v) && strcmp(v, "2") == 0);
    obs_shutdown();
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    rcv_stop(r);
}

static void endpoint_env_gets_signal_path_and_signal_endpoint_is_used_as_is(void) {
    rcv_config c = faults();
    rcv *r = server(&c);
    char url[96], path[64], *b;
    obs_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "otlp";
    cfg.logs_exporter = "otlp";
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
    snprintf(url, sizeof url, "%s/", url_of(r)); /* a trailing slash is not doubled */
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    snprintf(url, sizeof url, "%s/custom/logs", url_of(r));
    setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", url, 1);
    CHECK(obs_init(&cfg) == OBS_OK);
    make_spans(1);
    OBS_WARN("a log line %d", 1);
    obs_shutdown();
    CHECK(rcv_count(r) == 2);
    if ((b = body_of(r, 0, path)) != NULL) free(b);
    CHECK(strcmp(path, "/v1/traces") == 0 || strcmp(path, "/custom/logs") == 0);
    if ((b = body_of(r, 1, path)) != NULL) free(b);
    CHECK(strcmp(path, "/v1/traces") == 0 || strcmp(path, "/custom/logs") == 0);
    CHECK(rcv_get_stats(r).spans == 2);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
    rcv_stop(r);
}

/* 503 with Retry-After: 1, twice: every span arrives exactly once. */
static void retry_after_503_delivers_exactly_once(void) {
    rcv_config c = faults();
    rcv *r;
    obs_stats st;
    c.fail_first = 2;
    c.retry_after_s = 1;
    r = server(&c);
    start_otlp(url_of(r), 10000);
    make_spans(50);
    CHECK(obs_flush(10000) == OBS_OK);
    st = obs_get_stats();
    CHECK(rcv_get_stats(r).spans == 100);
    CHECK(rcv_get_stats(r).failed_injected == 2);
    CHECK(st.spans_exported == 100);
    CHECK(st.export_retries == 2);
    obs_shutdown();
    rcv_stop(r);
}

/* 503 with "Retry-After: 0" for good: retries keep the backoff's pace (0.25-0.5 s, then
   longer), not a flood at a receiver already overloaded (thousands a second before). */
static void retry_after_zero_still_backs_off(void) {
    rcv_config c = faults();
    rcv *r;
    c.fail_first = 1000000;
    c.retry_after_s = 0;
    r = server(&c);
    start_otlp(url_of(r), 2000);
    make_spans(1);
    obs_flush(3000);
    CHECK(rcv_get_stats(r).requests >= 2 && rcv_get_stats(r).requests <= 12);
    obs_shutdown();
    rcv_stop(r);
}

static void status_400_is_not_retried_and_is_counted(void) {
    rcv_config c = faults();
    rcv *r;
    obs_stats st;
    c.fail_first = 100;
    c.fail_status = 400;
    r = server(&c);
    start_otlp(url_of(r), 5000);
    make_spans(5);
    obs_flush(5000);
    st = obs_get_stats();
    CHECK(rcv_get_stats(r).requests == 1);
    CHECK(st.spans_dropped_export == 10);
    CHECK(st.spans_exported == 0);
    obs_shutdown();
    rcv_stop(r);
}

static void partial_success_counts_rejected(void) {
    rcv_config c = faults();
    rcv *r;
    c.partial_rejected = 3;
    r = server(&c);
    start_otlp(url_of(r), 5000);
    make_spans(5);
    obs_flush(5000);
    CHECK(obs_get_stats().spans_rejected == 3);
    CHECK(rcv_get_stats(r).requests == 1); /* a partial success is never retried */
    obs_shutdown();
    rcv_stop(r);
}

/* Nothing listening: the program still ends within the export timeout, drops counted. */
static void receiver_down_ends_within_timeout(void) {
    rcv_config c = faults();
    rcv *r = server(&c);
    char url[64];
    int64_t t0;
    obs_stats st;
    snprintf(url, sizeof url, "%s", url_of(r));
    rcv_stop(r); /* the port is now closed */
    start_otlp(url, 1500);
    make_spans(10);
    t0 = obs__mono_ms();
    obs_shutdown();
    CHECK(obs__mono_ms() - t0 < 1500 + 1000);
    st = obs_get_stats();
    CHECK(st.spans_ended == 20);
    CHECK(st.spans_dropped_export == 20);
    CHECK(st.spans_exported == 0);
}

/* A receiver that accepts and never answers: the caller never waits, shutdown is bounded. */
static void blackhole_does_not_block_callers(void) {
    rcv_config c = faults();
    rcv *r;
    int64_t t0;
    c.blackhole = 1;
    r = server(&c);
    start_otlp(url_of(r), 800);
    t0 = obs__mono_ms();
    make_spans(200);
    CHECK(obs__mono_ms() - t0 < 200); /* 400 spans: nowhere near a network wait */
    t0 = obs__mono_ms();
    obs_shutdown();
    CHECK(obs__mono_ms() - t0 < 800 + 1000);
    CHECK(obs_get_stats().spans_dropped_export == 400);
    rcv_stop(r);
}

static void slow_receiver_over_timeout_drops(void) {
    rcv_config c = faults();
    rcv *r;
    c.delay_ms = 1500;
    r = server(&c);
    start_otlp(url_of(r), 500);
    make_spans(3);
    CHECK(obs_flush(3000) == OBS_ERR_NET); /* the export finished: by giving up, reported */
    CHECK(obs_get_stats().spans_dropped_export == 6);
    obs_shutdown();
    rcv_stop(r);
}

static void garbage_and_chunked_replies(void) {
    rcv_config c = faults();
    rcv *r;
    c.chunked_reply = 1;
    r = server(&c);
    start_otlp(url_of(r), 3000);
    make_spans(2);
    obs_flush(3000);
    CHECK(obs_get_stats().spans_exported == 4);
    obs_shutdown();
    rcv_stop(r);

    c = faults();
    c.garbage_reply = 1;
    r = server(&c);
    start_otlp(url_of(r), 600);
    make_spans(2);
    obs_flush(3000);
    CHECK(obs_get_stats().spans_exported == 0);
    CHECK(obs_get_stats().spans_dropped_export == 4);
    obs_shutdown();
    rcv_stop(r);
}

/* Connection reset before the reply: retried like a connection failure. */
static void reset_is_retried(void) {
    rcv_config c = faults();
    rcv *r;
    c.reset_first = 1;
    r = server(&c);
    start_otlp(url_of(r), 5000);
    make_spans(4);
    CHECK(obs_flush(5000) == OBS_OK);
    CHECK(rcv_get_stats(r).spans == 8);
    CHECK(obs_get_stats().spans_exported == 8);
    obs_shutdown();
    rcv_stop(r);
}

static void logs_arrive_with_trace_context(void) {
    rcv_config c = faults();
    rcv *r = server(&c);
    char path[64], *body, tid[33];
    obs_span *s;
    uint8_t id[16];
    start_otlp(url_of(r), 5000);
    s = obs_span_start(obs_tracer_get("t", NULL), "with-log");
    OBS_INFO("hello %s", "world");
    obs_span_ids(s, id, NULL);
    obs_span_end(s);
    obs_shutdown();
    CHECK(rcv_get_stats(r).logs == 1);
    for (int i = 0; i < rcv_count(r); i++) {
        if (!(body = body_of(r, i, path))) continue;
        if (strcmp(path, "/v1/logs") == 0) {
            obs__hex_encode(id, 16, tid);
            tid[32] = 0;
            CHECK(strstr(body, "\"severityNumber\":9,\"severityText\":\"INFO\"") != NULL);
            CHECK(strstr(body, "\"body\":{\"stringValue\":\"hello world\"}") != NULL);
            CHECK(strstr(body, tid) != NULL);
            CHECK(strstr(body, "\"code.line.number\"") != NULL);
        }
        free(body);
    }
    rcv_stop(r);
}

/* 20 spans of 600 KB each: 12 MB, over the 8 MiB a request may carry. */
static void make_big_spans(void) {
    static char big[600 * 1024];
    obs_tracer *t = obs_tracer_get("big", NULL);
    int i;
    memset(big, 'x', sizeof big - 1);
    for (i = 0; i < 20; i++) {
        obs_span *s = obs_span_start(t, "big");
        obs_span_set_str(s, "blob", big);
        obs_span_end(s);
    }
}

/* A batch over the request size limit goes out in halves. */
static void big_batch_is_split(void) {
    rcv_config c = faults();
    rcv *r = server(&c);
    start_otlp(url_of(r), 10000);
    make_big_spans();
    CHECK(obs_flush(10000) == OBS_OK);
    CHECK(rcv_get_stats(r).spans == 20);
    CHECK(rcv_count(r) >= 2);
    obs_shutdown();
    rcv_stop(r);
}

/* One half of a split batch refused (400), the other accepted: each half counted as what it
   became (before: the whole batch dropped, though half of it was delivered). */
static void split_batch_counts_each_half(void) {
    rcv_config c = faults();
    rcv *r;
    obs_stats st;
    c.fail_first = 1;
    c.fail_status = 400;
    r = server(&c);
    schedule_ms = 60000; /* one batch of all 20, at the flush (a slow build must not split it) */
    start_otlp(url_of(r), 10000);
    schedule_ms = 20;
    make_big_spans();
    CHECK(obs_flush(10000) == OBS_ERR_NET);
    st = obs_get_stats();
    CHECK(rcv_get_stats(r).spans == 10);
    CHECK(st.spans_exported == 10 && st.spans_dropped_export == 10);
    obs_shutdown();
    rcv_stop(r);
}

static void json_escaping_is_total(void) {
    obs__buf b;
    int c;
    char in[1];
    memset(&b, 0, sizeof b);
    obs__json_str(&b, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9); /* é € 😀 pass through */
    CHECK_STR(b.p, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
    obs__buf_reset(&b);
    obs__json_str(&b, "\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80", 9); /* overlong, surrogate, >10FFFF */
    CHECK(strstr(b.p, "\xC0") == NULL && strstr(b.p, "\xED\xA0") == NULL);
    obs__buf_reset(&b);
    obs__json_str(&b, "a\0b", 3); /* NUL inside a sized string */
    CHECK_STR(b.p, "\"a\\u0000b\"");
    for (c = 0; c < 256; c++) { /* every single byte gives valid JSON-string content */
        in[0] = (char)c;
        obs__buf_reset(&b);
        obs__json_str(&b, in, 1);
        CHECK(b.len >= 3 && b.p[0] == '"' && b.p[b.len - 1] == '"');
    }
    obs__buf_reset(&b);
    obs__json_double(&b, 0.25);
    obs__buf_putc(&b, ' ');
    obs__json_double(&b, -12.5);
    obs__buf_putc(&b, ' ');
    obs__json_double(&b, 1e300);
    obs__buf_putc(&b, ' ');
    obs__json_double(&b, 0.1);
    CHECK_STR(b.p, "0.25 -12.5 1.0000000000000001e+300 0.1");
    obs__buf_free(&b);
}

/* The reference: one byte at a time, as the JSON grammar says. */
static void json_str_reference(obs__buf *b, const unsigned char *u, size_t n) {
    size_t i = 0, len;
    obs__buf_putc(b, '"');
    while (i < n) {
        unsigned c = u[i];
        if (c >= 0x80) {
            if ((len = obs__utf8_seq(u + i, n - i)) != 0) obs__buf_put(b, u + i, len);
            else obs__buf_puts(b, "\xEF\xBF\xBD");
            i += len ? len : 1;
            continue;
        }
        i++;
        if (c == '"' || c == '\\') {
            obs__buf_putc(b, '\\');
            obs__buf_putc(b, (char)c);
        } else if (c == '\n') obs__buf_puts(b, "\\n");
        else if (c == '\r') obs__buf_puts(b, "\\r");
        else if (c == '\t') obs__buf_puts(b, "\\t");
        else if (c < 0x20) obs__buf_printf(b, "\\u%04x", c);
        else obs__buf_putc(b, (char)c);
    }
    obs__buf_putc(b, '"');
}

/* The encoder's word-at-a-time paths (strings checked eight bytes a step, decimals eight
   digits a step) against byte-at-a-time references and printf, on many inputs. */
static void json_fast_paths_match_references(void) {
    static const unsigned char odd[] = {'"', '\\', 0, 1, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc3, 0xa9, 0xe2,
                                        0x82, 0xac, 0xff, '\n', 'a'};
    obs__buf got = {0}, want = {0};
    uint64_t x = 0x9E3779B97F4A7C15u, v10;
    unsigned char in[100];
    char dec[32];
    int k, bad_str = 0, bad_dec = 0;
    size_t i;
    for (k = 0; k < 200000; k++) {
        size_t n;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        n = (size_t)(x % sizeof in);
        for (i = 0; i < n; i++) in[i] = (unsigned char)('a' + i % 26);
        if (n && (x & 24) != 0) { /* a quarter stay plain; the rest get one to four odd bytes
                                     anywhere: inside a word, after a long plain run */
            in[(x >> 8) % n] = odd[(x >> 16) % sizeof odd];
            if (x & 1) in[(x >> 24) % n] = odd[(x >> 32) % sizeof odd];
            if (x & 2) in[(x >> 40) % n] = odd[(x >> 48) % sizeof odd];
            if (x & 4) in[(x >> 52) % n] = odd[(x >> 58) % sizeof odd];
        }
        obs__buf_reset(&got);
        obs__buf_reset(&want);
        obs__json_str(&got, (const char *)in, n);
        json_str_reference(&want, in, n);
        bad_str += got.len != want.len || memcmp(got.p, want.p, got.len) != 0;
    }
    for (k = 0; k < 200000; k++) {
        uint64_t v;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v = k < 1000 ? (uint64_t)k : k < 1100 ? UINT64_MAX - (uint64_t)(k - 1000) : x >> (x & 63);
        obs__buf_reset(&got);
        obs__buf_u64(&got, v);
        snprintf(dec, sizeof dec, "%llu", (unsigned long long)v);
        bad_dec += strcmp(got.p, dec) != 0;
    }
    for (v10 = 1, k = 0; k < 20; k++, v10 *= 10) { /* each length's first and last number */
        uint64_t v[2];
        int j;
        v[0] = v10;
        v[1] = v10 - 1;
        for (j = 0; j < 2; j++) {
            obs__buf_reset(&got);
            obs__buf_u64(&got, v[j]);
            snprintf(dec, sizeof dec, "%llu", (unsigned long long)v[j]);
            bad_dec += strcmp(got.p, dec) != 0;
        }
    }
    CHECK(bad_str == 0);
    CHECK(bad_dec == 0);
    obs__buf_free(&got);
    obs__buf_free(&want);
}

int main(void) {
    setenv("OTEL_LOG_LEVEL", "none", 1); /* expected failures would print diagnostics */
    RUN(json_escaping_is_total);
    RUN(json_fast_paths_match_references);
    RUN(spans_arrive_with_resource_scope_and_ids);
    RUN(headers_from_env_are_decoded_and_sent);
    RUN(endpoint_env_gets_signal_path_and_signal_endpoint_is_used_as_is);
    RUN(retry_after_503_delivers_exactly_once);
    RUN(retry_after_zero_still_backs_off);
    RUN(status_400_is_not_retried_and_is_counted);
    RUN(partial_success_counts_rejected);
    RUN(receiver_down_ends_within_timeout);
    RUN(blackhole_does_not_block_callers);
    RUN(slow_receiver_over_timeout_drops);
    RUN(garbage_and_chunked_replies);
    RUN(reset_is_retried);
    RUN(logs_arrive_with_trace_context);
    RUN(big_batch_is_split);
    RUN(split_batch_counts_each_half);
    return TEST_EXIT_CODE();
}

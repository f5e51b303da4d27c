/* tests/test_log.c -- log records: level filtering (arguments not evaluated), run-time and
   environment levels, severities, span context, source location, attributes, long messages,
   obs_report_error, and queue overflow counting. */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <sys/types.h>
#include <wchar.h>

static obs_exporter *mem;
static obs_tracer *tr;

/* obs with the memory exporter for spans and logs (simple processors); level 0: default. */
static void setup_level(obs_level level) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(1000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.simple_processor = 1;
    c.log_level = level;
    c.span_exporters[0] = mem;
    c.log_exporters[0] = mem;
    CHECK(obs_init(&c) == OBS_OK);
    tr = obs_tracer_get("test_log", NULL);
}
static void setup(void) { setup_level(OBS_LEVEL_DEFAULT); }
static void teardown(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}

static size_t nlogs(void) { return obs_memory_exporter_log_count(mem); }
static const obs_log_data *last_log(void) {
    size_t n = nlogs();
    return n ? obs_memory_exporter_log(mem, n - 1) : NULL;
}
static const obs_attr *log_attr(const obs_log_data *r, const char *key) {
    return r ? obs_attr_find(r->attrs, r->n_attrs, key) : NULL;
}
static int all_zero(const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i]) return 0;
    }
    return 1;
}
static int utf8_ok(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = u[i] < 0x80 ? 1 : (u[i] & 0xE0) == 0xC0 ? 2 : (u[i] & 0xF0) == 0xE0 ? 3
                   : (u[i] & 0xF8) == 0xF0 ? 4 : 0;
        size_t k;
        if (!len || i + len > n) return 0;
        for (k = 1; k < len; k++) {
            if ((u[i + k] & 0xC0) != 0x80) return 0;
        }
        i += len;
    }
    return 1;
}

static void test_level_filtering(void) {
    int i = 0;
    setup();
    CHECK(obs_log_get_level() == OBS_LEVEL_INFO);
    OBS_TRACE("%d", i++);
    OBS_DEBUG("%d", i++);
    CHECK(i == 0); /* filtered: the arguments were not evaluated */
    CHECK(nlogs() == 0);
    OBS_INFO("info %d", i++);
    OBS_WARN("warn %d", i++);
    OBS_ERROR("error %d", i++);
    OBS_FATAL("fatal %d", i++);
    CHECK(i == 4);
    CHECK(nlogs() == 4);
    obs_log(OBS_LEVEL_DEBUG, "plain debug");
    obs_log(OBS_LEVEL_INFO, "plain info %s", "x");
    CHECK(nlogs() == 5);
    CHECK_STR(last_log()->body, "plain info x");
    CHECK(obs_get_stats().logs_emitted == 5);
    obs_log(OBS_LEVEL_INFO, NULL); /* no format: nothing */
    CHECK(nlogs() == 5);
    teardown();
}

static void test_set_level_at_run_time(void) {
    int i = 0;
    setup();
    obs_log_set_level(OBS_LEVEL_DEBUG);
    CHECK(obs_log_get_level() == OBS_LEVEL_DEBUG);
    OBS_DEBUG("now %d", i++);
    CHECK(i == 1 && nlogs() == 1);
    obs_log_set_level(OBS_LEVEL_ERROR);
    OBS_WARN("hidden %d", i++);
    CHECK(i == 1 && nlogs() == 1);
    OBS_ERROR("shown");
    CHECK(nlogs() == 2);
    obs_log_set_level(OBS_LEVEL_OFF);
    OBS_FATAL("even fatal is off %d", i++);
    CHECK(i == 1 && nlogs() == 2);
    obs_log_set_level(OBS_LEVEL_DEFAULT); /* back to info */
    CHECK(obs_log_get_level() == OBS_LEVEL_INFO);
    OBS_INFO("info again");
    CHECK(nlogs() == 3);
    teardown();
}

static void test_level_from_env_and_config(void) {
    setenv("OBS_LOG_LEVEL", "debug", 1);
    setup();
    OBS_DEBUG("from env");
    CHECK(nlogs() == 1);
    teardown();
    setenv("OBS_LOG_LEVEL", "ERROR", 1);
    setup();
    OBS_WARN("filtered");
    OBS_ERROR("kept");
    CHECK(nlogs() == 1);
    teardown();
    setenv("OBS_LOG_LEVEL", "error", 1);
    setup_level(OBS_LEVEL_TRACE); /* obs_config wins */
    OBS_TRACE("kept");
    CHECK(nlogs() == 1);
    teardown();
    unsetenv("OBS_LOG_LEVEL");
}

static void test_severity_numbers_and_names(void) {
    setup_level(OBS_LEVEL_TRACE);
    OBS_TRACE("t");
    CHECK(last_log() && last_log()->level == 1);
    OBS_DEBUG("d");
    CHECK(last_log() && last_log()->level == 5);
    OBS_INFO("i");
    CHECK(last_log() && last_log()->level == 9);
    OBS_WARN("w");
    CHECK(last_log() && last_log()->level == 13);
    OBS_ERROR("e");
    CHECK(last_log() && last_log()->level == 17);
    OBS_FATAL("f");
    CHECK(last_log() && last_log()->level == 21);
    obs_log((obs_level)10, "info2"); /* between the named levels: INFO2 */
    CHECK(last_log() && last_log()->level == 10);
    CHECK(last_log() && last_log()->scope && last_log()->scope->name != NULL);
    /* OFF is a threshold, not a severity: no record at "level OFF"; nothing above 24 goes
       out as a severity number (OTLP's range is 1..24) */
    obs_log(OBS_LEVEL_OFF, "off");
    CHECK(nlogs() == 7);
    obs_log((obs_level)30, "thirty");
    CHECK(last_log() && last_log()->level >= 1 && last_log()->level <= 24);
    teardown();
    CHECK_STR(obs_level_name(OBS_LEVEL_TRACE), "TRACE");
    CHECK_STR(obs_level_name(OBS_LEVEL_DEBUG), "DEBUG");
    CHECK_STR(obs_level_name(OBS_LEVEL_INFO), "INFO");
    CHECK_STR(obs_level_name(OBS_LEVEL_WARN), "WARN");
    CHECK_STR(obs_level_name(OBS_LEVEL_ERROR), "ERROR");
    CHECK_STR(obs_level_name(OBS_LEVEL_FATAL), "FATAL");
    CHECK_STR(obs_level_name((obs_level)4), "TRACE");
    CHECK_STR(obs_level_name((obs_level)12), "INFO");
    CHECK_STR(obs_level_name((obs_level)24), "FATAL");
    CHECK(obs_level_name((obs_level)0) != NULL && obs_level_name((obs_level)25) != NULL);
    CHECK(obs_level_name(OBS_LEVEL_OFF) != NULL);
}

static void test_span_context(void) {
    obs_span *s, *u;
    uint8_t tid[16], sid[8];
    const obs_log_data *r;
    obs_span_opts o;
    setup();
    OBS_INFO("outside");
    r = last_log();
    CHECK(r && all_zero(r->trace_id, 16) && all_zero(r->span_id, 8) && r->trace_flags == 0);
    s = obs_span_start(tr, "with-logs");
    obs_span_ids(s, tid, sid);
    OBS_INFO("inside");
    r = last_log();
    CHECK(r && memcmp(r->trace_id, tid, 16) == 0 && memcmp(r->span_id, sid, 8) == 0);
    CHECK(r && r->trace_flags == 1);
    obs_span_end(s);
    OBS_INFO("after");
    r = last_log();
    CHECK(r && all_zero(r->trace_id, 16) && all_zero(r->span_id, 8));
    /* an unsampled span still gives its context, with flags 00 */
    memset(&o, 0, sizeof o);
    o.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    u = obs_span_start_ex(tr, "unsampled", &o);
    obs_span_ids(u, tid, sid);
    OBS_INFO("in unsampled");
    r = last_log();
    CHECK(r && memcmp(r->trace_id, tid, 16) == 0 && memcmp(r->span_id, sid, 8) == 0);
    CHECK(r && r->trace_flags == 0);
    obs_span_end(u);
    CHECK(r && r->time_ns > 1600000000LL * 1000000000LL && r->observed_time_ns >= r->time_ns);
    teardown();
}

static void test_code_attributes(void) {
    const obs_log_data *r;
    const obs_attr *a;
    int line;
    setup();
    line = __LINE__ + 1;
    OBS_WARN("located");
    r = last_log();
    CHECK(r != NULL);
    CHECK((a = log_attr(r, "code.file.path")) && a->type == OBS_ATTR_STRING && strstr(a->v.s, "test_log.c"));
    CHECK((a = log_attr(r, "code.line.number")) && a->type == OBS_ATTR_INT && a->v.i == line);
    CHECK((a = log_attr(r, "code.function.name")) && strcmp(a->v.s, "test_code_attributes") == 0);
    obs_log(OBS_LEVEL_INFO, "no location");
    r = last_log();
    CHECK(r && r->n_attrs == 0);
    teardown();
}

static void test_attrs_macros(void) {
    obs_attr at[3];
    char val[32];
    const obs_log_data *r;
    const obs_attr *a;
    setup();
    strcpy(val, "100%s %n %d");
    at[0] = obs_attr_str("user.note", val);
    at[1] = obs_attr_int("user.id", 42);
    at[2] = obs_attr_bool("user.admin", 1);
    OBS_INFO_ATTRS(at, 3, "user %s logged in", "ann");
    strcpy(val, "clobbered"); /* copied */
    r = last_log();
    CHECK(r && r->level == OBS_LEVEL_INFO);
    CHECK_STR(r ? r->body : NULL, "user ann logged in");
    CHECK((a = log_attr(r, "user.note")) && strcmp(a->v.s, "100%s %n %d") == 0); /* verbatim */
    CHECK((a = log_attr(r, "user.id")) && a->v.i == 42);
    CHECK((a = log_attr(r, "user.admin")) && a->v.b == 1);
    CHECK(log_attr(r, "code.line.number") != NULL);
    OBS_WARN_ATTRS(at, 1, "w");
    CHECK(last_log() && last_log()->level == OBS_LEVEL_WARN && last_log()->n_attrs == 4);
    OBS_ERROR_ATTRS(NULL, 0, "%s", "50%d");
    CHECK(last_log() && last_log()->level == OBS_LEVEL_ERROR);
    CHECK_STR(last_log() ? last_log()->body : NULL, "50%d"); /* an argument's % is data */
    teardown();
}

/* A message of prefix bytes of 'a' then copies of ch until well past the limit. */
static void check_long(const char *ch, size_t prefix) {
    static char msg[12000];
    size_t n = 0, cl = strlen(ch);
    const obs_log_data *r;
    while (n < prefix) msg[n++] = 'a';
    while (n + cl < sizeof msg - 1 && n < 9000) {
        memcpy(msg + n, ch, cl);
        n += cl;
    }
    msg[n] = 0;
    OBS_INFO("%s", msg);
    r = last_log();
    CHECK(r != NULL);
    if (r) {
        size_t len = strlen(r->body);
        CHECK(len <= 4095 && len + 4 > 4095);
        CHECK(utf8_ok(r->body, len));
        CHECK(memcmp(r->body, msg, len) == 0);
    }
}

static void test_long_message(void) {
    size_t p;
    setup();
    check_long("a", 0);
    for (p = 0; p < 4; p++) {
        check_long("\xC3\xA9", p);
        check_long("\xE2\x82\xAC", p);
        check_long("\xF0\x9F\x98\x80", p);
    }
    teardown();
}

static void test_report_error(void) {
    obs_span *s;
    const obs_span_data *d;
    const obs_log_data *r;
    uint8_t sid[8];
    setup();
    s = obs_span_start(tr, "work");
    obs_span_ids(s, NULL, sid);
    obs_report_error("TimeoutError", "upstream took 30 s");
    r = last_log();
    CHECK(r && r->level == OBS_LEVEL_ERROR);
    CHECK(r && strstr(r->body, "TimeoutError") && strstr(r->body, "upstream took 30 s"));
    CHECK(r && memcmp(r->span_id, sid, 8) == 0);
    obs_span_end(s);
    d = obs_memory_exporter_span_count(mem) ? obs_memory_exporter_span(mem, 0) : NULL;
    CHECK(d && d->status == OBS_STATUS_ERROR && d->n_events == 1);
    if (d && d->n_events == 1) {
        CHECK_STR(d->events[0].name, "exception");
        CHECK(obs_attr_find(d->events[0].attrs, d->events[0].n_attrs, "exception.type") != NULL);
    }
    obs_report_error("NoSpan", "outside"); /* no current span: just the record */
    CHECK(nlogs() == 2 && last_log() && all_zero(last_log()->span_id, 8));
    obs_report_error(NULL, NULL);
    CHECK(nlogs() == 3);
    teardown();
}

/* A log exporter that takes its time. */
static int slow_batches;
static obs_result slow_logs(void *ud, const obs_log_data *const *r, size_t n, int timeout_ms) {
    struct timespec ts = {0, 20 * 1000000};
    (void)ud;
    (void)r;
    (void)n;
    (void)timeout_ms;
    nanosleep(&ts, NULL);
    __atomic_fetch_add(&slow_batches, 1, __ATOMIC_RELAXED);
    return OBS_OK;
}

static void test_log_queue_overflow(void) {
    obs_exporter slow;
    obs_config c;
    obs_stats st;
    int i;
    memset(&slow, 0, sizeof slow);
    slow.name = "slow";
    slow.export_logs = slow_logs;
    memset(&c, 0, sizeof c);
    c.traces_exporter = c.logs_exporter = "none";
    c.log_exporters[0] = &slow;
    c.logs.max_queue_size = 4;
    c.logs.max_export_batch_size = 2;
    c.logs.schedule_delay_ms = 5;
    CHECK(obs_init(&c) == OBS_OK);
    for (i = 0; i < 200; i++) OBS_INFO("record %d", i);
    CHECK(obs_flush(5000) == OBS_OK);
    st = obs_get_stats();
    CHECK(st.logs_emitted == 200);
    CHECK(st.logs_dropped_queue > 0);
    CHECK(st.logs_exported + st.logs_dropped_queue == 200);
    CHECK(st.logs_dropped_export == 0);
    CHECK(slow_batches > 0);
    obs_shutdown();
    st = obs_get_stats();
    CHECK(st.logs_exported + st.logs_dropped_queue == 200);
}

static void log_v_wrapper(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    obs_log_v(OBS_LEVEL_WARN, "wrapped.c", 7, "wrapper", NULL, 0, fmt, ap);
    va_end(ap);
}

static void test_log_v_and_attr_limit(void) {
    obs_config c;
    obs_attr at[3];
    const obs_log_data *r;
    const obs_attr *a;
    log_v_wrapper("via %s %d", "va_list", 3);
    setup();
    log_v_wrapper("via %s %d", "va_list", 3);
    r = last_log();
    CHECK_STR(r ? r->body : NULL, "via va_list 3");
    CHECK(r && r->level == OBS_LEVEL_WARN);
    CHECK((a = log_attr(r, "code.file.path")) && strcmp(a->v.s, "wrapped.c") == 0);
    CHECK((a = log_attr(r, "code.line.number")) && a->v.i == 7);
    teardown();

    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(10);
    c.traces_exporter = c.logs_exporter = "none";
    c.simple_processor = 1;
    c.log_exporters[0] = mem;
    c.attribute_count_limit = 2;
    c.attribute_value_length_limit = 3;
    CHECK(obs_init(&c) == OBS_OK);
    at[0] = obs_attr_str("a", "abcdef");
    at[1] = obs_attr_int("b", 1);
    at[2] = obs_attr_int("c", 2);
    OBS_INFO_ATTRS(at, 3, "limited");
    r = last_log();
    CHECK(r && r->n_attrs == 2);
    CHECK(r && r->dropped_attrs == 4); /* c and the three code.* attributes */
    CHECK((a = log_attr(r, "a")) && strcmp(a->v.s, "abc") == 0); /* value length limit */
    CHECK_STR(r ? r->body : NULL, "limited"); /* the body is not an attribute: not cut */
    CHECK(obs_get_stats().attrs_dropped == 4);
    teardown();

    /* a log record's own limit (spec): OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT, not the span's */
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1", 1);
    setenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "4", 1);
    setup();
    OBS_INFO_ATTRS(at, 3, "own limit");
    r = last_log();
    CHECK(r && r->n_attrs == 4 && r->dropped_attrs == 2); /* a, b, c, one code.* kept */
    teardown();
    unsetenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT");
    unsetenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT");
}

/* %n would store through an argument (a write anywhere, with a format the caller does not
   control): not carried out; the format's text is the message, and nothing is written. */
static void test_percent_n_is_not_carried_out(void) {
    int x = 7;
    const char *fmt = "n:%n|%5d"; /* not a literal: the compiler's format check cannot see it */
    setenv("OTEL_LOG_LEVEL", "none", 1);
    setup();
    unsetenv("OTEL_LOG_LEVEL");
    obs_log(OBS_LEVEL_INFO, fmt, &x, 3);
    CHECK(x == 7);
    CHECK_STR(last_log() ? last_log()->body : NULL, "n:%n|%5d");
    CHECK(obs__fmt_writes("%-08.3lln") && obs__fmt_writes("a %% %hhn") && !obs__fmt_writes("%%n %d"));
    teardown();
}

/* The common conversions are formatted without vsnprintf: the same text as printf. */
static const char *printf_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *printf_text(const char *fmt, ...) {
    static char want[OBS__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    return want;
}
#define SAME_AS_PRINTF(...)                                                    \
    do {                                                                       \
        obs_log(OBS_LEVEL_INFO, __VA_ARGS__);                                  \
        CHECK_STR(last_log() ? last_log()->body : NULL, printf_text(__VA_ARGS__)); \
    } while (0)
static void test_format_like_printf(void) {
    static char big[6000];
    const char *none = getenv("OBS_TEST_SURELY_UNSET_VARIABLE");
    int x = 0;
    setup();
    memset(big, 'b', sizeof big - 1);
    SAME_AS_PRINTF("plain text, no conversion");
    SAME_AS_PRINTF("%d %i %u %d", 0, -1, 4294967295u, 1234567);
    SAME_AS_PRINTF("%d|%ld|%lld", INT_MIN, LONG_MIN, LLONG_MIN);
    SAME_AS_PRINTF("%d|%ld|%lld|%lu|%llu", INT_MAX, LONG_MAX, LLONG_MAX, ULONG_MAX, ULLONG_MAX);
    SAME_AS_PRINTF("%zu %zd %zu", (size_t)SIZE_MAX, (ssize_t)-5, (size_t)0);
    SAME_AS_PRINTF("%x %X %lx %llX %x", 255u, 48879u, 0xdeadbeefUL, 0xCAFEBABE12ULL, 0u);
    SAME_AS_PRINTF("%c%c%% 100%%", 'o', 'k');
    SAME_AS_PRINTF("[%s][%s]%s", "", "x", "tail");
    SAME_AS_PRINTF("caf\xC3\xA9 %s", "\xE2\x82\xAC");
    /* what the fast path leaves to vsnprintf: flags, width, precision, h, floating point, %p */
    SAME_AS_PRINTF("%5d|%-3s|%.2f|%05x|%+d|%e|%g", 42, "a", 3.14159, 255u, 7, 1e10, 0.5);
    SAME_AS_PRINTF("%hd %hhu %p %ls %o", (short)-3, (unsigned char)250, (void *)&x, L"w", 8u);
    SAME_AS_PRINTF("%s and %d more", big, 3); /* cut at 4095 bytes */
    SAME_AS_PRINTF("%d then %s", 7, big);
    obs_log(OBS_LEVEL_INFO, "%s|%s", none, "x"); /* NULL for %s: "(null)", as glibc prints it */
    CHECK_STR(last_log() ? last_log()->body : NULL, "(null)|x");
    teardown();
}

int main(void) {
    unsetenv("OBS_LOG_LEVEL");
    RUN(test_level_filtering);
    RUN(test_set_level_at_run_time);
    RUN(test_level_from_env_and_config);
    RUN(test_severity_numbers_and_names);
    RUN(test_span_context);
    RUN(test_code_attributes);
    RUN(test_attrs_macros);
    RUN(test_long_message);
    RUN(test_format_like_printf);
    RUN(test_report_error);
    RUN(test_log_v_and_attr_limit);
    RUN(test_log_queue_overflow);
    RUN(test_percent_n_is_not_carried_out);
    return TEST_EXIT_CODE();
}

/* tests/test_attr.c -- span attributes: every type, copying, replacement, count and length
   limits (UTF-8 safe), event and link limits, invalid keys and values, the arena cap. */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <stdlib.h>

static obs_exporter *mem;
static obs_tracer *tr;

/* obs with the in-memory exporter behind a simple processor; c may set limits. */
static void setup_cfg(obs_config *c) {
    mem = obs_memory_exporter_new(1000);
    c->traces_exporter = "none";
    c->logs_exporter = "none";
    c->simple_processor = 1;
    c->span_exporters[0] = mem;
    CHECK(obs_init(c) == OBS_OK);
    tr = obs_tracer_get("test_attr", NULL);
}
static void setup(void) {
    obs_config c;
    memset(&c, 0, sizeof c);
    setup_cfg(&c);
}
static void teardown(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}

/* The only exported span (checks there is exactly one). */
static const obs_span_data *only_span(void) {
    CHECK(obs_memory_exporter_span_count(mem) == 1);
    return obs_memory_exporter_span_count(mem) ? obs_memory_exporter_span(mem, 0) : NULL;
}
static const obs_attr *get(const obs_span_data *d, const char *key) {
    return d ? obs_attr_find(d->attrs, d->n_attrs, key) : NULL;
}
/* The exported string attribute key equals want (length included). */
static int str_is(const obs_span_data *d, const char *key, const char *want) {
    const obs_attr *a = get(d, key);
    return a && a->type == OBS_ATTR_STRING && a->n == strlen(want) && strcmp(a->v.s, want) == 0;
}
/* Valid UTF-8 (no truncated sequence at the end, nothing invalid inside). */
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

static void test_every_type_copied(void) {
    char sval[16], e0[8], e1[8];
    const char *sarr[2];
    int64_t iarr[3] = {1, -2, INT64_MAX};
    double darr[2] = {0.5, -1e300};
    int barr[3] = {1, 0, 1};
    obs_attr list[2];
    char lkey[16];
    obs_span *s;
    const obs_span_data *d;
    const obs_attr *a;
    setup();
    s = obs_span_start(tr, "types");
    strcpy(sval, "hello");
    strcpy(e0, "x");
    strcpy(e1, "yz");
    sarr[0] = e0;
    sarr[1] = e1;
    obs_span_set_str(s, "t.str", sval);
    obs_span_set_int(s, "t.int", INT64_MIN);
    obs_span_set_double(s, "t.double", 3.25);
    obs_span_set_bool(s, "t.bool", 42); /* any non-zero is true */
    obs_span_set_bool(s, "t.false", 0);
    obs_span_set_str_array(s, "t.sarr", sarr, 2);
    obs_span_set_int_array(s, "t.iarr", iarr, 3);
    obs_span_set_double_array(s, "t.darr", darr, 2);
    obs_span_set_bool_array(s, "t.barr", barr, 3);
    obs_span_set_int_array(s, "t.empty", NULL, 0);
    strcpy(lkey, "t.list");
    list[0] = obs_attr_str(lkey, "from list");
    list[1] = obs_attr_int("t.list2", 9);
    obs_span_set_attrs(s, list, 2);
    /* the caller's buffers change after the calls: the span has its own copies */
    strcpy(sval, "HELLO!");
    strcpy(e0, "Q");
    sarr[1] = "other";
    iarr[0] = 100;
    darr[0] = 9.0;
    barr[0] = 0;
    strcpy(lkey, "t.clobber");
    obs_span_end(s);
    d = only_span();
    CHECK(d && d->n_attrs == 12 && d->dropped_attrs == 0);
    CHECK(str_is(d, "t.str", "hello"));
    CHECK((a = get(d, "t.int")) && a->type == OBS_ATTR_INT && a->v.i == INT64_MIN);
    CHECK((a = get(d, "t.double")) && a->type == OBS_ATTR_DOUBLE && a->v.d == 3.25);
    CHECK((a = get(d, "t.bool")) && a->type == OBS_ATTR_BOOL && a->v.b == 1);
    CHECK((a = get(d, "t.false")) && a->type == OBS_ATTR_BOOL && a->v.b == 0);
    CHECK((a = get(d, "t.sarr")) && a->type == OBS_ATTR_STRING_ARRAY && a->n == 2 &&
          strcmp(a->v.sa[0], "x") == 0 && strcmp(a->v.sa[1], "yz") == 0);
    CHECK((a = get(d, "t.iarr")) && a->type == OBS_ATTR_INT_ARRAY && a->n == 3 && a->v.ia[0] == 1 &&
          a->v.ia[1] == -2 && a->v.ia[2] == INT64_MAX);
    CHECK((a = get(d, "t.darr")) && a->type == OBS_ATTR_DOUBLE_ARRAY && a->n == 2 &&
          a->v.da[0] == 0.5 && a->v.da[1] == -1e300);
    CHECK((a = get(d, "t.barr")) && a->type == OBS_ATTR_BOOL_ARRAY && a->n == 3 && a->v.ba[0] == 1 &&
          a->v.ba[1] == 0 && a->v.ba[2] == 1);
    CHECK((a = get(d, "t.empty")) && a->type == OBS_ATTR_INT_ARRAY && a->n == 0);
    CHECK(str_is(d, "t.list", "from list"));
    CHECK((a = get(d, "t.list2")) && a->v.i == 9);
    CHECK(get(d, "t.clobber") == NULL);
    teardown();
}

static void test_start_attrs_copied(void) {
    obs_attr at[2];
    obs_span_opts o;
    char v[8];
    obs_span *s;
    setup();
    strcpy(v, "early");
    at[0] = obs_attr_str("http.method", v);
    at[1] = obs_attr_int("http.status", 200);
    memset(&o, 0, sizeof o);
    o.attrs = at;
    o.n_attrs = 2;
    s = obs_span_start_ex(tr, "with-start-attrs", &o);
    strcpy(v, "late");
    obs_span_end(s);
    CHECK(str_is(only_span(), "http.method", "early"));
    CHECK(get(only_span(), "http.status") && get(only_span(), "http.status")->v.i == 200);
    teardown();
}

static void test_same_key_keeps_last(void) {
    obs_span *s;
    const obs_span_data *d;
    setup();
    s = obs_span_start(tr, "replace");
    obs_span_set_str(s, "k", "first");
    obs_span_set_str(s, "other", "o");
    obs_span_set_str(s, "k", "second");
    obs_span_set_int(s, "n", 1);
    obs_span_set_double(s, "n", 2.0); /* the type may change too */
    obs_span_end(s);
    d = only_span();
    CHECK(d && d->n_attrs == 3 && d->dropped_attrs == 0);
    CHECK(str_is(d, "k", "second"));
    CHECK(get(d, "n") && get(d, "n")->type == OBS_ATTR_DOUBLE && get(d, "n")->v.d == 2.0);
    teardown();
}

static void test_count_limit(void) {
    obs_config c;
    obs_span *s;
    const obs_span_data *d;
    obs_stats st;
    memset(&c, 0, sizeof c);
    c.attribute_count_limit = 3;
    setup_cfg(&c);
    s = obs_span_start(tr, "limited");
    obs_span_set_int(s, "a", 1);
    obs_span_set_int(s, "b", 2);
    obs_span_set_int(s, "c", 3);
    obs_span_set_int(s, "d", 4);   /* dropped */
    obs_span_set_str(s, "e", "5"); /* dropped */
    obs_span_set_int(s, "a", 10);  /* an existing key: replaced, not dropped */
    obs_span_end(s);
    d = only_span();
    CHECK(d && d->n_attrs == 3 && d->dropped_attrs == 2);
    CHECK(get(d, "a") && get(d, "a")->v.i == 10);
    CHECK(get(d, "d") == NULL && get(d, "e") == NULL);
    st = obs_get_stats();
    CHECK(st.attrs_dropped == 2);
    teardown();
}

/* Sets value under limit 5 and checks what the exporter got. */
static void check_cut(const char *value, const char *want) {
    obs_span *s = obs_span_start(tr, "cut");
    const obs_span_data *d;
    obs_memory_exporter_clear(mem);
    obs_span_set_str(s, "v", value);
    obs_span_end(s);
    d = only_span();
    CHECK(str_is(d, "v", want));
    if (get(d, "v")) CHECK(utf8_ok(get(d, "v")->v.s, get(d, "v")->n));
}

static void test_value_length_limit_utf8(void) {
    obs_config c;
    const char *arr[3];
    obs_span *s;
    const obs_attr *a;
    memset(&c, 0, sizeof c);
    c.attribute_value_length_limit = 5;
    setup_cfg(&c);
    check_cut("abcdefgh", "abcde");
    check_cut("abc", "abc");
    check_cut("", "");
    /* 2-byte e-acute: ending exactly at the limit, and straddling it */
    check_cut("abc\xC3\xA9xyz", "abc\xC3\xA9");
    check_cut("abcd\xC3\xA9", "abcd");
    /* 3-byte euro sign */
    check_cut("ab\xE2\x82\xACzz", "ab\xE2\x82\xAC");
    check_cut("abc\xE2\x82\xAC", "abc");
    check_cut("abcd\xE2\x82\xAC", "abcd");
    /* 4-byte emoji */
    check_cut("a\xF0\x9F\x98\x80zz", "a\xF0\x9F\x98\x80");
    check_cut("ab\xF0\x9F\x98\x80", "ab");
    check_cut("abcd\xF0\x9F\x98\x80", "abcd");
    check_cut("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80");
    /* strings inside arrays are cut too; numbers are not affected */
    arr[0] = "0123456789";
    arr[1] = "abc\xE2\x82\xAC";
    arr[2] = "ok";
    obs_memory_exporter_clear(mem);
    s = obs_span_start(tr, "arr");
    obs_span_set_str_array(s, "sa", arr, 3);
    obs_span_set_int(s, "big", 1234567890123LL);
    obs_span_end(s);
    a = get(only_span(), "sa");
    CHECK(a && a->n == 3);
    if (a && a->n == 3) {
        CHECK(strcmp(a->v.sa[0], "01234") == 0);
        CHECK(strcmp(a->v.sa[1], "abc") == 0);
        CHECK(strcmp(a->v.sa[2], "ok") == 0);
    }
    CHECK(get(only_span(), "big") && get(only_span(), "big")->v.i == 1234567890123LL);
    teardown();
}

static void test_event_and_link_limits(void) {
    obs_config c;
    obs_attr at[4];
    obs_link l[2];
    obs_span *s;
    const obs_span_data *d;
    obs_stats st;
    setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "3", 1);
    memset(&c, 0, sizeof c);
    c.event_count_limit = 2;
    c.link_count_limit = 1;
    setup_cfg(&c);
    at[0] = obs_attr_int("a0", 0);
    at[1] = obs_attr_int("a1", 1);
    at[2] = obs_attr_int("a2", 2);
    at[3] = obs_attr_int("a3", 3);
    memset(l, 0, sizeof l);
    memset(l[0].trace_id, 1, 16);
    memset(l[0].span_id, 2, 8);
    l[0].attrs = at;
    l[0].n_attrs = 4;
    l[1] = l[0];
    s = obs_span_start(tr, "limits");
    obs_span_add_event_attrs(s, "e1", at, 4);
    obs_span_add_event_attrs(s, "e2", at, 1);
    obs_span_add_event(s, "e3"); /* over the event count limit */
    obs_span_add_link(s, &l[0]);
    obs_span_add_link(s, &l[1]); /* over the link count limit */
    obs_span_end(s);
    d = only_span();
    CHECK(d && d->n_events == 2 && d->dropped_events == 1);
    if (d && d->n_events == 2) {
        CHECK(d->events[0].n_attrs == 2 && d->events[0].dropped_attrs == 2);
        CHECK(obs_attr_find(d->events[0].attrs, 2, "a0") && obs_attr_find(d->events[0].attrs, 2, "a1"));
        CHECK(d->events[1].n_attrs == 1 && d->events[1].dropped_attrs == 0);
        CHECK(obs_attr_find(d->events[1].attrs, 1, "a0") != NULL);
    }
    CHECK(d && d->n_links == 1 && d->dropped_links == 1);
    if (d && d->n_links == 1) {
        /* OTEL_LINK_ATTRIBUTE_COUNT_LIMIT=3, not the event limit */
        CHECK(d->links[0].n_attrs == 3);
        CHECK(d->links[0].dropped_attrs == 1);
    }
    /* stats.attrs_dropped counts drops over any count limit: spans, events, links, logs */
    st = obs_get_stats();
    CHECK(st.attrs_dropped == 3);
    teardown();
    unsetenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT");
    unsetenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT");
}

static void test_invalid_key_and_value(void) {
    obs_span *s;
    const obs_span_data *d;
    obs_attr bad[2];
    setup();
    s = obs_span_start(tr, "invalid");
    obs_span_set_str(s, "", "empty key");
    obs_span_set_int(s, "", 1);
    obs_span_set_int(s, NULL, 1);
    obs_span_set_str(s, "null.value", NULL);
    bad[0] = obs_attr_int("", 5);
    bad[1] = obs_attr_int("good", 6);
    obs_span_set_attrs(s, bad, 2);
    obs_span_set_attrs(s, NULL, 3);
    obs_span_end(s);
    d = only_span();
    CHECK(d && d->n_attrs == 1);
    CHECK(get(d, "good") != NULL);
    CHECK(get(d, "null.value") == NULL);
    CHECK(d && d->dropped_attrs == 0);
    /* an invalid attribute is ignored, it is not "dropped over a count limit" */
    CHECK(obs_get_stats().attrs_dropped == 0);
    teardown();
}

static void test_arena_cap(void) {
    size_t big = 1024 * 1024 + 100, i;
    char *huge = (char *)malloc(big + 1);
    char *medium = (char *)malloc(200 * 1024 + 1);
    obs_span *s;
    const obs_span_data *d;
    char key[16];
    setup();
    CHECK(huge && medium);
    if (!huge || !medium) {
        teardown();
        return;
    }
    memset(huge, 'h', big);
    huge[big] = 0;
    memset(medium, 'm', 200 * 1024);
    medium[200 * 1024] = 0;
    s = obs_span_start(tr, "huge");
    obs_span_set_str(s, "before", "small");
    obs_span_set_str(s, "huge", huge); /* over the per-span cap: dropped, counted */
    obs_span_set_str(s, "after", "still fine");
    for (i = 0; i < 8; i++) { /* 1.6 MiB in total: the last ones do not fit */
        sprintf(key, "m%u", (unsigned)i);
        obs_span_set_str(s, key, medium);
    }
    obs_span_add_event(s, "event-after-full");
    obs_span_end(s);
    d = only_span();
    CHECK(d != NULL);
    if (d) {
        size_t kept = 0;
        CHECK(str_is(d, "before", "small"));
        CHECK(str_is(d, "after", "still fine"));
        CHECK(get(d, "huge") == NULL);
        for (i = 0; i < 8; i++) {
            sprintf(key, "m%u", (unsigned)i);
            if (get(d, key)) {
                kept++;
                CHECK(get(d, key)->n == 200 * 1024);
            }
        }
        CHECK(kept >= 3 && kept < 8);
        CHECK(d->dropped_attrs == 1 + (8 - kept));
        CHECK(obs_get_stats().attrs_dropped == 1 + (8 - kept));
    }
    /* the pooled span is reused with a fresh arena */
    obs_memory_exporter_clear(mem);
    s = obs_span_start(tr, "next");
    obs_span_set_str(s, "k", medium);
    obs_span_end(s);
    CHECK(get(only_span(), "k") && get(only_span(), "k")->n == 200 * 1024);
    free(huge);
    free(medium);
    teardown();
}

static void test_set_after_end_and_unsampled(void) {
    obs_config c;
    obs_span *s;
    obs_stats before, after;
    setup();
    s = obs_span_start(tr, "ended");
    obs_span_set_int(s, "during", 1);
    obs_span_end(s);
    before = obs_get_stats();
    obs_span_set_int(s, "after", 2);
    obs_span_set_str(s, "after.s", "x");
    obs_span_add_event(s, "after");
    after = obs_get_stats();
    CHECK(get(only_span(), "during") != NULL);
    CHECK(get(only_span(), "after") == NULL && get(only_span(), "after.s") == NULL);
    CHECK(only_span() && only_span()->n_events == 0);
    CHECK(after.attrs_dropped == before.attrs_dropped);
    teardown();

    memset(&c, 0, sizeof c);
    c.sampler = OBS_SAMPLER_ALWAYS_OFF;
    setup_cfg(&c);
    s = obs_span_start(tr, "unsampled");
    CHECK(s != NULL && !obs_span_is_recording(s));
    obs_span_set_str(s, "k", "v"); /* records nothing, counts nothing */
    obs_span_end(s);
    CHECK(obs_memory_exporter_span_count(mem) == 0);
    CHECK(obs_get_stats().attrs_dropped == 0);
    teardown();
}

static void test_default_limits(void) {
    obs_span *s;
    const obs_span_data *d;
    obs_attr odd;
    char key[16];
    int i;
    setup();
    s = obs_span_start(tr, "defaults");
    for (i = 0; i < 200; i++) {
        sprintf(key, "k%d", i);
        obs_span_set_int(s, key, i);
    }
    for (i = 0; i < 130; i++) obs_span_add_event(s, "e");
    odd = obs_attr_int("odd.type", 1);
    odd.type = (obs_attr_type)99; /* not a type: ignored, no crash */
    obs_span_add_event_attrs(s, "odd", &odd, 1);
    obs_span_end(s);
    d = only_span();
    CHECK(d && d->n_attrs == 128 && d->dropped_attrs == 72); /* OTEL_ATTRIBUTE_COUNT_LIMIT 128 */
    CHECK(d && get(d, "k127") && !get(d, "k128"));
    CHECK(d && d->n_events == 128 && d->dropped_events == 3); /* OTEL_SPAN_EVENT_COUNT_LIMIT 128 */
    teardown();

    setup();
    s = obs_span_start(tr, "odd");
    obs_span_set_attrs(s, &odd, 1);
    obs_span_set_int(s, "fine", 1);
    obs_span_end(s);
    CHECK(get(only_span(), "odd.type") == NULL && get(only_span(), "fine") != NULL);
    teardown();
}

/* Names, keys and values are copied by word moves up to 32 bytes: every length, exactly,
   and nothing past the end. */
static void test_short_copies_exact(void) {
    char src[48], dst[48];
    size_t n, i;
    int bad = 0;
    for (i = 0; i < sizeof src; i++) src[i] = (char)('A' + i);
    for (n = 0; n <= 40; n++) {
        memset(dst, '#', sizeof dst);
        obs__copy(dst + 1, src + 3, n); /* unaligned both sides */
        bad += dst[0] != '#' || memcmp(dst + 1, src + 3, n) != 0 || dst[n + 1] != '#';
    }
    CHECK(bad == 0);
}

int main(void) {
    RUN(test_every_type_copied);
    RUN(test_short_copies_exact);
    RUN(test_start_attrs_copied);
    RUN(test_same_key_keeps_last);
    RUN(test_count_limit);
    RUN(test_value_length_limit_utf8);
    RUN(test_event_and_link_limits);
    RUN(test_invalid_key_and_value);
    RUN(test_arena_cap);
    RUN(test_set_after_end_and_unsampled);
    RUN(test_default_limits);
    return TEST_EXIT_CODE();
}

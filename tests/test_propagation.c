/* tests/test_propagation.c -- tables for the propagation section of obs.h (traceparent,
   tracestate, X-Ray). With -DOBS_FUZZ_PROPAGATION it is a libFuzzer target instead
   (clang -fsanitize=fuzzer,address,undefined). */
#define OBS_IMPLEMENTATION
#include "../obs.h"

#ifndef OBS_FUZZ_PROPAGATION

static int test__checks, test__failures;
#define CHECK(cond) do { test__checks++; if (!(cond)) { test__failures++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_AT(cond, i) do { test__checks++; if (!(cond)) { test__failures++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed for row %d\n", __FILE__, __LINE__, #cond, \
            (int)(i)); } } while (0)

/* A string literal with its length, so rows may hold NUL bytes. */
typedef struct bytes { const char *s; size_t n; } bytes;
#define B(lit) { lit, sizeof(lit) - 1 }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *hex_of(const uint8_t *id, size_t n, char *buf) {
    obs__hex_encode(id, n, buf);
    buf[2 * n] = '\0';
    return buf;
}

/* s filled with `ch` repeated n times, NUL-terminated. */
static char *rep(char *s, char ch, size_t n) {
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

/* ---- hex ---- */
static void test_hex(void) {
    const uint8_t in[4] = {0x00, 0x9a, 0xbc, 0xff};
    uint8_t out[4];
    char buf[9];
    CHECK(strcmp(hex_of(in, 4, buf), "009abcff") == 0);
    CHECK(obs__hex_decode("009abcff", 8, out) && memcmp(in, out, 4) == 0);
    CHECK(!obs__hex_decode("009ABCFF", 8, out)); /* uppercase is not HEXDIGLC */
    CHECK(!obs__hex_decode("0g", 2, out));
    CHECK(!obs__hex_decode("abc", 3, out));
    CHECK(obs__id_is_zero(in, 1) && !obs__id_is_zero(in, 2));
}

/* ---- traceparent ---- */
static const struct { bytes in; const char *trace, *span; uint8_t flags; } tp_valid[] = {
    {B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0x01},
    {B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0x00},
    {B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"),  /* sampled + random */
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0x03},
    {B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02"),  /* random only */
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0x02},
    {B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"),  /* unknown bits dropped */
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0x03},
    {B("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"),
     "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 0x01},
    {B("cc-12345678901234567890123456789012-1234567890123456-01"),  /* future, exactly 55 */
     "12345678901234567890123456789012", "1234567890123456", 0x01},
    {B("01-12345678901234567890123456789012-1234567890123456-09-"),  /* future, bare dash */
     "12345678901234567890123456789012", "1234567890123456", 0x01},
    {B(" 00-12345678901234567890123456789012-1234567890123456-01"),   /* OWS: RFC 9110 s5.5 */
     "12345678901234567890123456789012", "1234567890123456", 0x01},
    {B("\t 00-12345678901234567890123456789012-1234567890123456-01 \t"),
     "12345678901234567890123456789012", "1234567890123456", 0x01},
};

static const bytes tp_invalid[] = {
    B(""),
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0"),     /* 54 */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011"),   /* 56 */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"),   /* 00 with a suffix */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like"),
    B("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),     /* uppercase trace */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"),     /* uppercase parent */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"),     /* uppercase flags */
    B("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),     /* uppercase version */
    B("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),     /* version ff */
    B(".0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),     /* non-hex version */
    B("0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    B("000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    B("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),     /* zero trace id */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),     /* zero parent id */
    B("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),     /* bad separators */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01"),
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01"),
    B("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01"),     /* shifted dash */
    B("00-123456789012345678901234567890123-1234567890123456-01"),   /* trace id 33 */
    B("00-12345678901234567890123456789012-123456789012345-01"),     /* parent 15 */
    B("00-12345678901234567890123456789012-1234567890123456-.0"),
    B("01-12345678901234567890123456789012-1234567890123456-01.x"),  /* 56th not '-' */
    B("cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like"),
    B("cc-1234567890123456789012345678901-1234567890123456-01-xxx"),  /* future, short id */
    B("00-4bf92f3577b34da6a3ce929d0\0e4736-00f067aa0ba902b7-01"),     /* NUL inside */
    B("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7 01"),
    B("00-4bf92f3577b34da6a3ce929d0e0e4736 -00f067aa0ba902b7-01"),
    B(" \t "),
    B("\n00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),   /* only SP/HTAB are OWS */
};

static void test_traceparent(void) {
    size_t i;
    char h[33];
    for (i = 0; i < COUNT(tp_valid); i++) {
        obs__ctx c;
        int ok = obs__traceparent_parse(tp_valid[i].in.s, tp_valid[i].in.n, &c);
        CHECK_AT(ok, i);
        CHECK_AT(ok && strcmp(hex_of(c.trace_id, 16, h), tp_valid[i].trace) == 0, i);
        CHECK_AT(ok && strcmp(hex_of(c.span_id, 8, h), tp_valid[i].span) == 0, i);
        CHECK_AT(ok && c.flags == tp_valid[i].flags, i);
    }
    for (i = 0; i < COUNT(tp_invalid); i++) {
        obs__ctx c, before;
        memset(&c, 0xa5, sizeof c);
        before = c;
        CHECK_AT(!obs__traceparent_parse(tp_invalid[i].s, tp_invalid[i].n, &c), i);
        CHECK_AT(memcmp(&c, &before, sizeof c) == 0, i); /* out untouched */
    }
    CHECK(!obs__traceparent_parse(NULL, 55, NULL));
}

static void test_traceparent_format(void) {
    const char *v = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    obs__ctx c, back;
    char buf[64];
    size_t i;
    CHECK(obs__traceparent_parse(v, strlen(v), &c));
    CHECK(obs__traceparent_format(&c, buf, sizeof buf) == 55 && strcmp(buf, v) == 0);
    CHECK(obs__traceparent_parse(buf, 55, &back) && memcmp(&c, &back, sizeof c) == 0);
    memset(buf, 'x', sizeof buf);
    CHECK(obs__traceparent_format(&c, buf, 55) == 55 && buf[0] == 'x' && buf[54] == 'x');
    CHECK(obs__traceparent_format(&c, buf, 0) == 55 && buf[0] == 'x');
    CHECK(obs__traceparent_format(&c, buf, 56) == 55 && buf[55] == '\0');
    c.flags = 0xfd; /* unknown bits never leave */
    CHECK(obs__traceparent_format(&c, buf, sizeof buf) == 55 && strcmp(buf + 53, "01") == 0);
    /* every valid row formats as version 00 and parses back to the same context */
    for (i = 0; i < COUNT(tp_valid); i++) {
        CHECK_AT(obs__traceparent_parse(tp_valid[i].in.s, tp_valid[i].in.n, &c), i);
        CHECK_AT(obs__traceparent_format(&c, buf, sizeof buf) == 55 && buf[0] == '0' &&
                 buf[1] == '0', i);
        CHECK_AT(obs__traceparent_parse(buf, strlen(buf), &back) &&
                 memcmp(&c, &back, sizeof c) == 0, i);
    }
}

/* ---- tracestate ---- */
static const struct { const char *in, *out; } ts_valid[] = {
    {"", ""},
    {" \t ", ""},
    {",, ,\t,", ""},
    {"foo=1", "foo=1"},
    {"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
    {"foo=1 \t , \t bar=2, \t baz=3", "foo=1,bar=2,baz=3"},
    {"foo=1\t \t,\t \tbar=2,\t \tbaz=3", "foo=1,bar=2,baz=3"},
    {" foo=1", "foo=1"}, {"\tfoo=1", "foo=1"}, {"foo=1 ", "foo=1"}, {"\t foo=1 \t", "foo=1"},
    {",foo=1,,bar=2,", "foo=1,bar=2"},
    {"foo= bar", "foo= bar"},                 /* leading spaces belong to the value */
    {"foo=a b", "foo=a b"},
    {"fw529a3039@dt=x", "fw529a3039@dt=x"},   /* tenant@system */
    {"1a2b@dt=x", "1a2b@dt=x"},               /* a tenant may start with a digit */
    {"a-b_c*d/1@x-y_z*0/2=v", "a-b_c*d/1@x-y_z*0/2=v"},
    {"abcdefghijklmnopqrstuvwxyz0123456789_-*/=!\"#$%&'()*+-./0123456789:;<>?@ABCXYZ[\\]^_`az{|}~",
     "abcdefghijklmnopqrstuvwxyz0123456789_-*/=!\"#$%&'()*+-./0123456789:;<>?@ABCXYZ[\\]^_`az{|}~"},
};

static const char *const ts_invalid[] = {
    "foo=1,foo=2", "foo=1,foo=1", "foo=1,bar=2,foo=3",     /* duplicate keys */
    "FOO=1", "foo.bar=1", "foo =1", "fOo=1", "1foo=1", "_foo=1", /* bad key characters */
    "foo@=1", "@foo=1", "foo@@bar=1", "foo@bar@baz=1", "t@1v=1", "t@V=1", "T@v=1",
    "foo=bar=baz", "foo=a,b", "foo=,bar=3", "foo=", "=1", "foo", "foo=1,bar",
    "foo=a\tb", "foo=a\nb", "foo=a\x7f", "foo=a\x01", "foo=\x80x",
};

static void check_ts_valid(const char *in, const char *want, int row) {
    char out[OBS__TRACESTATE_CAP * 2];
    memset(out, 'x', sizeof out);
    CHECK_AT(obs__tracestate_parse(in, strlen(in), out, sizeof out), row);
    CHECK_AT(strcmp(out, want) == 0, row);
}

static void check_ts_invalid(const char *in, size_t n, int row) {
    char out[64];
    memset(out, 'x', sizeof out);
    CHECK_AT(!obs__tracestate_parse(in, n, out, sizeof out), row);
    CHECK_AT(out[0] == '\0', row); /* never forward half a header */
}

/* "k01=v,k02=v,..." with n members into buf; returns buf. */
static char *members(char *buf, int n) {
    int i;
    buf[0] = '\0';
    for (i = 1; i <= n; i++) sprintf(buf + strlen(buf), "%sk%02d=v%d", i > 1 ? "," : "", i, i);
    return buf;
}

static void test_tracestate_tables(void) {
    size_t i;
    char big[9000], want[600], tmp[300];
    for (i = 0; i < COUNT(ts_valid); i++) check_ts_valid(ts_valid[i].in, ts_valid[i].out, (int)i);
    for (i = 0; i < COUNT(ts_invalid); i++) {
        check_ts_invalid(ts_invalid[i], strlen(ts_invalid[i]), (int)i);
    }
    check_ts_invalid("foo=1,b\0r=2", 11, 100);                    /* NUL inside */
    members(big, 32);
    check_ts_valid(big, big, 101);                                /* 32 members */
    strcpy(want, big);
    check_ts_valid(strcat(big, ", ,"), want, 102);                /* empty ones do not count */
    members(big, 32);
    strcat(big, ",x=1");
    check_ts_invalid(big, strlen(big), 103);                      /* 33 members */
    /* length limits from the key and value grammar */
    sprintf(big, "%s=1", rep(tmp, 'z', 256));
    check_ts_valid(big, big, 104);
    sprintf(big, "%s=1", rep(tmp, 'z', 257));
    check_ts_invalid(big, strlen(big), 105);
    sprintf(big, "%s@vvvvvvvvvvvvvv=1", rep(tmp, 't', 241));   /* tenant 241, system 14 */
    check_ts_valid(big, big, 106);
    sprintf(big, "%s@v=1", rep(tmp, 't', 242));
    check_ts_invalid(big, strlen(big), 107);
    check_ts_invalid("t@vvvvvvvvvvvvvvv=1", 19, 108);            /* system 15 */
    sprintf(big, "foo=%s", rep(tmp, 'v', 256));
    check_ts_valid(big, big, 109);
    sprintf(big, "foo=%s", rep(tmp, 'v', 257));
    check_ts_invalid(big, strlen(big), 110);
    sprintf(want, "foo=%s", rep(tmp, 'v', 256));
    sprintf(big, "%s \t", want);                                 /* trailing OWS: not value */
    check_ts_valid(big, want, 111);
}

static void test_tracestate_limits(void) {
    char big[9000], out[OBS__TRACESTATE_CAP], tmp[300];
    size_t n;
    /* the input bound: 8192 characters of empty members are fine, one more is not */
    memset(big, ',', 8193);
    CHECK(obs__tracestate_parse(big, 8192, out, sizeof out) && out[0] == '\0');
    CHECK(!obs__tracestate_parse(big, 8193, out, sizeof out));
    /* truncation (s3.3.1.5): entries over 128 characters go first ... */
    n = (size_t)sprintf(big, "aaa=1,bbb=%s,ccc=3", rep(tmp, 'v', 200));
    CHECK(obs__tracestate_parse(big, n, out, 20) && strcmp(out, "aaa=1,ccc=3") == 0);
    CHECK(obs__tracestate_parse(big, n, out, sizeof out) && strlen(out) == n);
    /* ... then entries from the end */
    CHECK(obs__tracestate_parse("a=1,b=2,c=3", 11, out, 8) && strcmp(out, "a=1,b=2") == 0);
    CHECK(obs__tracestate_parse("a=1,b=2,c=3", 11, out, 7) && strcmp(out, "a=1") == 0);
    CHECK(obs__tracestate_parse("a=1,b=2,c=3", 11, out, 1) && out[0] == '\0');
    CHECK(!obs__tracestate_parse("a=1", 3, out, 0));
    /* 512 characters of tracestate are always propagated with OBS__TRACESTATE_CAP */
    rep(tmp, '1', 250);
    n = (size_t)sprintf(big, "a=%s,b=%s,c=3333", tmp, tmp);
    CHECK(n == 512 && obs__tracestate_parse(big, n, out, sizeof out) && strlen(out) == 512);
    /* in place, as the caller may reuse the header buffer */
    strcpy(big, " foo=1 , ,\tbar= 2 ");
    CHECK(obs__tracestate_parse(big, strlen(big), big, sizeof big));
    CHECK(strcmp(big, "foo=1,bar= 2") == 0);
    CHECK(obs__tracestate_parse(NULL, 0, out, sizeof out) && out[0] == '\0');
}

static void test_tracestate_set(void) {
    char ts[OBS__TRACESTATE_CAP], want[OBS__TRACESTATE_CAP], small[12];
    ts[0] = '\0';
    CHECK(obs__tracestate_set(ts, sizeof ts, "obs", "x") && strcmp(ts, "obs=x") == 0);
    strcpy(ts, "a=1,b=2,c=3");
    CHECK(obs__tracestate_set(ts, sizeof ts, "b", "9") && strcmp(ts, "b=9,a=1,c=3") == 0);
    CHECK(obs__tracestate_set(ts, sizeof ts, "c", "8") && strcmp(ts, "c=8,b=9,a=1") == 0);
    CHECK(obs__tracestate_set(ts, sizeof ts, "c", "7") && strcmp(ts, "c=7,b=9,a=1") == 0);
    CHECK(obs__tracestate_set(ts, sizeof ts, "t@sys", " v"));
    CHECK(strcmp(ts, "t@sys= v,c=7,b=9,a=1") == 0);
    /* a new 33rd member pushes the right-most one out; an update keeps all 32 */
    members(ts, 32);
    CHECK(obs__tracestate_set(ts, sizeof ts, "new", "1"));
    sprintf(want, "new=1,%s", members(want + 100, 31));
    CHECK(strcmp(ts, want) == 0);
    CHECK(obs__tracestate_set(ts, sizeof ts, "k10", "u"));
    CHECK(strncmp(ts, "k10=u,new=1,k01=v1,", 19) == 0 && strstr(ts, "k09=v9,k11=v11") != NULL);
    CHECK(strstr(ts, "k31=v31") != NULL && strstr(ts, "k10=v10") == NULL);
    /* not enough room: drop from the end; the new member alone must fit */
    strcpy(small, "a=1,b=2,c=3");
    CHECK(obs__tracestate_set(small, sizeof small, "d", "4") && strcmp(small, "d=4,a=1,b=2") == 0);
    strcpy(small, "a=1");
    CHECK(obs__tracestate_set(small, sizeof small, "key", "1234567") &&
          strcmp(small, "key=1234567") == 0);
    strcpy(small, "a=1");
    CHECK(!obs__tracestate_set(small, sizeof small, "key", "12345678") && strcmp(small, "a=1") == 0);
    /* refused, ts untouched */
    strcpy(ts, "a=1");
    CHECK(!obs__tracestate_set(ts, sizeof ts, "Bad", "1") && strcmp(ts, "a=1") == 0);
    CHECK(!obs__tracestate_set(ts, sizeof ts, "k", "a,b") && strcmp(ts, "a=1") == 0);
    CHECK(!obs__tracestate_set(ts, sizeof ts, "k", "") && strcmp(ts, "a=1") == 0);
    CHECK(!obs__tracestate_set(ts, sizeof ts, "k", "v ") && strcmp(ts, "a=1") == 0);
    CHECK(!obs__tracestate_set(ts, 3, "k", "v") && strcmp(ts, "a=1") == 0); /* no NUL in cap */
    strcpy(ts, "a=1,a=2");
    CHECK(!obs__tracestate_set(ts, sizeof ts, "k", "v") && strcmp(ts, "a=1,a=2") == 0);
    /* a tracestate with OWS comes out normalised */
    strcpy(ts, " a=1 , ,b=2 ");
    CHECK(obs__tracestate_set(ts, sizeof ts, "c", "3") && strcmp(ts, "c=3,a=1,b=2") == 0);
}

/* ---- X-Ray ---- */
#define XR_TRACE "5759e988bd862e3fe1be46a994272793"
#define XR_ROOT "Root=1-5759e988-bd862e3fe1be46a994272793"
static const struct { const char *in, *span; uint8_t flags; int ret; } xr_valid[] = {
    {XR_ROOT ";Parent=53995c3f42cd8ad8;Sampled=1", "53995c3f42cd8ad8", 1, 1},
    {XR_ROOT ";Parent=53995c3f42cd8ad8;Sampled=0", "53995c3f42cd8ad8", 0, 1},
    {"Sampled=1;Parent=53995c3f42cd8ad8;" XR_ROOT, "53995c3f42cd8ad8", 1, 1},
    {"Parent=53995c3f42cd8ad8;" XR_ROOT ";Sampled=1", "53995c3f42cd8ad8", 1, 1},
    {" " XR_ROOT " ;\tParent = 53995c3f42cd8ad8 ; Sampled=1 ", "53995c3f42cd8ad8", 1, 1},
    {XR_ROOT ";Parent=53995c3f42cd8ad8;Sampled=?", "53995c3f42cd8ad8", 0, 2},
    {XR_ROOT ";Parent=53995c3f42cd8ad8", "53995c3f42cd8ad8", 0, 2},
    {XR_ROOT ";Sampled=1", "0000000000000000", 1, 1},              /* root only */
    {XR_ROOT, "0000000000000000", 0, 2},
    {"Self=1-67891233-12456789abcdef012345678;" XR_ROOT ";CalledFrom=app",
     "0000000000000000", 0, 2},
    {XR_ROOT ";Parent=53995c3f42cd8ad8;Sampled=0;Lineage=12326a9d:0", "53995c3f42cd8ad8", 0, 1},
    {XR_ROOT ";;Parent=53995c3f42cd8ad8;junk;Sampled=1;", "53995c3f42cd8ad8", 1, 1},
};

static const char *const xr_invalid[] = {
    "", ";", "Parent=53995c3f42cd8ad8;Sampled=1", "root=1-5759e988-bd862e3fe1be46a994272793",
    "Root=2-5759e988-bd862e3fe1be46a994272793", "Root=1-5759e98-bd862e3fe1be46a994272793",
    "Root=1-5759e9888-bd862e3fe1be46a99427279", "Root=1-5759e988-bd862e3fe1be46a99427279",
    "Root=1-5759e988-bd862e3fe1be46a9942727933", "Root=1-5759E988-bd862e3fe1be46a994272793",
    "Root=1-5759e988-BD862E3FE1BE46A994272793", "Root=1_5759e988-bd862e3fe1be46a994272793",
    "Root=1-5759e988_bd862e3fe1be46a994272793", "Root=15759e988-bd862e3fe1be46a9942727933",
    "Root=1-00000000-000000000000000000000000", "Root=",
    XR_ROOT ";Parent=53995c3f42cd8ad", XR_ROOT ";Parent=53995c3f42cd8ad88",
    XR_ROOT ";Parent=53995C3F42CD8AD8", XR_ROOT ";Parent=0000000000000000", XR_ROOT ";Parent=",
    XR_ROOT ";Sampled=2", XR_ROOT ";Sampled=", XR_ROOT ";Sampled=11", XR_ROOT ";Sampled=true",
    XR_ROOT ";" XR_ROOT, XR_ROOT ";Sampled=1;Sampled=1",
    XR_ROOT ";Parent=53995c3f42cd8ad8;Parent=53995c3f42cd8ad8",
};

static void test_xray(void) {
    size_t i;
    char h[33];
    for (i = 0; i < COUNT(xr_valid); i++) {
        obs__ctx c;
        int ret = obs__xray_parse(xr_valid[i].in, strlen(xr_valid[i].in), &c);
        CHECK_AT(ret == xr_valid[i].ret, i);
        CHECK_AT(ret && strcmp(hex_of(c.trace_id, 16, h), XR_TRACE) == 0, i);
        CHECK_AT(ret && strcmp(hex_of(c.span_id, 8, h), xr_valid[i].span) == 0, i);
        CHECK_AT(ret && c.flags == xr_valid[i].flags, i);
    }
    for (i = 0; i < COUNT(xr_invalid); i++) {
        obs__ctx c, before;
        memset(&c, 0x5a, sizeof c);
        before = c;
        CHECK_AT(!obs__xray_parse(xr_invalid[i], strlen(xr_invalid[i]), &c), i);
        CHECK_AT(memcmp(&c, &before, sizeof c) == 0, i);
    }
    {
        static char big[8300];
        obs__ctx c;
        size_t n = (size_t)sprintf(big, "%s;", XR_ROOT);
        memset(big + n, ';', sizeof big - n);
        CHECK(obs__xray_parse(big, 8192, &c) == 2);
        CHECK(!obs__xray_parse(big, 8193, &c));
        CHECK(!obs__xray_parse(NULL, 0, &c));
    }
}

static void test_xray_format(void) {
    const char *v = XR_ROOT ";Parent=53995c3f42cd8ad8;Sampled=1";
    obs__ctx c, back;
    char buf[80];
    size_t i;
    CHECK(obs__xray_parse(v, strlen(v), &c) == 1);
    CHECK(obs__xray_format(&c, buf, sizeof buf) == 74 && strcmp(buf, v) == 0);
    memset(buf, 'x', sizeof buf);
    CHECK(obs__xray_format(&c, buf, 74) == 74 && buf[0] == 'x');
    CHECK(obs__xray_format(&c, buf, 75) == 74 && buf[74] == '\0');
    CHECK(obs__xray_format(NULL, buf, sizeof buf) == 0);
    memset(c.span_id, 0, sizeof c.span_id); /* root only */
    c.flags = 0;
    CHECK(obs__xray_format(&c, buf, sizeof buf) == 50 && strcmp(buf, XR_ROOT ";Sampled=0") == 0);
    /* every valid row: format, parse back, identical context */
    for (i = 0; i < COUNT(xr_valid); i++) {
        CHECK_AT(obs__xray_parse(xr_valid[i].in, strlen(xr_valid[i].in), &c), i);
        obs__xray_format(&c, buf, sizeof buf);
        CHECK_AT(obs__xray_parse(buf, strlen(buf), &back) == 1, i);
        CHECK_AT(memcmp(&c, &back, sizeof c) == 0, i);
    }
}

/* W3C -> X-Ray -> W3C: the same trace, parent and sampled bit. */
static void test_w3c_xray(void) {
    const char *tp[] = {
        "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01",
        "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00",
        "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01",
        "00-00000000000000000000000000000001-0000000000000001-00",
    };
    size_t i;
    for (i = 0; i < COUNT(tp); i++) {
        obs__ctx c, back;
        char xr[80], out[56];
        CHECK_AT(obs__traceparent_parse(tp[i], 55, &c), i);
        CHECK_AT(obs__xray_format(&c, xr, sizeof xr) == 74, i);
        CHECK_AT(obs__xray_parse(xr, strlen(xr), &back) == 1, i);
        CHECK_AT(memcmp(&c, &back, sizeof c) == 0, i);
        CHECK_AT(obs__traceparent_format(&back, out, sizeof out) == 55 && strcmp(out, tp[i]) == 0, i);
    }
    {
        const char *v = "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01";
        obs__ctx c;
        char xr[80];
        CHECK(obs__traceparent_parse(v, 55, &c) && obs__xray_format(&c, xr, sizeof xr) == 74);
        CHECK(strcmp(xr, XR_ROOT ";Parent=53995c3f42cd8ad8;Sampled=1") == 0);
    }
}

int main(void) {
    
    test_hex();
    test_traceparent();
    test_traceparent_format();
    test_tracestate_tables();
    test_tracestate_limits();
    test_tracestate_set();
    test_xray();
    test_xray_format();
    test_w3c_xray();
    printf("%d passed, %d failed\n", test__checks - test__failures, test__failures);
    return test__failures ? 1 : 0;
}

#else /* OBS_FUZZ_PROPAGATION: libFuzzer entry; aborts when an invariant breaks. */

#define FUZZ_ASSERT(cond) do { if (!(cond)) { fprintf(stderr, "fuzz: %s\n", #cond); abort(); } \
    } while (0)

/* Whatever parses must format into something that parses back to the same context. */
static void fuzz_ids(const char *s, size_t n) {
    obs__ctx c, back;
    char buf[80];
    int ret;
    if (obs__traceparent_parse(s, n, &c)) {
        FUZZ_ASSERT(obs__traceparent_format(&c, buf, sizeof buf) == 55);
        FUZZ_ASSERT(obs__traceparent_parse(buf, 55, &back) && !memcmp(&c, &back, sizeof c));
    }
    ret = obs__xray_parse(s, n, &c);
    if (ret) {
        size_t len = obs__xray_format(&c, buf, sizeof buf);
        FUZZ_ASSERT(len == strlen(buf) && obs__xray_parse(buf, len, &back) == 1);
        FUZZ_ASSERT(!memcmp(&c, &back, sizeof c));
    }
}

/* A valid tracestate normalises idempotently, truncates to something valid, and accepts set(). */
static void fuzz_tracestate(const char *s, size_t n) {
    char out[OBS__TRACESTATE_CAP], again[OBS__TRACESTATE_CAP], small[40];
    if (!obs__tracestate_parse(s, n, out, sizeof out)) return;
    FUZZ_ASSERT(obs__tracestate_parse(out, strlen(out), again, sizeof again));
    FUZZ_ASSERT(strcmp(out, again) == 0);
    FUZZ_ASSERT(obs__tracestate_parse(s, n, small, sizeof small) && strlen(small) < sizeof small);
    FUZZ_ASSERT(obs__tracestate_parse(small, strlen(small), again, sizeof again));
    FUZZ_ASSERT(obs__tracestate_set(out, sizeof out, "obs", "fuzz"));
    FUZZ_ASSERT(strncmp(out, "obs=fuzz", 8) == 0);
    FUZZ_ASSERT(obs__tracestate_parse(out, strlen(out), again, sizeof again));
    FUZZ_ASSERT(obs__tracestate_set(small, sizeof small, "obs", "fuzz"));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    if (size == 0) s = ""; /* libFuzzer may pass NULL for an empty input */
    fuzz_ids(s, size);
    fuzz_tracestate(s, size);
    return 0;
}
#endif

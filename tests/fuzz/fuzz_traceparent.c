/* tests/fuzz/fuzz_traceparent.c -- W3C traceparent (obs__traceparent_parse), any bytes.
   Properties: no memory error; a rejected value leaves the output alone; an accepted one
   agrees with a reference reading of W3C Trace Context s3.2 (written here, not shared with
   obs.h), has non-zero ids and known flags only, and survives format -> parse unchanged. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

static int lhex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* The reference: OWS trimmed; "vv-<32>-<16>-<2>" in lowercase hex; vv != ff; version 00 is
   exactly 55 long, a later version at least 55 with a '-' after the flags; ids not zero. */
static int ref_ok(const char *s, size_t n) {
    size_t i;
    int tz = 1, sz = 1;
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-') return 0;
    for (i = 0; i < 55; i++) {
        if (i == 2 || i == 35 || i == 52) continue;
        if (!lhex(s[i])) return 0;
        if (i > 2 && i < 35 && s[i] != '0') tz = 0;
        if (i > 35 && i < 52 && s[i] != '0') sz = 0;
    }
    if (s[0] == 'f' && s[1] == 'f') return 0;
    if (s[0] == '0' && s[1] == '0' && n != 55) return 0;
    if (n > 55 && s[55] != '-') return 0;
    return !tz && !sz;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    obs__ctx c, d, untouched;
    char buf[56], small[55];
    int ok;
    memset(&c, 0xA5, sizeof c);
    untouched = c;
    ok = obs__traceparent_parse(s, size, &c);
    FUZZ_ASSERT(ok == 0 || ok == 1);
    FUZZ_ASSERT(ok == ref_ok(s, size));
    if (!ok) {
        FUZZ_ASSERT(memcmp(&c, &untouched, sizeof c) == 0);
        return 0;
    }
    FUZZ_ASSERT(!obs__id_is_zero(c.trace_id, 16) && !obs__id_is_zero(c.span_id, 8));
    FUZZ_ASSERT((c.flags & ~OBS__TRACE_FLAGS_KNOWN) == 0);
    FUZZ_ASSERT(obs__traceparent_format(&c, small, sizeof small) == 55); /* too small: nothing */
    FUZZ_ASSERT(obs__traceparent_format(&c, buf, sizeof buf) == 55 && strlen(buf) == 55);
    FUZZ_ASSERT(memcmp(buf, "00-", 3) == 0);
    memset(&d, 0, sizeof d);
    FUZZ_ASSERT(obs__traceparent_parse(buf, 55, &d) == 1 && memcmp(&c, &d, sizeof c) == 0);
    return 0;
}

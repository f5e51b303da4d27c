/* tests/fuzz/fuzz_xray.c -- AWS X-Ray X-Amzn-Trace-Id (obs__xray_parse), any bytes.
   Properties: no memory error; 0 leaves the output alone; 1 (decided) or 2 (let the sampler
   decide) give a non-zero trace id, flags 0 or 1, and format -> parse returns the same
   context (decided, since the formatted value always says Sampled=0|1); Root is required, so
   a value without "Root=" is never accepted. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    obs__ctx c, d, untouched;
    char buf[80];
    size_t len, i;
    int r;
    memset(&c, 0x5A, sizeof c);
    untouched = c;
    r = obs__xray_parse(s, size, &c);
    FUZZ_ASSERT(r >= 0 && r <= 2);
    if (!r) {
        FUZZ_ASSERT(memcmp(&c, &untouched, sizeof c) == 0);
        return 0;
    }
    FUZZ_ASSERT(size <= OBS__PROP_MAX_INPUT);
    for (i = 0; i + 5 <= size && memcmp(s + i, "Root", 4) != 0; i++) {
    }
    FUZZ_ASSERT(i + 5 <= size); /* "Root" is in there, and something after it */
    FUZZ_ASSERT(!obs__id_is_zero(c.trace_id, 16));
    FUZZ_ASSERT(c.flags == 0 || c.flags == 1);
    FUZZ_ASSERT(r == 1 || c.flags == 0);
    len = obs__xray_format(&c, buf, sizeof buf);
    FUZZ_ASSERT(len == (obs__id_is_zero(c.span_id, 8) ? 50u : 74u) && strlen(buf) == len);
    FUZZ_ASSERT(obs__xray_format(&c, buf, len) == len); /* no room for the NUL: nothing */
    memset(&d, 0, sizeof d);
    FUZZ_ASSERT(obs__xray_parse(buf, len, &d) == 1 && memcmp(&c, &d, sizeof c) == 0);
    return 0;
}

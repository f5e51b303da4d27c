/* tests/fuzz/fuzz_tracestate.c -- W3C tracestate: obs__tracestate_parse (what a remote
   parent's header goes through) and obs__tracestate_set (obs_tracestate_set), any bytes.
   Input: byte 0 picks the output capacity; the rest is the header value, optionally followed
   by 0x01 key 0x02 value for a set.
   Properties: no memory error (the output buffer is exactly `cap` bytes); a valid result is
   NUL-terminated within cap, holds at most 32 members, no blanks around members, no empty
   member and no repeated key, and parses to itself (normalised form is a fixed point); the
   same parse in place gives the same bytes; set either leaves ts untouched (0) or puts
   key=value first, keeps the key once and the result valid. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

/* The normalised form: members "k=v" joined by single commas, nothing else. */
static void check_normal(const char *ts, size_t cap) {
    size_t n = strlen(ts), members = 0, i;
    const char *p = ts;
    char *again;
    FUZZ_ASSERT(n < cap);
    FUZZ_ASSERT(n == 0 || (ts[0] != ',' && ts[n - 1] != ',' && ts[0] != ' ' && ts[n - 1] != ' '));
    while (*p) {
        const char *e = strchr(p, ','), *eq;
        size_t len = e ? (size_t)(e - p) : strlen(p), j;
        FUZZ_ASSERT(len > 0);
        eq = (const char *)memchr(p, '=', len);
        FUZZ_ASSERT(eq && eq > p);
        FUZZ_ASSERT(p[0] != ' ' && p[len - 1] != ' ' && p[0] != '\t' && p[len - 1] != '\t');
        for (j = 0; j < len; j++) FUZZ_ASSERT((unsigned char)p[j] >= 0x20 && (unsigned char)p[j] < 0x7f);
        { /* the key once */
            const char *q = e ? e + 1 : NULL;
            size_t kl = (size_t)(eq - p);
            while (q && *q) {
                const char *qe = strchr(q, ',');
                FUZZ_ASSERT(!(strncmp(q, p, kl) == 0 && q[kl] == '='));
                q = qe ? qe + 1 : NULL;
            }
        }
        members++;
        p = e ? e + 1 : p + len;
    }
    FUZZ_ASSERT(members <= 32);
    again = (char *)malloc(cap);
    if (!again) abort();
    FUZZ_ASSERT(obs__tracestate_parse(ts, n, again, cap) == 1 && strcmp(again, ts) == 0);
    free(again);
    for (i = 0; i < n; i++) FUZZ_ASSERT(ts[i] != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s, *k1, *k2;
    size_t n, cap, big;
    char *out, *inplace, *key = NULL, *val = NULL, *before;
    int ok;
    if (size < 1) return 0;
    cap = data[0] == 0 ? OBS__TRACESTATE_CAP : (size_t)data[0] * 3;
    s = (const char *)data + 1;
    n = size - 1;
    k1 = (const char *)memchr(s, 0x01, n);
    k2 = k1 ? (const char *)memchr(k1, 0x02, n - (size_t)(k1 - s)) : NULL;
    if (k1 && k2) { /* ts 0x01 key 0x02 value */
        key = fuzz_cstr((const uint8_t *)k1 + 1, (size_t)(k2 - k1 - 1));
        val = fuzz_cstr((const uint8_t *)k2 + 1, n - (size_t)(k2 - s) - 1);
        n = (size_t)(k1 - s);
    }
    out = (char *)malloc(cap);
    if (!out) abort();
    ok = obs__tracestate_parse(s, n, out, cap);
    FUZZ_ASSERT(ok == 0 || ok == 1);
    if (!ok) FUZZ_ASSERT(out[0] == 0);
    else check_normal(out, cap);
    if (n <= OBS__PROP_MAX_INPUT) { /* in place: the same result */
        big = n > cap ? n : cap;
        inplace = (char *)malloc(big ? big : 1);
        if (!inplace) abort();
        memcpy(inplace, s, n);
        FUZZ_ASSERT(obs__tracestate_parse(inplace, n, inplace, cap) == ok);
        FUZZ_ASSERT(strcmp(inplace, out) == 0);
        free(inplace);
    }
    if (key && val) {
        int r;
        before = (char *)malloc(cap);
        if (!before) abort();
        memcpy(before, out, cap);
        r = obs__tracestate_set(out, cap, key, val);
        FUZZ_ASSERT(r == 0 || r == 1);
        if (!r) {
            FUZZ_ASSERT(memcmp(before, out, ok ? strlen(before) + 1 : 1) == 0);
        } else {
            size_t kl = strlen(key), vl = strlen(val);
            check_normal(out, cap);
            FUZZ_ASSERT(strncmp(out, key, kl) == 0 && out[kl] == '=');
            FUZZ_ASSERT(strncmp(out + kl + 1, val, vl) == 0);
            FUZZ_ASSERT(out[kl + 1 + vl] == 0 || out[kl + 1 + vl] == ',');
        }
        free(before);
    }
    free(out);
    free(key);
    free(val);
    return 0;
}

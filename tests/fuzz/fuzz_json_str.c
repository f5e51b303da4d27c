/* tests/fuzz/fuzz_json_str.c -- the string encoders every attribute, log body, name and
   resource value goes through: JSON (obs__json_str) and protobuf text (obs__pb_str), plus the
   UTF-8-safe cut used by value limits (obs__utf8_cut), any bytes.
   Properties: for any bytes, the JSON output is one valid JSON string (RFC 8259) and valid
   UTF-8 (RFC 3629), checked by an independent parser (json_check.h); decoded, it equals the
   input when the input is valid UTF-8, else the input with each byte that does not start a
   valid sequence replaced by U+FFFD; the protobuf string field holds exactly the same text;
   a cut of valid UTF-8 at any limit is a valid UTF-8 prefix no longer than the limit. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

/* The expected text: valid sequences kept, every other byte U+FFFD. */
static char *expected(const unsigned char *s, size_t n, size_t *outn) {
    char *o = (char *)malloc(3 * n + 1);
    size_t i = 0, w = 0, k;
    if (!o) abort();
    while (i < n) {
        if ((k = jc_utf8_seq(s + i, n - i)) != 0) {
            memcpy(o + w, s + i, k);
            w += k, i += k;
        } else {
            memcpy(o + w, "\xEF\xBF\xBD", 3);
            w += 3, i++;
        }
    }
    *outn = w;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    obs__buf b;
    char *dec, *want;
    size_t decn = 0, wantn, limit, cut;
    const unsigned char *p, *e;
    uint64_t tag = 0, len = 0;
    int shift;
    memset(&b, 0, sizeof b);
    obs__buf_puts(&b, "x"); /* not at offset 0: the encoder appends */
    obs__json_str(&b, s, size);
    FUZZ_ASSERT(!b.oom);
    FUZZ_ASSERT(jc_valid(b.p + 1, b.len - 1));
    dec = (char *)malloc(b.len + 1);
    if (!dec) abort();
    FUZZ_ASSERT(jc_string(b.p + 1, b.p + b.len, dec, &decn) == b.p + b.len);
    want = expected(data, size, &wantn);
    FUZZ_ASSERT(decn == wantn && memcmp(dec, want, wantn) == 0);
    if (jc_utf8_valid(s, size)) FUZZ_ASSERT(decn == size && memcmp(dec, s, size) == 0);

    /* protobuf: field 1, length-delimited, the same text */
    obs__buf_reset(&b);
    obs__pb_str(&b, (1u << 3) | 2u, s, size, 1);
    FUZZ_ASSERT(!b.oom);
    p = (const unsigned char *)b.p;
    e = p + b.len;
    for (shift = 0; p < e; shift += 7) { tag |= (uint64_t)(*p & 0x7f) << shift; if (!(*p++ & 0x80)) break; }
    for (shift = 0; p < e; shift += 7) { len |= (uint64_t)(*p & 0x7f) << shift; if (!(*p++ & 0x80)) break; }
    FUZZ_ASSERT(tag == ((1u << 3) | 2u) && len == (uint64_t)(e - p));
    FUZZ_ASSERT(len == wantn && memcmp(p, want, wantn) == 0);

    /* the cut used by value length limits */
    if (size >= 2 && jc_utf8_valid(s + 2, size - 2)) {
        limit = ((size_t)data[0] << 8 | data[1]) % (size + 1);
        cut = obs__utf8_cut(s + 2, size - 2, limit);
        FUZZ_ASSERT(cut <= limit || (size - 2 <= limit && cut == size - 2));
        FUZZ_ASSERT(jc_utf8_valid(s + 2, cut));
        FUZZ_ASSERT(cut + 3 >= (limit < size - 2 ? limit : size - 2)); /* at most one sequence lost */
    }
    free(dec);
    free(want);
    obs__buf_free(&b);
    return 0;
}

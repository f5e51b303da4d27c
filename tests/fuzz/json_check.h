/* tests/fuzz/json_check.h -- an independent, strict checker for what obs.h writes: RFC 8259
   JSON (grammar, not just structure) and RFC 3629 UTF-8. Shared by the fuzz targets and
   tests/test_reliability.c; written without obs.h's code, so it can judge it. Include it after
   obs.h (it includes system headers). Every function is static (`jc_`). */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H
#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define JC_DEF static __attribute__((unused))
#else
#define JC_DEF static
#endif

#define JC_MAX_DEPTH 256

/* Length of the UTF-8 sequence at s[0..n) (1..4), 0 when invalid: no overlongs, no
   surrogates, nothing above U+10FFFF, no truncated sequence. */
JC_DEF size_t jc_utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    unsigned long cp;
    size_t len, i;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return 0;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

JC_DEF int jc_utf8_valid(const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0, k;
    while (i < n) {
        if (!(k = jc_utf8_seq(s + i, n - i))) return 0;
        i += k;
    }
    return 1;
}

JC_DEF const char *jc__ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}
JC_DEF int jc__hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
JC_DEF long jc__u4(const char *p, const char *e) {
    long v = 0;
    int i, h;
    if (e - p < 4) return -1;
    for (i = 0; i < 4; i++) {
        if ((h = jc__hex(p[i])) < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}
JC_DEF size_t jc__put_cp(char *out, unsigned long cp) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON string at p (p[0] == '"'): returns the byte after its closing quote, or NULL.
   When out is not NULL the decoded bytes go there (room: the string's own length suffices)
   and *outn gets their count. Lone surrogate escapes are refused (they are not UTF-8). */
JC_DEF const char *jc_string(const char *p, const char *e, char *out, size_t *outn) {
    size_t w = 0, k;
    if (p >= e || *p != '"') return NULL;
    for (p++;;) {
        unsigned char c;
        if (p >= e) return NULL;
        c = (unsigned char)*p;
        if (c == '"') break;
        if (c < 0x20) return NULL; /* control characters must be escaped */
        if (c == '\\') {
            long u, lo;
            if (e - p < 2) return NULL;
            switch (p[1]) {
            case '"': case '\\': case '/':
                if (out) out[w] = p[1];
                w++, p += 2;
                continue;
            case 'b': if (out) out[w] = '\b'; w++, p += 2; continue;
            case 'f': if (out) out[w] = '\f'; w++, p += 2; continue;
            case 'n': if (out) out[w] = '\n'; w++, p += 2; continue;
            case 'r': if (out) out[w] = '\r'; w++, p += 2; continue;
            case 't': if (out) out[w] = '\t'; w++, p += 2; continue;
            case 'u':
                if ((u = jc__u4(p + 2, e)) < 0) return NULL;
                p += 6;
                if (u >= 0xDC00 && u <= 0xDFFF) return NULL;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (e - p < 6 || p[0] != '\\' || p[1] != 'u') return NULL;
                    if ((lo = jc__u4(p + 2, e)) < 0xDC00 || lo > 0xDFFF) return NULL;
                    p += 6;
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (out) w += jc__put_cp(out + w, (unsigned long)u);
                else w += u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
                continue;
            default:
                return NULL;
            }
        }
        if (!(k = jc_utf8_seq((const unsigned char *)p, (size_t)(e - p)))) return NULL;
        if (out) memcpy(out + w, p, k);
        w += k, p += k;
    }
    if (outn) *outn = w;
    return p + 1;
}

JC_DEF const char *jc__number(const char *p, const char *e) {
    const char *d;
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (p < e && *p >= '0' && *p <= '9') p++;
    else return NULL;
    if (p < e && *p == '.') {
        for (d = ++p; p < e && *p >= '0' && *p <= '9'; p++) {}
        if (p == d) return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        for (d = p; p < e && *p >= '0' && *p <= '9'; p++) {}
        if (p == d) return NULL;
    }
    return p;
}

JC_DEF const char *jc_value(const char *p, const char *e, int depth) {
    p = jc__ws(p, e);
    if (p >= e || depth > JC_MAX_DEPTH) return NULL;
    switch (*p) {
    case '"': return jc_string(p, e, NULL, NULL);
    case '{':
        p = jc__ws(p + 1, e);
        if (p < e && *p == '}') return p + 1;
        for (;;) {
            if (!(p = jc_string(jc__ws(p, e), e, NULL, NULL))) return NULL;
            p = jc__ws(p, e);
            if (p >= e || *p != ':') return NULL;
            if (!(p = jc_value(p + 1, e, depth + 1))) return NULL;
            p = jc__ws(p, e);
            if (p < e && *p == ',') { p++; continue; }
            if (p < e && *p == '}') return p + 1;
            return NULL;
        }
    case '[':
        p = jc__ws(p + 1, e);
        if (p < e && *p == ']') return p + 1;
        for (;;) {
            if (!(p = jc_value(p, e, depth + 1))) return NULL;
            p = jc__ws(p, e);
            if (p < e && *p == ',') { p++; continue; }
            if (p < e && *p == ']') return p + 1;
            return NULL;
        }
    case 't': return e - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
    case 'f': return e - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
    case 'n': return e - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
    default: return jc__number(p, e);
    }
}

/* 1 when s[0..n) is exactly one JSON value (whitespace around allowed), all valid UTF-8. */
JC_DEF int jc_valid(const char *s, size_t n) {
    const char *e = s + n, *p = jc_value(s, e, 0);
    return p && jc__ws(p, e) == e && jc_utf8_valid(s, n);
}
#endif

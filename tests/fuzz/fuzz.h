/* tests/fuzz/fuzz.h -- what the libFuzzer targets share: a property check that aborts (so
   libFuzzer saves the input), NUL-terminated copies, and a reference parser for the
   OTEL_EXPORTER_OTLP_HEADERS / OTEL_RESOURCE_ATTRIBUTES lists written from the spec's words,
   not from obs.h. Include after obs.h. */
#ifndef FUZZ_H
#define FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_check.h"

#if defined(__GNUC__) || defined(__clang__)
#define FUZZ_DEF static __attribute__((unused))
#else
#define FUZZ_DEF static
#endif

#define FUZZ_ASSERT(c) do { if (!(c)) { \
    fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0..n) as a C string (cut at a NUL byte, as an environment variable would be). */
FUZZ_DEF char *fuzz_cstr(const uint8_t *data, size_t n) {
    char *s = (char *)malloc(n + 1);
    if (!s) abort();
    memcpy(s, data, n);
    s[n] = 0;
    return s;
}

/* ---- the reference k=v list parser ----
   "k=v,k2=v2": entries split at ','; an entry of only spaces and tabs is skipped; otherwise
   it needs a '=' (the first one splits); key and value are trimmed of spaces and tabs, then
   percent-decoded (a '%' not followed by two hex digits makes the list invalid); the key must
   not be empty. A decoded NUL byte makes the list invalid too: the pair could not be passed on
   as a C string without silently cutting it. */
typedef struct fuzz_kv {
    char *k, *v;
    size_t kn, vn;
} fuzz_kv;
typedef struct fuzz_kvs {
    fuzz_kv *a;
    size_t n;
    int ok;
} fuzz_kvs;

FUZZ_DEF int fuzz__hex(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
/* Decodes s[0..n) trimmed into a new string; NULL when malformed. */
FUZZ_DEF char *fuzz__decode(const char *s, size_t n, size_t *outn, int *has_nul) {
    char *o = (char *)malloc(n + 1);
    size_t i, w = 0;
    if (!o) abort();
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? fuzz__hex((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? fuzz__hex((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) { free(o); return NULL; }
            o[w] = (char)(hi * 16 + lo);
            *has_nul |= o[w] == 0;
            w++;
            i += 2;
        } else {
            o[w++] = s[i];
        }
    }
    o[w] = 0;
    *outn = w;
    return o;
}
FUZZ_DEF void fuzz_kvs_free(fuzz_kvs *l) {
    size_t i;
    for (i = 0; i < l->n; i++) { free(l->a[i].k); free(l->a[i].v); }
    free(l->a);
    l->a = NULL;
    l->n = 0;
}
FUZZ_DEF fuzz_kvs fuzz_kvs_parse(const char *list) {
    fuzz_kvs l;
    const char *p = list;
    l.a = NULL, l.n = 0, l.ok = 1;
    while (p && *p) {
        const char *comma = strchr(p, ','), *eq;
        size_t len = comma ? (size_t)(comma - p) : strlen(p), i;
        int blank = 1, nul = 0;
        fuzz_kv kv;
        for (i = 0; i < len; i++) blank &= p[i] == ' ' || p[i] == '\t';
        if (!blank) {
            eq = (const char *)memchr(p, '=', len);
            kv.k = eq ? fuzz__decode(p, (size_t)(eq - p), &kv.kn, &nul) : NULL;
            kv.v = kv.k ? fuzz__decode(eq + 1, len - (size_t)(eq - p) - 1, &kv.vn, &nul) : NULL;
            if (!kv.k || !kv.v || kv.kn == 0 || nul) {
                free(kv.k);
                free(kv.v);
                l.ok = 0;
                break;
            }
            l.a = (fuzz_kv *)realloc(l.a, (l.n + 1) * sizeof *l.a);
            if (!l.a) abort();
            l.a[l.n++] = kv;
        }
        p = comma ? comma + 1 : NULL;
    }
    return l;
}
#endif

/* tests/fuzz/fuzz_headers.c -- OTEL_EXPORTER_OTLP_HEADERS: obs__kv_each with the OTLP header
   callback (obs__hdr_add), exactly as obs__otlp_from_config runs them, any bytes.
   Properties: no memory error; kv_each agrees with the reference parser in fuzz.h (valid or
   not, and the same decoded pairs in order, a decoded NUL refused rather than cut); every
   "Name: value" line the callback keeps passes the transport's own request check
   (obs__http_check), so a header accepted at obs_init can never fail every export later;
   every kept line is the decoded name and value of a pair. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

typedef struct seen {
    fuzz_kvs ref;
    size_t i;
    int mismatch;
} seen;

static int record(void *ud, const char *k, const char *v) {
    seen *s = (seen *)ud;
    if (s->i >= s->ref.n || strlen(k) != s->ref.a[s->i].kn || strlen(v) != s->ref.a[s->i].vn ||
        memcmp(k, s->ref.a[s->i].k, s->ref.a[s->i].kn) != 0 ||
        memcmp(v, s->ref.a[s->i].v, s->ref.a[s->i].vn) != 0) {
        s->mismatch = 1;
    }
    s->i++;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *list = fuzz_cstr(data, size);
    seen s;
    obs__hdrs h;
    obs__url url;
    obs__http_req req;
    obs__http_resp resp;
    size_t i, j;
    int ok;
    obs__g.diag_level = 0; /* diagnostics are test_reliability's business (secrets) */
    s.ref = fuzz_kvs_parse(list);
    s.i = 0;
    s.mismatch = 0;
    ok = obs__kv_each(list, "OTEL_EXPORTER_OTLP_HEADERS", record, &s);
    FUZZ_ASSERT(ok == s.ref.ok);
    if (ok) FUZZ_ASSERT(!s.mismatch && s.i == s.ref.n);

    memset(&h, 0, sizeof h); /* the real thing, as obs__otlp_from_config does it */
    if (!obs__kv_each(list, "OTEL_EXPORTER_OTLP_HEADERS", obs__hdr_add, &h)) {
        for (i = 0; i < h.n; i++) obs__free(h.v[i]);
        h.n = 0;
    }
    FUZZ_ASSERT(obs__url_parse("http://127.0.0.1:4318/v1/traces", &url) == 0);
    memset(&req, 0, sizeof req);
    req.url = &url;
    req.headers = (const char *const *)h.v;
    req.n_headers = h.n;
    obs__http_resp_init(&resp);
    FUZZ_ASSERT(obs__http_check(&req, &resp) == 0);
    for (i = 0, j = 0; i < h.n; i++, j++) { /* each kept line is the next decoded pair kept */
        size_t kl = strcspn(h.v[i], ":");
        while (j < s.ref.n && !(s.ref.a[j].kn == kl && memcmp(s.ref.a[j].k, h.v[i], kl) == 0 &&
                                h.v[i][kl + 1] == ' ' && strcmp(h.v[i] + kl + 2, s.ref.a[j].v) == 0)) {
            j++;
        }
        FUZZ_ASSERT(j < s.ref.n);
    }
    for (i = 0; i < h.n; i++) obs__free(h.v[i]);
    obs__free(h.v);
    obs__http_resp_free(&resp);
    fuzz_kvs_free(&s.ref);
    free(list);
    return 0;
}

/* tests/fuzz/fuzz_url.c -- OTLP endpoint URLs (obs__url_parse), then the request head and the
   curl config built from them, any bytes.
   Properties: no memory error; an accepted URL has a non-empty host of URL-safe characters, a
   port 1..65535, a path that starts with '/', and no byte that could end a header line
   anywhere; the Host value is the host (bracketed for IPv6) plus a non-default port; parsing
   "scheme://" Host path again gives the same result; the request head built from it is exactly
   five CRLF-ended lines (nothing injected); the curl config is exactly its ten lines and its
   url line unescapes to the URL. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

static int clean(const char *s) {
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) return 0;
    }
    return 1;
}

/* The value of the first `key = "..."` line of a curl config, unescaped (caller frees). */
static char *cfg_value(const char *cfg, const char *key) {
    size_t kl = strlen(key);
    const char *p = cfg;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && strncmp(p + kl, " = \"", 4) == 0) {
            char *out = (char *)malloc(strlen(p) + 1);
            size_t w = 0;
            if (!out) abort();
            for (p += kl + 4; *p && *p != '"' && *p != '\n'; p++) {
                if (*p == '\\') p++;
                if (!*p) break;
                out[w++] = *p;
            }
            FUZZ_ASSERT(*p == '"' && p[1] == '\n');
            out[w] = 0;
            return out;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *url = fuzz_cstr(data, size), again[2048], *v;
    obs__url u, u2;
    obs__http_req req;
    obs__http_resp resp;
    obs__buf head, cfg;
    long port;
    size_t i, lines;
    const char *p;
    static int once;
    if (!once) once = 1, unsetenv("OBS_CURL_CACERT"); /* its line would be an 11th */
    if (obs__url_parse(url, &u) != 0) {
        free(url);
        return 0;
    }
    FUZZ_ASSERT(u.https == 0 || u.https == 1);
    FUZZ_ASSERT(u.host[0] && clean(u.host) && clean(u.port) && clean(u.path) && clean(u.hostport));
    FUZZ_ASSERT(strspn(u.port, "0123456789") == strlen(u.port));
    port = strtol(u.port, NULL, 10);
    FUZZ_ASSERT(port >= 1 && port <= 65535);
    FUZZ_ASSERT(u.path[0] == '/' && !strchr(u.path, '#'));
    FUZZ_ASSERT(!strchr(u.host, '/') && !strchr(u.host, '@') && !strchr(u.host, '?'));
    { /* Host: the host, bracketed when it is an IPv6 literal, and a non-default port */
        char want[300];
        int v6 = u.hostport[0] == '[';
        FUZZ_ASSERT(v6 ? strspn(u.host, "0123456789abcdefABCDEF:.") == strlen(u.host)
                       : strspn(u.host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-._") == strlen(u.host));
        int def = port == (u.https ? 443 : 80);
        snprintf(want, sizeof want, "%s%s%s%s%s", v6 ? "[" : "", u.host, v6 ? "]" : "",
                 def ? "" : ":", def ? "" : u.port);
        FUZZ_ASSERT(strcmp(want, u.hostport) == 0);
    }
    snprintf(again, sizeof again, "%s://%s%s", u.https ? "https" : "http", u.hostport, u.path);
    /* (a query-only path of 1022 bytes gets its '/' and then no longer fits: known, harmless) */
    if (strlen(u.path) < sizeof u.path - 1) {
        FUZZ_ASSERT(obs__url_parse(again, &u2) == 0 && u.https == u2.https);
        FUZZ_ASSERT(!strcmp(u.host, u2.host) && !strcmp(u.port, u2.port) &&
                    !strcmp(u.path, u2.path) && !strcmp(u.hostport, u2.hostport));
    }

    memset(&req, 0, sizeof req);
    req.url = &u;
    obs__http_resp_init(&resp);
    memset(&head, 0, sizeof head);
    FUZZ_ASSERT(obs__http_check(&req, &resp) == 0 && obs__http_head(&req, &head, &resp) == 0);
    for (i = 0, lines = 0; i < head.len; i++) { /* every CR is a CRLF, every LF ends one */
        if (head.p[i] == '\r') FUZZ_ASSERT(i + 1 < head.len && head.p[i + 1] == '\n');
        if (head.p[i] == '\n') {
            FUZZ_ASSERT(i > 0 && head.p[i - 1] == '\r');
            lines++;
        }
    }
    FUZZ_ASSERT(lines == 5 && head.len >= 4 && memcmp(head.p + head.len - 4, "\r\n\r\n", 4) == 0);
    FUZZ_ASSERT(strncmp(head.p, "POST ", 5) == 0 && strncmp(head.p + 5, u.path, strlen(u.path)) == 0);

    memset(&cfg, 0, sizeof cfg);
    FUZZ_ASSERT(obs__curl_config(&req, &cfg, &resp) == 0);
    for (p = cfg.p, lines = 0; (p = strchr(p, '\n')) != NULL; p++) lines++;
    FUZZ_ASSERT(lines == 10);
    v = cfg_value(cfg.p, "url");
    FUZZ_ASSERT(v != NULL);
    snprintf(again, sizeof again, "%s://%s%s", u.https ? "https" : "http", u.hostport, u.path);
    FUZZ_ASSERT(strcmp(v, again) == 0);
    free(v);
    obs__buf_free(&cfg);
    obs__buf_free(&head);
    obs__http_resp_free(&resp);
    free(url);
    return 0;
}

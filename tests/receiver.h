/* tests/receiver.h -- a loopback OTLP/HTTP receiver for obs.h's tests and benchmarks.

   Serves HTTP/1.1 POST /v1/traces and /v1/logs on 127.0.0.1 (JSON or protobuf bodies,
   Content-Length or chunked, keep-alive, pipelining, Expect: 100-continue), counts the spans
   and log records it accepts, and injects faults on demand. GET /stats returns the counters
   as JSON. One accept thread plus one thread per connection (at most RCV_MAX_CONN at once;
   more wait in the backlog). Every function is static (`rcv_`, private `rcv__`): include it
   before any system header (it defines _POSIX_C_SOURCE). C99 or C++11, pthreads, sockets.

   Counting: a JSON body is scanned once, string-aware; every "spans":[...] array adds its
   element count to `spans`, every "logRecords":[...] to `logs` (only on the matching path).
   A protobuf body (Content-Type: application/x-protobuf) is walked field 1 -> field 2 ->
   field 2, the same path in ExportTraceServiceRequest and ExportLogsServiceRequest. A body
   that is not structurally valid (unbalanced, unclosed string, stray bytes, trailing data;
   truncated protobuf) gets 400. The JSON scan checks structure, not grammar: `[1,]` passes.
   Faults, per POST to /v1/traces or /v1/logs: the first `reset_first` are read and closed
   unanswered, the next `fail_first` get `fail_status`; `delay_ms`, `chunked_reply`,
   `huge_reply`, `garbage_reply` and `close_after_reply` apply to every reply to those paths.
   Limits: no Content-Encoding (gzip gets 415); 64 MiB bodies, 64 KiB heads; path < 256. */
#ifndef RCV_RECEIVER_H
#define RCV_RECEIVER_H
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#if defined(__GNUC__) || defined(__clang__)
#define RCVDEF static __attribute__((unused))
#else
#define RCVDEF static
#endif
#ifdef MSG_NOSIGNAL
#define RCV__SENDFLAGS MSG_NOSIGNAL
#else
#define RCV__SENDFLAGS 0
#endif
#define RCV_MAX_CONN 1024 /* idle keep-alive connections hold a slot: clients that make new pools keep old ones open */
#define RCV__MAX_HEAD ((size_t)64 * 1024)
#define RCV__MAX_BODY ((size_t)64 * 1024 * 1024)
#define RCV__MAX_DEPTH 512
#define RCV__HUGE ((size_t)5 * 1024 * 1024)

typedef struct rcv_config {
    int port;               /* 0 = ephemeral on 127.0.0.1 */
    int fail_first;         /* first N POSTs get fail_status */
    int fail_status;        /* 0 = 503 */
    int retry_after_s;      /* -1: no Retry-After; else sent with failures (so 0 sends "0") */
    int reset_first;        /* first N POSTs: read the request, close unanswered (before fail) */
    int delay_ms;           /* delay every reply */
    int blackhole;          /* accept and read, never answer (until the peer closes or stop) */
    int close_after_reply;  /* send Connection: close and close */
    int chunked_reply;      /* reply body with Transfer-Encoding: chunked */
    int garbage_reply;      /* reply with a garbage status line, then close */
    int huge_reply;         /* reply with a 5 MiB body */
    int partial_rejected;   /* >0: 200 with partialSuccess rejectedSpans/rejectedLogRecords=N */
    int keep_bodies;        /* store every request (path, headers, body); off for benchmarks */
    /* Optional: called for each accepted POST, one call at a time, on a server thread. */
    void (*on_accept)(void *arg, const char *path, int protobuf, const char *body, size_t len);
    void *on_accept_arg;
} rcv_config;

typedef struct rcv_stats {
    long requests;        /* POSTs received (any path, failures and faults included) */
    long accepted;        /* POSTs answered 200 on /v1/traces or /v1/logs */
    long failed_injected; /* POSTs answered fail_status by fail_first */
    long resets;          /* POSTs closed unanswered by reset_first */
    long spans, logs;     /* items in accepted requests (partially rejected ones included) */
    long bytes;           /* body bytes of accepted requests */
    long connections;     /* connections accepted */
    long idle_ms;         /* since the last POST (or the start) */
} rcv_stats;

typedef struct rcv__stored {
    char *path, *head, *body; /* head: the header lines "Name: value\r\n"...; all NUL-ended */
    size_t head_len, body_len;
} rcv__stored;

typedef struct rcv {
    rcv_config cfg;
    int lfd, port, wake[2], stopping, nconn, nreqs, capreqs;
    int fds[RCV_MAX_CONN]; /* open connections, -1 = free slot */
    long posts;            /* POSTs to /v1/..., for the fault counters */
    int64_t last_ms;
    rcv_stats st;
    rcv__stored *reqs;
    pthread_t acceptor;
    pthread_mutex_t mu, cbmu; /* mu: everything above; cbmu: serialises on_accept */
    pthread_cond_t cv;        /* stop, spans, nconn */
} rcv;

typedef struct rcv__conn {
    rcv *r;
    int fd, slot;
    char *buf;
    size_t len, cap;
} rcv__conn;

typedef struct rcv__req {
    char method[8], path[256];
    size_t head, head_len, body, body_len; /* offsets into the connection's buffer */
    int close, proto, encoded;
} rcv__req;

/* ---- helpers ---- */
RCVDEF int64_t rcv__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
RCVDEF char *rcv__dup(const char *p, size_t n) {
    char *d = (char *)malloc(n + 1);
    if (d) { memcpy(d, p, n); d[n] = 0; }
    return d;
}
RCVDEF int rcv__ci_eq(const char *a, const char *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x != y && (x | 0x20) != (y | 0x20)) return 0; /* ASCII letters only matter here */
    }
    return 1;
}
/* Does [s, s+n) contain `word`, case-insensitively? */
RCVDEF int rcv__ci_has(const char *s, size_t n, const char *word) {
    size_t i, wl = strlen(word);
    for (i = 0; i + wl <= n; i++) {
        if (rcv__ci_eq(s + i, word, wl)) return 1;
    }
    return 0;
}
/* Value of header `name` in a block of "Name: value\r\n" lines (trimmed); NULL if absent. */
RCVDEF const char *rcv__hget(const char *h, size_t n, const char *name, size_t *vlen) {
    const char *e = h + n, *nl, *v, *ve;
    size_t nn = strlen(name);
    for (; h < e; h = nl + 1) {
        if (!(nl = (const char *)memchr(h, '\n', (size_t)(e - h)))) nl = e;
        if ((size_t)(nl - h) <= nn || h[nn] != ':' || !rcv__ci_eq(h, name, nn)) continue;
        for (v = h + nn + 1; v < nl && (*v == ' ' || *v == '\t'); v++) {}
        for (ve = nl; ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
        *vlen = (size_t)(ve - v);
        return v;
    }
    return NULL;
}

/* ---- body scanners ---- */
#define RCV__WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')
#define RCV__SCALAR(c) (((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || \
                        ((c) >= 'A' && (c) <= 'Z') || (c) == '.' || (c) == '+' || (c) == '-')
/* Structural scan of one JSON object; adds the element counts of "spans" and "logRecords"
   arrays (at any depth). 0 ok, -1 malformed. */
RCVDEF int rcv__json(const char *s, size_t n, long *spans, long *logs) {
    const char *e = s + n, *b, *q, *k, *t;
    unsigned char st[RCV__MAX_DEPTH]; /* 0 object, 1 array, 2 "spans" array, 3 "logRecords" */
    long cnt[4] = {0, 0, 0, 0};
    int d = 0, key = 0, armed = 0, done = 0; /* key: last string's kind; armed: after ':' */
    while (s < e) { /* an if-chain by frequency: faster here than a switch */
        char c = *s++;
        if (c == '"') {
            if (d == 0) return -1;
            for (b = s;; s = q + 1) { /* a quote is escaped by an odd run of backslashes */
                if (!(q = (const char *)memchr(s, '"', (size_t)(e - s)))) return -1;
                for (k = q; k > b && k[-1] == '\\'; k--) {}
                if (((q - k) & 1) == 0) break;
            }
            s = q + 1;
            key = (q - b == 5 && !memcmp(b, "spans", 5)) ? 2
                : (q - b == 10 && !memcmp(b, "logRecords", 10)) ? 3 : 0;
            armed = 0;
            continue;
        }
        if (c == ':') {
            if (d == 0 || st[d - 1] != 0) return -1;
            armed = key;
            key = 0;
            continue;
        }
        if (c == ',') {
            if (d == 0) return -1;
            if (st[d - 1] >= 2) cnt[st[d - 1]]++;
        } else if (c == '{' || c == '[') {
            if (done || d == RCV__MAX_DEPTH || (d == 0 && c != '{')) return -1;
            st[d++] = (unsigned char)(c == '{' ? 0 : armed ? armed : 1);
            if (st[d - 1] >= 2) { /* count the first element here, each further one at ',' */
                for (t = s; t < e && RCV__WS(*t); t++) {}
                if (t < e && *t != ']') cnt[st[d - 1]]++;
            }
        } else if (c == '}' || c == ']') {
            if (d == 0 || (c == '}') != (st[d - 1] == 0)) return -1;
            done = (--d == 0);
        } else if (RCV__WS(c)) {
            continue;
        } else {
            if (d == 0 || !RCV__SCALAR(c)) return -1;
            while (s < e && RCV__SCALAR(*s)) s++;
        }
        key = armed = 0;
    }
    if (!done) return -1;
    *spans += cnt[2];
    *logs += cnt[3];
    return 0;
}
RCVDEF int rcv__varint(const unsigned char **p, const unsigned char *e, uint64_t *v) {
    int sh;
    for (*v = 0, sh = 0; sh < 64 && *p < e; sh += 7) {
        unsigned char c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}
/* Counts the field-2 messages at depth 2, reached by field 1 (depth 0) then field 2. -1 bad. */
RCVDEF long rcv__pb(const unsigned char *p, const unsigned char *e, int depth) {
    long n = 0, k;
    uint64_t tag, v;
    while (p < e) {
        if (rcv__varint(&p, e, &tag) || (tag >> 3) == 0) return -1;
        switch (tag & 7) {
        case 0: if (rcv__varint(&p, e, &v)) return -1; break;
        case 1: if (e - p < 8) return -1; p += 8; break;
        case 5: if (e - p < 4) return -1; p += 4; break;
        case 2:
            if (rcv__varint(&p, e, &v) || v > (uint64_t)(e - p)) return -1;
            if ((tag >> 3) == (depth ? 2u : 1u)) {
                if ((k = depth == 2 ? 1 : rcv__pb(p, p + v, depth + 1)) < 0) return -1;
                n += k;
            }
            p += v;
            break;
        default: return -1;
        }
    }
    return n;
}

/* ---- connection I/O ---- */
/* With r->mu held: waits up to ms, until stop, or until *watch >= target (watch may be NULL). */
RCVDEF void rcv__wait_locked(rcv *r, int64_t ms, const long *watch, long target) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = ms < 0 ? 0 : ms;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    while (!r->stopping && !(watch && *watch >= target)) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) break;
    }
}
/* Reads more into c->buf, first growing it to hold `want` bytes. 1 ok, 0 EOF or error. */
RCVDEF int rcv__fill(rcv__conn *c, size_t want) {
    ssize_t n;
    if (want < c->len + 16384) want = c->len + 16384;
    if (want > c->cap) {
        size_t ncap = c->cap ? c->cap : RCV__MAX_HEAD;
        char *nb;
        while (ncap < want) ncap *= 2;
        if (!(nb = (char *)realloc(c->buf, ncap))) return 0;
        c->buf = nb;
        c->cap = ncap;
    }
    do {
        n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return 0;
    c->len += (size_t)n;
    return 1;
}
RCVDEF int rcv__need(rcv__conn *c, size_t n) {
    while (c->len < n) {
        if (!rcv__fill(c, n)) return 0;
    }
    return 1;
}
/* Offset of the next '\n' at or after `from`, reading more as needed; -1 on EOF, or when
   more than RCV__MAX_HEAD bytes come without one. */
RCVDEF long rcv__line(rcv__conn *c, size_t from) {
    for (;;) {
        const char *nl = c->len > from
            ? (const char *)memchr(c->buf + from, '\n', c->len - from) : NULL;
        if (nl) return (long)(nl - c->buf);
        if (c->len - from > RCV__MAX_HEAD || !rcv__fill(c, 0)) return -1;
    }
}
/* Skips lines from `from` through the first empty one; returns the offset after it, -1 on
   EOF or a head over RCV__MAX_HEAD. Used for request heads and chunked trailers. */
RCVDEF long rcv__skip_head(rcv__conn *c, size_t from) {
    size_t start = from, ll;
    long nl;
    while ((nl = rcv__line(c, from)) >= 0) {
        ll = (size_t)nl - from;
        if (ll == 0 || (ll == 1 && c->buf[from] == '\r')) return nl + 1;
        if ((from = (size_t)nl + 1) - start > RCV__MAX_HEAD) return -1;
    }
    return -1;
}
/* Decodes the chunked body at q->body in place; sets q->body_len and *end (the raw end). */
RCVDEF int rcv__dechunk(rcv__conn *c, rcv__req *q, size_t *end) {
    size_t rp = q->body, wp = q->body;
    long nl;
    for (;;) {
        unsigned long sz;
        if ((nl = rcv__line(c, rp)) < 0) return 0;
        sz = strtoul(c->buf + rp, NULL, 16); /* stops at ";ext" or CR */
        rp = (size_t)nl + 1;
        if (sz == 0) break;
        if (sz > RCV__MAX_BODY - (wp - q->body) || !rcv__need(c, rp + sz + 2)) return 0;
        memmove(c->buf + wp, c->buf + rp, sz);
        wp += sz;
        rp += sz + 2;
    }
    q->body_len = wp - q->body;
    nl = rcv__skip_head(c, rp);
    *end = (size_t)nl;
    return nl >= 0;
}
RCVDEF int rcv__send(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, RCV__SENDFLAGS);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* ---- replies ---- */
RCVDEF const char *rcv__reason(int status) {
    static const struct { int code; const char *text; } t[] = {
        {200, "OK"}, {400, "Bad Request"}, {404, "Not Found"}, {405, "Method Not Allowed"},
        {413, "Payload Too Large"}, {415, "Unsupported Media Type"}, {429, "Too Many Requests"},
        {500, "Internal Server Error"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
        {504, "Gateway Timeout"}};
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (t[i].code == status) return t[i].text;
    }
    return "Status";
}
/* Sends one reply; `inject` applies the reply faults of the config. 1: keep the connection. */
RCVDEF int rcv__reply(rcv__conn *c, int status, const char *ctype, const char *body,
                      size_t blen, int close_it, int inject, int retry_after) {
    const rcv_config *cf = &c->r->cfg;
    char head[512], *big = NULL;
    size_t hl, off;
    int ok, chunked = inject && cf->chunked_reply;
    if (inject && cf->delay_ms > 0) {
        pthread_mutex_lock(&c->r->mu);
        rcv__wait_locked(c->r, cf->delay_ms, NULL, 0);
        pthread_mutex_unlock(&c->r->mu);
    }
    if (inject && cf->garbage_reply) {
        rcv__send(c->fd, "HTPT/9.x ??? not-a-status\r\n\r\n", 29);
        return 0;
    }
    if (inject && cf->huge_reply && (big = (char *)malloc(RCV__HUGE)) != NULL) {
        memset(big, ' ', RCV__HUGE); /* still valid JSON: "{ ... }" */
        big[0] = '{';
        big[RCV__HUGE - 1] = '}';
        body = big;
        blen = RCV__HUGE;
    }
    close_it |= inject && cf->close_after_reply;
    hl = (size_t)snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s",
                          status, rcv__reason(status), ctype,
                          close_it ? "Connection: close\r\n" : "");
    if (retry_after >= 0) {
        hl += (size_t)snprintf(head + hl, sizeof head - hl, "Retry-After: %d\r\n", retry_after);
    }
    hl += (size_t)(chunked ? snprintf(head + hl, 64, "Transfer-Encoding: chunked\r\n\r\n")
                           : snprintf(head + hl, 64, "Content-Length: %zu\r\n\r\n", blen));
    if (!chunked && blen <= sizeof head - hl) { /* one send for the usual small reply */
        memcpy(head + hl, body, blen);
        hl += blen;
        blen = 0;
    }
    ok = rcv__send(c->fd, head, hl);
    for (off = 0; ok && off < blen; off += 65536) {
        size_t n = blen - off < 65536 ? blen - off : 65536;
        char sz[24];
        if (chunked) ok = rcv__send(c->fd, sz, (size_t)snprintf(sz, sizeof sz, "%zx\r\n", n));
        ok = ok && rcv__send(c->fd, body + off, n) && (!chunked || rcv__send(c->fd, "\r\n", 2));
    }
    if (ok && chunked) ok = rcv__send(c->fd, "0\r\n\r\n", 5);
    free(big);
    return ok && !close_it;
}

/* ---- requests ---- */
RCVDEF void rcv__store(rcv *r, const rcv__conn *c, const rcv__req *q) {
    rcv__stored s;
    s.path = rcv__dup(q->path, strlen(q->path));
    s.head = rcv__dup(c->buf + q->head, s.head_len = q->head_len);
    s.body = rcv__dup(c->buf + q->body, s.body_len = q->body_len);
    pthread_mutex_lock(&r->mu);
    if (r->nreqs == r->capreqs) {
        int ncap = r->capreqs ? r->capreqs * 2 : 16;
        rcv__stored *nr = (rcv__stored *)realloc(r->reqs, (size_t)ncap * sizeof *nr);
        if (nr) { r->reqs = nr; r->capreqs = ncap; }
    }
    if (r->nreqs < r->capreqs && s.path && s.head && s.body) {
        r->reqs[r->nreqs++] = s;
        s.path = s.head = s.body = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    free(s.path);
    free(s.head);
    free(s.body);
}
RCVDEF rcv_stats rcv_get_stats(rcv *r);
/* Answers one request whose body is in c->buf. 1: keep the connection. */
RCVDEF int rcv__handle(rcv__conn *c, const rcv__req *q) {
    rcv *r = c->r;
    const rcv_config *cf = &r->cfg;
    const char *body = c->buf + q->body, *err = NULL, *what;
    const char *ct = q->proto ? "application/x-protobuf" : "application/json";
    const unsigned char *ub = (const unsigned char *)body;
    int traces = !strcmp(q->path, "/v1/traces"), logs = !strcmp(q->path, "/v1/logs");
    int status = 200, retry = -1, fault = 0;
    long ns = 0, nl = 0;
    char out[256];
    size_t n;
    rcv_stats s;
    if (cf->keep_bodies) rcv__store(r, c, q);
    if (strcmp(q->method, "POST") != 0) {
        if (strcmp(q->method, "GET") != 0 || strcmp(q->path, "/stats") != 0) {
            return rcv__reply(c, traces || logs ? 405 : 404, "text/plain", "", 0, q->close, 0, -1);
        }
        s = rcv_get_stats(r);
        n = (size_t)snprintf(out, sizeof out, "{\"requests\":%ld,\"accepted\":%ld,\"failed_"
                             "injected\":%ld,\"resets\":%ld,\"spans\":%ld,\"logs\":%ld,\"bytes\":"
                             "%ld,\"connections\":%ld}", s.requests, s.accepted,
                             s.failed_injected, s.resets, s.spans, s.logs, s.bytes,
                             s.connections);
        return rcv__reply(c, 200, "application/json", out, n, q->close, 0, -1);
    }
    pthread_mutex_lock(&r->mu);
    r->st.requests++;
    r->last_ms = rcv__now_ms();
    if (traces || logs) {
        long post = ++r->posts;
        fault = post <= cf->reset_first ? 1 : post - cf->reset_first <= cf->fail_first ? 2 : 0;
        r->st.resets += fault == 1;
        r->st.failed_injected += fault == 2;
    }
    pthread_mutex_unlock(&r->mu);
    if (!traces && !logs) return rcv__reply(c, 404, "text/plain", "", 0, q->close, 0, -1);
    if (cf->blackhole) { /* swallow everything until the peer or rcv_stop closes */
        for (c->len = 0; rcv__fill(c, 0); c->len = 0) {}
        return 0;
    }
    if (fault == 1) return 0;
    if (fault == 2) {
        status = cf->fail_status ? cf->fail_status : 503;
        retry = cf->retry_after_s;
        err = "injected failure";
    } else if (q->encoded) {
        status = 415;
        err = "Content-Encoding is not supported";
    } else if (q->proto ? (ns = nl = rcv__pb(ub, ub + q->body_len, 0)) < 0
                        : rcv__json(body, q->body_len, &ns, &nl) < 0) {
        status = 400;
        err = "malformed body";
    }
    if (err) { /* a google.rpc.Status: 14 UNAVAILABLE, 3 INVALID_ARGUMENT */
        n = q->proto ? 0 : (size_t)snprintf(out, sizeof out, "{\"code\":%d,\"message\":\"%s\"}",
                                            fault ? 14 : 3, err);
        return rcv__reply(c, status, ct, out, n, q->close, 1, retry);
    }
    if (cf->on_accept) {
        pthread_mutex_lock(&r->cbmu);
        cf->on_accept(cf->on_accept_arg, q->path, q->proto, body, q->body_len);
        pthread_mutex_unlock(&r->cbmu);
    }
    pthread_mutex_lock(&r->mu);
    r->st.accepted++;
    r->st.spans += traces ? ns : 0;
    r->st.logs += logs ? nl : 0;
    r->st.bytes += (long)q->body_len;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    what = "injected partial rejection";
    if (cf->partial_rejected <= 0) {
        n = q->proto ? 0 : (size_t)snprintf(out, sizeof out, "{}");
    } else if (q->proto) { /* partial_success (1) { rejected_* (1) varint, error_message (2) } */
        uint64_t v = (uint64_t)cf->partial_rejected;
        n = 0;
        out[n++] = 0x0a;
        out[n++] = 0; /* length, set below */
        out[n++] = 0x08;
        do { out[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v >>= 7; } while (v);
        out[n++] = 0x12;
        out[n++] = (char)strlen(what);
        memcpy(out + n, what, strlen(what));
        n += strlen(what);
        out[1] = (char)(n - 2);
    } else {
        n = (size_t)snprintf(out, sizeof out, "{\"partialSuccess\":{\"%s\":\"%d\",\"errorMessage\""
                             ":\"%s\"}}", traces ? "rejectedSpans" : "rejectedLogRecords",
                             cf->partial_rejected, what);
    }
    return rcv__reply(c, 200, ct, out, n, q->close, 1, -1);
}
/* Reads, answers and consumes one request. 1: keep the connection. */
RCVDEF int rcv__serve_one(rcv__conn *c) {
    rcv__req q;
    size_t end, vl;
    const char *h, *v;
    char *eol;
    long he = rcv__skip_head(c, 0);
    if (he < 0) return 0;
    memset(&q, 0, sizeof q);
    q.body = (size_t)he;
    eol = (char *)memchr(c->buf, '\n', q.body);
    *eol = 0; /* the request line becomes a C string */
    if (sscanf(c->buf, "%7s %255s", q.method, q.path) != 2) return 0;
    q.head = (size_t)(eol - c->buf) + 1;
    q.head_len = q.body - q.head - (c->buf[q.body - 2] == '\r' ? 2 : 1);
    h = c->buf + q.head;
    v = rcv__hget(h, q.head_len, "Connection", &vl);
    q.close = v ? rcv__ci_has(v, vl, "close") : strstr(c->buf, "HTTP/1.0") != NULL;
    v = rcv__hget(h, q.head_len, "Content-Type", &vl);
    q.proto = v && rcv__ci_has(v, vl, "protobuf");
    v = rcv__hget(h, q.head_len, "Content-Encoding", &vl);
    q.encoded = v && !(vl == 8 && rcv__ci_eq(v, "identity", 8));
    if (rcv__hget(h, q.head_len, "Expect", &vl) && !c->r->cfg.blackhole &&
        !rcv__send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25)) {
        return 0;
    }
    v = rcv__hget(h, q.head_len, "Transfer-Encoding", &vl);
    if (v && rcv__ci_has(v, vl, "chunked")) {
        if (!rcv__dechunk(c, &q, &end)) return 0;
    } else {
        v = rcv__hget(h, q.head_len, "Content-Length", &vl);
        q.body_len = v ? (size_t)strtoull(v, NULL, 10) : 0;
        if (q.body_len > RCV__MAX_BODY) {
            rcv__reply(c, 413, "text/plain", "", 0, 1, 0, -1);
            return 0;
        }
        if (!rcv__need(c, end = q.body + q.body_len)) return 0;
    }
    if (!rcv__handle(c, &q) || q.close) return 0;
    memmove(c->buf, c->buf + end, c->len - end); /* keep pipelined bytes */
    c->len -= end;
    if (c->cap > ((size_t)16 << 20) && c->len < RCV__MAX_HEAD) { /* after a huge request */
        char *nb = (char *)realloc(c->buf, RCV__MAX_HEAD);
        if (nb) { c->buf = nb; c->cap = RCV__MAX_HEAD; }
    }
    return 1;
}

/* ---- threads ---- */
RCVDEF void *rcv__conn_main(void *arg) {
    rcv__conn *c = (rcv__conn *)arg;
    rcv *r = c->r;
    int fd = c->fd, slot = c->slot;
    while (rcv__serve_one(c)) {}
    free(c->buf);
    free(c);
    pthread_mutex_lock(&r->mu);
    close(fd); /* under the lock: rcv_stop never shuts down a reused descriptor */
    r->fds[slot] = -1;
    r->nconn--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu); /* r may be freed from here on */
    return NULL;
}
RCVDEF void *rcv__accept_main(void *arg) {
    rcv *r = (rcv *)arg;
    for (;;) {
        struct pollfd p[2];
        rcv__conn *c;
        pthread_t th;
        int fd, one = 1, slot = 0;
        p[0].fd = r->lfd;
        p[1].fd = r->wake[0];
        p[0].events = p[1].events = POLLIN;
        p[0].revents = p[1].revents = 0;
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        if (p[1].revents) break;
        if (!(p[0].revents & POLLIN) || (fd = accept(r->lfd, NULL, NULL)) < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&r->mu);
        while (r->nconn >= RCV_MAX_CONN && !r->stopping) pthread_cond_wait(&r->cv, &r->mu);
        while (slot < RCV_MAX_CONN && r->fds[slot] >= 0) slot++;
        if ((c = r->stopping ? NULL : (rcv__conn *)calloc(1, sizeof *c)) != NULL) {
            c->r = r;
            c->fd = r->fds[slot] = fd;
            c->slot = slot;
            r->nconn++;
            r->st.connections++;
        }
        pthread_mutex_unlock(&r->mu);
        if (!c) {
            close(fd);
        } else if (pthread_create(&th, NULL, rcv__conn_main, c) == 0) {
            pthread_detach(th);
        } else {
            shutdown(fd, SHUT_RDWR);
            rcv__conn_main(c); /* reads EOF at once and cleans up */
        }
    }
    return NULL;
}

/* ---- public API ---- */
/* The defaults: fail_status 503, no Retry-After, all else 0. Start from this: a zeroed
   rcv_config would send "Retry-After: 0" with every injected failure. */
RCVDEF rcv_config rcv_defaults(void) {
    rcv_config c;
    memset(&c, 0, sizeof c);
    c.fail_status = 503;
    c.retry_after_s = -1;
    return c;
}
RCVDEF void rcv_stop(rcv *r);
/* Starts listening on 127.0.0.1 (cfg NULL: rcv_defaults()). NULL on failure. */
RCVDEF rcv *rcv_start(const rcv_config *cfg) {
    rcv *r = (rcv *)calloc(1, sizeof *r);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int i, one = 1;
    if (!r) return NULL;
    r->cfg = cfg ? *cfg : rcv_defaults();
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    r->wake[0] = r->wake[1] = -1;
    for (i = 0; i < RCV_MAX_CONN; i++) r->fds[i] = -1;
    r->last_ms = rcv__now_ms();
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->cbmu, NULL);
    pthread_cond_init(&r->cv, NULL);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)r->cfg.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r->lfd < 0 || setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(r->lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(r->lfd, 128) < 0 ||
        getsockname(r->lfd, (struct sockaddr *)&a, &al) < 0 || pipe(r->wake) < 0 ||
        (r->port = ntohs(a.sin_port)) == 0 ||
        pthread_create(&r->acceptor, NULL, rcv__accept_main, r) != 0) {
        r->stopping = -1; /* no acceptor to join */
        rcv_stop(r);
        return NULL;
    }
    return r;
}
RCVDEF int rcv_port(const rcv *r) { return r ? r->port : 0; }
/* Stops the threads, closes the sockets, frees everything (stored requests too). */
RCVDEF void rcv_stop(rcv *r) {
    int i;
    if (!r) return;
    if (r->stopping == 0) {
        pthread_mutex_lock(&r->mu);
        r->stopping = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (write(r->wake[1], "x", 1) < 0) perror("rcv_stop");
        pthread_join(r->acceptor, NULL);
    }
    pthread_mutex_lock(&r->mu);
    for (i = 0; i < RCV_MAX_CONN; i++) {
        if (r->fds[i] >= 0) shutdown(r->fds[i], SHUT_RDWR); /* wakes blocked reads/sends */
    }
    while (r->nconn > 0) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    for (i = 0; i < r->nreqs; i++) {
        free(r->reqs[i].path);
        free(r->reqs[i].head);
        free(r->reqs[i].body);
    }
    free(r->reqs);
    if (r->lfd >= 0) close(r->lfd);
    if (r->wake[0] >= 0) close(r->wake[0]);
    if (r->wake[1] >= 0) close(r->wake[1]);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->cbmu);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
/* A consistent snapshot of the counters. */
RCVDEF rcv_stats rcv_get_stats(rcv *r) {
    rcv_stats s;
    pthread_mutex_lock(&r->mu);
    s = r->st;
    s.idle_ms = (long)(rcv__now_ms() - r->last_ms);
    pthread_mutex_unlock(&r->mu);
    return s;
}
/* Waits until at least n spans were accepted: 1 yes, 0 timeout (or stop). */
RCVDEF int rcv_wait_spans(rcv *r, long n, int timeout_ms) {
    int ok;
    pthread_mutex_lock(&r->mu);
    rcv__wait_locked(r, timeout_ms, &r->st.spans, n);
    ok = r->st.spans >= n;
    pthread_mutex_unlock(&r->mu);
    return ok;
}
/* Stored requests (keep_bodies), in arrival order, GETs included. */
RCVDEF int rcv_count(rcv *r) {
    int n;
    pthread_mutex_lock(&r->mu);
    n = r->nreqs;
    pthread_mutex_unlock(&r->mu);
    return n;
}
/* Copies request i's path and body (NUL-terminated; the caller frees *body). 1 ok. Any
   output pointer may be NULL. */
RCVDEF int rcv_request(rcv *r, int i, char *path, size_t pathlen, char **body, size_t *body_len) {
    int ok;
    pthread_mutex_lock(&r->mu);
    ok = i >= 0 && i < r->nreqs;
    if (ok && path && pathlen) snprintf(path, pathlen, "%s", r->reqs[i].path);
    if (ok && body) ok = (*body = rcv__dup(r->reqs[i].body, r->reqs[i].body_len)) != NULL;
    if (ok && body_len) *body_len = r->reqs[i].body_len;
    pthread_mutex_unlock(&r->mu);
    return ok;
}
/* How many times header `name` appears in request i (case-insensitive). */
RCVDEF int rcv_header_count(rcv *r, int i, const char *name) {
    int k = 0;
    pthread_mutex_lock(&r->mu);
    if (i >= 0 && i < r->nreqs) {
        const char *h = r->reqs[i].head, *e = h + r->reqs[i].head_len, *v;
        size_t vl;
        while (h < e && (v = rcv__hget(h, (size_t)(e - h), name, &vl)) != NULL) {
            const char *nl = (const char *)memchr(v, '\n', (size_t)(e - v));
            k++;
            if (!nl) break;
            h = nl + 1;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return k;
}
/* Header `name` of request i (case-insensitive), copied to out (truncated); 1 found. */
RCVDEF int rcv_header(rcv *r, int i, const char *name, char *out, size_t outlen) {
    const char *v = NULL;
    size_t vl = 0;
    pthread_mutex_lock(&r->mu);
    if (i >= 0 && i < r->nreqs) v = rcv__hget(r->reqs[i].head, r->reqs[i].head_len, name, &vl);
    if (v && out && outlen) snprintf(out, outlen, "%.*s", (int)vl, v);
    pthread_mutex_unlock(&r->mu);
    return v != NULL;
}
#endif

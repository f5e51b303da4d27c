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
#define RCV_MAX_CONN 64
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
    while (s < e) {
        char c = *s++;
        if (RCV__WS(c)) continue;
        if (done || (d == 0 && c != '{')) return -1;
        switch (c) {
        case '"':
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
        case ':':
            if (st[d - 1] != 0) return -1;
            armed = key;
            key = 0;
            continue;
        case '{': case '[':
            if (d == RCV__MAX_DEPTH) return -1;
            st[d++] = (unsigned char)(c == '{' ? 0 : armed ? armed : 1);
            if (st[d - 1] >= 2) { /* count the first element here, each further one at ',' */
                for (t = s; t < e && RCV__WS(*t); t++) {}
                if (t < e && *t != ']') cnt[st[d - 1]]++;
            }
            break;
        case '}': case ']':
            if ((c == '}') != (st[d - 1] == 0)) return -1;
            done = (--d == 0);
            break;
        case ',':
            if (st[d - 1] >= 2) cnt[st[d - 1]]++;
            break;
        default:
            if (!RCV__SCALAR(c)) return -1;
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

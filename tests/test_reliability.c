/* tests/test_reliability.c -- issue 7: the fault matrix against the loopback receivers, the
   caller never blocked, flush and shutdown within their timeouts, every span and record
   exported or counted dropped (exported + dropped == ended, with the reason); secrets never
   in a diagnostic, console output or curl's command line; CR, LF and NUL refused in headers
   and the endpoint; hostile attribute and log values kept within limits and valid; fork with a
   running batch processor, exit without obs_shutdown, shutdown twice and calls after it; and
   8 threads x OBS_STRESS_N (default 100000) spans and log records with concurrent flushes.
   Knobs: OBS_STRESS_N (the stress size; the TSan run uses fewer), OBS_TEST_SKIP=<name part>
   (e.g. fork under valgrind: a child's copies of the threads' memory look lost), an argument
   <name part> runs only those tests, OBS_TEST_SANITIZED (compile-time: wider time bounds
   under ASan/TSan/valgrind). Each matrix row prints its counts. */
#include "receiver.h" /* first: POSIX feature macros */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include "fuzz/json_check.h"

#include <stdlib.h>
#include <limits.h>
#include <sys/stat.h>

#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif

#ifdef OBS_TEST_SANITIZED
#define SLOW 4 /* time bounds are multiplied by this under the sanitizers */
#else
#define SLOW 1
#endif
#define SLACK_MS (600 * SLOW) /* scheduling and teardown on top of a timeout */

static char self_exe[1024];

static int64_t now_ms(void) { return obs__mono_ms(); }
static void sleep_ms(int ms) { obs__sleep_ms(ms); }

static rcv_config faults(void) {
    rcv_config c = rcv_defaults();
    return c;
}
static const char *url_of_port(int port) {
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    return url;
}

static int balanced(const obs_stats *s) {
    return s->spans_ended == s->spans_exported + s->spans_dropped_queue + s->spans_dropped_export &&
           s->logs_emitted == s->logs_exported + s->logs_dropped_queue + s->logs_dropped_export;
}

/* obs_init: OTLP (protobuf unless json) to url for both signals, no timer-driven exports
   (schedule_delay 60 s): only a full batch, obs_flush or obs_shutdown sends. */
static obs_result start_otlp(const char *url, int timeout_ms, int json, int schedule_ms) {
    obs_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "otlp";
    cfg.logs_exporter = "otlp";
    cfg.otlp_endpoint = url;
    cfg.otlp_timeout_ms = timeout_ms;
    cfg.otlp_protocol = json ? "http/json" : "http/protobuf";
    cfg.service_name = "test-reliability";
    cfg.spans.schedule_delay_ms = schedule_ms;
    cfg.logs.schedule_delay_ms = schedule_ms;
    return obs_init(&cfg);
}

/* n spans, each with an attribute and a log record inside it; returns the milliseconds. */
static int64_t burst(int n) {
    obs_tracer *t = obs_tracer_get("reliability", "1.0");
    int64_t t0 = now_ms();
    int i;
    for (i = 0; i < n; i++) {
        obs_span *s = obs_span_start(t, "op");
        obs_span_set_int(s, "i", i);
        OBS_INFO("op %d", i);
        obs_span_end(s);
    }
    return now_ms() - t0;
}

/* ---- stderr / stdout capture ---- */
typedef struct capture {
    int saved, fd;
    int which;
    char path[64];
} capture;
static void capture_begin(capture *c, int which) {
    fflush(which == 1 ? stdout : stderr);
    c->which = which;
    strcpy(c->path, "/tmp/obs_test_rel_XXXXXX");
    c->fd = mkstemp(c->path);
    c->saved = dup(which);
    if (c->fd >= 0) dup2(c->fd, which);
}
/* Ends the capture; returns what was written (caller frees). */
static char *capture_end(capture *c) {
    char *out;
    off_t n;
    fflush(c->which == 1 ? stdout : stderr);
    dup2(c->saved, c->which);
    close(c->saved);
    if (c->fd < 0) return calloc(1, 1);
    n = lseek(c->fd, 0, SEEK_END);
    out = (char *)calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    if (out && n > 0) {
        lseek(c->fd, 0, SEEK_SET);
        if (read(c->fd, out, (size_t)n) != (ssize_t)n) out[0] = 0;
    }
    close(c->fd);
    unlink(c->path);
    return out;
}
static int count_of(const char *hay, const char *needle) {
    int n = 0;
    while (hay && (hay = strstr(hay, needle)) != NULL) n++, hay++;
    return n;
}

/* ---- a second loopback server for faults receiver.h does not make: a reply cut or reset
   mid-way, an oversized head, an endless body ---- */
enum {
    F_RST_BEFORE = 1, /* read the request, reset (RST) without a byte of reply */
    F_CLOSE_MID_HEAD, /* half a status head, then close */
    F_RST_MID_BODY,   /* head with Content-Length 100, 10 bytes of it, then RST */
    F_HUGE_HEAD,      /* a 200 whose header section is 130 KB */
    F_ENDLESS_BODY,   /* a 200, chunked, that never ends (until the client goes) */
    F_EVIL_PARTIAL    /* a 200 whose partialSuccess message holds a newline and escapes */
};
typedef struct fsrv {
    int lfd, port, mode, faults;
    int served; /* requests read, atomic */
    int stop;   /* atomic */
    pthread_t acceptor;
    pthread_mutex_t mu;
    int conns[32], nconn;
    pthread_t threads[32];
} fsrv;
typedef struct fconn {
    fsrv *s;
    int fd;
} fconn;

static int fs_send(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 0;
        p += k, n -= (size_t)k;
    }
    return 1;
}
static void fs_rst(int fd) {
    struct linger lg;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}
/* Reads one request (head and Content-Length body); 0 at EOF. */
static int fs_read_request(int fd) {
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    long clen = 0;
    while (!end) {
        ssize_t k = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (k <= 0) return 0;
        len += (size_t)k;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (!end && len >= sizeof buf - 1) return 0;
    }
    {
        char *cl = strstr(buf, "Content-Length: ");
        if (cl && cl < end) clen = strtol(cl + 16, NULL, 10);
    }
    clen -= (long)(len - (size_t)(end + 4 - buf));
    while (clen > 0) {
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0) return 0;
        clen -= k;
    }
    return 1;
}
static void *fs_conn_main(void *arg) {
    fconn *c = (fconn *)arg;
    fsrv *s = c->s;
    int fd = c->fd;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                             "Content-Length: 0\r\n\r\n";
    free(c);
    while (fs_read_request(fd)) {
        int n = __atomic_add_fetch(&s->served, 1, __ATOMIC_SEQ_CST);
        if (s->mode == F_EVIL_PARTIAL) { /* raw bytes in the "string": the receiver's text */
            static const char body[] = "{\"partialSuccess\":{\"rejectedSpans\":\"1\",\"rejectedLogRecords\":"
                                       "\"1\",\"errorMessage\":\"evil\nobs: error: forged line\x1b[2J\x07\"}}";
            char head[160];
            int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %d\r\n\r\n", (int)sizeof body - 1);
            if (!fs_send(fd, head, (size_t)hl) || !fs_send(fd, body, sizeof body - 1)) break;
            continue;
        }
        if (n > s->faults) {
            if (!fs_send(fd, ok, sizeof ok - 1)) break;
            continue;
        }
        if (s->mode == F_RST_BEFORE) {
            fs_rst(fd);
        } else if (s->mode == F_CLOSE_MID_HEAD) {
            fs_send(fd, "HTTP/1.1 200 OK\r\nContent-Ty", 27);
        } else if (s->mode == F_RST_MID_BODY) {
            fs_send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial", 49);
            sleep_ms(20);
            fs_rst(fd);
        } else if (s->mode == F_HUGE_HEAD) {
            char line[80];
            int i;
            memset(line, 'a', sizeof line);
            memcpy(line, "X-Pad: ", 7);
            line[sizeof line - 2] = '\r';
            line[sizeof line - 1] = '\n';
            fs_send(fd, "HTTP/1.1 200 OK\r\n", 17);
            for (i = 0; i < 1700 && fs_send(fd, line, sizeof line); i++) {
            }
            fs_send(fd, "Content-Length: 0\r\n\r\n", 21);
        } else if (s->mode == F_ENDLESS_BODY) {
            char *chunk = (char *)malloc(65536 + 16);
            size_t hl = chunk ? (size_t)snprintf(chunk, 16, "%x\r\n", 65536) : 0;
            if (chunk) memset(chunk + hl, ' ', 65536);
            fs_send(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 47);
            while (chunk && !__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST) &&
                   fs_send(fd, chunk, hl + 65536) && fs_send(fd, "\r\n", 2)) {
            }
            free(chunk);
        }
        break;
    }
    close(fd);
    return NULL;
}
static void *fs_accept_main(void *arg) {
    fsrv *s = (fsrv *)arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
        struct pollfd p;
        fconn *c;
        int fd;
        p.fd = s->lfd;
        p.events = POLLIN;
        if (poll(&p, 1, 50) <= 0) continue;
        if ((fd = accept(s->lfd, NULL, NULL)) < 0) continue;
        pthread_mutex_lock(&s->mu);
        if (s->nconn == 32 || !(c = (fconn *)calloc(1, sizeof *c))) {
            pthread_mutex_unlock(&s->mu);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        s->conns[s->nconn] = fd;
        if (pthread_create(&s->threads[s->nconn], NULL, fs_conn_main, c) == 0) s->nconn++;
        else close(fd), free(c);
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}
static fsrv *fs_start(int mode, int nfaults) {
    fsrv *s = (fsrv *)calloc(1, sizeof *s);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1;
    s->mode = mode;
    s->faults = nfaults;
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) || listen(s->lfd, 64) ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al)) {
        close(s->lfd);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    pthread_create(&s->acceptor, NULL, fs_accept_main, s);
    return s;
}
static void fs_stop(fsrv *s) {
    int i;
    __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(s->acceptor, NULL);
    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->nconn; i++) shutdown(s->conns[i], SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < s->nconn; i++) pthread_join(s->threads[i], NULL);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- the fault matrix ---- */
enum { ALL_EXPORTED, ALL_DROPPED };
#define ROW_N 200 /* spans, and as many log records, per row: one batch per signal */

/* Runs one row against url: a burst (timed: the caller must never wait for the network), a
   flush (bounded), a shutdown (bounded), then the accounting. Returns the final stats. */
static obs_stats run_row(const char *name, const char *url, int timeout_ms, int expect) {
    obs_stats st;
    int64_t t0, burst_ms, flush_ms, shut_ms;
    int flush_budget = 2 * timeout_ms;
    obs_result fr;
    CHECK(start_otlp(url, timeout_ms, 0, 60000) == OBS_OK);
    burst_ms = burst(ROW_N);
    t0 = now_ms();
    fr = obs_flush(flush_budget);
    flush_ms = now_ms() - t0;
    t0 = now_ms();
    obs_shutdown();
    shut_ms = now_ms() - t0;
    st = obs_get_stats();
    printf("    %-22s ended %llu+%llu, exported %llu+%llu, dropped queue %llu+%llu export %llu+%llu, "
           "rejected %llu+%llu; %llu requests, %llu retries; flush %lld ms (%s), shutdown %lld ms\n",
           name, (unsigned long long)st.spans_ended, (unsigned long long)st.logs_emitted,
           (unsigned long long)st.spans_exported, (unsigned long long)st.logs_exported,
           (unsigned long long)st.spans_dropped_queue, (unsigned long long)st.logs_dropped_queue,
           (unsigned long long)st.spans_dropped_export, (unsigned long long)st.logs_dropped_export,
           (unsigned long long)st.spans_rejected, (unsigned long long)st.logs_rejected,
           (unsigned long long)st.export_requests, (unsigned long long)st.export_retries,
           (long long)flush_ms, obs_result_string(fr), (long long)shut_ms);
    CHECK(burst_ms < 300 * SLOW);               /* 200 spans + 200 records: no network wait */
    CHECK(flush_ms <= flush_budget + SLACK_MS); /* obs_flush keeps its timeout */
    CHECK(shut_ms <= timeout_ms + SLACK_MS);    /* obs_shutdown keeps the export timeout */
    CHECK(st.spans_ended == ROW_N && st.logs_emitted == ROW_N);
    CHECK(balanced(&st));
    if (expect == ALL_EXPORTED) {
        CHECK(fr == OBS_OK);
        CHECK(st.spans_exported == ROW_N && st.logs_exported == ROW_N);
    } else {
        CHECK(fr != OBS_OK);
        CHECK(st.spans_dropped_export == ROW_N && st.logs_dropped_export == ROW_N);
    }
    /* shutdown twice, and calls after it: no-ops, the counts stay */
    obs_shutdown();
    CHECK(obs_flush(10) == OBS_ERR_STATE);
    CHECK(obs_tracer_get("after", NULL) == NULL);
    CHECK(obs_span_start(NULL, "after") == NULL);
    OBS_ERROR("after shutdown %d", 1);
    CHECK(obs_get_stats().logs_emitted == st.logs_emitted && obs_get_stats().spans_ended == st.spans_ended);
    return st;
}

/* A row against the loopback receiver with fault config c, started for the row alone. */
static obs_stats receiver_row(const char *name, rcv_config c, int timeout_ms, int expect) {
    rcv *r = rcv_start(&c);
    obs_stats st = run_row(name, url_of_port(rcv_port(r)), timeout_ms, expect);
    rcv_stop(r);
    return st;
}

static void matrix_receiver_down(void) {
    rcv_config c = faults();
    rcv *r = rcv_start(&c);
    int port = rcv_port(r);
    rcv_stop(r); /* nothing listens there now: connection refused */
    run_row("down (refused)", url_of_port(port), 800, ALL_DROPPED);
}

static void matrix_blackhole(void) {
    rcv_config c = faults();
    c.blackhole = 1;
    receiver_row("black hole", c, 800, ALL_DROPPED);
}

static void matrix_slow(void) {
    rcv_config c = faults();
    c.delay_ms = 2000;
    receiver_row("slow (2 s > 800 ms)", c, 800, ALL_DROPPED);
}

static void retry_after_row(int status) {
    rcv_config c = faults();
    rcv *r;
    obs_stats st;
    int64_t t0 = now_ms();
    char name[40];
    c.fail_first = 2; /* the first POST of each signal */
    c.fail_status = status;
    c.retry_after_s = 1;
    r = rcv_start(&c);
    snprintf(name, sizeof name, "%d + Retry-After: 1", status);
    st = run_row(name, url_of_port(rcv_port(r)), 5000, ALL_EXPORTED);
    CHECK(st.export_retries == 2 && rcv_get_stats(r).failed_injected == 2);
    CHECK(now_ms() - t0 >= 950); /* the receiver's Retry-After was honoured */
    CHECK(rcv_get_stats(r).spans == ROW_N && rcv_get_stats(r).logs == ROW_N); /* exactly once */
    rcv_stop(r);
}
static void matrix_503_retry_after(void) { retry_after_row(503); }
static void matrix_429_retry_after(void) { retry_after_row(429); }

static void matrix_400(void) {
    rcv_config c = faults();
    rcv *r;
    obs_stats st;
    c.fail_first = 1000;
    c.fail_status = 400;
    r = rcv_start(&c);
    st = run_row("400 (not retried)", url_of_port(rcv_port(r)), 3000, ALL_DROPPED);
    CHECK(st.export_retries == 0 && rcv_get_stats(r).requests == 2);
    rcv_stop(r);
}

static void matrix_reset_before_reply(void) {
    rcv_config c = faults();
    rcv *r;
    fsrv *f;
    obs_stats st;
    c.reset_first = 2; /* read, closed unanswered (FIN) */
    r = rcv_start(&c);
    st = run_row("closed before reply", url_of_port(rcv_port(r)), 5000, ALL_EXPORTED);
    CHECK(st.export_retries >= 1 && rcv_get_stats(r).spans == ROW_N);
    rcv_stop(r);
    f = fs_start(F_RST_BEFORE, 2); /* the same with a TCP reset */
    st = run_row("reset (RST) before reply", url_of_port(f->port), 5000, ALL_EXPORTED);
    CHECK(st.export_retries >= 1);
    fs_stop(f);
}

static void matrix_reset_during_reply(void) {
    fsrv *f = fs_start(F_CLOSE_MID_HEAD, 2);
    obs_stats st = run_row("closed mid-head", url_of_port(f->port), 5000, ALL_EXPORTED);
    CHECK(st.export_retries >= 1);
    fs_stop(f);
    f = fs_start(F_RST_MID_BODY, 2);
    st = run_row("reset (RST) mid-body", url_of_port(f->port), 5000, ALL_EXPORTED);
    CHECK(st.export_retries >= 1);
    fs_stop(f);
}

static void matrix_garbage(void) {
    rcv_config c = faults();
    c.garbage_reply = 1;
    receiver_row("garbage status line", c, 800, ALL_DROPPED);
}

static void matrix_oversized(void) {
    rcv_config c = faults();
    fsrv *f;
    c.huge_reply = 1; /* a 5 MiB body: 4 MiB kept, the status still counts */
    receiver_row("5 MiB reply body", c, 5000, ALL_EXPORTED);
    f = fs_start(F_ENDLESS_BODY, 1000000);
    run_row("endless chunked body", url_of_port(f->port), 5000, ALL_EXPORTED);
    fs_stop(f);
    f = fs_start(F_HUGE_HEAD, 1000000); /* over the 64 KiB head limit: a failed exchange */
    run_row("130 KB reply head", url_of_port(f->port), 800, ALL_DROPPED);
    fs_stop(f);
}

static void matrix_chunked(void) {
    rcv_config c = faults();
    c.chunked_reply = 1;
    c.close_after_reply = 1;
    receiver_row("chunked + close", c, 3000, ALL_EXPORTED);
}

static void matrix_partial_success(void) {
    rcv_config c = faults();
    obs_stats st;
    c.partial_rejected = 7;
    st = receiver_row("partialSuccess (7)", c, 3000, ALL_EXPORTED);
    CHECK(st.spans_rejected == 7 && st.logs_rejected == 7); /* the reason, counted */
    CHECK(st.export_retries == 0);
}

/* The receiver goes away mid-run and comes back on the same port: retries land there. */
static void matrix_receiver_restarted(void) {
    rcv_config c = faults();
    rcv *r = rcv_start(&c);
    int port = rcv_port(r);
    obs_stats st;
    int64_t t0;
    CHECK(start_otlp(url_of_port(port), 8000, 0, 60000) == OBS_OK);
    burst(100);
    CHECK(obs_flush(5000) == OBS_OK);
    CHECK(rcv_get_stats(r).spans == 100);
    rcv_stop(r); /* our kept-alive connection dies with it */
    burst(100);
    t0 = now_ms();
    CHECK(obs_flush(300) == OBS_ERR_TIMEOUT); /* refused, retrying in the background */
    CHECK(now_ms() - t0 < 300 + SLACK_MS);
    sleep_ms(500);
    c.port = port;
    r = rcv_start(&c);
    CHECK(r != NULL);
    if (!r) {
        obs_shutdown();
        return;
    }
    CHECK(obs_flush(8000) == OBS_OK);
    obs_shutdown();
    st = obs_get_stats();
    printf("    %-22s ended %llu+%llu, exported %llu+%llu, dropped %llu+%llu, %llu requests, "
           "%llu retries\n", "receiver restarted", (unsigned long long)st.spans_ended,
           (unsigned long long)st.logs_emitted, (unsigned long long)st.spans_exported,
           (unsigned long long)st.logs_exported,
           (unsigned long long)(st.spans_dropped_queue + st.spans_dropped_export),
           (unsigned long long)(st.logs_dropped_queue + st.logs_dropped_export),
           (unsigned long long)st.export_requests, (unsigned long long)st.export_retries);
    CHECK(balanced(&st));
    CHECK(st.spans_exported == 200 && st.logs_exported == 200 && st.export_retries >= 1);
    CHECK(rcv_get_stats(r).spans == 100 && rcv_get_stats(r).logs == 100);
    rcv_stop(r);
}

/* 10,000 spans and 10,000 records while the receiver black-holes: the calls take no longer
   than they would with no network at all; the queue overflows and says so. */
static void caller_never_blocked(void) {
    rcv_config c = faults();
    rcv *r;
    obs_stats st;
    int64_t ms, t0;
    c.blackhole = 1;
    r = rcv_start(&c);
    CHECK(start_otlp(url_of_port(rcv_port(r)), 3000, 0, 20) == OBS_OK);
    ms = burst(10000);
    t0 = now_ms();
    obs_shutdown();
    t0 = now_ms() - t0;
    st = obs_get_stats();
    printf("    10,000 spans + 10,000 records in %lld ms (black hole); shutdown %lld ms; spans "
           "dropped: queue %llu, export %llu\n", (long long)ms, (long long)t0,
           (unsigned long long)st.spans_dropped_queue, (unsigned long long)st.spans_dropped_export);
    CHECK(ms < 500 * SLOW);                /* a single network wait would be 3000 */
    CHECK(t0 <= 3000 + SLACK_MS);
    CHECK(balanced(&st));
    CHECK(st.spans_exported == 0 && st.spans_dropped_queue > 0 && st.spans_dropped_export > 0);
    CHECK(st.logs_dropped_queue > 0 && st.logs_dropped_export > 0);
    rcv_stop(r);
}

/* obs_flush(timeout) waits at most timeout in all, however many processors (here 10: OTLP to
   a black hole and four slow exporters of our own, per signal) are behind it. */
static obs_result slow_spans(void *ud, const obs_span_data *const *s, size_t n, int timeout_ms) {
    (void)ud, (void)s, (void)n, (void)timeout_ms;
    sleep_ms(1500);
    return OBS_OK;
}
static obs_result slow_logs(void *ud, const obs_log_data *const *r, size_t n, int timeout_ms) {
    (void)ud, (void)r, (void)n, (void)timeout_ms;
    sleep_ms(1500);
    return OBS_OK;
}
static void flush_keeps_its_timeout(void) {
    rcv_config c = faults();
    rcv *r;
    obs_exporter slow[4];
    obs_config cfg;
    obs_stats st;
    obs_result fr;
    int64_t t0, flush_ms, shut_ms;
    int i;
    c.blackhole = 1;
    r = rcv_start(&c);
    memset(slow, 0, sizeof slow);
    for (i = 0; i < 4; i++) { /* four exporters (one given four times would be used once) */
        slow[i].name = "slow";
        slow[i].export_spans = slow_spans;
        slow[i].export_logs = slow_logs;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "otlp";
    cfg.logs_exporter = "otlp";
    cfg.otlp_endpoint = url_of_port(rcv_port(r));
    cfg.otlp_timeout_ms = 5000;
    for (i = 0; i < 4; i++) cfg.span_exporters[i] = cfg.log_exporters[i] = &slow[i];
    cfg.spans.schedule_delay_ms = cfg.logs.schedule_delay_ms = 60000;
    cfg.spans.export_timeout_ms = cfg.logs.export_timeout_ms = 1000;
    CHECK(obs_init(&cfg) == OBS_OK);
    burst(5);
    t0 = now_ms();
    fr = obs_flush(300);
    flush_ms = now_ms() - t0;
    t0 = now_ms();
    obs_shutdown();
    shut_ms = now_ms() - t0;
    st = obs_get_stats();
    printf("    10 processors: obs_flush(300) took %lld ms (%s); shutdown %lld ms\n",
           (long long)flush_ms, obs_result_string(fr), (long long)shut_ms);
    CHECK(fr == OBS_ERR_TIMEOUT);
    CHECK(flush_ms <= 300 + SLACK_MS);
    CHECK(shut_ms <= 1500 + SLACK_MS); /* 1 s export timeout; a running export is waited for */
    CHECK(st.spans_ended == 5 && st.logs_emitted == 5);
    rcv_stop(r);
}

/* ---- secrets ---- */
#define SECRET "SECRET-c0ffee"

static void secret_scenario(const char *url, int timeout_ms, const char *exporters) {
    obs_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = exporters;
    cfg.logs_exporter = exporters;
    cfg.otlp_endpoint = url;
    cfg.otlp_timeout_ms = timeout_ms;
    cfg.spans.schedule_delay_ms = 60000;
    cfg.logs.schedule_delay_ms = 60000;
    if (obs_init(&cfg) != OBS_OK) return;
    burst(3);
    obs_flush(timeout_ms * 2);
    obs_shutdown();
}

/* Header values at OTEL_LOG_LEVEL=debug: through every outcome, never on stderr or stdout. */
static void secrets_never_in_diagnostics(void) {
    rcv_config c = faults();
    rcv *ok, *bad, *busy, *garbage;
    capture err, out;
    char *e, *o, dead[64];
    c.keep_bodies = 1;
    ok = rcv_start(&c);
    c.fail_first = 1000;
    c.fail_status = 400;
    bad = rcv_start(&c);
    c.fail_status = 503;
    busy = rcv_start(&c);
    c = faults();
    c.garbage_reply = 1;
    garbage = rcv_start(&c);
    snprintf(dead, sizeof dead, "%s", url_of_port(rcv_port(garbage)));
    setenv("OTEL_LOG_LEVEL", "debug", 1);
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20" SECRET ",x-api-key=" SECRET
           ",bad name=" SECRET ",x-crlf=" SECRET "%0D%0A", 1);
    capture_begin(&err, 2);
    capture_begin(&out, 1);
    secret_scenario(url_of_port(rcv_port(ok)), 2000, "otlp");
    secret_scenario(url_of_port(rcv_port(bad)), 2000, "otlp");
    secret_scenario(url_of_port(rcv_port(busy)), 700, "otlp");
    secret_scenario(url_of_port(rcv_port(garbage)), 700, "otlp,console");
    rcv_stop(garbage);
    secret_scenario(dead, 700, "otlp,console"); /* down */
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "k=" SECRET "%zz", 1); /* malformed */
    secret_scenario(url_of_port(rcv_port(ok)), 700, "otlp");
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=" SECRET ",x%0A=" SECRET, 1);
    secret_scenario(url_of_port(rcv_port(ok)), 700, "otlp");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
    o = capture_end(&out);
    e = capture_end(&err);
    CHECK(e && o);
    if (e && o) {
        CHECK(strstr(e, SECRET) == NULL);
        CHECK(strstr(o, SECRET) == NULL);
        CHECK(count_of(e, "obs: ") >= 10);       /* the capture did see the diagnostics */
        CHECK(strstr(e, "HTTP 400") != NULL);    /* the 400 ... */
        CHECK(strstr(e, "retry in") != NULL);    /* ... the retries ... */
        CHECK(strstr(e, "exported") != NULL);    /* ... and debug */
        CHECK(strstr(o, "op") != NULL);          /* the console printed spans */
        if (strstr(e, SECRET)) fprintf(stderr, "  stderr had the secret:\n%s\n", e);
    }
    free(e);
    free(o);
    CHECK(rcv_count(ok) >= 1); /* and it was sent where it belongs */
    {
        char v[128];
        CHECK(rcv_header(ok, 0, "authorization", v, sizeof v) && strcmp(v, "Bearer " SECRET) == 0);
    }
    setenv("OTEL_LOG_LEVEL", "none", 1);
    rcv_stop(ok);
    rcv_stop(bad);
    rcv_stop(busy);
}

/* A password in the endpoint's userinfo is refused, and not printed either. */
static void endpoint_userinfo_not_printed(void) {
    capture err;
    char *e;
    setenv("OTEL_LOG_LEVEL", "debug", 1);
    capture_begin(&err, 2);
    secret_scenario("http://user:" SECRET "@127.0.0.1:1/", 300, "otlp");
    e = capture_end(&err);
    CHECK(e && strstr(e, "invalid OTLP endpoint") != NULL); /* refused, said so */
    CHECK(e && strstr(e, SECRET) == NULL);
    free(e);
    setenv("OTEL_LOG_LEVEL", "none", 1);
}

/* https goes through the curl binary found on PATH: no shell in between, and nothing secret
   (nor the endpoint) on its command line, which any local user can read in ps. */
static void curl_gets_no_secret_in_argv(void) {
    char dir[] = "/tmp/obs_rel_curl_XXXXXX", path[512], script[1024], *s, *oldpath, np[4096];
    char comm[64] = {0};
    FILE *f;
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(path, sizeof path, "%s/curl", dir);
    snprintf(script, sizeof script,
             "#!/bin/sh\nd='%s'\nprintf '%%s\\n' \"$@\" > \"$d/argv\"\n"
             "cat /proc/$PPID/comm > \"$d/parent\" 2>/dev/null\n"
             "cat /dev/fd/3 > \"$d/config\"\ncat > /dev/null\n"
             "printf 'HTTP/1.1 200 OK\\r\\n\\r\\n' > /dev/fd/4\nprintf '{}'\n", dir);
    f = fopen(path, "w");
    if (f) {
        fputs(script, f);
        fclose(f);
    }
    chmod(path, 0755);
    oldpath = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    snprintf(np, sizeof np, "%s:%s", dir, oldpath ? oldpath : "/usr/bin:/bin");
    setenv("PATH", np, 1);
    unsetenv("OBS_CURL");
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20" SECRET, 1);
    CHECK(start_otlp("https://collector.example:4318", 5000, 1, 60000) == OBS_OK);
    burst(2);
    CHECK(obs_flush(5000) == OBS_OK);
    obs_shutdown();
    CHECK(obs_get_stats().spans_exported == 2);
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    if (oldpath) setenv("PATH", oldpath, 1);
    free(oldpath);
    snprintf(path, sizeof path, "%s/argv", dir);
    s = test_read_file(path, NULL);
    CHECK(s && strcmp(s, "-q\n--config\n/dev/fd/3\n") == 0); /* nothing else: no url, no key */
    free(s);
    snprintf(path, sizeof path, "%s/parent", dir); /* spawned by us, not by a shell */
    s = test_read_file(path, NULL);
    f = fopen("/proc/self/comm", "r");
    if (f) {
        if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
        fclose(f);
    }
    CHECK(s && comm[0] && strcmp(s, comm) == 0);
    free(s);
    snprintf(path, sizeof path, "%s/config", dir); /* the key went through the config pipe */
    s = test_read_file(path, NULL);
    CHECK(s && strstr(s, "header = \"authorization: Bearer " SECRET "\"\n") != NULL);
    CHECK(s && strstr(s, "url = \"https://collector.example:4318/v1/") != NULL);
    free(s);
    snprintf(script, sizeof script, "rm -rf '%s'", dir);
    if (system(script) != 0) fprintf(stderr, "  could not remove %s\n", dir);
}

/* ---- CR, LF and NUL ---- */

/* Headers with CR, LF or another control byte in a name or value: each refused at obs_init
   with a diagnostic naming it (and printable: one line), never sent; the rest still go out,
   and so do the spans. A NUL (%00) cannot be passed on without cutting the value short: the
   variable is refused whole, like any other bad %-encoding, naming the header; nothing of it
   is sent, least of all the cut value. */
static void header_injection_refused(void) {
    rcv_config c = faults();
    rcv *r;
    capture err;
    char *e, v[256];
    const char *nl;
    obs_stats st;
    int pass;
    c.keep_bodies = 1;
    setenv("OTEL_LOG_LEVEL", "warn", 1);
    for (pass = 0; pass < 2; pass++) {
        r = rcv_start(&c);
        setenv("OTEL_EXPORTER_OTLP_HEADERS", pass == 0
               ? "x-good=1,x-crlf=a%0D%0AInjected:%201,x%0D%0Aname=2,x-ctl=ab%01cd,x-del=%7F"
               : "x-good=1,x-nul=ab%00cd", 1);
        capture_begin(&err, 2);
        CHECK(start_otlp(url_of_port(rcv_port(r)), 3000, 1, 60000) == OBS_OK);
        e = capture_end(&err);
        burst(3);
        CHECK(obs_flush(3000) == OBS_OK);
        obs_shutdown();
        st = obs_get_stats();
        CHECK(st.spans_exported == 3 && st.logs_exported == 3); /* a bad header stops no export */
        CHECK(rcv_count(r) >= 1);
        CHECK(!rcv_header(r, 0, "Injected", v, sizeof v));
        CHECK(!rcv_header(r, 0, "x-crlf", v, sizeof v) && !rcv_header(r, 0, "x-ctl", v, sizeof v));
        CHECK(!rcv_header(r, 0, "x-del", v, sizeof v));
        CHECK(!rcv_header(r, 0, "x-nul", v, sizeof v)); /* not "ab": refused, not cut */
        if (pass == 0) {
            CHECK(rcv_header(r, 0, "x-good", v, sizeof v) && strcmp(v, "1") == 0);
            CHECK(e && strstr(e, "x-crlf") && strstr(e, "x-ctl") && strstr(e, "x-del"));
        } else {
            CHECK(!rcv_header(r, 0, "x-good", v, sizeof v)); /* the variable is ignored whole */
            CHECK(e && strstr(e, "x-nul") != NULL);
        }
        for (nl = e; e && (nl = strchr(nl, '\n')) != NULL; nl++) { /* one line each */
            CHECK(nl[1] == 0 || strncmp(nl + 1, "obs: ", 5) == 0);
        }
        free(e);
        unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
        rcv_stop(r);
    }
    setenv("OTEL_LOG_LEVEL", "none", 1);
}

/* An endpoint with CR or LF is refused with a one-line diagnostic (the bytes are not echoed
   raw into stderr), and nothing is sent. */
static void endpoint_injection_refused(void) {
    rcv_config c = faults();
    rcv *r = rcv_start(&c);
    capture err;
    char url[128], *e;
    const char *nl;
    snprintf(url, sizeof url, "%s/v1/traces\r\nX-Injected: 1", url_of_port(rcv_port(r)));
    setenv("OTEL_LOG_LEVEL", "error", 1);
    capture_begin(&err, 2);
    CHECK(start_otlp(url, 500, 1, 60000) == OBS_OK);
    burst(2);
    obs_flush(500);
    obs_shutdown();
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:1/v1/traces\nX: 1", 1);
    CHECK(obs_init(NULL) == OBS_OK);
    obs_shutdown();
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    e = capture_end(&err);
    CHECK(e && count_of(e, "invalid OTLP endpoint") >= 3); /* both signals, then the env one */
    CHECK(e && !strstr(e, "X-Injected: 1\"") && !strstr(e, "\nX: 1"));
    for (nl = e; e && (nl = strchr(nl, '\n')) != NULL; nl++) { /* every line is a diagnostic */
        CHECK(nl[1] == 0 || strncmp(nl + 1, "obs: ", 5) == 0);
    }
    CHECK(e && (e[0] == 0 || strncmp(e, "obs: ", 5) == 0));
    CHECK(rcv_get_stats(r).requests == 0);
    free(e);
    setenv("OTEL_LOG_LEVEL", "none", 1);
    rcv_stop(r);
}

/* What a receiver sends back (a partialSuccess message) reaches stderr as one printable line:
   no forged diagnostic line, no terminal escape. */
static void receiver_text_not_echoed_raw(void) {
    fsrv *f = fs_start(F_EVIL_PARTIAL, 0);
    capture err;
    char *e;
    const char *nl;
    setenv("OTEL_LOG_LEVEL", "warn", 1);
    capture_begin(&err, 2);
    CHECK(start_otlp(url_of_port(f->port), 3000, 1, 60000) == OBS_OK);
    burst(2);
    CHECK(obs_flush(3000) == OBS_OK);
    obs_shutdown();
    e = capture_end(&err);
    CHECK(obs_get_stats().spans_rejected == 1 && obs_get_stats().logs_rejected == 1);
    CHECK(e && strstr(e, "rejected") != NULL);
    CHECK(e && !strchr(e, '\x1b') && !strchr(e, '\x07'));
    CHECK(e && !strstr(e, "\nobs: error: forged"));
    for (nl = e; e && (nl = strchr(nl, '\n')) != NULL; nl++) {
        CHECK(nl[1] == 0 || strncmp(nl + 1, "obs: ", 5) == 0);
    }
    free(e);
    setenv("OTEL_LOG_LEVEL", "none", 1);
    fs_stop(f);
}

/* ---- hostile values ---- */
static uint64_t rng_state = 0x1234567u;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng_state >> 33);
}
static void random_bytes(char *p, size_t n, int nul_ok) {
    size_t i;
    static const char *const bits[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xED\xA0\x80",
                                       "\xC0\xAF", "\xFF", "\"", "\\", "\n", "\x1b[31m", "\x7f"};
    for (i = 0; i < n;) {
        uint32_t r = rnd();
        if (r % 4 == 0) { /* a multi-byte piece, valid or not */
            const char *b = bits[(r >> 8) % (sizeof bits / sizeof bits[0])];
            size_t k = strlen(b);
            if (i + k > n) k = n - i;
            memcpy(p + i, b, k);
            i += k;
        } else {
            p[i++] = (char)(r >> 16);
        }
    }
    if (!nul_ok) {
        for (i = 0; i < n; i++) {
            if (!p[i]) p[i] = 'z';
        }
    }
}

/* What a receiver sees for spans and logs with attribute values, keys, names, events and
   messages of random bytes and sizes (NUL inside values included): strict JSON (grammar and
   UTF-8, checked by tests/fuzz/json_check.h), protobuf the receiver accepts, every string
   value within the length limit (the status description, not an attribute, within the 1 MiB
   copy bound), messages within 4095 bytes, oversized copies dropped and counted. */
static void hostile_values_stay_valid(void) {
    static const size_t sizes[] = {0, 1, 7, 999, 1000, 1001, 4095, 4096, 70000, 2u << 20};
    rcv_config c = faults();
    rcv *r;
    obs_exporter *mem = obs_memory_exporter_new(1000);
    obs_config cfg;
    obs_tracer *t;
    char *buf = (char *)malloc((2u << 20) + 1), key[40], name[64];
    int pass, i, bad_json = 0, over = 0;
    size_t k;
    c.keep_bodies = 1;
    for (pass = 0; pass < 2; pass++) { /* 0: JSON, limit 1000; 1: protobuf, no limit */
        r = rcv_start(&c);
        memset(&cfg, 0, sizeof cfg);
        cfg.traces_exporter = "otlp";
        cfg.logs_exporter = "otlp";
        cfg.otlp_endpoint = url_of_port(rcv_port(r));
        cfg.otlp_protocol = pass == 0 ? "http/json" : "http/protobuf";
        cfg.otlp_timeout_ms = 10000;
        cfg.attribute_value_length_limit = pass == 0 ? 1000 : 0;
        cfg.span_exporters[0] = mem;
        cfg.log_exporters[0] = mem;
        cfg.spans.schedule_delay_ms = 60000;
        cfg.logs.schedule_delay_ms = 60000;
        CHECK(obs_init(&cfg) == OBS_OK);
        t = obs_tracer_get("hostile", NULL);
        for (i = 0; i < 40; i++) {
            size_t n = sizes[i % 10];
            obs_span *s;
            obs_attr a;
            random_bytes(name, sizeof name - 1, 0);
            name[sizeof name - 1] = 0;
            s = obs_span_start(t, name);
            random_bytes(buf, n, 1);
            buf[n] = 0;
            random_bytes(key, sizeof key - 1, 0);
            key[sizeof key - 1] = 0;
            a = obs_attr_str(key, "");
            a.v.s = buf; /* sized: NUL bytes inside stay */
            a.n = n;
            obs_span_set_attrs(s, &a, 1);
            random_bytes(buf, n, 0);
            buf[n] = 0;
            obs_span_set_str(s, "plain", buf);
            obs_span_add_event_attrs(s, name, &a, 1);
            obs_span_set_status(s, OBS_STATUS_ERROR, buf);
            obs_log_at(OBS_LEVEL_WARN, name, i, key, &a, 1, "%s", buf);
            obs_span_end(s);
        }
        CHECK(obs_flush(10000) == OBS_OK);
        for (k = 0; k < obs_memory_exporter_span_count(mem); k++) {
            const obs_span_data *d = obs_memory_exporter_span(mem, k);
            size_t j;
            for (j = 0; j < d->n_attrs; j++) {
                if (d->attrs[j].type == OBS_ATTR_STRING && d->attrs[j].n > (pass == 0 ? 1000u : 1u << 20)) {
                    fprintf(stderr, "  attribute %zu bytes\n", d->attrs[j].n);
                    over++;
                }
            }
            if (strlen(d->status_message) > OBS__ARENA_MAX) { /* not an attribute: the copy bound */
                fprintf(stderr, "  status message %zu bytes\n", strlen(d->status_message));
                over++;
            }
        }
        for (k = 0; k < obs_memory_exporter_log_count(mem); k++) {
            if (strlen(obs_memory_exporter_log(mem, k)->body) > 4095) {
                fprintf(stderr, "  log body %zu bytes\n", strlen(obs_memory_exporter_log(mem, k)->body));
                over++;
            }
        }
        obs_shutdown();
        CHECK(rcv_get_stats(r).accepted == rcv_get_stats(r).requests); /* no 400: well formed */
        CHECK(rcv_get_stats(r).spans == 40 && rcv_get_stats(r).logs == 40);
        for (i = 0; pass == 0 && i < rcv_count(r); i++) {
            char path[64], *body = NULL;
            size_t len = 0;
            if (rcv_request(r, i, path, sizeof path, &body, &len) && !jc_valid(body, len)) bad_json++;
            free(body);
        }
        if (pass == 1) CHECK(obs_get_stats().attrs_dropped > 0); /* the 2 MiB ones: over the 1 MiB copy bound */
        obs_memory_exporter_clear(mem);
        rcv_stop(r);
    }
    CHECK(bad_json == 0);
    CHECK(over == 0);
    obs_memory_exporter_free(mem);
    free(buf);
}

/* ---- process life ---- */

/* What a forked child reports back through a pipe. */
typedef struct child_report {
    uint64_t ended, exported, dropped, logs, logs_exported, logs_dropped;
    int fresh, balanced; /* counts from zero at the fork; every one ended accounted for */
} child_report;

static int stop_hammer;
static void *hammer(void *arg) {
    obs_tracer *t = obs_tracer_get("hammer", NULL);
    (void)arg;
    while (!__atomic_load_n(&stop_hammer, __ATOMIC_ACQUIRE)) {
        obs_span *s = obs_span_start(t, "hammer");
        OBS_INFO("hammer");
        obs_span_end(s);
    }
    return NULL;
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if !defined(TSAN) && !defined(TEST_ASAN)
/* In the child: trace, flush, shut down, within the watchdog; report the child's own counts. */
static void fork_child(int wfd) {
    obs_stats a, b;
    child_report rep;
    obs_tracer *t;
    int i;
    alarm(10); /* a deadlock is a SIGALRM death, which the parent sees */
    a = obs_get_stats();
    t = obs_tracer_get("child", NULL);
    for (i = 0; i < 100; i++) {
        obs_span *s = obs_span_start(t, "in-child");
        OBS_INFO("in child %d", i);
        obs_span_end(s);
    }
    obs_flush(3000);
    obs_shutdown();
    obs_shutdown();
    b = obs_get_stats();
    rep.ended = b.spans_ended - a.spans_ended;
    rep.exported = b.spans_exported - a.spans_exported;
    rep.dropped = b.spans_dropped_queue + b.spans_dropped_export - a.spans_dropped_queue - a.spans_dropped_export;
    rep.logs = b.logs_emitted - a.logs_emitted;
    rep.logs_exported = b.logs_exported - a.logs_exported;
    rep.logs_dropped = b.logs_dropped_queue + b.logs_dropped_export - a.logs_dropped_queue - a.logs_dropped_export;
    rep.fresh = a.spans_ended == 0 && a.spans_exported == 0 && a.logs_emitted == 0 && a.logs_exported == 0;
    rep.balanced = balanced(&b);
    if (write(wfd, &rep, sizeof rep) != (ssize_t)sizeof rep) _exit(4);
    _exit(0);
}
#endif

/* fork() while a batch processor exports (slowly) and two threads trace: the child keeps
   tracing, flushes and shuts down without deadlock (pthread_atfork), exports only its own
   items (the parent's queue is the parent's), and the parent carries on undisturbed. */
static void fork_with_running_batch_processor(void) {
#ifdef TSAN
    printf("    skipped under ThreadSanitizer (threads after a multi-threaded fork: die_after_fork)\n");
#elif defined(TEST_ASAN)
    /* ASan's allocator (gcc 12) takes no locks around fork: a child forked while a parent
       thread is inside malloc waits forever in its first malloc (seen: the batch thread's
       first export). glibc's malloc is fork-safe; the plain and clang builds run this. */
    printf("    skipped under AddressSanitizer (its allocator is not fork-safe)\n");
#else
    rcv_config c = faults();
    rcv *r;
    pthread_t th[2];
    obs_stats st;
    uint64_t child_spans = 0, child_logs = 0;
    int i, k, forks = 6;
    c.delay_ms = 50; /* exports in flight when we fork */
    r = rcv_start(&c);
    CHECK(start_otlp(url_of_port(rcv_port(r)), 5000, 0, 10) == OBS_OK);
    stop_hammer = 0;
    for (i = 0; i < 2; i++) pthread_create(&th[i], NULL, hammer, NULL);
    for (k = 0; k < forks; k++) {
        int fds[2], status = 0;
        pid_t pid;
        child_report rep;
        sleep_ms(40);
        if (pipe(fds) != 0) break;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            fork_child(fds[1]);
        }
        close(fds[1]);
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (WIFSIGNALED(status)) {
            printf("    child %d killed by signal %d%s\n", k, WTERMSIG(status),
                   WTERMSIG(status) == SIGALRM ? " (the watchdog: a deadlock)" : "");
        }
        memset(&rep, 0, sizeof rep);
        if (read(fds[0], &rep, sizeof rep) == (ssize_t)sizeof rep) {
            CHECK(rep.ended == 100 && rep.exported == 100 && rep.dropped == 0);
            CHECK(rep.logs == 100 && rep.logs_exported == 100 && rep.logs_dropped == 0);
            CHECK(rep.fresh && rep.balanced); /* the parent's queue is not the child's to count */
            child_spans += rep.exported;
            child_logs += rep.logs_exported;
        } else {
            CHECK(0); /* the child did not get to report */
        }
        close(fds[0]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) break; /* one says it all */
    }
    __atomic_store_n(&stop_hammer, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(obs_flush(10000) == OBS_OK);
    obs_shutdown();
    st = obs_get_stats();
    CHECK(balanced(&st));
    CHECK(st.spans_dropped_export == 0);
    /* no span twice (a child re-sending the parent's queue), none lost */
    CHECK((uint64_t)rcv_get_stats(r).spans == st.spans_exported + child_spans);
    CHECK((uint64_t)rcv_get_stats(r).logs == st.logs_exported + child_logs);
    printf("    %d forks; parent exported %llu spans, children %llu; receiver got %ld\n", k,
           (unsigned long long)st.spans_exported, (unsigned long long)child_spans,
           rcv_get_stats(r).spans);
    rcv_stop(r);
#endif
}

/* fork() while an exporter with a lock of its own (Rollbar: held for a whole request) waits
   on a receiver that never answers: the child's export must not wait on the parent's copy of
   that lock, nor its obs_shutdown on that export. */
static void fork_while_exporter_holds_its_lock(void) {
#ifdef TSAN
    printf("    skipped under ThreadSanitizer (threads after a multi-threaded fork: die_after_fork)\n");
#else
    rcv_config c = faults();
    rcv *r;
    obs_config cfg;
    char url[96];
    int status = -1;
    pid_t pid;
    c.blackhole = 1;
    r = rcv_start(&c);
    snprintf(url, sizeof url, "%s/v1/logs", url_of_port(rcv_port(r))); /* a path it serves */
    setenv("ROLLBAR_ACCESS_TOKEN", "rollbar-test-token", 1);
    setenv("OBS_ROLLBAR_ENDPOINT", url, 1);
    setenv("OBS_ROLLBAR_TIMEOUT", "3000", 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "rollbar";
    cfg.logs.schedule_delay_ms = 60000;
    CHECK(obs_init(&cfg) == OBS_OK);
    OBS_ERROR("in the parent: the export hangs on the black hole");
    obs_flush(1); /* starts it */
    sleep_ms(300);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        alarm(10);
        OBS_ERROR("in the child");
        obs_flush(500);
        obs_shutdown();
        _exit(0);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (WIFSIGNALED(status)) {
        printf("    child killed by signal %d%s\n", WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? " (the watchdog: a deadlock)" : "");
    }
    obs_shutdown();
    unsetenv("ROLLBAR_ACCESS_TOKEN");
    unsetenv("OBS_ROLLBAR_ENDPOINT");
    unsetenv("OBS_ROLLBAR_TIMEOUT");
    rcv_stop(r);
#endif
}

/* A fresh process (this binary again) that exits without obs_shutdown, in three ways. */
static int child_exit_mode(int mode, const char *url) {
    obs_config cfg;
    pthread_t th;
    obs_tracer *t;
    int i;
    alarm(20);
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = mode == 1 ? "otlp,console" : "otlp";
    cfg.logs_exporter = mode == 1 ? "otlp,console" : "otlp";
    cfg.otlp_endpoint = url;
    cfg.otlp_timeout_ms = 5000;
    cfg.spans.schedule_delay_ms = 5;
    cfg.crash_capture = mode == 0;
    if (obs_init(&cfg) != OBS_OK) return 3;
    t = obs_tracer_get("exit", NULL);
    pthread_create(&th, NULL, hammer, NULL); /* still tracing when the process ends */
    for (i = 0; i < 3000; i++) {
        obs_span *s = obs_span_start(t, "queued");
        OBS_INFO("queued %d", i);
        obs_span_end(s);
    }
    (void)obs_span_start(t, "left open");
    if (mode == 2) obs_flush(1); /* an export in flight */
    sleep_ms(30);
    exit(0); /* atexit handlers and stdio run while the batch threads and the hammer do */
}

static void exit_without_shutdown(void) {
    rcv_config c = faults();
    rcv *r;
    int mode;
    c.blackhole = 1;
    r = rcv_start(&c);
    for (mode = 0; mode < 3; mode++) {
        char m[16], url[64];
        int status = -1;
        pid_t pid;
        snprintf(m, sizeof m, "%d", mode);
        snprintf(url, sizeof url, "%s", url_of_port(rcv_port(r)));
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(self_exe, self_exe, "--exit-without-shutdown", m, url, (char *)NULL);
            _exit(127);
        }
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("    mode %d: %s %d\n", mode, WIFEXITED(status) ? "exit" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
    }
    rcv_stop(r);
}

/* ---- concurrency: 8 threads x OBS_STRESS_N spans and records, flushes, a shutdown ---- */
typedef struct counting {
    uint64_t spans_ok, spans_failed, logs_ok, logs_failed, calls;
} counting;
static counting cnt;
static obs_result count_spans(void *ud, const obs_span_data *const *s, size_t n, int timeout_ms) {
    uint64_t call = __atomic_add_fetch(&cnt.calls, 1, __ATOMIC_RELAXED);
    size_t i;
    (void)ud;
    (void)timeout_ms;
    for (i = 0; i < n; i++) { /* touch what an exporter reads */
        if (!s[i]->name || s[i]->end_time_ns < s[i]->start_time_ns) return OBS_ERR_INVALID_ARG;
    }
    if (call % 13 == 0) { /* now and then an export fails: counted as dropped */
        __atomic_add_fetch(&cnt.spans_failed, n, __ATOMIC_RELAXED);
        return OBS_ERR_NET;
    }
    __atomic_add_fetch(&cnt.spans_ok, n, __ATOMIC_RELAXED);
    return OBS_OK;
}
static obs_result count_logs(void *ud, const obs_log_data *const *r, size_t n, int timeout_ms) {
    uint64_t call = __atomic_add_fetch(&cnt.calls, 1, __ATOMIC_RELAXED);
    size_t i;
    (void)ud;
    (void)timeout_ms;
    for (i = 0; i < n; i++) {
        if (!r[i]->body) return OBS_ERR_INVALID_ARG;
    }
    if (call % 13 == 0) {
        __atomic_add_fetch(&cnt.logs_failed, n, __ATOMIC_RELAXED);
        return OBS_ERR_NET;
    }
    __atomic_add_fetch(&cnt.logs_ok, n, __ATOMIC_RELAXED);
    return OBS_OK;
}

static long stress_n;
static int workers_done;
static void *stress_worker(void *arg) {
    obs_tracer *t = obs_tracer_get("stress", NULL);
    long i;
    (void)arg;
    for (i = 0; i < stress_n; i++) {
        obs_span *s = obs_span_start(t, "work");
        obs_span_set_int(s, "i", i);
        if (i % 16 == 0) {
            obs_span *c = obs_span_start(t, "inner");
            obs_span_add_event(c, "tick");
            obs_span_end(c);
        }
        OBS_INFO("work %ld", i);
        obs_span_end(s);
    }
    __atomic_add_fetch(&workers_done, 1, __ATOMIC_RELEASE);
    return NULL;
}
static int flushes;
static void *stress_flusher(void *arg) {
    (void)arg;
    while (__atomic_load_n(&workers_done, __ATOMIC_ACQUIRE) < 8) {
        obs_flush(200);
        (void)obs_get_stats();
        flushes++;
        sleep_ms(5);
    }
    return NULL;
}
static void stress_8_threads(void) {
    obs_exporter e;
    obs_config cfg;
    pthread_t th[8], fl;
    obs_stats st;
    int64_t t0 = now_ms();
    int i;
    uint64_t want;
    const char *n = getenv("OBS_STRESS_N");
    stress_n = n && atol(n) > 0 ? atol(n) : 100000;
    memset(&e, 0, sizeof e);
    e.name = "counting";
    e.export_spans = count_spans;
    e.export_logs = count_logs;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.span_exporters[0] = &e;
    cfg.log_exporters[0] = &e;
    cfg.spans.max_queue_size = 8192;
    cfg.logs.max_queue_size = 8192;
    cfg.spans.schedule_delay_ms = 5;
    cfg.logs.schedule_delay_ms = 5;
    memset(&cnt, 0, sizeof cnt);
    workers_done = 0;
    CHECK(obs_init(&cfg) == OBS_OK);
    for (i = 0; i < 8; i++) pthread_create(&th[i], NULL, stress_worker, NULL);
    pthread_create(&fl, NULL, stress_flusher, NULL);
    for (i = 0; i < 8; i++) pthread_join(th[i], NULL);
    pthread_join(fl, NULL);
    obs_shutdown();
    st = obs_get_stats();
    want = (uint64_t)stress_n * 8 + (uint64_t)((stress_n + 15) / 16) * 8;
    printf("    8 x %ld: %llu spans (exported %llu, dropped queue %llu, export %llu), %llu records "
           "(exported %llu, dropped queue %llu, export %llu), %d flushes, %lld ms\n", stress_n,
           (unsigned long long)st.spans_ended, (unsigned long long)st.spans_exported,
           (unsigned long long)st.spans_dropped_queue, (unsigned long long)st.spans_dropped_export,
           (unsigned long long)st.logs_emitted, (unsigned long long)st.logs_exported,
           (unsigned long long)st.logs_dropped_queue, (unsigned long long)st.logs_dropped_export,
           flushes, (long long)(now_ms() - t0));
    CHECK(st.spans_ended == want && st.logs_emitted == (uint64_t)stress_n * 8);
    CHECK(balanced(&st));
    CHECK(st.spans_exported == cnt.spans_ok && st.spans_dropped_export == cnt.spans_failed);
    CHECK(st.logs_exported == cnt.logs_ok && st.logs_dropped_export == cnt.logs_failed);
    CHECK(flushes > 0);
}

#define T(fn) do { if ((!only || strstr(#fn, only)) && !(skip && *skip && strstr(#fn, skip))) RUN(fn); } while (0)
int main(int argc, char **argv) {
    const char *only, *skip = getenv("OBS_TEST_SKIP"); /* e.g. fork, under valgrind */
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    self_exe[n > 0 ? n : 0] = 0;
    if (argc == 4 && strcmp(argv[1], "--exit-without-shutdown") == 0) {
        return child_exit_mode(atoi(argv[2]), argv[3]);
    }
    setenv("OTEL_LOG_LEVEL", "none", 1); /* expected failures would print diagnostics */
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    signal(SIGPIPE, SIG_IGN);
    alarm(600); /* a deadlock anywhere ends the run instead of hanging it */
    only = argc == 2 ? argv[1] : NULL; /* a name part: run only those tests */
    T(matrix_receiver_down);
    T(matrix_blackhole);
    T(matrix_slow);
    T(matrix_503_retry_after);
    T(matrix_429_retry_after);
    T(matrix_400);
    T(matrix_reset_before_reply);
    T(matrix_reset_during_reply);
    T(matrix_garbage);
    T(matrix_oversized);
    T(matrix_chunked);
    T(matrix_partial_success);
    T(matrix_receiver_restarted);
    T(caller_never_blocked);
    T(flush_keeps_its_timeout);
    T(secrets_never_in_diagnostics);
    T(endpoint_userinfo_not_printed);
    T(curl_gets_no_secret_in_argv);
    T(header_injection_refused);
    T(endpoint_injection_refused);
    T(receiver_text_not_echoed_raw);
    T(hostile_values_stay_valid);
    T(fork_with_running_batch_processor);
    T(fork_while_exporter_holds_its_lock);
    T(exit_without_shutdown);
    T(stress_8_threads);
    return TEST_EXIT_CODE();
}

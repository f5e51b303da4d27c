/* tests/test_http.c -- the transport section of obs.h: URL parsing, Retry-After, the
   socket HTTP/1.1 client against an in-test loopback server, and the curl transport (the same
   server over http, a stand-in curl script, and TLS when openssl and node exist).
   Build: make build/test_http */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/time.h>

static int g_pass, g_fail;
#define CHECK(c)                                                                   \
    do {                                                                           \
        if (c) {                                                                   \
            g_pass++;                                                              \
        } else {                                                                   \
            g_fail++;                                                              \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);           \
        }                                                                          \
    } while (0)

/* ---- loopback server: one thread per connection; the request path picks the reply ---- */

typedef struct srv_t {
    int lfd, port, lfd6, port6, stop;
    pthread_t th, th6;
    pthread_mutex_t mu;
    int accepts, requests;
    char head[65536]; /* last request head */
    char *body;       /* last request body */
    size_t body_len;
    pthread_t conns[256];
    int nconns;
} srv_t;
static srv_t S;

static void say_n(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}
static void say(int fd, const char *s) { say_n(fd, s, strlen(s)); }

/* Reads and records one request, its path (query cut) in path[256]; -1 when the peer went
   away or the request was refused. */
static int read_request(int fd, char *path) {
    char head[65536], *e = NULL, *line, *body;
    size_t n = 0, hl, cl = 0, have;
    while (!e) {
        ssize_t k = n < sizeof head - 1 ? recv(fd, head + n, sizeof head - 1 - n, 0) : -1;
        if (k <= 0) return -1;
        n += (size_t)k;
        head[n] = 0;
        e = strstr(head, "\r\n\r\n");
    }
    hl = (size_t)(e + 4 - head);
    for (line = head; line && line < e; line = strstr(line, "\n") ? strstr(line, "\n") + 1 : 0) {
        if (!strncasecmp(line, "content-length:", 15)) cl = (size_t)strtoul(line + 15, NULL, 10);
    }
    if (sscanf(head, "POST %255s HTTP/1.1", path) != 1) path[0] = 0;
    path[strcspn(path, "?")] = 0; /* the query does not pick the reply */
    if (!strcmp(path, "/early")) { /* refuse before reading the body */
        say(fd, "HTTP/1.1 413 Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return -1;
    }
    body = (char *)malloc(cl + 1);
    have = n - hl < cl ? n - hl : cl;
    memcpy(body, head + hl, have);
    while (have < cl) {
        ssize_t k = recv(fd, body + have, cl - have, 0);
        if (k <= 0) {
            free(body);
            return -1;
        }
        have += (size_t)k;
    }
    head[hl] = 0;
    pthread_mutex_lock(&S.mu);
    S.requests++;
    memcpy(S.head, head, hl + 1);
    free(S.body);
    S.body = body;
    S.body_len = cl;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

static void send_big(int fd, size_t n, int chunked) {
    char *block = (char *)malloc(65536), sz[32];
    memset(block, 'x', 65536);
    while (n > 0) {
        size_t k = n < 65536 ? n : 65536;
        if (chunked) {
            snprintf(sz, sizeof sz, "%zx\r\n", k);
            say(fd, sz);
        }
        say_n(fd, block, k);
        if (chunked) say(fd, "\r\n");
        n -= k;
    }
    if (chunked) say(fd, "0\r\n\r\n");
    free(block);
}

/* Answers one request; 0 keeps the connection, 1 closes it. */
static int answer(int fd, const char *p) {
    char buf[512];
    if (!strcmp(p, "/ok")) {
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    } else if (!strcmp(p, "/echo")) {
        pthread_mutex_lock(&S.mu);
        snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", S.body_len);
        say(fd, buf);
        say_n(fd, S.body, S.body_len);
        pthread_mutex_unlock(&S.mu);
    } else if (!strcmp(p, "/chunked")) {
        say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n"
                "6 ; x\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    } else if (!strcmp(p, "/503")) {
        say(fd, "HTTP/1.1 503 Unavailable\r\nretry-AFTER:  7 \r\nContent-Length: 0\r\n\r\n");
    } else if (!strcmp(p, "/429")) {
        char date[64];
        time_t t = time(NULL) + 100;
        struct tm tmv;
        gmtime_r(&t, &tmv);
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tmv);
        snprintf(buf, sizeof buf, "HTTP/1.1 429 Too Many\r\nRetry-After: %s\r\n"
                                  "Content-Length: 2\r\n\r\nno", date);
        say(fd, buf);
    } else if (!strcmp(p, "/untilclose")) {
        say(fd, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nbody-until-close");
        return 1;
    } else if (!strcmp(p, "/http10")) {
        say(fd, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    } else if (!strcmp(p, "/close")) {
        say(fd, "HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    } else if (!strcmp(p, "/garbage")) {
        say(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
        return 1;
    } else if (!strcmp(p, "/bighead")) {
        int i;
        say(fd, "HTTP/1.1 200 OK\r\n");
        for (i = 0; i < 2000; i++) say(fd, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        say(fd, "Content-Length: 0\r\n\r\n");
        return 1;
    } else if (!strcmp(p, "/continue")) {
        say(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    } else if (!strcmp(p, "/204")) {
        say(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    } else if (!strcmp(p, "/badcl")) {
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n");
        return 1;
    } else if (!strcmp(p, "/badchunk")) {
        say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
        return 1;
    } else if (!strcmp(p, "/nul")) {
        say_n(fd, "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n", 43);
        return 1;
    } else if (!strcmp(p, "/trunc")) {
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
        return 1;
    } else if (!strcmp(p, "/big")) {
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\n\r\n");
        send_big(fd, 5u << 20, 0);
    } else if (!strcmp(p, "/bigchunked")) {
        say(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        send_big(fd, 5u << 20, 1);
    } else if (!strcmp(p, "/kaclose")) { /* says keep-alive, then closes: an idle timeout */
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        return 1;
    } else if (!strcmp(p, "/ka408")) { /* keep-alive, then an unprompted 408 and a close */
        struct timespec ts = {0, 20000000};
        say(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        nanosleep(&ts, NULL);
        say(fd, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        shutdown(fd, SHUT_WR); /* no reset: a request sent now is read (and dropped) */
        while (recv(fd, buf, sizeof buf, 0) > 0) {
        }
        return 1;
    } else if (!strcmp(p, "/blackhole")) {
        while (recv(fd, buf, sizeof buf, 0) > 0) {
        }
        return 1;
    } else { /* "/noreply" and anything else: hang up */
        return 1;
    }
    return 0;
}

static void *serve_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char path[256];
    struct timeval tv;
    tv.tv_sec = 10; /* a forgotten connection cannot hang the test */
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (read_request(fd, path) == 0 && !answer(fd, path)) {
    }
    close(fd);
    return NULL;
}

static void *serve(void *arg) {
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        pthread_mutex_lock(&S.mu);
        if (S.stop || S.nconns == 256) {
            pthread_mutex_unlock(&S.mu);
            if (fd >= 0) close(fd);
            break;
        }
        if (fd >= 0) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
            S.accepts++;
            pthread_create(&S.conns[S.nconns++], NULL, serve_conn, (void *)(intptr_t)fd);
        }
        pthread_mutex_unlock(&S.mu);
    }
    return NULL;
}

/* A listening socket on 127.0.0.1 or [::1], port picked by the kernel; -1 if unavailable. */
static int listen_local(int v6, int *port) {
    struct sockaddr_storage ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    socklen_t len = v6 ? sizeof *a6 : sizeof *a4;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&ss, 0, sizeof ss);
    if (v6) {
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_loopback;
    } else {
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64) ||
        getsockname(fd, (struct sockaddr *)&ss, &len)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(v6 ? a6->sin6_port : a4->sin_port);
    return fd;
}

static void srv_start(void) {
    pthread_mutex_init(&S.mu, NULL);
    S.lfd = listen_local(0, &S.port);
    S.lfd6 = listen_local(1, &S.port6);
    pthread_create(&S.th, NULL, serve, (void *)(intptr_t)S.lfd);
    if (S.lfd6 >= 0) pthread_create(&S.th6, NULL, serve, (void *)(intptr_t)S.lfd6);
}

static void srv_stop(void) {
    int i;
    pthread_mutex_lock(&S.mu);
    S.stop = 1;
    pthread_mutex_unlock(&S.mu);
    shutdown(S.lfd, SHUT_RDWR); /* wakes accept() */
    pthread_join(S.th, NULL);
    if (S.lfd6 >= 0) {
        shutdown(S.lfd6, SHUT_RDWR);
        pthread_join(S.th6, NULL);
        close(S.lfd6);
    }
    for (i = 0; i < S.nconns; i++) pthread_join(S.conns[i], NULL);
    close(S.lfd);
    free(S.body);
    pthread_mutex_destroy(&S.mu);
}

static int srv_get(const int *field) {
    int v;
    pthread_mutex_lock(&S.mu);
    v = *field;
    pthread_mutex_unlock(&S.mu);
    return v;
}

/* ---- helpers ---- */

static obs__url g_url;
static obs__http_req make_req(const char *base, const char *path, int timeout_ms) {
    obs__http_req r;
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    memset(&r, 0, sizeof r);
    if (obs__url_parse(url, &g_url)) fprintf(stderr, "bad test url %s\n", url);
    r.url = &g_url;
    r.content_type = "application/json";
    r.body = "{}";
    r.body_len = 2;
    r.timeout_ms = timeout_ms;
    return r;
}

static int count_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

/* Whole file as a string (works for /proc files, whose size reads as 0). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    obs__buf b;
    char tmp[4096];
    size_t n;
    memset(&b, 0, sizeof b);
    if (!f) return NULL;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) obs__buf_put(&b, tmp, n);
    fclose(f);
    obs__buf_putc(&b, 0);
    return b.p;
}

static void write_file(const char *path, const char *text, int mode) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

/* True if the test process holds `target` (readlink form) on an inheritable fd. */
static int inheritable_here(const char *target) {
    char p[64], t[256];
    int fd;
    for (fd = 0; fd < 1024; fd++) {
        ssize_t n;
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        n = readlink(p, t, sizeof t - 1);
        if (n < 0) continue;
        t[n] = 0;
        if (!strcmp(t, target) && !(fcntl(fd, F_GETFD) & FD_CLOEXEC)) return 1;
    }
    return 0;
}

/* ---- tests ---- */

static void test_url(void) {
    static const char *bad[] = {
        "", "ftp://h/", "http://", "http:///p", "http://:80/", "http://h:/", "http://h:0/",
        "http://h:65536/", "http://h:12a/", "http://h:123456/", "http://user:pw@h/",
        "http://h/a b", "http://h/a\r\nX-Evil: 1", "http://h\n/", "http://h/\t",
        "http://[::1/", "http://[::1]x/", "http://[]/", "http://[g::1]/", "http://h_o%st/",
        "http://h/#frag", "http://h\x7f/", "http://h\xc3\xa9/", "https//h/", "http:/h/",
        "http://h:-1/", "http://h:+80/", "http://[::1]:/", "http://[310]/", "http://[1.2.3.4]/",
    };
    char longhost[400], longpath[1200];
    obs__url u;
    size_t i;
    CHECK(obs__url_parse("http://localhost:4318/v1/traces", &u) == 0 && !u.https &&
          !strcmp(u.host, "localhost") && !strcmp(u.port, "4318") &&
          !strcmp(u.path, "/v1/traces") && !strcmp(u.hostport, "localhost:4318"));
    CHECK(obs__url_parse("https://example.com", &u) == 0 && u.https && !strcmp(u.port, "443") &&
          !strcmp(u.path, "/") && !strcmp(u.hostport, "example.com"));
    CHECK(obs__url_parse("HTTP://Ex-1.COM:80", &u) == 0 && !strcmp(u.hostport, "Ex-1.COM") &&
          !strcmp(u.port, "80") && !strcmp(u.path, "/"));
    CHECK(obs__url_parse("http://[::1]:4318/x", &u) == 0 && !strcmp(u.host, "::1") &&
          !strcmp(u.port, "4318") && !strcmp(u.hostport, "[::1]:4318"));
    CHECK(obs__url_parse("https://[2001:db8::1]/v1/logs", &u) == 0 && !strcmp(u.port, "443") &&
          !strcmp(u.hostport, "[2001:db8::1]") && !strcmp(u.path, "/v1/logs"));
    CHECK(obs__url_parse("http://h?x=1&y=%20", &u) == 0 && !strcmp(u.path, "/?x=1&y=%20"));
    CHECK(obs__url_parse("https://h:443/p", &u) == 0 && !strcmp(u.hostport, "h"));
    CHECK(obs__url_parse("http://h:0080/p", &u) == 0 && !strcmp(u.port, "80") &&
          !strcmp(u.hostport, "h"));
    CHECK(obs__url_parse("https://h:80/p", &u) == 0 && !strcmp(u.hostport, "h:80"));
    CHECK(obs__url_parse("http://127.0.0.1:65535", &u) == 0 && !strcmp(u.path, "/"));
    CHECK(obs__url_parse(NULL, &u) == -1);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = obs__url_parse(bad[i], &u);
        CHECK(rc == -1);
        if (rc != -1) fprintf(stderr, "  accepted bad url #%zu\n", i);
    }
    memset(longhost, 'a', sizeof longhost);
    memcpy(longhost, "http://", 7);
    longhost[sizeof longhost - 1] = 0;
    CHECK(obs__url_parse(longhost, &u) == -1);
    longhost[7 + 255] = 0; /* 255-char host: fits */
    CHECK(obs__url_parse(longhost, &u) == 0 && strlen(u.host) == 255);
    memset(longpath, 'p', sizeof longpath);
    memcpy(longpath, "http://h/", 9);
    longpath[sizeof longpath - 1] = 0;
    CHECK(obs__url_parse(longpath, &u) == -1);
}

static void test_retry_after(void) {
    char date[64];
    time_t t = time(NULL) + 100;
    struct tm tmv;
    int v;
    CHECK(obs__days(1970, 1, 1) == 0);
    CHECK(obs__days(2000, 3, 1) == 11017);
    CHECK(obs__days(1994, 11, 6) * 86400 + 8 * 3600 + 49 * 60 + 37 == 784111777);
    CHECK(obs__retry_after("120") == 120);
    CHECK(obs__retry_after("0") == 0);
    CHECK(obs__retry_after("") == -1);
    CHECK(obs__retry_after("-5") == -1);
    CHECK(obs__retry_after("12s") == -1);
    CHECK(obs__retry_after("Sun, 06 Nov 1994 08:49:37 GMT") == 0); /* past: clamped */
    CHECK(obs__retry_after("Sun, 06 Foo 1994 08:49:37 GMT") == -1);
    CHECK(obs__retry_after("Sun, 06 Nov 1994 25:49:37 GMT") == -1);
    CHECK(obs__retry_after("Sun, 06 Nov 1994 08:49:37 GMT junk") == -1);
    /* the two obsolete forms too (RFC 9110 5.6.7: a recipient MUST accept all three) */
    CHECK(obs__retry_after("Sunday, 06-Nov-94 08:49:37 GMT") == 0);
    CHECK(obs__retry_after("Sun Nov  6 08:49:37 1994") == 0);
    CHECK(obs__retry_after("Sunday, 06-Nov-94 08:49:37") == -1);
    CHECK(obs__retry_after("Sun Nov  6 08:49:37 1994 GMT") == -1);
    gmtime_r(&t, &tmv);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tmv);
    v = obs__retry_after(date);
    CHECK(v >= 98 && v <= 101);
    strftime(date, sizeof date, "%A, %d-%b-%y %H:%M:%S GMT", &tmv);
    v = obs__retry_after(date);
    CHECK(v >= 98 && v <= 101);
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tmv);
    v = obs__retry_after(date);
    CHECK(v >= 98 && v <= 101);
}

static void test_checks(void) {
    const char *crlf[] = {"X-Ok: 1", "Authorization: Bearer s3cr3t\r\nX-Evil: 1"};
    const char *noname[] = {"Bad Name: s3cr3t"};
    const char *nocolon[] = {"s3cr3t"};
    const char *nul[] = {NULL};
    obs__http_req r = make_req("http://127.0.0.1:1", "/", 1000);
    obs__http_resp resp;
    obs__http_conn c;
    obs__http_resp_init(&resp);
    obs__http_conn_init(&c);
    r.headers = crlf;
    r.n_headers = 2;
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "header 2") &&
          !strstr(resp.err, "s3cr3t"));
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "header 2") &&
          !strstr(resp.err, "s3cr3t"));
    r.headers = noname;
    r.n_headers = 1;
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "header 1") &&
          !strstr(resp.err, "s3cr3t"));
    r.headers = nocolon;
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "header 1") &&
          !strstr(resp.err, "s3cr3t"));
    r.headers = nul;
    CHECK(obs__http_post(&c, &r, &resp) == -1);
    r.headers = NULL;
    r.n_headers = 0;
    r.content_type = "text/plain\r\nX: y";
    CHECK(obs__transport_post(&c, &r, &resp) == -1 && strstr(resp.err, "content type"));
    CHECK(c.fd == -1);
    obs__http_resp_free(&resp);
}

static void test_socket(void) {
    char base[64], other[64];
    const char *hdrs[] = {"Authorization: Bearer s3cr3t", "x-tenant:  acme"};
    obs__http_conn c, c2;
    obs__http_resp resp;
    obs__http_req r;
    int a0, q0, i;
    int64_t t0;
    char *big;
    obs__http_conn_init(&c);
    obs__http_conn_init(&c2);
    obs__http_resp_init(&resp);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", S.port);

    /* request as sent, keep-alive reuse */
    r = make_req(base, "/echo?q=1", 2000);
    r.headers = hdrs;
    r.n_headers = 2;
    a0 = srv_get(&S.accepts);
    q0 = srv_get(&S.requests);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 && resp.body.len == 2 &&
          !memcmp(resp.body.p, "{}", 2) && resp.retry_after_s == -1);
    pthread_mutex_lock(&S.mu);
    CHECK(strncmp(S.head, "POST /echo?q=1 HTTP/1.1\r\n", 25) == 0);
    CHECK(strstr(S.head, "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nContent-Length: 2\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nUser-Agent: obs.h/0.1\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nAuthorization: Bearer s3cr3t\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nx-tenant:  acme\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nHost: 127.0.0.1:") != NULL);
    pthread_mutex_unlock(&S.mu);
    r = make_req(base, "/ok", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 && resp.body.len == 5 &&
          !strcmp(resp.body.p, "hello"));
    CHECK(srv_get(&S.accepts) == a0 + 1 && srv_get(&S.requests) == q0 + 2 && c.fd >= 0);

    r = make_req(base, "/chunked", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          !strcmp(resp.body.p, "hello world") && c.fd >= 0);
    r = make_req(base, "/503", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 503 && resp.retry_after_s == 7 &&
          resp.body.len == 0);
    r = make_req(base, "/429", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 429 &&
          resp.retry_after_s >= 98 && resp.retry_after_s <= 101 && !strcmp(resp.body.p, "no"));
    r = make_req(base, "/continue", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 && !strcmp(resp.body.p, "ok"));
    r = make_req(base, "/204", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 204 && resp.body.len == 0);
    CHECK(srv_get(&S.accepts) == a0 + 1 && c.fd >= 0); /* all on one connection */

    /* server closes an idle keep-alive connection: reconnect and resend once */
    r = make_req(base, "/kaclose", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200);
    {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = 50000000;
        nanosleep(&ts, NULL); /* let the close land */
    }
    r = make_req(base, "/ok", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          !strcmp(resp.body.p, "hello"));
    CHECK(srv_get(&S.accepts) == a0 + 2);
    /* a server's unprompted 408 on the idle connection (RFC 9110 15.5.9) is not the next
       request's answer: the connection is dropped before reuse, the request goes on a new one */
    r = make_req(base, "/ka408", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200);
    {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL); /* let the 408 land */
    }
    r = make_req(base, "/ok", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          !strcmp(resp.body.p, "hello"));
    CHECK(srv_get(&S.accepts) == a0 + 3);
    r = make_req(base, "/close", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 201 && c.fd == -1);
    r = make_req(base, "/http10", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 && c.fd == -1);
    r = make_req(base, "/untilclose", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          !strcmp(resp.body.p, "body-until-close") && c.fd == -1);

    /* a different endpoint on the same conn reconnects (localhost: IPv6 first, then v4) */
    r = make_req(base, "/ok", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && c.fd >= 0);
    a0 = srv_get(&S.accepts);
    snprintf(other, sizeof other, "http://localhost:%d", S.port);
    r = make_req(other, "/ok", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          srv_get(&S.accepts) == a0 + 1 && !strcmp(c.hostport, g_url.hostport));

    /* broken replies: errors, never hangs; the connection is dropped */
    r = make_req(base, "/garbage", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "status line") &&
          c.fd == -1 && resp.status == 0);
    r = make_req(base, "/bighead", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "too long"));
    r = make_req(base, "/badcl", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "Content-Length"));
    r = make_req(base, "/badchunk", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "chunk"));
    r = make_req(base, "/nul", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "NUL"));
    r = make_req(base, "/trunc", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "mid-body"));
    r = make_req(base, "/noreply", 2000);
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "before any response"));
    r = make_req(base, "/blackhole", 300);
    t0 = obs__mono_ms();
    CHECK(obs__http_post(&c, &r, &resp) == -1 && strstr(resp.err, "timed out"));
    CHECK(obs__mono_ms() - t0 >= 290 && obs__mono_ms() - t0 < 600);
    CHECK(c.fd == -1);

    /* bodies over 4 MiB: status kept, first 4 MiB kept, connection dropped */
    r = make_req(base, "/big", 5000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          resp.body.len == OBS__RESP_MAX && c.fd == -1);
    r = make_req(base, "/bigchunked", 5000);
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          resp.body.len == OBS__RESP_MAX && c.fd == -1);
    big = (char *)malloc(8u << 20);
    for (i = 0; i < (8 << 20); i++) big[i] = (char)('a' + i % 26);
    r = make_req(base, "/echo", 10000);
    r.body = big;
    r.body_len = 8u << 20;
    CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200 &&
          resp.body.len == OBS__RESP_MAX && !memcmp(resp.body.p, big, OBS__RESP_MAX));
    pthread_mutex_lock(&S.mu);
    CHECK(S.body_len == (8u << 20) && !memcmp(S.body, big, 8u << 20));
    pthread_mutex_unlock(&S.mu);
    free(big);

    /* the server refuses a big body without reading it: an error or its 413, no SIGPIPE */
    big = (char *)malloc(8u << 20);
    memset(big, 'b', 8u << 20);
    r = make_req(base, "/early", 5000);
    r.body = big;
    r.body_len = 8u << 20;
    i = obs__http_post(&c, &r, &resp);
    CHECK((i == -1 && c.fd == -1 && resp.status == 0) || (i == 0 && resp.status == 413));
    free(big);

    /* IPv6 literal */
    if (S.lfd6 >= 0) {
        snprintf(other, sizeof other, "http://[::1]:%d", S.port6);
        r = make_req(other, "/echo", 2000);
        CHECK(obs__http_post(&c, &r, &resp) == 0 && resp.status == 200);
        snprintf(other, sizeof other, "\r\nHost: [::1]:%d\r\n", S.port6);
        pthread_mutex_lock(&S.mu);
        CHECK(strstr(S.head, other) != NULL);
        pthread_mutex_unlock(&S.mu);
    } else {
        printf("skip: no IPv6 loopback\n");
    }

    /* NULL conn: one-shot connection */
    r = make_req(base, "/ok", 2000);
    CHECK(obs__http_post(NULL, &r, &resp) == 0 && resp.status == 200);

    /* connection refused on a closed port */
    {
        int port, fd = listen_local(0, &port);
        char url[64];
        close(fd);
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        r = make_req(url, "/", 2000);
        CHECK(obs__transport_post(&c2, &r, &resp) == -1 && strstr(resp.err, "refused") &&
              c2.fd == -1);
    }
    obs__http_conn_close(&c);
    obs__http_conn_close(&c2);
    obs__http_resp_free(&resp);
}

static void test_curl_http(void) {
    char base[64];
    const char *hdrs[] = {"Authorization: Bearer s3cr3t", "X-Quote: a \"q\" \\ b"};
    obs__http_resp resp;
    obs__http_req r;
    int64_t t0;
    char *big;
    int i;
    obs__http_resp_init(&resp);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", S.port);
    r = make_req(base, "/echo", 5000);
    r.headers = hdrs;
    r.n_headers = 2;
    CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 200 && !strcmp(resp.body.p, "{}"));
    pthread_mutex_lock(&S.mu);
    CHECK(strstr(S.head, "\r\nAuthorization: Bearer s3cr3t\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nX-Quote: a \"q\" \\ b\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strstr(S.head, "\r\nUser-Agent: obs.h/0.1\r\n") != NULL);
    CHECK(strstr(S.head, "Expect") == NULL);
    pthread_mutex_unlock(&S.mu);
    r = make_req(base, "/503", 5000);
    CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 503 && resp.retry_after_s == 7);
    r = make_req(base, "/429", 5000);
    CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 429 && resp.retry_after_s >= 98 &&
          resp.retry_after_s <= 101);
    r = make_req(base, "/chunked", 5000);
    CHECK(obs__curl_post(&r, &resp) == 0 && !strcmp(resp.body.p, "hello world") &&
          resp.retry_after_s == -1);
    r = make_req(base, "/continue", 5000);
    CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 200 && !strcmp(resp.body.p, "ok"));
    r = make_req(base, "/noreply", 5000);
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "curl: (52)") && resp.status == 0);
    r = make_req(base, "/blackhole", 500);
    t0 = obs__mono_ms();
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "(28)"));
    CHECK(obs__mono_ms() - t0 < 1400);
    big = (char *)malloc(8u << 20);
    for (i = 0; i < (8 << 20); i++) big[i] = (char)i;
    r = make_req(base, "/echo", 20000);
    r.body = big;
    r.body_len = 8u << 20;
    CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 200 &&
          resp.body.len == OBS__RESP_MAX && !memcmp(resp.body.p, big, OBS__RESP_MAX));
    pthread_mutex_lock(&S.mu);
    CHECK(S.body_len == (8u << 20) && !memcmp(S.body, big, 8u << 20));
    pthread_mutex_unlock(&S.mu);
    free(big);
    {
        int port, fd = listen_local(0, &port);
        char url[64];
        close(fd);
        snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
        r = make_req(url, "/", 3000);
        CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "curl: (7)"));
    }
    if (S.lfd6 >= 0) {
        snprintf(base, sizeof base, "http://[::1]:%d", S.port6);
        r = make_req(base, "/503", 3000);
        CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 503 && resp.retry_after_s == 7);
    }
    obs__http_resp_free(&resp);
}

/* A stand-in `curl` that records what it got: secrets must be in its config, not argv. */
static void test_curl_standin(const char *dir) {
    char path[512], script[2048], base[64], *s, *big;
    sigset_t set, oldset;
    ssize_t n;
    const char *hdrs[] = {"Authorization: Bearer s3cr3t-token"};
    obs__http_conn c;
    obs__http_resp resp;
    obs__http_req r;
    int64_t t0;
    obs__http_conn_init(&c);
    obs__http_resp_init(&resp);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", S.port);
    r = make_req(base, "/ok", 2000); /* hold a keep-alive socket: it must not leak to curl */
    CHECK(obs__http_post(&c, &r, &resp) == 0 && c.fd >= 0);

    snprintf(path, sizeof path, "%s/curl", dir);
    snprintf(script, sizeof script,
             "#!/bin/sh\nd='%s'\nprintf '%%s\\n' \"$0\" \"$@\" > \"$d/argv\"\n"
             "cat /dev/fd/3 > \"$d/config\"\ncat > \"$d/stdin\"\nls -l /proc/self/fd > \"$d/fds\"\n"

             "printf 'HTTP/1.1 100 Continue\\r\\n\\r\\nHTTP/1.1 503 Busy\\r\\n"
             "retry-after:  7 \\r\\n\\r\\n' > /dev/fd/4\nprintf 'stand-in body'\n", dir);
    write_file(path, script, 0755);
    setenv("OBS_CURL", path, 1);
    setenv("OBS_CURL_CACERT", "/etc/ssl/my \"ca\".pem", 1);
    r = make_req("https://collector.example:4318/v1/traces?tenant=", "acme", 1500);
    r.headers = hdrs;
    r.n_headers = 1;
    r.body = "payload-bytes";
    r.body_len = 13;
    CHECK(obs__transport_post(&c, &r, &resp) == 0 && resp.status == 503 &&
          resp.retry_after_s == 7 && !strcmp(resp.body.p, "stand-in body"));
    unsetenv("OBS_CURL_CACERT");
    snprintf(path, sizeof path, "%s/argv", dir);
    s = slurp(path);
    CHECK(s && !strstr(s, "s3cr3t") && !strstr(s, "collector") && !strstr(s, "acme") &&
          strstr(s, "--config"));
    free(s);
    snprintf(path, sizeof path, "%s/config", dir);
    s = slurp(path);
    CHECK(s && strstr(s, "url = \"https://collector.example:4318/v1/traces?tenant=acme\"\n"));
    CHECK(s && strstr(s, "header = \"Authorization: Bearer s3cr3t-token\"\n"));
    CHECK(s && strstr(s, "cacert = \"/etc/ssl/my \\\"ca\\\".pem\"\n"));
    CHECK(s && strstr(s, "max-time = \"1.500\"\n"));
    free(s);
    snprintf(path, sizeof path, "%s/stdin", dir);
    s = slurp(path);
    CHECK(s && !strcmp(s, "payload-bytes"));
    free(s);
    snprintf(path, sizeof path, "%s/fds", dir); /* only 0..4 and what we inherited */
    s = slurp(path);
    CHECK(s != NULL);
    if (s) {
        char *line = s, *arrow;
        int leaks = 0;
        for (; (arrow = strstr(line, " -> ")) != NULL; line = arrow + 4) {
            char *nl = strchr(arrow, '\n'), *sp = arrow;
            int fd;
            while (sp > line && sp[-1] != ' ') sp--;
            fd = atoi(sp);
            if (nl) *nl = 0;
            if (fd > 4 && (strstr(arrow, "socket:") || strstr(arrow, "pipe:")) &&
                !inheritable_here(arrow + 4)) {
                fprintf(stderr, "  leaked fd %d -> %s\n", fd, arrow + 4);
                leaks++;
            }
            if (nl) arrow = nl - 3;
        }
        CHECK(leaks == 0);
        free(s);
    }

    /* curl that hangs: killed 1 s after the timeout, and reaped */
    snprintf(path, sizeof path, "%s/curl-hang", dir);
    write_file(path, "#!/bin/sh\nexec sleep 20\n", 0755);
    setenv("OBS_CURL", path, 1);
    r = make_req("https://h/", "", 300);
    t0 = obs__mono_ms();
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "killed"));
    CHECK(obs__mono_ms() - t0 >= 1250 && obs__mono_ms() - t0 < 2500);

    /* curl that fails: its last stderr line is the error */
    snprintf(path, sizeof path, "%s/curl-fail", dir);
    write_file(path, "#!/bin/sh\necho 'Warning: x' >&2\necho 'curl: (6) No host: h' >&2\n"
                     "echo 'more text' >&2\nexit 6\n", 0755);
    setenv("OBS_CURL", path, 1);
    CHECK(obs__curl_post(&r, &resp) == -1 && !strcmp(resp.err, "curl: (6) No host: h"));
    /* this test binary as the stand-in (see main): curl must not inherit a blocked mask */
    n = readlink("/proc/self/exe", path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    setenv("OBS_CURL", path, 1);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &oldset); /* as an exporter thread might */
    CHECK(obs__curl_post(&r, &resp) == 0 && resp.status == 200 &&
          !strcmp(resp.body.p, "SigBlk:\t0000000000000000"));
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);

    snprintf(path, sizeof path, "%s/curl-early", dir); /* exits without reading the body */
    write_file(path, "#!/bin/sh\nexit 3\n", 0755);
    setenv("OBS_CURL", path, 1);
    big = (char *)calloc(8u << 20, 1);
    r.body = big;
    r.body_len = 8u << 20;
    CHECK(obs__curl_post(&r, &resp) == -1 && !strcmp(resp.err, "curl exit 3")); /* no SIGPIPE */
    r.body = NULL;
    r.body_len = 0;
    free(big);
    snprintf(path, sizeof path, "%s/curl-quiet", dir); /* exit 0 but no status */
    write_file(path, "#!/bin/sh\ncat >/dev/null\n", 0755);
    setenv("OBS_CURL", path, 1);
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "no HTTP status"));
    CHECK(!resp.local && obs__otlp_policy(0, &resp) == OBS__RETRY); /* may be the network's */
    setenv("OBS_CURL", "/nonexistent/curl", 1);
    CHECK(obs__curl_post(&r, &resp) == -1 && strstr(resp.err, "cannot run curl"));
    CHECK(resp.local && obs__otlp_policy(0, &resp) == OBS__GIVE_UP); /* retrying cannot help */
    unsetenv("OBS_CURL");
    {
        char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
        setenv("PATH", dir[0] ? "/nonexistent-dir" : "", 1);
        CHECK(obs__curl_post(&r, &resp) == -1 &&
              !strcmp(resp.err, "curl not found on PATH (needed for https:// endpoints; "
                                "install curl or use http://)"));
        CHECK(resp.local);
        if (old) setenv("PATH", old, 1);
        free(old);
    }
    CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD); /* no zombie */
    obs__http_conn_close(&c);
    obs__http_resp_free(&resp);
}

/* https through curl against a node TLS server with a self-signed cert made here. */
static void test_curl_tls(const char *dir) {
    char cmd[2048], js[1024], line[64], base[64];
    const char *hdrs[] = {"Authorization: Bearer s3cr3t"};
    obs__http_resp resp;
    obs__http_req r;
    FILE *node;
    int port = 0;
    if (system("{ command -v openssl && command -v node && command -v curl; } >/dev/null")) {
        printf("skip: TLS test needs openssl, node and curl\n");
        return;
    }
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", dir, dir);
    if (system(cmd)) {
        printf("skip: openssl could not make a certificate\n");
        return;
    }
    snprintf(js, sizeof js,
             "const fs=require('fs');const s=require('https').createServer({key:fs.readFileSync("
             "'%s/key.pem'),cert:fs.readFileSync('%s/cert.pem')},(q,a)=>{let n=0;q.on('data',"
             "d=>n+=d.length);q.on('end',()=>{a.writeHead(202,{'Retry-After':'3'});a.end("
             "'tls '+q.method+' '+n+' '+q.headers.authorization);if(q.url==='/quit')"
             "setImmediate(()=>process.exit(0));});});s.listen(0,'127.0.0.1',()=>console.log("
             "s.address().port));setTimeout(()=>process.exit(0),30000);", dir, dir);
    snprintf(cmd, sizeof cmd, "%s/server.js", dir);
    write_file(cmd, js, 0644);
    snprintf(cmd, sizeof cmd, "node %s/server.js", dir);
    node = popen(cmd, "re");
    if (!node || !fgets(line, sizeof line, node) || (port = atoi(line)) <= 0) {
        printf("skip: node TLS server did not start\n");
        if (node) pclose(node);
        return;
    }
    obs__http_resp_init(&resp);
    snprintf(base, sizeof base, "https://127.0.0.1:%d", port);
    snprintf(cmd, sizeof cmd, "%s/cert.pem", dir);
    unsetenv("CURL_CA_BUNDLE");
    r = make_req(base, "/v1/traces", 5000);
    r.headers = hdrs;
    r.n_headers = 1;
    CHECK(obs__transport_post(NULL, &r, &resp) == -1 && strstr(resp.err, "curl: (60)"));
    setenv("OBS_CURL_CACERT", cmd, 1);
    CHECK(obs__transport_post(NULL, &r, &resp) == 0 && resp.status == 202 &&
          resp.retry_after_s == 3 && !strcmp(resp.body.p, "tls POST 2 Bearer s3cr3t"));
    r = make_req(base, "/quit", 5000);
    CHECK(obs__transport_post(NULL, &r, &resp) == 0 && resp.status == 202);
    unsetenv("OBS_CURL_CACERT");
    pclose(node);
    obs__http_resp_free(&resp);
}

/* Run as `curl -q --config /dev/fd/3` by test_curl_standin: reports its blocked signals. */
static int standin_main(void) {
    char *st = slurp("/proc/self/status"), *line = st ? strstr(st, "SigBlk:") : NULL, buf[4096];
    if (line) line[strcspn(line, "\n")] = 0;
    printf("%s", line ? line : "no SigBlk");
    while (read(0, buf, sizeof buf) > 0) {
    }
    if (write(4, "HTTP/1.1 200 OK\r\n\r\n", 19) != 19) return 1;
    free(st);
    return 0;
}

int main(int argc, char **argv) {
    char dir[] = "/tmp/obs-http-test-XXXXXX", cmd[128];
    int fds0;
    if (argc == 4 && !strcmp(argv[1], "-q")) return standin_main();
    fds0 = count_fds();
    if (!mkdtemp(dir)) return 1;
    srv_start();
    test_url();
    test_retry_after();
    test_checks();
    test_socket();
    if (system("command -v curl >/dev/null") == 0) {
        test_curl_http();
    } else {
        printf("skip: curl is not installed\n");
    }
    test_curl_standin(dir);
    test_curl_tls(dir);
    srv_stop();
    CHECK(count_fds() == fds0); /* every fd closed on every path */
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    (void)obs__diag;
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}

/* tests/test_distributed.c -- the two-service example end to end, as separate processes:
   examples/frontend -> examples/backend, both exporting OTLP/JSON to the loopback receiver
   (tests/receiver.h) and the back end also sending X-Ray segments to a UDP socket here.
   Checks: one trace id across both processes, the back end's server span is the child of the
   front end's client span (remote parent), the mock-data span under it, the access log joined
   to the trace; a request with traceparent ...-01 continues trace <t> under parent <p>; -00
   exports no span at all (parent-based default); X-Amzn-Trace-Id alone continues the trace;
   the X-Ray daemon address receives the header line and valid segments with the same ids;
   SIGTERM flushes and exits 0.
   The example programs are found next to this one (build/, build/asan/, ...): `make test`
   builds them first. */
#include "receiver.h" /* first: POSIX feature macros */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define TRACE_HEX "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_HEX "00f067aa0ba902b7"
#define TRACE2_HEX "5bf92f3577b34da6a3ce929d0e0e4737"
#define XRAY_TRACE "1-5759e988-bd862e3fe1be46a994272793"
#define XRAY_PARENT "53995c3f42cd8ad8"
#define HEADER "{\"format\": \"json\", \"version\": 1}\n"

static char bindir[1024];
static char *child_env[512];
static char env_store[8][512];

/* The environment for the examples: ours without OTEL_* / AWS_XRAY_* / BACKEND_*, plus
   OTLP/JSON to the receiver, short batch delays and the X-Ray daemon address. Built before
   any fork (setenv after fork in a threaded process is not safe). */
static void make_env(int otlp_port, int xray_port) {
    int n = 0, i;
    for (i = 0; environ[i] && n < 500; i++) {
        if (strncmp(environ[i], "OTEL_", 5) == 0 || strncmp(environ[i], "AWS_XRAY_", 9) == 0 ||
            strncmp(environ[i], "BACKEND_", 8) == 0) {
            continue;
        }
        child_env[n++] = environ[i];
    }
    snprintf(env_store[0], sizeof env_store[0], "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
             otlp_port);
    snprintf(env_store[1], sizeof env_store[1], "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:%d", xray_port);
    snprintf(env_store[2], sizeof env_store[2], "OTEL_TRACES_EXPORTER=otlp");
    snprintf(env_store[3], sizeof env_store[3], "OTEL_LOGS_EXPORTER=otlp");
    snprintf(env_store[4], sizeof env_store[4], "OTEL_EXPORTER_OTLP_PROTOCOL=http/json");
    snprintf(env_store[5], sizeof env_store[5], "OTEL_BSP_SCHEDULE_DELAY=100");
    snprintf(env_store[6], sizeof env_store[6], "OTEL_BLRP_SCHEDULE_DELAY=100");
    for (i = 0; i < 7; i++) child_env[n++] = env_store[i];
    child_env[n] = NULL;
}

/* Starts bindir/prog with args; *out (if not NULL) reads its stdout. Returns the pid. */
static pid_t spawn(const char *prog, const char *a1, const char *a2, int *out) {
    char path[1200];
    char *argv[4];
    int fds[2] = {-1, -1};
    pid_t pid;
    snprintf(path, sizeof path, "%s/%s", bindir, prog);
    argv[0] = path;
    argv[1] = (char *)a1;
    argv[2] = a1 ? (char *)a2 : NULL;
    argv[3] = NULL;
    if (out && pipe(fds) != 0) return -1;
    if ((pid = fork()) == 0) {
        if (out) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
        }
        execve(path, argv, child_env);
        _exit(127);
    }
    if (out) {
        close(fds[1]);
        fcntl(fds[0], F_SETFD, FD_CLOEXEC);
        *out = fds[0];
    }
    return pid;
}

/* Waits up to ms for pid; returns its exit status, or -1 (then it is killed). */
static int wait_exit(pid_t pid, int ms) {
    int st, waited;
    for (waited = 0; waited < ms; waited += 20) {
        struct timespec t = {0, 20 * 1000000L};
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        nanosleep(&t, NULL);
    }
    fprintf(stderr, "pid %d did not exit in %d ms: killed\n", (int)pid, ms);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* Reads what fd gives until EOF (or timeout) into buf; returns the length. */
static size_t read_all(int fd, char *buf, size_t cap, int ms) {
    size_t len = 0;
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    while (len + 1 < cap && poll(&p, 1, ms) == 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    return len;
}

/* The back end's first line: "listening on 127.0.0.1:PORT". */
static int read_port(int fd) {
    char line[128];
    size_t len = 0;
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    while (len + 1 < sizeof line && poll(&p, 1, 10000) == 1) {
        if (read(fd, line + len, 1) != 1) break;
        if (line[len++] == '\n') break;
    }
    line[len] = 0;
    return strncmp(line, "listening on 127.0.0.1:", 23) == 0 ? atoi(line + 23) : -1;
}

/* A GET with extra header lines ("Name: value\r\n"...); the status, or -1. */
static int get(int port, const char *path, const char *headers) {
    struct sockaddr_in a;
    char req[1024], resp[8192];
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n", path, port,
             headers);
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)) {
        read_all(fd, resp, sizeof resp, 10000);
        if (sscanf(resp, "HTTP/1.1 %d", &status) != 1) status = -1;
    }
    close(fd);
    return status;
}

/* ---- spans as the receiver got them ---- */

typedef struct span_rec {
    char trace[33], span[17], parent[17], name[96];
    int kind; /* OTLP: 1 internal, 2 server, 3 client */
} span_rec;
static span_rec spans[256];
static int nspans;

static int copy_field(const char *p, const char *key, char *out, size_t n) {
    size_t k = strlen(key), i;
    if (strncmp(p, key, k) != 0) return 0;
    p += k;
    for (i = 0; i + 1 < n && p[i] && p[i] != '"'; i++) out[i] = p[i];
    out[i] = 0;
    return p[i] == '"';
}

/* Every span in the receiver's /v1/traces bodies (obs.h writes traceId, spanId,
   parentSpanId first, then flags, name, kind). */
static void collect_spans(rcv *r) {
    int i, n = rcv_count(r);
    nspans = 0;
    for (i = 0; i < n; i++) {
        char path[64], *body = NULL;
        const char *p;
        if (!rcv_request(r, i, path, sizeof path, &body, NULL)) continue;
        for (p = body; strcmp(path, "/v1/traces") == 0 &&
             (p = strstr(p, "{\"traceId\":\"")) != NULL && nspans < 256;
             p++) {
            span_rec *s = &spans[nspans];
            const char *q = p + 12, *name;
            memset(s, 0, sizeof *s);
            if (!copy_field(q, "", s->trace, sizeof s->trace)) continue;
            q += 33;
            if (!copy_field(q, ",\"spanId\":\"", s->span, sizeof s->span)) continue;
            q += 11 + 17;
            if (copy_field(q, ",\"parentSpanId\":\"", s->parent, sizeof s->parent)) q += 17 + 17;
            if (!(name = strstr(q, ",\"name\":\"")) ||
                !copy_field(name, ",\"name\":\"", s->name, sizeof s->name))
                continue;
            q = strstr(name, ",\"kind\":");
            s->kind = q ? atoi(q + 8) : 1;
            nspans++;
        }
        free(body);
    }
}
static const span_rec *find_span(const char *trace, const char *name) {
    int i;
    for (i = 0; i < nspans; i++) {
        if ((!trace || strcmp(spans[i].trace, trace) == 0) && strcmp(spans[i].name, name) == 0)
            return &spans[i];
    }
    return NULL;
}
static int count_trace(const char *trace) {
    int i, k = 0;
    for (i = 0; i < nspans; i++) k += strcmp(spans[i].trace, trace) == 0;
    return k;
}
/* Does a /v1/traces or /v1/logs body contain text? */
static int any_body_has(rcv *r, const char *want_path, const char *text) {
    int i, n = rcv_count(r), found = 0;
    for (i = 0; i < n && !found; i++) {
        char path[64], *body = NULL;
        if (!rcv_request(r, i, path, sizeof path, &body, NULL)) continue;
        found = strcmp(path, want_path) == 0 && strstr(body, text) != NULL;
        free(body);
    }
    return found;
}
/* The trace id of the log record whose body is msg (its traceId follows its body). */
static int log_trace_is(rcv *r, const char *msg, const char *trace) {
    int i, n = rcv_count(r), found = 0;
    char want[128];
    snprintf(want, sizeof want, "\"body\":{\"stringValue\":\"%s\"}", msg);
    for (i = 0; i < n && !found; i++) {
        char path[64], *body = NULL;
        const char *p, *next, *t;
        if (!rcv_request(r, i, path, sizeof path, &body, NULL)) continue;
        for (p = body; !found && strcmp(path, "/v1/logs") == 0 && (p = strstr(p, want)) != NULL;
             p++) {
            next = strstr(p, "{\"timeUnixNano\"");
            t = strstr(p, "\"traceId\":\"");
            found = t && (!next || t < next) && strncmp(t + 11, trace, 32) == 0;
        }
        free(body);
    }
    return found;
}

/* ---- X-Ray ---- */

static int udp_listen(int *port) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    *port = ntohs(a.sin_port);
    return fd;
}
static char segs[64][8192];
static int nsegs;
static void drain_segments(int fd) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    while (nsegs < 64 && poll(&p, 1, 200) == 1) {
        ssize_t n = recv(fd, segs[nsegs], sizeof segs[nsegs] - 1, 0);
        if (n <= 0) break;
        segs[nsegs++][n] = 0;
    }
}
static const char *segment_with_id(const char *id) {
    char want[40];
    int i;
    snprintf(want, sizeof want, "\"id\":\"%s\"", id);
    for (i = 0; i < nsegs; i++) {
        if (strstr(segs[i], want)) return segs[i];
    }
    return NULL;
}

/* ---- the tests ---- */

static int exists(const char *prog) {
    char path[1200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", bindir, prog);
    return stat(path, &st) == 0;
}

static void test_two_services(void) {
    rcv_config cfg;
    rcv *r;
    int xport, xfd = udp_listen(&xport), out, fout, port, i;
    pid_t backend, frontend;
    char fbody[16384], hdr[512];
    const span_rec *root, *client, *server, *mock, *s1, *c1;
    const char *sx;
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_bodies = 1;
    r = rcv_start(&cfg);
    CHECK(r != NULL && xfd >= 0);
    if (!r) return;
    make_env(rcv_port(r), xport);

    backend = spawn("backend", "0", "4", &out); /* four requests, then flush and exit */
    port = read_port(out);
    CHECK(backend > 0 && port > 0);
    if (port <= 0) {
        kill(backend, SIGKILL);
        waitpid(backend, NULL, 0);
        rcv_stop(r);
        return;
    }

    /* 1. frontend -> backend */
    snprintf(hdr, sizeof hdr, "http://127.0.0.1:%d/api/activities/home", port);
    frontend = spawn("frontend", hdr, NULL, &fout);
    read_all(fout, fbody, sizeof fbody, 15000);
    close(fout);
    CHECK(wait_exit(frontend, 15000) == 0);
    CHECK(strstr(fbody, "\"handle\":\"Andrew Brown\"") && strstr(fbody, "Cloud is very fun!"));
    CHECK(strstr(fbody, "\"handle\":\"Worf\"") && strstr(fbody, "\"handle\":\"Garek\""));

    /* 2. traceparent ...-01: trace <t>, parent <p> */
    CHECK(get(port, "/api/activities/home", "traceparent: 00-" TRACE_HEX "-" PARENT_HEX "-01\r\n"
                                            "tracestate: congo=t61rcWkgMzE\r\n") == 200);
    /* 3. traceparent ...-00: not sampled -- nothing exported under parentbased_always_on */
    CHECK(get(port, "/api/activities/home",
              "traceparent: 00-" TRACE2_HEX "-" PARENT_HEX "-00\r\n") == 200);
    /* 4. X-Amzn-Trace-Id alone */
    CHECK(get(port, "/api/activities/home",
              "X-Amzn-Trace-Id: Root=" XRAY_TRACE ";Parent=" XRAY_PARENT ";Sampled=1\r\n") == 200);
    CHECK(wait_exit(backend, 20000) == 0);
    close(out);

    collect_spans(r);
    root = find_span(NULL, "frontend: load home");
    CHECK(root != NULL);
    if (root) {
        client = find_span(root->trace, "GET");
        server = find_span(root->trace, "GET /api/activities/home");
        mock = find_span(root->trace, "home-activities-mock-data");
        CHECK(client && server && mock);
        CHECK(count_trace(root->trace) == 4); /* one trace, two processes, four spans */
        CHECK(!root->parent[0] && root->kind == 1);
        if (client) CHECK(strcmp(client->parent, root->span) == 0 && client->kind == 3);
        if (client && server) CHECK(strcmp(server->parent, client->span) == 0 && server->kind == 2);
        if (server && mock) CHECK(strcmp(mock->parent, server->span) == 0 && mock->kind == 1);
        /* the access log and the app's log, joined to that trace in the back end */
        CHECK(log_trace_is(r, "127.0.0.1 GET http /api/activities/home 200", root->trace));
        CHECK(log_trace_is(r, "HomeActivities", root->trace));
        /* X-Ray: the back end's segments, same ids */
        drain_segments(xfd);
        for (i = 0; i < nsegs; i++) CHECK(strncmp(segs[i], HEADER, strlen(HEADER)) == 0);
        if (server && client && mock) {
            const char *seg = segment_with_id(server->span), *sub = segment_with_id(mock->span);
            char want[128];
            CHECK(seg != NULL && sub != NULL);
            snprintf(want, sizeof want, "\"trace_id\":\"1-%.8s-%s\"", root->trace, root->trace + 8);
            CHECK(seg && strstr(seg, want) && strstr(seg, "{\"name\":\"backend-flask\""));
            snprintf(want, sizeof want, "\"parent_id\":\"%s\"", client->span);
            CHECK(seg && strstr(seg, want) && !strstr(seg, "\"type\""));
            CHECK(seg && strstr(seg, "\"response\":{\"status\":200,\"content_length\":"));
            snprintf(want, sizeof want, "\"parent_id\":\"%s\",\"type\":\"subsegment\"",
                     server->span);
            CHECK(sub && strstr(sub, want) && strstr(sub, "\"annotations\":{\"app_now\":\""));
            CHECK(sub && strstr(sub, "\"app_result_length\":3"));
        }
    }
    s1 = find_span(TRACE_HEX, "GET /api/activities/home");
    CHECK(s1 && strcmp(s1->parent, PARENT_HEX) == 0 && s1->kind == 2);
    CHECK(find_span(TRACE_HEX, "home-activities-mock-data") != NULL);
    CHECK(count_trace(TRACE_HEX) == 2);
    CHECK(any_body_has(r, "/v1/traces", "\"traceState\":\"congo=t61rcWkgMzE\""));
    CHECK(count_trace(TRACE2_HEX) == 0); /* -00: no span at all */
    CHECK(log_trace_is(r, "127.0.0.1 GET http /api/activities/home 200",
                       TRACE2_HEX)); /* still logged */
    c1 = find_span("5759e988bd862e3fe1be46a994272793", "GET /api/activities/home");
    CHECK(c1 && strcmp(c1->parent, XRAY_PARENT) == 0);
    sx = c1 ? segment_with_id(c1->span) : NULL;
    CHECK(sx && strstr(sx, "\"trace_id\":\"" XRAY_TRACE "\"") &&
          strstr(sx, "\"parent_id\":\"" XRAY_PARENT "\""));
    CHECK(any_body_has(r, "/v1/traces",
                       "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"backend-flask\"}}"));
    CHECK(any_body_has(
        r, "/v1/traces",
        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"frontend-react-js\"}}"));
    rcv_stop(r);
    close(xfd);
}

/* SIGTERM: obs_shutdown flushes what the back end still holds, and it exits 0. */
static void test_sigterm(void) {
    rcv_config cfg;
    rcv *r;
    int xport, xfd = udp_listen(&xport), out, port;
    pid_t backend;
    memset(&cfg, 0, sizeof cfg);
    cfg.keep_bodies = 1;
    r = rcv_start(&cfg);
    CHECK(r != NULL);
    if (!r) return;
    make_env(rcv_port(r), xport);
    memcpy(env_store[5], "OTEL_BSP_SCHEDULE_DELAY=60000", 30); /* only shutdown can flush */
    backend = spawn("backend", "0", NULL, &out);
    port = read_port(out);
    CHECK(port > 0);
    CHECK(get(port, "/api/activities/home",
              "traceparent: 00-" TRACE_HEX "-" PARENT_HEX "-01\r\n") == 200);
    CHECK(get(port, "/nope", "") == 404);
    kill(backend, SIGTERM);
    CHECK(wait_exit(backend, 20000) == 0);
    close(out);
    collect_spans(r);
    CHECK(find_span(TRACE_HEX, "GET /api/activities/home") != NULL);
    CHECK(find_span(NULL, "GET") != NULL); /* the 404: no route, so no path in the name */
    rcv_stop(r);
    close(xfd);
}

int main(int argc, char **argv) {
    const char *slash = strrchr(argv[0], '/');
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    snprintf(bindir, sizeof bindir, "%.*s", slash ? (int)(slash - argv[0]) : 1,
             slash ? argv[0] : ".");
    if (!exists("backend") || !exists("frontend")) {
        fprintf(stderr,
                "test_distributed: %s/backend and %s/frontend are missing (make examples)\n",
                bindir, bindir);
        CHECK(!"the example programs are built");
        return TEST_EXIT_CODE();
    }
    RUN(test_two_services);
    RUN(test_sigterm);
    return TEST_EXIT_CODE();
}

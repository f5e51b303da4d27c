/* backend.c -- the course's Flask back end in C: GET /api/activities/home, over raw sockets.
   Teaches: obs_http_server_start / obs_http_server_end (a SERVER span from the request line
            and headers, continuing the caller's trace from traceparent or X-Amzn-Trace-Id;
            the HTTP attributes; the access-log record of the course's after_request); a
            child span with attributes (the course's home-activities-mock-data); X-Ray beside
            OTLP: set AWS_XRAY_DAEMON_ADDRESS and segments go to the X-Ray daemon too.
   Run:     ./build/backend [PORT [MAX_REQUESTS]]    PORT: else BACKEND_PORT, else 4567; 0 picks
            a free port. Prints "listening on 127.0.0.1:PORT" first. Stops after MAX_REQUESTS
            (when given), or on SIGTERM / SIGINT; obs_shutdown() flushes either way.
            curl -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' \
                 http://127.0.0.1:4567/api/activities/home
            make demo-distributed: examples/frontend.c calls it; one trace, two processes.
   One request at a time (a demo, not a server to deploy): HTTP/1.1 with Connection: close. */
#define OBS_IMPLEMENTATION
#include "../obs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static obs_tracer *tracer;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* ---- the course's HomeActivities.run(): mock data ---- */

/* Python's datetime.isoformat() of now + offset seconds, in UTC. */
static void iso_time(char *out, size_t n, long offset) {
    struct timespec ts;
    struct tm tm;
    time_t t;
    char base[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    t = ts.tv_sec + offset;
    gmtime_r(&t, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%06ld+00:00", base, ts.tv_nsec / 1000);
}

/* Writes the activities as JSON into body; returns how many there are. */
static int home_activities(char *body, size_t n) {
    char now[40], t[6][40];
    obs_span *s = obs_span_start(tracer, "home-activities-mock-data");
    OBS_INFO("HomeActivities");
    iso_time(now, sizeof now, 0);
    obs_span_set_str(s, "app.now", now);
    iso_time(t[0], sizeof t[0], -2 * 86400);
    iso_time(t[1], sizeof t[1], 5 * 86400);
    iso_time(t[2], sizeof t[2], -7 * 86400);
    iso_time(t[3], sizeof t[3], 9 * 86400);
    iso_time(t[4], sizeof t[4], -3600);
    iso_time(t[5], sizeof t[5], 12 * 3600);
    snprintf(
        body, n,
        "[{\"uuid\":\"68f126b0-1ceb-4a33-88be-d90fa7109eee\",\"handle\":\"Andrew Brown\","
        "\"message\":\"Cloud is very fun!\",\"created_at\":\"%s\",\"expires_at\":\"%s\","
        "\"likes_count\":5,\"replies_count\":1,\"reposts_count\":0,\"replies\":[{"
        "\"uuid\":\"26e12864-1c26-5c3a-9658-97a10f8fea67\","
        "\"reply_to_activity_uuid\":\"68f126b0-1ceb-4a33-88be-d90fa7109eee\","
        "\"handle\":\"Worf\",\"message\":\"This post has no honor!\",\"likes_count\":0,"
        "\"replies_count\":0,\"reposts_count\":0,\"created_at\":\"%s\"}]},"
        "{\"uuid\":\"66e12864-8c26-4c3a-9658-95a10f8fea67\",\"handle\":\"Worf\","
        "\"message\":\"I am out of prune juice\",\"created_at\":\"%s\",\"expires_at\":\"%s\","
        "\"likes\":0,\"replies\":[]},"
        "{\"uuid\":\"248959df-3079-4947-b847-9e0892d1bab4\",\"handle\":\"Garek\","
        "\"message\":\"My dear doctor, I am just simple tailor. Are you sure there is "
        "anything I can tell you about anything?\",\"created_at\":\"%s\",\"expires_at\":\"%s\","
        "\"likes\":0,\"replies\":[]}]",
        t[0], t[1], t[0], t[2], t[3], t[4], t[5]);
    obs_span_set_int(s, "app.result_length", 3);
    obs_span_end(s);
    return 3;
}

/* ---- HTTP/1.1, just enough ---- */

typedef struct request {
    char head[16384];
    obs_http_server_req r; /* pointers into head */
} request;

/* Reads the request head (up to the blank line) and parses it in place. 1 ok. */
static int read_request(int fd, request *q, const char *peer) {
    size_t len = 0;
    char *line, *next, *end = NULL;
    memset(&q->r, 0, sizeof q->r);
    while (!end && len + 1 < sizeof q->head) {
        ssize_t n = recv(fd, q->head + len, sizeof q->head - 1 - len, 0);
        if (n <= 0) return 0;
        len += (size_t)n;
        q->head[len] = 0;
        end = strstr(q->head, "\r\n\r\n");
    }
    if (!end) return 0;
    end[2] = 0; /* the head: lines ending in CRLF */
    line = q->head;
    next = strstr(line, "\r\n");
    *next = 0;
    q->r.method = strtok(line, " ");
    q->r.target = strtok(NULL, " ");
    if (!q->r.method || !q->r.target || !strtok(NULL, " ")) return 0;
    for (line = next + 2; *line; line = next + 2) {
        char *colon, *v;
        next = strstr(line, "\r\n");
        *next = 0;
        if (!(colon = strchr(line, ':'))) continue;
        *colon = 0;
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
        }
        if (!strcasecmp(line, "host")) q->r.host = v;
        else if (!strcasecmp(line, "user-agent")) q->r.user_agent = v;
        else if (!strcasecmp(line, "traceparent")) q->r.traceparent = v;
        else if (!strcasecmp(line, "tracestate")) q->r.tracestate = v;
        else if (!strcasecmp(line, "x-amzn-trace-id")) q->r.xray_header = v;
    }
    q->r.client_address = peer;
    q->r.scheme = "http";
    return 1;
}

static void respond(int fd, int status, const char *reason, const char *body) {
    char head[256];
    size_t blen = strlen(body);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %lu\r\n"
                     "Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
                     status, reason, (unsigned long)blen);
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) == n) send(fd, body, blen, MSG_NOSIGNAL);
}

/* One request: the course's app.py route, with the server span around it. */
static void serve(int fd, const char *peer) {
    static request q;
    static char body[8192];
    obs_span *s;
    int status = 200;
    const char *reason = "OK";
    if (!read_request(fd, &q, peer)) {
        respond(fd, 400, "Bad Request", "{\"error\":\"bad request\"}");
        return;
    }
    /* Routing first: the route names the span ("GET /api/activities/home"); a path that
       matches no route leaves it "GET", so random paths cannot multiply span names. */
    if (strcmp(q.r.target, "/api/activities/home") == 0 ||
        strncmp(q.r.target, "/api/activities/home?", 21) == 0) {
        q.r.route = "/api/activities/home";
    }
    s = obs_http_server_start(tracer, &q.r); /* what the Flask instrumentation did */
    if (!q.r.route) {
        status = 404;
        reason = "Not Found";
        snprintf(body, sizeof body, "{\"error\":\"not found\"}");
    } else if (strcmp(q.r.method, "GET") != 0) {
        status = 405;
        reason = "Method Not Allowed";
        snprintf(body, sizeof body, "{\"error\":\"method not allowed\"}");
    } else {
        home_activities(body, sizeof body);
    }
    respond(fd, status, reason, body);
    obs_http_server_end(s, &q.r, status, (int64_t)strlen(body)); /* + the after_request log */
}

int main(int argc, char **argv) {
    obs_config cfg;
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    struct sigaction sa;
    const char *port_env = getenv("BACKEND_PORT");
    int port = argc > 1 ? atoi(argv[1]) : port_env && port_env[0] ? atoi(port_env) : 4567;
    long max_requests = argc > 2 ? atol(argv[2]) : 0, served = 0;
    int lfd, one = 1;
    obs_result r;

    /* Demo defaults: the console, unless the environment chose an exporter. */
    memset(&cfg, 0, sizeof cfg);
    if (!getenv("OTEL_TRACES_EXPORTER")) cfg.traces_exporter = "console";
    if (!getenv("OTEL_LOGS_EXPORTER")) cfg.logs_exporter = "console";
    if (!getenv("OTEL_SERVICE_NAME")) cfg.service_name = "backend-flask";
    /* X-Ray beside the rest, as the course ran the X-Ray daemon next to Honeycomb (unless
       OTEL_TRACES_EXPORTER already names xray). */
    if (getenv("AWS_XRAY_DAEMON_ADDRESS") && getenv("AWS_XRAY_DAEMON_ADDRESS")[0] &&
        !(getenv("OTEL_TRACES_EXPORTER") && strstr(getenv("OTEL_TRACES_EXPORTER"), "xray"))) {
        cfg.span_exporters[0] = obs_xray_exporter_new(NULL);
    }
    if ((r = obs_init(&cfg)) != OBS_OK) {
        fprintf(stderr, "obs_init: %s\n", obs_result_string(r));
        return 1;
    }
    tracer = obs_tracer_get("backend-flask.app", "1.0");

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
        perror("backend: 127.0.0.1");
        obs_shutdown();
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    OBS_INFO("backend-flask listening on 127.0.0.1:%d", ntohs(addr.sin_port));

    while (!stop_requested && (max_requests <= 0 || served < max_requests)) {
        struct pollfd p;
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        char peer_ip[INET_ADDRSTRLEN] = "-";
        struct timeval tv;
        int fd;
        p.fd = lfd;
        p.events = POLLIN;
        if (poll(&p, 1, 250) <= 0) continue; /* timeout, or EINTR from a signal */
        if ((fd = accept(lfd, (struct sockaddr *)&peer, &plen)) < 0) continue;
        inet_ntop(AF_INET, &peer.sin_addr, peer_ip, sizeof peer_ip);
        tv.tv_sec = 5;
        tv.tv_usec = 0;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(fd, peer_ip);
        close(fd);
        served++;
    }
    close(lfd);
    OBS_INFO("backend-flask stopping after %ld requests", served);
    obs_shutdown(); /* flushes the spans and logs still queued */
    return 0;
}

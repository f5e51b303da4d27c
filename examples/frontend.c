/* frontend.c -- the course's front end calling the back end: one trace across two processes.
   Teaches: obs_http_client_start / obs_http_client_end (a CLIENT span and the header values
            that carry its context: traceparent, tracestate, X-Amzn-Trace-Id), inside the
            front end's own root span. The back end (examples/backend.c) continues the trace:
            its server span is the child of this client span.
   Run:     ./build/backend &   then   ./build/frontend [URL]
            URL: else BACKEND_URL, else http://127.0.0.1:4567/api/activities/home (http only).
            make demo-distributed does both: the console shows one trace id in both halves.
   Prints the response body on stdout; exit status 0 for a 200, 1 otherwise. */
#define OBS_IMPLEMENTATION
#include "../obs.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Connects to host:port, retrying for up to 3 s while nobody listens yet (the demo starts
   the back end just before). Returns the socket or -1. */
static int connect_to(const char *host, const char *port) {
    struct addrinfo hints, *ai = NULL, *a;
    int fd = -1, tries;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return -1;
    for (tries = 0; fd < 0 && tries < 60; tries++) {
        struct timespec pause = {0, 50 * 1000000L};
        for (a = ai; a && fd < 0; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
            if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
                close(fd);
                fd = -1;
            }
        }
        if (fd < 0 && errno != ECONNREFUSED) break;
        if (fd < 0) nanosleep(&pause, NULL);
    }
    freeaddrinfo(ai);
    return fd;
}

/* GET url with the trace headers; the status (or -1 without a response), the body in *body
   (malloc'd, NUL-terminated). Connection: close, so the body runs to the end of the stream. */
static int http_get(const char *url, const obs_http_headers *h, char **body) {
    char host[256], port[8] = "80", req[2048], *buf = NULL, *sep;
    const char *p, *path;
    size_t len = 0, cap = 0, hl;
    int fd, status = -1, n;
    struct timeval tv = {10, 0};
    *body = NULL;
    if (strncmp(url, "http://", 7) != 0) return -1;
    p = url + 7;
    path = p + strcspn(p, "/");
    hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof host) return -1;
    memcpy(host, p, hl);
    host[hl] = 0;
    if (p[hl] == ':') snprintf(port, sizeof port, "%.*s", (int)(path - (p + hl + 1)), p + hl + 1);
    if ((fd = connect_to(host, port)) < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    n = snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: obs-frontend/" OBS_VERSION_STRING
                 "\r\n"
                 "Accept: application/json\r\ntraceparent: %s\r\n%s%s%sX-Amzn-Trace-Id: %s\r\n"
                 "Connection: close\r\n\r\n",
                 *path ? path : "/", (int)(path - p), p, h->traceparent,
                 h->tracestate[0] ? "tracestate: " : "", h->tracestate,
                 h->tracestate[0] ? "\r\n" : "", h->xray);
    if (n > 0 && (size_t)n < sizeof req && send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
        for (;;) {
            ssize_t got;
            if (cap - len < 4096) {
                char *nb = (char *)realloc(buf, cap = cap ? cap * 2 : 16384);
                if (!nb) break;
                buf = nb;
            }
            got = recv(fd, buf + len, cap - len - 1, 0);
            if (got <= 0) break;
            len += (size_t)got;
        }
    }
    close(fd);
    if (!buf) return -1;
    buf[len] = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) status = -1;
    if (status > 0 && (sep = strstr(buf, "\r\n\r\n")) != NULL) {
        memmove(buf, sep + 4, strlen(sep + 4) + 1);
        *body = buf;
    } else {
        free(buf);
    }
    return status;
}

int main(int argc, char **argv) {
    const char *env_url = getenv("BACKEND_URL");
    const char *url = argc > 1 ? argv[1] : env_url && env_url[0] ? env_url
                                                 : "http://127.0.0.1:4567/api/activities/home";
    obs_config cfg;
    obs_span_opts root_opts;
    obs_http_headers h;
    obs_tracer *tracer;
    obs_span *root, *call;
    char *body = NULL;
    int status;
    obs_result r;

    memset(&cfg, 0, sizeof cfg);
    if (!getenv("OTEL_TRACES_EXPORTER")) cfg.traces_exporter = "console";
    if (!getenv("OTEL_LOGS_EXPORTER")) cfg.logs_exporter = "console";
    if (!getenv("OTEL_SERVICE_NAME")) cfg.service_name = "frontend-react-js";
    if ((r = obs_init(&cfg)) != OBS_OK) {
        fprintf(stderr, "obs_init: %s\n", obs_result_string(r));
        return 1;
    }
    tracer = obs_tracer_get("frontend-react-js.app", "1.0");

    memset(&root_opts, 0, sizeof root_opts);
    root_opts.root = 1;
    root = obs_span_start_ex(tracer, "frontend: load home", &root_opts);
    OBS_INFO("loading the home activities from %s", url);

    call = obs_http_client_start(tracer, "GET", url, &h); /* a child of root; h: its headers */
    status = http_get(url, &h, &body);
    obs_http_client_end(call, status);

    if (status == 200) {
        OBS_INFO("home activities: %lu bytes", (unsigned long)strlen(body));
        printf("%s\n", body);
    } else {
        OBS_ERROR("GET %s: %s %d", url, status < 0 ? "no response" : "status", status);
        obs_span_set_status(root, OBS_STATUS_ERROR, "the back end did not answer 200");
    }
    fflush(stdout);
    free(body);
    obs_span_end(root);
    obs_shutdown();
    return status == 200 ? 0 : 1;
}

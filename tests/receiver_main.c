/* tests/receiver_main.c -- obs-receiver: tests/receiver.h as a command-line OTLP/HTTP receiver.
   obs-receiver [--port P] [--fail-first N] [--status CODE] [--retry-after S] [--reset-first N]
                [--delay-ms MS] [--partial N] [--close] [--chunked] [--garbage] [--huge]
                [--blackhole] [--out FILE] [--exit-after-idle S] [--quiet]
   Prints "listening on 127.0.0.1:P", serves POST /v1/traces, /v1/logs and GET /stats; --out
   appends each accepted JSON body as one line (JSON Lines). On SIGINT/SIGTERM, or after S idle
   seconds, prints "stopped (requests=.. spans=.. logs=..)" and exits 0. Without --quiet, a
   progress line goes to stderr each second the counts change. */
#include "receiver.h"
#include <signal.h>

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* Writes one body as one line: raw CR/LF can only be whitespace in valid JSON. */
static void write_line(void *arg, const char *path, int protobuf, const char *body, size_t len) {
    FILE *f = (FILE *)arg;
    const char *e = body + len, *q;
    (void)path;
    if (protobuf) return;
    for (; body < e; body = q + 1) {
        for (q = body; q < e && *q != '\n' && *q != '\r'; q++) {}
        fwrite(body, 1, (size_t)(q - body), f);
        if (q == e) break;
        fputc(' ', f);
    }
    fputc('\n', f);
    fflush(f);
}

int main(int argc, char **argv) {
    rcv_config cfg = rcv_defaults();
    int idle_s = 0, quiet = 0, i, k;
    const char *out = NULL;
    FILE *f = NULL;
    rcv *r;
    rcv_stats s, last;
    struct sigaction sa;
    struct { const char *name; int *dst; } opts[] = {
        {"--port", &cfg.port}, {"--fail-first", &cfg.fail_first}, {"--status", &cfg.fail_status},
        {"--retry-after", &cfg.retry_after_s}, {"--reset-first", &cfg.reset_first},
        {"--delay-ms", &cfg.delay_ms}, {"--partial", &cfg.partial_rejected},
        {"--exit-after-idle", &idle_s}, {"--close", &cfg.close_after_reply},
        {"--chunked", &cfg.chunked_reply}, {"--garbage", &cfg.garbage_reply},
        {"--huge", &cfg.huge_reply}, {"--blackhole", &cfg.blackhole}, {"--quiet", &quiet}};
    const int nopts = (int)(sizeof opts / sizeof opts[0]), nvalued = 8;
    for (i = 1; i < argc; i++) {
        for (k = 0; k < nopts && strcmp(argv[i], opts[k].name) != 0; k++) {}
        if (k < nvalued && i + 1 < argc) {
            *opts[k].dst = atoi(argv[++i]);
        } else if (k >= nvalued && k < nopts) {
            *opts[k].dst = 1;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else {
            fprintf(stderr, "obs-receiver: bad argument '%s' (see the top of receiver_main.c)\n",
                    argv[i]);
            return 2;
        }
    }
    if (out && !(f = fopen(out, "a"))) {
        perror(out);
        return 2;
    }
    cfg.on_accept = f ? write_line : NULL;
    cfg.on_accept_arg = f;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!(r = rcv_start(&cfg))) {
        fprintf(stderr, "obs-receiver: cannot listen on 127.0.0.1:%d\n", cfg.port);
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", rcv_port(r));
    fflush(stdout);
    memset(&last, 0, sizeof last);
    for (i = 0, s = last; !stop_signal && !(idle_s > 0 && s.idle_ms >= idle_s * 1000L); i++) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        s = rcv_get_stats(r);
        if (!quiet && i % 10 == 9 && s.requests != last.requests) {
            fprintf(stderr, "requests=%ld accepted=%ld spans=%ld logs=%ld MB=%.1f\n",
                    s.requests, s.accepted, s.spans, s.logs, (double)s.bytes / 1e6);
            last = s;
        }
    }
    s = rcv_get_stats(r);
    rcv_stop(r);
    if (f) fclose(f);
    printf("stopped (requests=%ld spans=%ld logs=%ld)\n", s.requests, s.spans, s.logs);
    return 0;
}

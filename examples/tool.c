/* tool.c -- a CPU-bound tool, traced: hashes files (or made-up data) on 4 threads.
   Teaches: insight without a backend. A latency table per span name printed at exit
            (the summary exporter) and a trace file that Perfetto opens (the chrome
            exporter), chosen by name like any exporter; spans at three levels; a parent
            span handed to worker threads (obs_span_opts.parent); an error that shows up in
            both outputs.
   Run:     make build/tool && ./build/tool                 (made-up data, 24 MiB)
            ./build/tool /usr/bin/ls /usr/bin/gcc* big.iso       (real files)
            then open obs-trace.json at https://ui.perfetto.dev (or chrome://tracing)
            OTEL_TRACES_EXPORTER=summary ./build/tool      (the table only)
   Next:    the README's "Insight without a backend" section. */
#define OBS_IMPLEMENTATION
#include "../obs.h"

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>

#define THREADS 4
#define CHUNK (256 * 1024)

static obs_tracer *tracer;
static obs_span *root;          /* the whole run: the parent of every file's span */
static char **names;            /* the files to hash; NULL: made-up inputs */
static int count, next_input;   /* inputs, and the next one a worker takes */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* FNV-1a, 64 bits: simple and byte-at-a-time, so the CPU is what we measure. */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Level 3: one span per chunk. Thousands of small spans: the summary's percentiles. */
static uint64_t hash_chunk(uint64_t h, const unsigned char *p, size_t n) {
    obs_span *s = obs_span_start(tracer, "hash-chunk");
    h = fnv1a(h, p, n);
    obs_span_end(s);
    return h;
}

/* Made-up input i: 1 to 5 MiB of pseudo-random bytes (its own span: "generate"). */
static unsigned char *generate(int i, size_t *n) {
    obs_span *s = obs_span_start(tracer, "generate");
    uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    unsigned char *p;
    size_t k;
    *n = (size_t)(1 + i % 5) << 20;
    p = (unsigned char *)malloc(*n);
    for (k = 0; p && k < *n; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        p[k] = (unsigned char)x;
    }
    obs_span_set_int(s, "bytes", (int64_t)*n);
    obs_span_end(s);
    return p;
}

/* Level 2: one input. Reads a file (or makes data), hashes it a chunk at a time. */
static void hash_input(int i) {
    obs_span_opts o = {0};
    obs_span *s;
    unsigned char *buf = NULL;
    size_t n = 0, off;
    uint64_t h = 0xcbf29ce484222325ULL;
    char hex[17];
    o.parent = root; /* the current span is per thread: name the parent explicitly */
    s = obs_span_start_ex(tracer, "hash-file", &o);
    if (names) {
        FILE *f = fopen(names[i], "rb");
        obs_span_set_str(s, "file.path", names[i]);
        if (!f) {
            obs_span_record_error(s, "open", "cannot open the file"); /* red in Perfetto */
            obs_span_end(s);
            return;
        }
        buf = (unsigned char *)malloc(CHUNK);
        while (buf && (off = fread(buf, 1, CHUNK, f)) > 0) {
            h = hash_chunk(h, buf, off);
            n += off;
        }
        fclose(f);
    } else {
        buf = generate(i, &n);
        for (off = 0; buf && off < n; off += CHUNK) h = hash_chunk(h, buf + off, n - off < CHUNK ? n - off : CHUNK);
    }
    free(buf);
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    obs_span_set_int(s, "file.size", (int64_t)n);
    obs_span_set_str(s, "hash", hex);
    obs_span_end(s);
    printf("%s  %s\n", hex, names ? names[i] : "(made-up input)");
}

/* A worker takes the next input until none is left. */
static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        int i;
        pthread_mutex_lock(&lock);
        i = next_input++;
        pthread_mutex_unlock(&lock);
        if (i >= count) return NULL;
        hash_input(i);
    }
}

int main(int argc, char **argv) {
    pthread_t th[THREADS];
    int i;
    /* The two insight exporters unless the environment chose: the table goes to stderr
       at obs_shutdown, the trace to OBS_TRACE_FILE (default obs-trace.json). */
    obs_config cfg = {0};
    if (!getenv("OTEL_TRACES_EXPORTER")) cfg.traces_exporter = "summary,chrome";
    if (!getenv("OTEL_LOGS_EXPORTER")) cfg.logs_exporter = "none";
    if (!getenv("OTEL_SERVICE_NAME")) cfg.service_name = "hash-tool";
    if (obs_init(&cfg) != OBS_OK) return 1;
    tracer = obs_tracer_get("hash-tool", "1.0");

    names = argc > 1 ? argv + 1 : NULL;
    count = argc > 1 ? argc - 1 : 12;
    root = obs_span_start(tracer, "hash-all"); /* level 1: the run */
    obs_span_set_int(root, "inputs", count);
    obs_span_set_int(root, "threads", THREADS);
    for (i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, worker, NULL);
    for (i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    obs_span_end(root); /* after the workers: its children end first */

    obs_shutdown(); /* writes the rest of the trace, prints the table */
    return 0;
}

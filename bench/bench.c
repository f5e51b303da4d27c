/* bench/bench.c -- obs.h's benchmark: the hot path, the encoder and the whole pipeline.
   Each figure is the median of REPS repetitions, with min and max. Prints one table, and one
   JSON line per case to $OBS_BENCH_JSON when set (bench/compare.sh joins it with the peer's).
   Usage: build/bench [--quick]     (--quick: small counts, for CI's smoke run) */
#include "../tests/receiver.h" /* first: it sets the POSIX feature macros */
#include <stdint.h>
#include <stdlib.h>

/* Count allocations through obs.h's allocator door (case 8). */
static long bench_allocs;
static void *bench_malloc(size_t n) { __atomic_fetch_add(&bench_allocs, 1, __ATOMIC_RELAXED); return malloc(n); }
static void *bench_realloc(void *p, size_t n) { __atomic_fetch_add(&bench_allocs, 1, __ATOMIC_RELAXED); return realloc(p, n); }
#define OBS_MALLOC(n) bench_malloc(n)
#define OBS_REALLOC(p, n) bench_realloc(p, n)
#define OBS_FREE(p) free(p)
#define OBS_IMPLEMENTATION
#include "../obs.h"

#include <sys/resource.h>

#define REPS_MAX 15
static int reps = 5, quick;
static FILE *json_out;

typedef struct result {
    double v[REPS_MAX];
    int n;
} result;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static void report(const char *id, const char *what, const char *unit, result *r, const char *extra) {
    qsort(r->v, (size_t)r->n, sizeof r->v[0], cmp_double);
    printf("%-44s %12.1f %10.1f %10.1f  %-8s %s\n", what, r->v[r->n / 2], r->v[0], r->v[r->n - 1], unit,
           extra ? extra : "");
    if (json_out) {
        fprintf(json_out, "{\"case\":\"%s\",\"unit\":\"%s\",\"median\":%.2f,\"min\":%.2f,\"max\":%.2f,\"n\":%d}\n",
                id, unit, r->v[r->n / 2], r->v[0], r->v[r->n - 1], r->n);
    }
}

static double now_s(void) { return (double)obs__mono_ns() / 1e9; }

/* An exporter that discards: what the caller's thread pays, without the network. */
static obs_result discard_spans(void *u, const obs_span_data *const *s, size_t n, int t) {
    (void)u, (void)s, (void)n, (void)t;
    return OBS_OK;
}
static obs_result discard_logs(void *u, const obs_log_data *const *r, size_t n, int t) {
    (void)u, (void)r, (void)n, (void)t;
    return OBS_OK;
}
static obs_exporter discard = {"discard", discard_spans, discard_logs, NULL, NULL, NULL};

static void start(obs_sampler_kind sampler, obs_exporter *e, const char *exporter) {
    obs_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = exporter ? exporter : "none";
    cfg.logs_exporter = exporter ? exporter : "none";
    cfg.sampler = sampler;
    cfg.spans.max_queue_size = 8192;
    cfg.logs.max_queue_size = 8192;
    cfg.spans.schedule_delay_ms = 50;
    cfg.logs.schedule_delay_ms = 50;
    cfg.span_exporters[0] = e;
    cfg.log_exporters[0] = e;
    if (obs_init(&cfg) != OBS_OK) {
        fprintf(stderr, "bench: obs_init failed\n");
        exit(1);
    }
}

/* Cases 1-3: ns per span (or per parent+child pair) on the calling thread. */
static double run_spans(obs_tracer *t, long n, int nested) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        obs_span *s = obs_span_start(t, "GET /api/activities/home");
        obs_span_set_str(s, "http.route", "/api/activities/home");
        obs_span_set_int(s, "http.response.status_code", 200);
        if (nested) {
            obs_span *c = obs_span_start(t, "home-activities-mock-data");
            obs_span_set_int(c, "app.result_length", 3);
            obs_span_end(c);
        }
        obs_span_end(s);
    }
    return (now_s() - t0) * 1e9 / (double)n;
}

static void case_spans(const char *id, const char *what, obs_sampler_kind sampler, int nested) {
    result r;
    long n = quick ? 20000 : 2000000;
    obs_stats st;
    char extra[96];
    start(sampler, &discard, NULL);
    run_spans(obs_tracer_get("bench", NULL), n / 4, nested); /* warm the pools */
    for (r.n = 0; r.n < reps; r.n++) r.v[r.n] = run_spans(obs_tracer_get("bench", NULL), n, nested);
    obs_flush(0);
    st = obs_get_stats();
    snprintf(extra, sizeof extra, "dropped %llu of %llu", (unsigned long long)st.spans_dropped_queue,
             (unsigned long long)st.spans_ended);
    obs_shutdown();
    report(id, what, "ns/op", &r, sampler == OBS_SAMPLER_ALWAYS_OFF ? "" : extra);
}

static double run_logs(long n, int emitted) {
    double t0 = now_s();
    long i;
    for (i = 0; i < n; i++) {
        if (emitted) OBS_INFO("served %s in %d ms", "/api/activities/home", (int)(i & 1023));
        else OBS_DEBUG("served %s in %d ms", "/api/activities/home", (int)(i & 1023));
    }
    return (now_s() - t0) * 1e9 / (double)n;
}

static void case_logs(const char *id, const char *what, int emitted) {
    result r;
    long n = quick ? 20000 : (emitted ? 2000000 : 50000000);
    obs_stats st;
    char extra[96];
    start(OBS_SAMPLER_ALWAYS_ON, &discard, NULL);
    run_logs(n / 10, emitted);
    for (r.n = 0; r.n < reps; r.n++) r.v[r.n] = run_logs(n, emitted);
    obs_flush(0);
    st = obs_get_stats();
    snprintf(extra, sizeof extra, "dropped %llu of %llu", (unsigned long long)st.logs_dropped_queue,
             (unsigned long long)st.logs_emitted);
    obs_shutdown();
    report(id, what, "ns/op", &r, emitted ? extra : "");
}

/* Case 5: encoding alone (JSON, then protobuf), on batches the pipeline hands an exporter. */
static result enc_rate[2], enc_mbs[2];
static double enc_bytes_per_span[2];
static obs__buf enc_buf;
static obs_result encode_spans(void *u, const obs_span_data *const *s, size_t n, int t) {
    int k, pb, rounds = quick ? 2 : 200;
    (void)u, (void)t;
    if (enc_rate[0].n >= reps || n < 512) return OBS_OK;
    for (pb = 0; pb < 2; pb++) {
        double t0 = now_s(), dt;
        size_t bytes = 0;
        for (k = 0; k < rounds; k++) {
            obs__buf_reset(&enc_buf);
            if (pb) obs__pb_request(&enc_buf, 0, (const void *const *)s, n);
            else obs__otlp_request(&enc_buf, 0, (const void *const *)s, n);
            bytes += enc_buf.len;
        }
        dt = now_s() - t0;
        enc_rate[pb].v[enc_rate[pb].n++] = (double)n * rounds / dt / 1e6;
        enc_mbs[pb].v[enc_mbs[pb].n++] = (double)bytes / dt / 1e6;
        enc_bytes_per_span[pb] = (double)bytes / rounds / (double)n;
    }
    return OBS_OK;
}
static void case_encode(void) {
    obs_exporter enc = {"encode", encode_spans, NULL, NULL, NULL, NULL};
    obs_tracer *t;
    obs_attr ev[1];
    char extra[64];
    long i;
    start(OBS_SAMPLER_ALWAYS_ON, &enc, NULL);
    t = obs_tracer_get("bench", "1.0");
    ev[0] = obs_attr_str("app.detail", "cache miss");
    for (i = 0; i < 512L * reps; i++) {
        obs_span *s = obs_span_start(t, "home-activities-mock-data");
        obs_span_set_str(s, "app.now", "2026-11-29T12:00:00Z");
        obs_span_set_int(s, "app.result_length", 3);
        obs_span_set_double(s, "app.ratio", 0.25);
        obs_span_add_event_attrs(s, "cache", ev, 1);
        obs_span_end(s);
        if (i % 512 == 511) obs_flush(0);
    }
    obs_shutdown();
    snprintf(extra, sizeof extra, "%.0f bytes/span", enc_bytes_per_span[0]);
    report("encode_json", "5a. OTLP/JSON encoding (3 attrs, 1 event)", "Mspans/s", &enc_rate[0], extra);
    report("encode_json_mbs", "    ... in bytes", "MB/s", &enc_mbs[0], "");
    snprintf(extra, sizeof extra, "%.0f bytes/span", enc_bytes_per_span[1]);
    report("encode_protobuf", "5b. OTLP/protobuf encoding (same spans)", "Mspans/s", &enc_rate[1], extra);
    report("encode_protobuf_mbs", "    ... in bytes", "MB/s", &enc_mbs[1], "");
    obs__buf_free(&enc_buf);
}

/* Case 6: N spans through the batch processor and the socket client to a loopback receiver.
   The producer waits while the queue is nearly full, so what is measured is the pipeline's
   throughput, and nothing is dropped. */
static void case_e2e(void) {
    rcv_config rc;
    rcv *rv;
    result r;
    char url[64], extra[96];
    long n = quick ? 20000 : 1000000, lost_total = 0;
    obs_config cfg;
    memset(&rc, 0, sizeof rc);
    rc.retry_after_s = -1;
    if (!(rv = rcv_start(&rc))) {
        fprintf(stderr, "bench: receiver did not start\n");
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", rcv_port(rv));
    for (r.n = 0; r.n < (quick ? 1 : 3); r.n++) {
        obs_tracer *t;
        obs__proc *p;
        long i, before = rcv_get_stats(rv).spans;
        double t0;
        memset(&cfg, 0, sizeof cfg);
        cfg.traces_exporter = "otlp";
        cfg.logs_exporter = "none";
        cfg.otlp_endpoint = url;
        cfg.spans.max_queue_size = 16384;
        cfg.spans.schedule_delay_ms = 20;
        obs_init(&cfg);
        t = obs_tracer_get("bench", "1.0");
        p = obs__g.procs[OBS__SPANS][0];
        t0 = now_s();
        for (i = 0; i < n; i++) {
            obs_span *s = obs_span_start(t, "GET /api/activities/home");
            obs_span_set_str(s, "http.route", "/api/activities/home");
            obs_span_set_int(s, "http.response.status_code", 200);
            obs_span_end(s);
            while (obs__queue_size(&p->q) > 12288) sched_yield();
        }
        obs_flush(30000);
        r.v[r.n] = (double)n / (now_s() - t0);
        obs_shutdown();
        lost_total += n - (rcv_get_stats(rv).spans - before);
    }
    rcv_stop(rv);
    snprintf(extra, sizeof extra, "lost %ld of %ld", lost_total, n * r.n);
    report("e2e", "6. end to end: batch + HTTP to loopback", "spans/s", &r, extra);
    if (json_out) fprintf(json_out, "{\"case\":\"e2e_lost\",\"lost\":%ld}\n", lost_total);
}

/* Case 7: threads creating spans at once. */
typedef struct worker {
    pthread_t tid;
    long n;
} worker;
static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    run_spans(obs_tracer_get("bench", NULL), w->n, 0);
    return NULL;
}
/* Case 7: with the batch processor (the exporter thread shares the cores), and again with
   no processor at all (threads then share nothing: what the machine itself allows). */
static void case_threads(obs_exporter *e) {
    int nt;
    double one = 0;
    for (nt = 1; nt <= 4; nt *= 2) {
        worker w[4];
        result r;
        obs_stats st;
        char what[64], id[32], extra[96];
        int i;
        long n = quick ? 10000 : 1000000;
        start(OBS_SAMPLER_ALWAYS_ON, e, NULL);
        run_spans(obs_tracer_get("bench", NULL), n / 4, 0);
        for (r.n = 0; r.n < reps; r.n++) {
            double t0 = now_s();
            for (i = 0; i < nt; i++) {
                w[i].n = n;
                pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
            }
            for (i = 0; i < nt; i++) pthread_join(w[i].tid, NULL);
            r.v[r.n] = (double)n * nt / (now_s() - t0) / 1e6;
        }
        obs_flush(0);
        st = obs_get_stats();
        obs_shutdown();
        snprintf(what, sizeof what, "7%s %d thread%s creating spans%s", e ? "." : "b.", nt,
                 nt > 1 ? "s" : "", e ? "" : ", no processor");
        snprintf(id, sizeof id, "threads_%s%d", e ? "" : "noproc_", nt);
        qsort(r.v, (size_t)r.n, sizeof r.v[0], cmp_double);
        if (nt == 1) one = r.v[r.n / 2];
        snprintf(extra, sizeof extra, "%.2fx one thread; dropped %llu of %llu", r.v[r.n / 2] / one,
                 (unsigned long long)st.spans_dropped_queue, (unsigned long long)st.spans_ended);
        report(id, what, "Mspans/s", &r, extra);
    }
}

/* Case 8: allocations per span once warm, and peak memory. */
static void case_allocs(void) {
    long n = quick ? 20000 : 1000000, before;
    struct rusage ru;
    char line[160];
    start(OBS_SAMPLER_ALWAYS_ON, &discard, NULL);
    run_spans(obs_tracer_get("bench", NULL), n, 1); /* warm: the pools reach their working size */
    obs_flush(0);
    before = bench_allocs;
    run_spans(obs_tracer_get("bench", NULL), n, 1);
    obs_flush(0);
    obs_shutdown();
    getrusage(RUSAGE_SELF, &ru);
    snprintf(line, sizeof line, "%.4f allocations per span after warm-up (%ld in %ld spans); peak RSS %ld MiB",
             (double)(bench_allocs - before) / (double)(2 * n), bench_allocs - before, 2 * n,
             ru.ru_maxrss / 1024);
    printf("%-44s %s\n", "8. steady state", line);
    if (json_out) fprintf(json_out, "{\"case\":\"allocs_per_span\",\"value\":%.6f,\"peak_rss_mib\":%ld}\n",
                          (double)(bench_allocs - before) / (double)(2 * n), ru.ru_maxrss / 1024);
}

int main(int argc, char **argv) {
    const char *jp = getenv("OBS_BENCH_JSON"), *only = NULL;
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--reps N] [--only 1|2|3|4|5|6|7|8]\n", argv[0]);
            return 2;
        }
    }
    if (quick) reps = 3;
    if (reps < 1 || reps > REPS_MAX) reps = 5;
    if (jp && !(json_out = fopen(jp, "w"))) perror(jp);
    printf("%-44s %12s %10s %10s  %-8s\n", "case (obs.h)", "median", "min", "max", "unit");
#define CASE(k) (!only || strcmp(only, k) == 0) /* one case alone: while working on it */
    if (CASE("1")) case_spans("sampled_span", "1. sampled span, 2 attributes, batch", OBS_SAMPLER_ALWAYS_ON, 0);
    if (CASE("2")) case_spans("unsampled_span", "2. unsampled span (always_off)", OBS_SAMPLER_ALWAYS_OFF, 0);
    if (CASE("3")) case_spans("parent_child", "3. parent + child via current span", OBS_SAMPLER_ALWAYS_ON, 1);
    if (CASE("4")) case_logs("log_filtered", "4a. log below the threshold", 0);
    if (CASE("4")) case_logs("log_emitted", "4b. log emitted, 2 printf args, batch", 1);
    if (CASE("5")) case_encode();
    if (CASE("6")) case_e2e();
    if (CASE("7")) case_threads(&discard);
    if (CASE("7")) case_threads(NULL);
    if (CASE("8")) case_allocs();
    if (json_out) fclose(json_out);
    return 0;
}

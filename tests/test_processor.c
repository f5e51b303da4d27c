/* tests/test_processor.c -- batch and simple processors: batch size and schedule delay
   triggers, flush, queue overflow, shutdown drain, failing exporters, several exporters at
   once, and a user-defined exporter. Run under ASan and TSan too. */
/* A push told to stall between taking its cell and writing it (a thread preempted there). */
static void stall_push(int step);
#define OBS__RING_PUSH_HOOK(step) stall_push(step)
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

static int stall_next_push_ms;
static void stall_push(int step) {
    int ms = step == 1 ? __atomic_exchange_n(&stall_next_push_ms, 0, __ATOMIC_ACQ_REL) : 0;
    if (ms) {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)ms * 1000000L;
        nanosleep(&ts, NULL);
    }
}

static obs_tracer *tr;

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}
/* Polls until the memory exporter holds n spans or ms pass; returns the count. */
static size_t wait_spans(obs_exporter *e, size_t n, int ms) {
    int waited = 0;
    while (obs_memory_exporter_span_count(e) < n && waited < ms) {
        sleep_ms(1);
        waited++;
    }
    return obs_memory_exporter_span_count(e);
}
static void end_spans(int n) {
    int i;
    for (i = 0; i < n; i++) obs_span_end(obs_span_start(tr, "s"));
}

/* A zeroed config with no OTLP and no console, and up to two span exporters. */
static obs_config base_config(obs_exporter *a, obs_exporter *b) {
    obs_config c;
    memset(&c, 0, sizeof c);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.span_exporters[0] = a;
    c.span_exporters[1] = b;
    return c;
}
static void start(const obs_config *c) {
    CHECK(obs_init(c) == OBS_OK);
    tr = obs_tracer_get("test_processor", NULL);
}

static void test_batch_size_triggers_export(void) {
    obs_exporter *mem = obs_memory_exporter_new(1000);
    obs_config c = base_config(mem, NULL);
    c.spans.schedule_delay_ms = 60000; /* never by time in this test */
    c.spans.max_export_batch_size = 10;
    c.spans.max_queue_size = 100;
    start(&c);
    end_spans(10);
    CHECK(wait_spans(mem, 10, 3000) == 10); /* a full batch goes without waiting for the delay */
    end_spans(5);
    sleep_ms(50);
    CHECK(obs_memory_exporter_span_count(mem) == 10); /* half a batch waits */
    CHECK(obs_flush(3000) == OBS_OK);
    CHECK(obs_memory_exporter_span_count(mem) == 15);
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

static void test_schedule_delay_triggers_export(void) {
    obs_exporter *mem = obs_memory_exporter_new(1000);
    obs_config c = base_config(mem, NULL);
    c.spans.schedule_delay_ms = 30;
    start(&c);
    end_spans(3);
    CHECK(wait_spans(mem, 3, 3000) == 3); /* no flush: the delay did it */
    end_spans(2);
    CHECK(wait_spans(mem, 5, 3000) == 5); /* and again */
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

static void test_flush_exports_everything(void) {
    obs_exporter *mem = obs_memory_exporter_new(5000);
    obs_config c = base_config(mem, NULL);
    obs_stats st;
    c.spans.schedule_delay_ms = 60000;
    c.spans.max_export_batch_size = 64;
    start(&c);
    end_spans(1000);
    CHECK(obs_flush(5000) == OBS_OK);
    CHECK(obs_memory_exporter_span_count(mem) == 1000);
    st = obs_get_stats();
    CHECK(st.spans_ended == 1000 && st.spans_exported == 1000 && st.spans_dropped_queue == 0);
    CHECK(obs_flush(1000) == OBS_OK); /* nothing queued: still OK */
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

/* A user exporter: records the names it saw, can be slow or fail. */
typedef struct recorder {
    obs_exporter exp;
    pthread_mutex_t lock;
    char names[64][16];
    int n_names, batches, flushes, shutdowns, sleep_ms;
    size_t max_batch;
    obs_result result;
} recorder;

static obs_result rec_export(void *ud, const obs_span_data *const *spans, size_t n, int timeout_ms) {
    recorder *r = (recorder *)ud;
    size_t i;
    (void)timeout_ms;
    if (r->sleep_ms) sleep_ms(r->sleep_ms);
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < n; i++) {
        if (r->n_names < 64) {
            strncpy(r->names[r->n_names], spans[i]->name, 15);
            r->names[r->n_names][15] = 0;
            r->n_names++;
        }
    }
    r->batches++;
    if (n > r->max_batch) r->max_batch = n;
    pthread_mutex_unlock(&r->lock);
    return r->result;
}
static obs_result rec_flush(void *ud, int timeout_ms) {
    recorder *r = (recorder *)ud;
    (void)timeout_ms;
    pthread_mutex_lock(&r->lock);
    r->flushes++;
    pthread_mutex_unlock(&r->lock);
    return OBS_OK;
}
static void rec_shutdown(void *ud) {
    recorder *r = (recorder *)ud;
    pthread_mutex_lock(&r->lock);
    r->shutdowns++;
    pthread_mutex_unlock(&r->lock);
}
static void rec_init(recorder *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->exp.name = "recorder";
    r->exp.export_spans = rec_export;
    r->exp.flush = rec_flush;
    r->exp.shutdown = rec_shutdown;
    r->exp.user_data = r;
    r->result = OBS_OK;
}

static void test_queue_overflow_counted(void) {
    recorder r;
    obs_config c;
    obs_stats st;
    rec_init(&r);
    r.sleep_ms = 20;
    c = base_config(&r.exp, NULL);
    c.spans.max_queue_size = 8;
    c.spans.max_export_batch_size = 4;
    c.spans.schedule_delay_ms = 5;
    start(&c);
    end_spans(300);
    CHECK(obs_flush(10000) == OBS_OK);
    st = obs_get_stats();
    CHECK(st.spans_ended == 300);
    CHECK(st.spans_dropped_queue > 0);
    CHECK(st.spans_exported + st.spans_dropped_queue == st.spans_ended);
    CHECK(r.max_batch <= 4);
    obs_shutdown();
    st = obs_get_stats();
    CHECK(st.spans_exported + st.spans_dropped_queue == 300);
    pthread_mutex_destroy(&r.lock);
}

static void test_shutdown_drains(void) {
    obs_exporter *mem = obs_memory_exporter_new(1000);
    obs_config c = base_config(mem, NULL);
    obs_stats st;
    c.spans.schedule_delay_ms = 60000;
    c.logs.schedule_delay_ms = 60000;
    c.log_exporters[0] = mem;
    start(&c);
    end_spans(50);
    OBS_INFO("queued log");
    obs_shutdown(); /* everything still queued goes out */
    CHECK(obs_memory_exporter_span_count(mem) == 50);
    CHECK(obs_memory_exporter_log_count(mem) == 1);
    st = obs_get_stats();
    CHECK(st.spans_exported == 50 && st.logs_exported == 1);
    obs_memory_exporter_free(mem);
}

static void test_exporter_error_counted(void) {
    recorder r;
    obs_config c;
    obs_stats st;
    int simple;
    for (simple = 0; simple < 2; simple++) {
        rec_init(&r);
        r.result = OBS_ERR_NET;
        c = base_config(&r.exp, NULL);
        c.simple_processor = simple;
        c.spans.schedule_delay_ms = 60000; /* the flush does the export */
        start(&c);
        end_spans(7);
        if (simple) {
            obs_flush(2000); /* nothing queued: the failures happened in obs_span_end */
        } else {
            /* obs.h documents OBS_ERR_NET (or TIMEOUT) when not everything went out */
            CHECK(obs_flush(2000) == OBS_ERR_NET);
        }
        st = obs_get_stats();
        CHECK(st.spans_ended == 7);
        CHECK(st.spans_dropped_export == 7);
        CHECK(st.spans_exported == 0);
        obs_shutdown();
        pthread_mutex_destroy(&r.lock);
    }
}

static void test_simple_processor_is_synchronous(void) {
    obs_exporter *mem = obs_memory_exporter_new(100);
    obs_config c = base_config(mem, NULL);
    obs_span *s;
    c.simple_processor = 1;
    c.log_exporters[0] = mem;
    start(&c);
    s = obs_span_start(tr, "sync");
    CHECK(obs_memory_exporter_span_count(mem) == 0);
    obs_span_end(s);
    CHECK(obs_memory_exporter_span_count(mem) == 1); /* right away */
    OBS_INFO("sync log");
    CHECK(obs_memory_exporter_log_count(mem) == 1);
    CHECK(obs_get_stats().spans_exported == 1 && obs_get_stats().logs_exported == 1);
    CHECK(obs__g.nprocs[0] == 1 && !obs__g.procs[0][0]->batch); /* white-box: no thread */
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

static void test_two_exporters(void) {
    int simple;
    for (simple = 0; simple < 2; simple++) {
        obs_exporter *m1 = obs_memory_exporter_new(1000), *m2 = obs_memory_exporter_new(1000);
        obs_config c = base_config(m1, m2);
        obs_stats st;
        size_t i;
        c.simple_processor = simple;
        c.spans.schedule_delay_ms = 10;
        c.spans.max_export_batch_size = 16;
        start(&c);
        for (i = 0; i < 200; i++) {
            obs_span *s = obs_span_start(tr, "both");
            obs_span_set_int(s, "i", (int64_t)i);
            obs_span_set_str(s, "pad", "some text that lives in the span's arena");
            obs_span_end(s);
        }
        CHECK(obs_flush(5000) == OBS_OK);
        CHECK(obs_memory_exporter_span_count(m1) == 200 && obs_memory_exporter_span_count(m2) == 200);
        for (i = 0; i < 200 && i < obs_memory_exporter_span_count(m1); i++) {
            const obs_span_data *a = obs_memory_exporter_span(m1, i), *b = obs_memory_exporter_span(m2, i);
            if (memcmp(a->span_id, b->span_id, 8) != 0 || a->n_attrs != 2 || b->n_attrs != 2) break;
        }
        CHECK(i == 200); /* both got every span, whole */
        st = obs_get_stats();
        CHECK(st.spans_ended == 200 && st.spans_exported == 400); /* counted per processor */
        /* pool items come back exactly once: a span started now is a fresh one */
        obs_memory_exporter_clear(m1);
        obs_memory_exporter_clear(m2);
        end_spans(100);
        CHECK(obs_flush(5000) == OBS_OK);
        CHECK(obs_memory_exporter_span_count(m1) == 100 && obs_memory_exporter_span_count(m2) == 100);
        obs_shutdown();
        obs_memory_exporter_free(m1);
        obs_memory_exporter_free(m2);
    }
}

static void test_custom_exporter(void) {
    recorder r;
    obs_config c;
    int i;
    rec_init(&r);
    c = base_config(&r.exp, NULL);
    c.spans.schedule_delay_ms = 60000;
    start(&c);
    obs_span_end(obs_span_start(tr, "alpha"));
    obs_span_end(obs_span_start(tr, "beta"));
    obs_span_end(obs_span_start(tr, "gamma"));
    CHECK(obs_flush(3000) == OBS_OK);
    CHECK(r.n_names == 3);
    CHECK_STR(r.names[0], "alpha");
    CHECK_STR(r.names[1], "beta");
    CHECK_STR(r.names[2], "gamma");
    CHECK(r.flushes >= 1);
    CHECK(r.shutdowns == 0);
    for (i = 0; i < 5; i++) obs_span_end(obs_span_start(tr, "late"));
    obs_shutdown();
    CHECK(r.n_names == 8);
    CHECK(r.shutdowns == 1); /* the user's exporter is shut down once, not freed */
    obs_shutdown();
    CHECK(r.shutdowns == 1);
    pthread_mutex_destroy(&r.lock);
}

static void test_flush_timeout(void) {
    recorder r;
    obs_config c;
    obs_result fr;
    obs_stats st;
    rec_init(&r);
    r.sleep_ms = 300;
    c = base_config(&r.exp, NULL);
    c.spans.schedule_delay_ms = 60000;
    start(&c);
    end_spans(3);
    fr = obs_flush(30); /* the exporter needs 300 ms */
    CHECK(fr == OBS_ERR_TIMEOUT);
    CHECK(obs_flush(5000) == OBS_OK); /* then it finishes */
    st = obs_get_stats();
    CHECK(st.spans_exported == 3);
    CHECK(r.n_names == 3);
    obs_shutdown();
    pthread_mutex_destroy(&r.lock);
}

/* Several threads fill a small queue while the main thread flushes: every span is exported
   or counted as dropped, never both, never lost. */
#define PRODUCERS 4
#define PER_PRODUCER 500
static void *producer(void *arg) {
    (void)arg;
    end_spans(PER_PRODUCER);
    return NULL;
}

static void test_concurrent_overflow_accounting(void) {
    recorder r;
    obs_config c;
    obs_stats st;
    pthread_t th[PRODUCERS];
    int i, flush_ok = 0;
    rec_init(&r);
    r.sleep_ms = 1;
    c = base_config(&r.exp, NULL);
    c.spans.max_queue_size = 64;
    c.spans.max_export_batch_size = 16;
    c.spans.schedule_delay_ms = 2;
    start(&c);
    for (i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, NULL);
    for (i = 0; i < 20; i++) flush_ok += obs_flush(5000) == OBS_OK; /* racing the producers */
    for (i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    CHECK(flush_ok == 20);
    CHECK(obs_flush(5000) == OBS_OK);
    st = obs_get_stats();
    CHECK(st.spans_ended == PRODUCERS * PER_PRODUCER);
    CHECK(st.spans_exported + st.spans_dropped_queue == st.spans_ended);
    CHECK(st.spans_exported > 0);
    obs_shutdown();
    pthread_mutex_destroy(&r.lock);
}

static void test_memory_exporter_capacity(void) {
    obs_exporter *mem = obs_memory_exporter_new(5);
    obs_config c = base_config(mem, NULL);
    c.simple_processor = 1;
    start(&c);
    end_spans(8);
    CHECK(obs_memory_exporter_span_count(mem) == 5);
    CHECK(obs_memory_exporter_overflow(mem) == 3);
    CHECK(obs_memory_exporter_span(mem, 5) == NULL);
    obs_memory_exporter_clear(mem);
    CHECK(obs_memory_exporter_span_count(mem) == 0 && obs_memory_exporter_overflow(mem) == 0);
    end_spans(1);
    CHECK(obs_memory_exporter_span_count(mem) == 1);
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An exporter slower than the export timeout: obs_shutdown still returns in bounded time,
   and what it could not export is counted. */
static void test_shutdown_bounded(void) {
    recorder r;
    obs_config c;
    obs_stats st;
    int64_t t0, took;
    rec_init(&r);
    r.sleep_ms = 150; /* ignores its timeout */
    c = base_config(&r.exp, NULL);
    c.spans.schedule_delay_ms = 60000;
    c.spans.max_export_batch_size = 2;
    c.spans.export_timeout_ms = 100;
    start(&c);
    sleep_ms(20);   /* the batch thread waits for its (long) delay */
    end_spans(20);  /* a full batch wakes it: it drains the backlog, 150 ms a batch */
    sleep_ms(20);
    t0 = now_ms();
    obs_shutdown(); /* must not wait for the whole backlog */
    took = now_ms() - t0;
    CHECK(took < 1000); /* the batch in flight, not 10 batches x 150 ms */
    st = obs_get_stats();
    CHECK(st.spans_ended == 20);
    CHECK(st.spans_exported + st.spans_dropped_export + st.spans_dropped_queue == 20);
    CHECK(st.spans_dropped_export > 0);
    CHECK(r.shutdowns == 1);
    pthread_mutex_destroy(&r.lock);
}

/* Freed items are reused last-freed first: after a burst made the pool big, a steady
   program cycles through a few items (warm in the cache), not through the whole pool. */
static obs_result discard_spans(void *u, const obs_span_data *const *s, size_t n, int t) {
    (void)u, (void)s, (void)n, (void)t;
    return OBS_OK;
}
static int seen_before(obs_span *const *seen, size_t n, const obs_span *s) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (seen[i] == s) return 1;
    }
    return 0;
}
static void test_pool_reuses_recent_items(void) {
    static obs_span *burst[3000], *seen[3000];
    obs_exporter discard = {"discard", discard_spans, NULL, NULL, NULL, NULL};
    obs_config c = base_config(&discard, NULL);
    size_t i, distinct = 0;
    c.simple_processor = 1;
    start(&c);
    for (i = 0; i < 3000; i++) burst[i] = obs_span_start_ex(tr, "burst", NULL);
    for (i = 0; i < 3000; i++) obs_span_end(burst[i]);
    for (i = 0; i < 10000; i++) {
        obs_span *s = obs_span_start(tr, "steady");
        if (distinct < 3000 && !seen_before(seen, distinct, s)) seen[distinct++] = s;
        obs_span_end(s);
    }
    CHECK(distinct <= 64); /* the thread's cache (32) and a refill (16), not 3000 */
    obs_shutdown();
}


/* A batch queue has a lane per thread group (thread id mod OBS__LANES), each holding
   max_queue_size: a thread that fills its lane drops its own spans, not another lane's. */
static int gate_open, gate_entered;
static obs_result gate_export(void *u, const obs_span_data *const *s, size_t n, int t) {
    (void)u, (void)s, (void)n, (void)t;
    __atomic_store_n(&gate_entered, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE)) sleep_ms(1);
    return OBS_OK;
}
static unsigned my_lane(void) { return obs__lane_of(obs__tls_get()); }
typedef struct lane_job {
    int spans;
    uint32_t force_id; /* not 0: the thread's id is set to it (white-box), so its lane is known */
    unsigned lane;
} lane_job;
static void *lane_worker(void *arg) {
    lane_job *j = (lane_job *)arg;
    if (j->force_id) obs__tls_get()->thread_id = j->force_id;
    j->lane = my_lane();
    end_spans(j->spans);
    return NULL;
}
static void test_lanes_hold_a_queue_each(void) {
    obs_exporter gate = {"gate", gate_export, NULL, NULL, NULL, NULL};
    obs_config c = base_config(&gate, NULL);
    lane_job jobs[4];
    size_t queued[OBS__LANES] = {0}, expect_dropped = 0;
    obs_stats st;
    int i;
    gate_open = gate_entered = 0;
    c.spans.max_queue_size = 8;
    c.spans.max_export_batch_size = 1;
    c.spans.schedule_delay_ms = 1;
    start(&c);
    end_spans(1); /* the batch thread takes it and waits at the gate: nothing drains */
    for (i = 0; i < 5000 && !__atomic_load_n(&gate_entered, __ATOMIC_ACQUIRE); i++) sleep_ms(1);
    CHECK(gate_entered);
    for (i = 0; i < 4; i++) { /* one after another: each thread's lane is known */
        pthread_t th;
        jobs[i].spans = 20;
        jobs[i].force_id = 0;
        pthread_create(&th, NULL, lane_worker, &jobs[i]);
        pthread_join(th, NULL);
    }
    for (i = 0; i < 4; i++) {
        size_t room = 8 - queued[jobs[i].lane], take = room < 20 ? room : 20;
        queued[jobs[i].lane] += take;
        expect_dropped += 20 - take;
    }
    st = obs_get_stats();
    CHECK(st.spans_ended == 81);
    CHECK(st.spans_dropped_queue == expect_dropped);
    CHECK(expect_dropped <= 4 * 20 - 8); /* at least one lane took 8 */
    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    CHECK(obs_flush(5000) == OBS_OK); /* waits for every lane */
    st = obs_get_stats();
    CHECK(st.spans_exported + st.spans_dropped_queue == 81);
    obs_shutdown();
}

/* Free items go back to the lane of the thread that wrote them (so they stay in its core's
   cache), and a thread whose lane is empty takes another lane's before the pool grows. */
static size_t lane_free_count(unsigned lane) {
    obs__pool *p = &obs__g.pools[OBS__SPANS];
    uint32_t idx = (uint32_t)p->free[lane].top;
    size_t n = 0;
    while (idx) {
        n++;
        idx = p->below[idx];
    }
    return n;
}
static void test_items_return_to_their_lane(void) {
    obs_exporter discard = {"discard", discard_spans, NULL, NULL, NULL, NULL};
    obs_config c = base_config(&discard, NULL);
    lane_job job;
    pthread_t th;
    size_t allocated, others = 0;
    unsigned i;
    start(&c);
    job.spans = 3000;
    job.force_id = 2; /* not lane 0, where a release that ignored lanes would put everything */
    pthread_create(&th, NULL, lane_worker, &job);
    pthread_join(th, NULL);
    CHECK(obs_flush(5000) == OBS_OK);
    allocated = obs__g.pools[OBS__SPANS].allocated;
    CHECK(allocated >= 32);
    for (i = 0; i < OBS__LANES; i++) {
        if (i != job.lane) others += lane_free_count(i);
    }
    CHECK(job.lane == 2);
    CHECK(lane_free_count(job.lane) == allocated); /* exported ones and the thread's cache */
    CHECK(others == 0);
    { /* this thread, in another lane (white-box: its id moved there): takes the other lane's
         free items, no new slab */
        obs_span *held[32];
        obs__tls *t = obs__tls_get();
        uint32_t id = t->thread_id;
        t->thread_id = job.lane + 2;
        CHECK(my_lane() != job.lane);
        for (i = 0; i < 32; i++) held[i] = obs_span_start_ex(tr, "held", NULL);
        CHECK(obs__g.pools[OBS__SPANS].allocated == allocated);
        CHECK(lane_free_count(job.lane) + 32 == allocated + (size_t)t->ncache[OBS__SPANS]);
        for (i = 0; i < 32; i++) obs_span_end(held[i]);
        t->thread_id = id;
    }
    obs_shutdown();
}

/* The pool's bound: 65,536 items in the program's hands however full the queues are (each
   batch processor adds 4 lanes and a batch). With every lane full and a batch stuck in
   export, 65,536 spans and more still open; past the bound a start returns NULL and is
   counted as ended and dropped, so exported + dropped = ended still holds. */
#define OPEN_MAX 70000
static void test_pool_bound_counted(void) {
    static obs_span *open_spans[OPEN_MAX];
    obs_exporter gate = {"gate", gate_export, NULL, NULL, NULL, NULL};
    obs_config c = base_config(&gate, NULL);
    obs_stats st;
    size_t i, n = 0, refused = 0, held = 1 + 4 * 64, max;
    gate_open = gate_entered = 0;
    c.spans.max_queue_size = 64;
    c.spans.max_export_batch_size = 64;
    c.spans.schedule_delay_ms = 1;
    start(&c);
    max = obs__g.pools[OBS__SPANS].max_items;
    CHECK(max == 65536 + 4 * 64 + 64);
    end_spans(1); /* taken by the batch thread, which waits at the gate */
    for (i = 0; i < 5000 && !__atomic_load_n(&gate_entered, __ATOMIC_ACQUIRE); i++) sleep_ms(1);
    for (i = 0; i < 4; i++) { /* every lane full */
        lane_job j;
        pthread_t th;
        j.spans = 64;
        j.force_id = (uint32_t)(8 + i);
        pthread_create(&th, NULL, lane_worker, &j);
        pthread_join(th, NULL);
    }
    st = obs_get_stats();
    CHECK(st.spans_dropped_queue == 0);
    for (i = 0; i < OPEN_MAX; i++) {
        obs_span *s = obs_span_start_ex(tr, "held", NULL);
        if (s) open_spans[n++] = s;
        else refused++;
    }
    CHECK(n >= 65536 && n + held == max && refused == OPEN_MAX - n);
    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    for (i = 0; i < n; i++) obs_span_end(open_spans[i]);
    CHECK(obs_flush(10000) == OBS_OK);
    st = obs_get_stats();
    CHECK(st.spans_started == OPEN_MAX + held && st.spans_ended == OPEN_MAX + held);
    CHECK(st.spans_exported + st.spans_dropped_queue == st.spans_ended);
    CHECK(st.spans_dropped_queue >= refused);
    CHECK(obs_span_start(tr, "after") != NULL); /* ended spans are free again */
    obs_shutdown();
}

/* A flush waits per lane: items queued later in a busy lane do not stand in for an earlier
   one held up behind an unfinished push in another (white-box, on a queue of its own). */
static void test_flush_marks_per_lane(void) {
    obs__queue q;
    uint64_t marks[OBS__LANES], hole;
    void *out[8];
    int items[4];
    memset(&q, 0, sizeof q);
    CHECK(obs__queue_init(&q, 8));
    hole = q.lane[0].enq++; /* a push to lane 0 has its position but has not written it yet */
    CHECK(obs__ring_push(&q.lane[0], &items[0]) == 2);
    obs__queue_marks(&q, marks);
    CHECK(obs__ring_push(&q.lane[1], &items[1]) == 1); /* after the marks */
    CHECK(obs__ring_push(&q.lane[1], &items[2]) == 2);
    CHECK(obs__queue_pop(&q, out, 8) == 2); /* lane 1's; lane 0 waits at the hole */
    obs__queue_done(&q);
    CHECK(!obs__queue_done_up_to(&q, marks)); /* 2 items handled, 2 marked: still not done */
    q.lane[0].cells[hole & q.lane[0].mask].data = &items[3]; /* the push finishes */
    __atomic_store_n(&q.lane[0].cells[hole & q.lane[0].mask].seq, hole + 1, __ATOMIC_RELEASE);
    CHECK(obs__queue_pop(&q, out, 8) == 2 && out[0] == &items[3] && out[1] == &items[0]);
    obs__queue_done(&q);
    CHECK(obs__queue_done_up_to(&q, marks));
    obs__queue_free(&q);
}


/* A push that took its place in a lane and never wrote it (its thread died there) must not
   hold obs_shutdown past its deadline: the item counts as dropped. */
static void test_shutdown_past_a_hole(void) {
    recorder r;
    obs_config c;
    obs_stats st;
    int64_t t0, took;
    rec_init(&r);
    c = base_config(&r.exp, NULL);
    c.spans.export_timeout_ms = 200;
    start(&c);
    end_spans(3);
    __atomic_fetch_add(&obs__g.procs[OBS__SPANS][0]->q.lane[1].enq, 1, __ATOMIC_ACQ_REL); /* the hole */
    t0 = now_ms();
    alarm(20); /* a shutdown that never returns ends the test program */
    obs_shutdown();
    alarm(0);
    took = now_ms() - t0;
    CHECK(took >= 150 && took < 2000); /* waited for the push, then gave up at the deadline */
    st = obs_get_stats();
    CHECK(st.spans_exported == 3);
    CHECK(st.spans_dropped_export == 1);
    pthread_mutex_destroy(&r.lock);
}

/* A flush waits for a span whose push is slow to write its cell (100 ms), with more than a
   batch of spans of the same lane queued behind it: it returns soon after the push, not at
   the schedule delay (10 s) or its timeout, and the batch thread polls meanwhile, not spins. */
static obs_span *slow_span;
static unsigned slow_lane;
static void *slow_ender(void *arg) {
    (void)arg;
    __atomic_store_n(&slow_lane, obs__lane_of(obs__tls_get()), __ATOMIC_RELEASE);
    __atomic_store_n(&stall_next_push_ms, 100, __ATOMIC_RELEASE);
    obs_span_end(slow_span); /* takes its cell, stalls, then writes it */
    return NULL;
}
static void *lane_mate(void *arg) { /* a thread of the same lane ends 10 spans behind it */
    if (obs__lane_of(obs__tls_get()) == __atomic_load_n(&slow_lane, __ATOMIC_ACQUIRE)) {
        end_spans(10);
        *(int *)arg = 1;
    }
    return NULL;
}
static double cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}
static void test_flush_behind_a_slow_push(void) {
    obs_exporter *mem = obs_memory_exporter_new(1000);
    obs_config c = base_config(mem, NULL);
    pthread_t th, mate;
    int64_t t0, took;
    double cpu0, cpu;
    int i, behind = 0;
    c.spans.schedule_delay_ms = 10000;
    c.spans.max_export_batch_size = 4;
    start(&c);
    slow_span = obs_span_start(tr, "slow");
    sleep_ms(20); /* the batch thread is asleep */
    pthread_create(&th, NULL, slow_ender, NULL);
    sleep_ms(10);
    for (i = 0; i < 8 && !behind; i++) { /* new threads take new ids: one shares the lane */
        pthread_create(&mate, NULL, lane_mate, &behind);
        pthread_join(mate, NULL);
    }
    CHECK(behind);
    cpu0 = cpu_ms(); /* from here the batch thread waits for the slow push */
    t0 = now_ms();
    CHECK(obs_flush(3000) == OBS_OK);
    took = now_ms() - t0;
    cpu = cpu_ms() - cpu0;
    pthread_join(th, NULL);
    CHECK(took < 1000); /* the push finished under 100 ms in */
    CHECK(cpu < 0.6 * (double)took + 5); /* polled: a spin burns the whole wait */
    CHECK(obs_memory_exporter_span_count(mem) == 11);
    /* Again with the slow span alone (less than a batch): the flush must not wait for the
       schedule delay either. */
    slow_span = obs_span_start(tr, "slow");
    pthread_create(&th, NULL, slow_ender, NULL);
    sleep_ms(10);
    t0 = now_ms();
    CHECK(obs_flush(3000) == OBS_OK);
    took = now_ms() - t0;
    pthread_join(th, NULL);
    CHECK(took < 1000);
    CHECK(obs_memory_exporter_span_count(mem) == 12);
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

/* An exporter of both signals that notices two calls at once (its contract: one at a time)
   and counts what it got and how often it was shut down. */
typedef struct both_exp {
    int inside, overlap, shutdowns;
    size_t spans, logs;
} both_exp;
static void both_enter(both_exp *b) {
    if (__atomic_add_fetch(&b->inside, 1, __ATOMIC_ACQ_REL) > 1) __atomic_store_n(&b->overlap, 1, __ATOMIC_RELAXED);
    sleep_ms(1); /* widen the window */
    __atomic_sub_fetch(&b->inside, 1, __ATOMIC_ACQ_REL);
}
static obs_result both_spans(void *u, const obs_span_data *const *s, size_t n, int t) {
    (void)s, (void)t;
    both_enter((both_exp *)u);
    ((both_exp *)u)->spans += n;
    return OBS_OK;
}
static obs_result both_logs(void *u, const obs_log_data *const *r, size_t n, int t) {
    (void)r, (void)t;
    both_enter((both_exp *)u);
    ((both_exp *)u)->logs += n;
    return OBS_OK;
}
static void both_shutdown(void *u) { ((both_exp *)u)->shutdowns++; }

/* One exporter in span_exporters and log_exporters: two batch threads, yet its calls come
   one at a time and it is shut down once, after both are done with it. The same exporter
   twice in one list is used once (each span would go out twice). */
static void test_one_exporter_for_both_signals(void) {
    both_exp b = {0, 0, 0, 0, 0};
    obs_exporter e = {"both", both_spans, both_logs, NULL, both_shutdown, NULL};
    obs_config c;
    int i;
    e.user_data = &b;
    memset(&c, 0, sizeof c);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.span_exporters[0] = &e;
    c.span_exporters[1] = &e;
    c.log_exporters[0] = &e;
    c.spans.max_export_batch_size = c.logs.max_export_batch_size = 4;
    c.spans.schedule_delay_ms = c.logs.schedule_delay_ms = 1;
    setenv("OTEL_LOG_LEVEL", "none", 1); /* the repeat's diagnostic */
    CHECK(obs_init(&c) == OBS_OK);
    unsetenv("OTEL_LOG_LEVEL");
    tr = obs_tracer_get("test", NULL);
    for (i = 0; i < 400; i++) {
        obs_span_end(obs_span_start(tr, "s"));
        OBS_INFO("record %d", i);
    }
    obs_shutdown();
    CHECK(!b.overlap);
    CHECK(b.shutdowns == 1);
    CHECK(b.spans == 400 && b.logs == 400);
    CHECK(obs_get_stats().spans_exported == 400);
}

/* An exporter that logs from inside its span export (it must not; it must not hang either):
   with one exporter for both signals and the simple processor, the record meets the lock
   its own thread holds, and is dropped (counted) at once instead of waiting for itself. */
static int reent_spans_n, reent_logs_n;
static obs_result reent_spans(void *u, const obs_span_data *const *sp, size_t n, int t) {
    (void)u, (void)sp, (void)t;
    reent_spans_n += (int)n;
    OBS_WARN("logged from inside an export");
    return OBS_OK;
}
static obs_result reent_logs(void *u, const obs_log_data *const *r, size_t n, int t) {
    (void)u, (void)r, (void)t;
    reent_logs_n += (int)n;
    return OBS_OK;
}
static void test_exporter_logging_inside_its_export(void) {
    obs_exporter e = {"reentrant", reent_spans, reent_logs, NULL, NULL, NULL};
    obs_config c;
    obs_stats st;
    int64_t t0, ms;
    memset(&c, 0, sizeof c);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.simple_processor = 1;
    c.span_exporters[0] = &e;
    c.log_exporters[0] = &e;
    c.spans.export_timeout_ms = c.logs.export_timeout_ms = 5000;
    reent_spans_n = reent_logs_n = 0;
    CHECK(obs_init(&c) == OBS_OK);
    alarm(20); /* a hang is a failure, not a stuck suite */
    t0 = obs__mono_ms();
    obs_span_end(obs_span_start(obs_tracer_get("test", NULL), "s"));
    ms = obs__mono_ms() - t0;
    alarm(0);
    obs_shutdown();
    st = obs_get_stats();
    CHECK(ms < 1000); /* not the export timeout, waited for itself */
    CHECK(reent_spans_n == 1 && reent_logs_n == 0);
    CHECK(st.logs_emitted == 1 && st.logs_dropped_export == 1); /* dropped, and counted */
}

int main(void) {
    RUN(test_batch_size_triggers_export);
    RUN(test_schedule_delay_triggers_export);
    RUN(test_flush_exports_everything);
    RUN(test_queue_overflow_counted);
    RUN(test_shutdown_drains);
    RUN(test_exporter_error_counted);
    RUN(test_simple_processor_is_synchronous);
    RUN(test_two_exporters);
    RUN(test_custom_exporter);
    RUN(test_flush_timeout);
    RUN(test_concurrent_overflow_accounting);
    RUN(test_memory_exporter_capacity);
    RUN(test_shutdown_bounded);
    RUN(test_shutdown_past_a_hole);
    RUN(test_flush_behind_a_slow_push);
    RUN(test_pool_reuses_recent_items);
    RUN(test_lanes_hold_a_queue_each);
    RUN(test_items_return_to_their_lane);
    RUN(test_pool_bound_counted);
    RUN(test_flush_marks_per_lane);
    RUN(test_one_exporter_for_both_signals);
    RUN(test_exporter_logging_inside_its_export);
    return TEST_EXIT_CODE();
}

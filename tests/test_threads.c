/* tests/test_threads.c -- context per thread: each thread's spans form their own trees, a
   span handed to another thread becomes a parent there, thread exit keeps the counts, and
   everything ends up exported. Run it under -fsanitize=thread too (make test-tsan). */
/* Now and then a push yields between reading the ring's position and its consumer's. */
static void ring_hook(int step);
#define OBS__RING_PUSH_HOOK(step) ring_hook(step)
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <pthread.h>
#include <sched.h>

static unsigned ring_hook_calls;
static void ring_hook(int step) {
    if (step == 0 && (__atomic_add_fetch(&ring_hook_calls, 1, __ATOMIC_RELAXED) & 7) == 0) sched_yield();
}

#define NTHREADS 6
#define ROUNDS 60 /* root -> child -> grandchild per round */

static obs_exporter *mem;
static obs_tracer *tr;

/* Batch processors (the exporter runs on its own thread) with a quick schedule. */
static void setup(void) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(100000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.span_exporters[0] = mem;
    c.log_exporters[0] = mem;
    c.spans.schedule_delay_ms = 10;
    c.spans.max_queue_size = 8192;
    c.logs.schedule_delay_ms = 10;
    c.logs.max_queue_size = 8192;
    CHECK(obs_init(&c) == OBS_OK);
    tr = obs_tracer_get("test_threads", NULL);
}
static void teardown(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}

/* Checks made on worker threads are counted here and checked on the main thread (test.h's
   counters are not atomic). */
static int worker_failures;
static void worker_check(int ok) {
    if (!ok) __atomic_fetch_add(&worker_failures, 1, __ATOMIC_RELAXED);
}

static void grandchild(int64_t id) {
    obs_span *s = obs_span_start(tr, "grandchild");
    obs_span_set_int(s, "thread", id);
    OBS_INFO("in grandchild of thread %d", (int)id);
    obs_span_end(s);
}
static void child(int64_t id) {
    obs_span *s = obs_span_start(tr, "child");
    obs_span_set_int(s, "thread", id);
    grandchild(id);
    worker_check(obs_span_current() == s);
    obs_span_end(s);
}
static void *tree_worker(void *arg) {
    int64_t id = (int64_t)(intptr_t)arg;
    int i;
    worker_check(obs_span_current() == NULL); /* a new thread starts without a span */
    for (i = 0; i < ROUNDS; i++) {
        obs_span *root = obs_span_start(tr, "root");
        obs_span_set_int(root, "thread", id);
        child(id);
        worker_check(obs_span_current() == root);
        obs_span_end(root);
        worker_check(obs_span_current() == NULL);
    }
    return NULL;
}

static int64_t thread_of(const obs_span_data *d) {
    const obs_attr *a = obs_attr_find(d->attrs, d->n_attrs, "thread");
    return a ? a->v.i : -1;
}
static const obs_span_data *by_span_id(const uint8_t *id) {
    size_t i, n = obs_memory_exporter_span_count(mem);
    for (i = 0; i < n; i++) {
        const obs_span_data *d = obs_memory_exporter_span(mem, i);
        if (memcmp(d->span_id, id, 8) == 0) return d;
    }
    return NULL;
}

static const obs_span_data *by_name(const char *name) {
    size_t i, n = obs_memory_exporter_span_count(mem);
    for (i = 0; i < n; i++) {
        const obs_span_data *d = obs_memory_exporter_span(mem, i);
        if (strcmp(d->name, name) == 0) return d;
    }
    return NULL;
}

static void test_trees_per_thread(void) {
    pthread_t th[NTHREADS];
    size_t i, n, roots = 0, bad_parent = 0, cross = 0;
    obs_stats st;
    setup();
    worker_failures = 0;
    for (i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, tree_worker, (void *)(intptr_t)i);
    for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    CHECK(worker_failures == 0);
    CHECK(obs_flush(5000) == OBS_OK);
    n = obs_memory_exporter_span_count(mem);
    CHECK(n == NTHREADS * ROUNDS * 3);
    CHECK(obs_memory_exporter_log_count(mem) == NTHREADS * ROUNDS);
    for (i = 0; i < n; i++) {
        const obs_span_data *d = obs_memory_exporter_span(mem, i);
        const obs_span_data *p;
        if (strcmp(d->name, "root") == 0) {
            roots += !d->has_parent;
            continue;
        }
        p = by_span_id(d->parent_span_id);
        if (!p || memcmp(p->trace_id, d->trace_id, 16) != 0 ||
            strcmp(p->name, strcmp(d->name, "child") == 0 ? "root" : "child") != 0) {
            bad_parent++;
        } else if (thread_of(p) != thread_of(d)) {
            cross++;
        }
    }
    CHECK(roots == NTHREADS * ROUNDS);
    CHECK(bad_parent == 0);
    CHECK(cross == 0); /* no parent from another thread */
    st = obs_get_stats();
    CHECK(st.spans_started == NTHREADS * ROUNDS * 3 && st.spans_ended == NTHREADS * ROUNDS * 3);
    CHECK(st.spans_exported == NTHREADS * ROUNDS * 3);
    CHECK(st.logs_emitted == NTHREADS * ROUNDS && st.logs_exported == NTHREADS * ROUNDS);
    CHECK(st.spans_dropped_queue == 0 && st.logs_dropped_queue == 0);
    teardown();
}

/* A span handed to a worker: activated there, it is the parent of the worker's spans. */
static obs_span *handed;
static void *adopt_worker(void *arg) {
    obs_span *s;
    (void)arg;
    worker_check(obs_span_current() == NULL); /* the main thread's current span is not ours */
    obs_span_activate(handed);
    worker_check(obs_span_current() == handed);
    s = obs_span_start(tr, "worker-child");
    obs_span_end(s);
    obs_span_deactivate(handed);
    worker_check(obs_span_current() == NULL);
    s = obs_span_start(tr, "worker-root");
    obs_span_end(s);
    return NULL;
}

static void test_activate_in_other_thread(void) {
    pthread_t th;
    const obs_span_data *p, *c, *r;
    setup();
    worker_failures = 0;
    handed = obs_span_start(tr, "handed");
    pthread_create(&th, NULL, adopt_worker, NULL);
    pthread_join(th, NULL);
    CHECK(obs_span_current() == handed); /* the worker's activate did not touch ours */
    obs_span_end(handed);
    CHECK(worker_failures == 0);
    CHECK(obs_flush(5000) == OBS_OK);
    p = by_name("handed");
    c = by_name("worker-child");
    r = by_name("worker-root");
    CHECK(p && c && r);
    if (p) CHECK_STR(p->scope->name, "test_threads");
    if (p && c) {
        CHECK(c->has_parent && memcmp(c->parent_span_id, p->span_id, 8) == 0);
        CHECK(memcmp(c->trace_id, p->trace_id, 16) == 0);
    }
    if (r) CHECK(!r->has_parent);
    teardown();
}

/* Threads that just exit: their counts must survive them. */
static void *count_worker(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < 25; i++) {
        obs_span *s = obs_span_start(tr, "short");
        OBS_INFO("one");
        obs_span_end(s);
    }
    obs_span_start(tr, "left-open"); /* started, never ended */
    return NULL;
}

static void test_thread_exit_keeps_counts(void) {
    pthread_t th[NTHREADS];
    int round, i;
    obs_stats st;
    setup();
    for (round = 0; round < 3; round++) { /* later rounds reuse the exited threads' blocks */
        for (i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, count_worker, NULL);
        for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
        st = obs_get_stats();
        CHECK(st.spans_started == (uint64_t)(round + 1) * NTHREADS * 26);
        CHECK(st.spans_ended == (uint64_t)(round + 1) * NTHREADS * 25);
        CHECK(st.logs_emitted == (uint64_t)(round + 1) * NTHREADS * 25);
    }
    CHECK(obs_flush(5000) == OBS_OK);
    st = obs_get_stats();
    CHECK(st.spans_exported == 3 * NTHREADS * 25 && st.logs_exported == 3 * NTHREADS * 25);
    CHECK(obs_memory_exporter_span_count(mem) == 3 * NTHREADS * 25);
    obs_shutdown();
    st = obs_get_stats(); /* still there after shutdown */
    CHECK(st.spans_started == 3 * NTHREADS * 26 && st.spans_exported == 3 * NTHREADS * 25);
    CHECK(st.logs_emitted == 3 * NTHREADS * 25);
    obs_memory_exporter_free(mem);
    mem = NULL;
}

/* A span started (and current) here, ended by another thread. */
static obs_span *to_end;
static void *end_worker(void *arg) {
    (void)arg;
    obs_span_set_str(to_end, "ended.by", "worker");
    obs_span_end(to_end);
    worker_check(obs_span_current() == NULL);
    return NULL;
}

static void test_end_in_other_thread(void) {
    pthread_t th;
    obs_span *outer, *after;
    const obs_span_data *d;
    setup();
    worker_failures = 0;
    outer = obs_span_start(tr, "outer");
    to_end = obs_span_start(tr, "handed-to-end");
    pthread_create(&th, NULL, end_worker, NULL);
    pthread_join(th, NULL);
    CHECK(worker_failures == 0);
    CHECK(obs_span_current() == outer); /* the ended span no longer counts here */
    after = obs_span_start(tr, "after");
    obs_span_end(after);
    obs_span_end(outer);
    CHECK(obs_span_current() == NULL);
    CHECK(obs_flush(5000) == OBS_OK);
    CHECK(obs_memory_exporter_span_count(mem) == 3);
    d = by_name("after");
    CHECK(d && by_name("outer") && memcmp(d->parent_span_id, by_name("outer")->span_id, 8) == 0);
    d = by_name("handed-to-end");
    CHECK(d && obs_attr_find(d->attrs, d->n_attrs, "ended.by") != NULL);
    CHECK(obs_get_stats().spans_ended == 3);
    teardown();
}

/* The queue's ring alone: producers race on a ring of four cells while one consumer pops;
   a full ring is retried. Every item comes out exactly once and the consumer is never stuck
   behind a cell (a producer whose position went stale must still see a full ring). */
#define RING_PRODUCERS 4
#define RING_PUSHES 100000
static obs__ring ring;
static void *ring_producer(void *arg) {
    uintptr_t first = (uintptr_t)arg * RING_PUSHES + 1, i; /* items are 1.. (never NULL) */
    for (i = 0; i < RING_PUSHES; i++) {
        while (!obs__ring_push(&ring, (void *)(first + i))) sched_yield();
    }
    return NULL;
}
static void test_ring_race(void) {
    pthread_t th[RING_PRODUCERS];
    unsigned char *seen = (unsigned char *)calloc(RING_PRODUCERS * RING_PUSHES, 1);
    size_t got = 0, twice = 0, i, n;
    int64_t deadline = obs__mono_ms() + 60000;
    void *out[4];
    CHECK(seen != NULL && obs__ring_init(&ring, 4));
    if (!seen) return;
    for (i = 0; i < RING_PRODUCERS; i++) pthread_create(&th[i], NULL, ring_producer, (void *)(uintptr_t)i);
    while (got < RING_PRODUCERS * RING_PUSHES && obs__mono_ms() < deadline) {
        n = obs__ring_pop_batch(&ring, out, 4);
        for (i = 0; i < n; i++) {
            uintptr_t v = (uintptr_t)out[i] - 1;
            if (v < RING_PRODUCERS * RING_PUSHES && !seen[v]++) got++;
            else twice++;
        }
        if (n == 0) sched_yield();
    }
    CHECK(got == RING_PRODUCERS * RING_PUSHES); /* else stuck: a cell was overwritten */
    CHECK(twice == 0);
    if (got != RING_PRODUCERS * RING_PUSHES) {
        printf("    consumer stuck after %lu of %d items\n", (unsigned long)got, RING_PRODUCERS * RING_PUSHES);
        exit(TEST_EXIT_CODE()); /* the producers cannot finish: do not join them */
    }
    for (i = 0; i < RING_PRODUCERS; i++) pthread_join(th[i], NULL);
    obs__ring_free(&ring);
    free(seen);
}

int main(void) {
    RUN(test_trees_per_thread);
    RUN(test_activate_in_other_thread);
    RUN(test_end_in_other_thread);
    RUN(test_thread_exit_keeps_counts);
    RUN(test_ring_race);
    return TEST_EXIT_CODE();
}

/* tests/test_lifecycle.c -- before obs_init, double init and shutdown, after shutdown,
   init again (a new generation), results, stats, and the scoped-span macros. Cases that
   could crash run in a forked child, so a crash is one failed check, not a dead suite. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <dirent.h>
/* An allocator told to refuse big blocks: obs_init failing half-way (its item pools). */
static size_t refuse_over; /* 0: refuse nothing */
static void *t_malloc(size_t n) { return refuse_over && n > refuse_over ? NULL : malloc(n); }
static void *t_realloc(void *p, size_t n) { return refuse_over && n > refuse_over ? NULL : realloc(p, n); }
#define OBS_MALLOC(n) t_malloc(n)
#define OBS_REALLOC(p, n) t_realloc(p, n)
#define OBS_FREE(p) free(p)
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>

static obs_exporter *mem;
static obs_tracer *tr;

static obs_result setup(void) {
    obs_config c;
    obs_result r;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(1000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.simple_processor = 1;
    c.span_exporters[0] = mem;
    c.log_exporters[0] = mem;
    r = obs_init(&c);
    tr = obs_tracer_get("test_lifecycle", NULL);
    return r;
}
static void teardown(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}

/* 1 when fn runs to its end in a child process (no crash, no sanitizer report). */
static int survives(void (*fn)(void)) {
    int st = 0;
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int side_effects;
static int bump(void) { return ++side_effects; }

/* Every kind of call, none of which may do anything when obs is not running. */
static void all_calls_noop(obs_tracer *t) {
    obs_span_opts o;
    obs_attr a = obs_attr_int("k", 1);
    obs_span *s;
    char buf[128];
    memset(&o, 0, sizeof o);
    o.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    CHECK(obs_tracer_get("x", "1") == NULL);
    CHECK(obs_span_start(t, "s") == NULL);
    CHECK(obs_span_start_ex(t, "s", &o) == NULL);
    CHECK(obs_span_current() == NULL);
    s = obs_span_start(t, "s");
    obs_span_set_attrs(s, &a, 1);
    obs_span_end(s);
    CHECK(obs_span_traceparent(s, buf, sizeof buf) == 0);
    OBS_INFO("not evaluated %d", bump());
    OBS_FATAL("not evaluated %d", bump());
    OBS_INFO_ATTRS(&a, 1, "not evaluated %d", bump());
    CHECK(side_effects == 0);
    obs_log(OBS_LEVEL_FATAL, "nothing");
    obs_log_at(OBS_LEVEL_ERROR, __FILE__, __LINE__, __func__, &a, 1, "nothing");
    obs_report_error("T", "m");
    obs_span_activate(NULL);
    obs_span_deactivate(NULL);
    CHECK(obs_flush(100) == OBS_ERR_STATE);
    CHECK(obs_log_get_level() == OBS_LEVEL_OFF);
}

static void log_level_off_record(void) { obs_log(OBS_LEVEL_OFF, "a record at level OFF"); }

static void test_before_init(void) {
    obs_stats st;
    size_t n = 7;
    all_calls_noop(NULL);
    obs_log_set_level(OBS_LEVEL_TRACE); /* before init: no effect, no crash */
    OBS_TRACE("still nothing %d", bump());
    CHECK(side_effects == 0);
    st = obs_get_stats();
    CHECK(st.spans_started == 0 && st.logs_emitted == 0 && st.spans_exported == 0);
    CHECK(obs_resource(&n) == NULL && n == 0);
    obs_shutdown(); /* before init: nothing to do */
    /* a level at or above OFF is not a reason to touch uninitialised state */
    CHECK(survives(log_level_off_record));
}

static void test_init_twice(void) {
    obs_config other;
    CHECK(setup() == OBS_OK);
    memset(&other, 0, sizeof other);
    other.traces_exporter = "none";
    CHECK(obs_init(&other) == OBS_ERR_STATE);
    CHECK(obs_init(NULL) == OBS_ERR_STATE);
    obs_span_end(obs_span_start(tr, "still-first-config"));
    CHECK(obs_memory_exporter_span_count(mem) == 1); /* the first pipeline is untouched */
    teardown();
}

static void test_shutdown_twice_and_after(void) {
    obs_stats before, after;
    obs_tracer *old;
    CHECK(setup() == OBS_OK);
    old = tr;
    obs_span_end(obs_span_start(tr, "one"));
    OBS_INFO("one log");
    obs_shutdown();
    before = obs_get_stats(); /* kept after shutdown */
    CHECK(before.spans_started == 1 && before.spans_exported == 1);
    CHECK(before.logs_emitted == 1 && before.logs_exported == 1);
    obs_shutdown();
    side_effects = 0;
    all_calls_noop(old); /* even with a tracer from before */
    after = obs_get_stats();
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    CHECK(obs_memory_exporter_span_count(mem) == 1 && obs_memory_exporter_log_count(mem) == 1);
    CHECK(survives(log_level_off_record));
    obs_memory_exporter_free(mem);
    mem = NULL;
}

/* A span still open at obs_shutdown, ended after it: a call after shutdown, a no-op. */
static void end_after_shutdown(void) {
    obs_span *s, *c;
    char buf[128];
    setup();
    s = obs_span_start(tr, "open-at-shutdown");
    c = obs_span_start(tr, "child-open-at-shutdown");
    obs_shutdown();
    obs_span_set_str(c, "k", "v");
    obs_span_add_event(c, "e");
    obs_span_set_status(c, OBS_STATUS_ERROR, "x");
    obs_span_end(c);
    obs_span_traceparent(s, buf, sizeof buf);
    obs_span_end(s);
    obs_memory_exporter_free(mem);
}

static void test_open_span_across_shutdown(void) {
    CHECK(survives(end_after_shutdown));
}

/* ---- a new generation ---- */

static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gen_cond = PTHREAD_COND_INITIALIZER;
static int gen_step; /* 1: worker used gen 1; 2: main re-initialised; 3: worker done */
static int worker_bad;

static void step_wait(int step) {
    pthread_mutex_lock(&gen_lock);
    while (gen_step < step) pthread_cond_wait(&gen_cond, &gen_lock);
    pthread_mutex_unlock(&gen_lock);
}
static void step_set(int step) {
    pthread_mutex_lock(&gen_lock);
    gen_step = step;
    pthread_cond_broadcast(&gen_cond);
    pthread_mutex_unlock(&gen_lock);
}
/* Lives across obs_shutdown + obs_init, with a span left open in generation 1. */
static void *gen_worker(void *arg) {
    obs_span *s;
    (void)arg;
    s = obs_span_start(tr, "worker-gen1-open");
    worker_bad += s == NULL || obs_span_current() != s;
    step_set(1);
    step_wait(2);
    worker_bad += obs_span_current() != NULL; /* gen 1's stack is gone */
    s = obs_span_start(tr, "worker-gen2");
    worker_bad += s == NULL || obs_span_current() != s;
    obs_span_end(s);
    worker_bad += obs_span_current() != NULL;
    step_set(3);
    return NULL;
}

static void test_init_again(void) {
    pthread_t th;
    obs_span *open1, *s;
    const obs_span_data *d;
    obs_stats st;
    gen_step = 0;
    worker_bad = 0;
    CHECK(setup() == OBS_OK);
    pthread_create(&th, NULL, gen_worker, NULL);
    step_wait(1);
    open1 = obs_span_start(tr, "main-gen1-open"); /* left open on purpose */
    CHECK(obs_span_current() == open1);
    obs_span_end(obs_span_start(tr, "gen1-done"));
    teardown();

    CHECK(setup() == OBS_OK); /* generation 2 */
    st = obs_get_stats();
    CHECK(st.spans_started == 0 && st.spans_ended == 0); /* counters start again */
    CHECK(tr != NULL);
    CHECK(obs_span_current() == NULL); /* not gen 1's open span */
    s = obs_span_start(tr, "main-gen2");
    CHECK(obs_span_current() == s);
    OBS_INFO("gen2 log");
    obs_span_end(s);
    CHECK(obs_span_current() == NULL);
    step_set(2);
    step_wait(3);
    pthread_join(th, NULL);
    CHECK(worker_bad == 0);
    CHECK(obs_memory_exporter_span_count(mem) == 2);
    d = obs_memory_exporter_span_count(mem) ? obs_memory_exporter_span(mem, 0) : NULL;
    CHECK(d && !d->has_parent); /* a root: no parent from generation 1 */
    CHECK(obs_memory_exporter_log_count(mem) == 1);
    st = obs_get_stats();
    CHECK(st.spans_started == 2 && st.spans_exported == 2 && st.logs_emitted == 1);
    teardown();
}

static void test_result_strings(void) {
    static const obs_result known[] = {OBS_OK, OBS_ERR_INVALID_ARG, OBS_ERR_NOMEM,
                                       OBS_ERR_QUEUE_FULL, OBS_ERR_NET, OBS_ERR_TIMEOUT,
                                       OBS_ERR_STATE};
    size_t i, j, same = 0;
    for (i = 0; i < sizeof known / sizeof known[0]; i++) {
        const char *s = obs_result_string(known[i]);
        CHECK(s != NULL && s[0] != 0);
        for (j = 0; j < i; j++) same += strcmp(s, obs_result_string(known[j])) == 0;
    }
    CHECK(same == 0); /* each code has its own text */
    CHECK(obs_result_string((obs_result)42) != NULL);
    CHECK(obs_result_string((obs_result)-99) != NULL);
}

/* ---- scoped spans ---- */

static int auto_fn(int early) {
    OBS_SPAN_AUTO(s, tr, "auto");
    CHECK(obs_span_current() == s);
    if (early) return 1; /* the cleanup still ends it */
    obs_span_set_int(s, "reached", 1);
    return 0;
}

static void test_scope_macros(void) {
    obs_span *inside = NULL;
    int i;
    CHECK(setup() == OBS_OK);
    OBS_SPAN_SCOPE(tr, "scoped") {
        inside = obs_span_current();
        CHECK(inside != NULL);
        obs_span_set_int(inside, "k", 1);
    }
    CHECK(obs_span_current() == NULL);
    CHECK(obs_memory_exporter_span_count(mem) == 1);
    for (i = 0; i < 2; i++) auto_fn(i);
    CHECK(obs_span_current() == NULL);
    CHECK(obs_memory_exporter_span_count(mem) == 3);
    if (obs_memory_exporter_span_count(mem) == 3) {
        const obs_span_data *d0 = obs_memory_exporter_span(mem, 0);
        const obs_span_data *d1 = obs_memory_exporter_span(mem, 1);
        const obs_span_data *d2 = obs_memory_exporter_span(mem, 2);
        CHECK_STR(d0->name, "scoped");
        CHECK(obs_attr_find(d0->attrs, d0->n_attrs, "k") != NULL);
        CHECK_STR(d1->name, "auto");
        CHECK(obs_attr_find(d1->attrs, d1->n_attrs, "reached") != NULL);
        CHECK_STR(d2->name, "auto");
        CHECK(obs_attr_find(d2->attrs, d2->n_attrs, "reached") == NULL);
    }
    teardown();
}

/* Nested scopes (unique names per line: no shadowing). */
static void test_nested_scopes(void) {
    CHECK(setup() == OBS_OK);
    OBS_SPAN_SCOPE(tr, "outer") {
        OBS_SPAN_SCOPE(tr, "inner") {
            CHECK(obs_span_current() != NULL);
        }
    }
    CHECK(obs_span_current() == NULL);
    CHECK(obs_memory_exporter_span_count(mem) == 2);
    if (obs_memory_exporter_span_count(mem) == 2) {
        const obs_span_data *inner = obs_memory_exporter_span(mem, 0);
        const obs_span_data *outer = obs_memory_exporter_span(mem, 1);
        CHECK_STR(inner->name, "inner");
        CHECK(inner->has_parent && memcmp(inner->parent_span_id, outer->span_id, 8) == 0);
    }
    teardown();
}

/* fork() in one thread while another runs obs_shutdown (fork is no obs call: allowed). An
   atfork handler registered before obs's runs inside the fork, between obs's prepare and
   parent handlers, and starts the shutdown there: the parent handler must release the locks
   its prepare took though obs is no longer running. In a child process (the handler stays). */
static pthread_t fork_shutter;
static void *shut_down(void *arg) {
    (void)arg;
    obs_shutdown();
    return NULL;
}
static void shutdown_inside_fork(void) {
    struct timespec ts = {0, 200 * 1000000L};
    pthread_create(&fork_shutter, NULL, shut_down, NULL);
    nanosleep(&ts, NULL); /* the shutdown has begun and waits for a processor's lock */
}
static void fork_during_shutdown(void) {
    obs_config c;
    obs_exporter *m = obs_memory_exporter_new(10);
    pid_t pid;
    memset(&c, 0, sizeof c);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.span_exporters[0] = m;
    pthread_atfork(shutdown_inside_fork, NULL, NULL); /* before obs_init registers obs's */
    if (obs_init(&c) != OBS_OK) _exit(2);
    alarm(10); /* a deadlock ends the child with SIGALRM */
    pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, NULL, 0);
    pthread_join(fork_shutter, NULL);
    obs_memory_exporter_free(m);
}
/* In a fresh process (this program again): its atfork handler must come before obs's. */
static void exec_fork_during_shutdown(void) {
    execl("/proc/self/exe", "test_lifecycle", "--fork-during-shutdown", (char *)NULL);
    _exit(127);
}
static void test_fork_during_shutdown(void) { CHECK(survives(exec_fork_during_shutdown)); }

/* Threads of this process (Linux: /proc/self/task); -1 elsewhere. */
static int count_threads(void) {
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}
static int shutdowns;
static void count_shutdown(void *u) { (void)u, shutdowns++; }
/* obs_init out of memory after its processors started: their threads stop, your exporter is
   shut down (once: it serves both signals), and a later obs_init works. */
static void test_failed_init_stops_what_it_started(void) {
    obs_exporter e = {"counted", NULL, NULL, NULL, count_shutdown, NULL};
    obs_config c;
    obs_result r;
    int before = count_threads();
    memset(&c, 0, sizeof c);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.span_exporters[0] = &e;
    c.log_exporters[0] = &e;
    shutdowns = 0;
    refuse_over = 200000; /* the queues fit; the pools' link arrays (256 KiB and more) do not */
    setenv("OTEL_LOG_LEVEL", "none", 1);
    r = obs_init(&c);
    unsetenv("OTEL_LOG_LEVEL");
    refuse_over = 0;
    CHECK(r == OBS_ERR_NOMEM);
    CHECK(count_threads() == before); /* the batch threads were joined */
    CHECK(shutdowns == 1);
    CHECK(setup() == OBS_OK); /* and obs starts again */
    teardown();
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--fork-during-shutdown") == 0) {
        fork_during_shutdown();
        return 0;
    }
    RUN(test_before_init);
    RUN(test_init_twice);
    RUN(test_shutdown_twice_and_after);
    RUN(test_open_span_across_shutdown);
    RUN(test_init_again);
    RUN(test_result_strings);
    RUN(test_scope_macros);
    RUN(test_nested_scopes);
    RUN(test_fork_during_shutdown);
    RUN(test_failed_init_stops_what_it_started);
    return TEST_EXIT_CODE();
}

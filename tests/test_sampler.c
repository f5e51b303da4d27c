/* tests/test_sampler.c -- the spec's samplers: always_on/off, traceidratio (statistically),
   the parent-based ones with local and remote parents, and what an unsampled span still does. */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <stdlib.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static obs_exporter *mem;
static obs_tracer *tr;

#define TP_SAMPLED "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TP_UNSAMPLED "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"

/* obs with sampler (and ratio: 0 = from OTEL_TRACES_SAMPLER_ARG), the memory exporter
   behind a simple processor. */
static void setup(obs_sampler_kind sampler, double ratio) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(30000);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.simple_processor = 1;
    c.sampler = sampler;
    c.sampler_ratio = ratio;
    c.span_exporters[0] = mem;
    CHECK(obs_init(&c) == OBS_OK);
    tr = obs_tracer_get("test_sampler", "1");
}
static void teardown(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
}

/* Starts and ends a span (remote parent tp, or an explicit local parent, or neither) and
   returns whether it was recording (a large negative number when there was no span). */
static int sampled_with(const char *tp, obs_span *parent) {
    obs_span_opts o;
    obs_span *s;
    int rec;
    memset(&o, 0, sizeof o);
    o.traceparent = tp;
    o.parent = parent;
    o.no_activate = 1;
    s = obs_span_start_ex(tr, "s", &o);
    if (!s) return -100000; /* no span at all: makes every count check fail */
    rec = obs_span_is_recording(s);
    obs_span_end(s);
    return rec;
}
static int root_sampled(void) { return sampled_with(NULL, NULL); }
/* Counts the recording spans among n roots. */
static int count_sampled_roots(int n) {
    int i, k = 0;
    for (i = 0; i < n; i++) k += root_sampled();
    return k;
}
/* A recording or non-recording local parent, made with a remote parent's decision. */
static obs_span *local_parent(int sampled) {
    obs_span_opts o;
    memset(&o, 0, sizeof o);
    o.traceparent = sampled ? TP_SAMPLED : TP_UNSAMPLED;
    o.no_activate = 1;
    return obs_span_start_ex(tr, "parent", &o);
}

static void test_always_on_off(void) {
    obs_stats st;
    setup(OBS_SAMPLER_ALWAYS_ON, 0);
    CHECK(count_sampled_roots(100) == 100);
    CHECK(sampled_with(TP_UNSAMPLED, NULL) == 1); /* ignores the parent */
    CHECK(obs_memory_exporter_span_count(mem) == 101);
    teardown();

    setup(OBS_SAMPLER_ALWAYS_OFF, 0);
    CHECK(count_sampled_roots(100) == 0);
    CHECK(sampled_with(TP_SAMPLED, NULL) == 0);
    CHECK(obs_memory_exporter_span_count(mem) == 0);
    st = obs_get_stats();
    CHECK(st.spans_unsampled == 101);
    CHECK(st.spans_started == 0 && st.spans_ended == 0 && st.spans_exported == 0);
    teardown();
}

static void test_ratio_statistics(void) {
    const int n = 20000;
    int k;
    obs_stats st;
    setup(OBS_SAMPLER_TRACEIDRATIO, 0.25);
    k = count_sampled_roots(n);
    /* expected 5000, sd ~61: +-3% of n (600) is ~10 sd */
    CHECK(k > n / 4 - 600 && k < n / 4 + 600);
    CHECK(obs_memory_exporter_span_count(mem) == (size_t)k); /* only sampled ones exported */
    st = obs_get_stats();
    CHECK(st.spans_started == (uint64_t)k);
    CHECK(st.spans_unsampled == (uint64_t)(n - k));
    CHECK(st.spans_exported == (uint64_t)k);
    teardown();
}

static void test_ratio_follows_trace_id(void) {
    /* traceidratio (not parent-based) decides from the trace id alone: the same trace id gives
       the same decision, whatever the parent's flag says */
    char tp[64];
    int i, agree = 0, sampled = 0;
    setup(OBS_SAMPLER_TRACEIDRATIO, 0.5);
    for (i = 0; i < 200; i++) {
        obs_span *s = obs_span_start(tr, "root");
        int a, b;
        obs_span_traceparent(s, tp, sizeof tp);
        a = obs_span_is_recording(s);
        obs_span_end(s);
        tp[53] = '0';
        tp[54] = a ? '0' : '1'; /* the opposite flag */
        b = sampled_with(tp, NULL);
        agree += a == b;
        sampled += a;
    }
    CHECK(agree == 200);
    CHECK(sampled > 50 && sampled < 150);
    teardown();
}

static void test_ratio_zero_and_one(void) {
    setenv("OTEL_TRACES_SAMPLER_ARG", "0", 1); /* obs_config's 0 means "from the environment" */
    setup(OBS_SAMPLER_TRACEIDRATIO, 0);
    CHECK(count_sampled_roots(2000) == 0);
    teardown();
    setup(OBS_SAMPLER_TRACEIDRATIO, 1.0);
    CHECK(count_sampled_roots(2000) == 2000);
    teardown();
    setenv("OTEL_TRACES_SAMPLER_ARG", "1", 1);
    setup(OBS_SAMPLER_TRACEIDRATIO, 0.000001); /* obs_config wins over the environment */
    CHECK(count_sampled_roots(2000) < 10);
    teardown();
    setup(OBS_SAMPLER_TRACEIDRATIO, 7.0); /* above 1: 1 */
    CHECK(count_sampled_roots(500) == 500);
    teardown();
    unsetenv("OTEL_TRACES_SAMPLER_ARG");
    setup(OBS_SAMPLER_TRACEIDRATIO, 0); /* neither: 1.0 */
    CHECK(count_sampled_roots(500) == 500);
    teardown();
}

/* The parent-based decision table for one sampler; root_expect -1: "about half". */
static void check_parent_based(obs_sampler_kind kind, int root_expect) {
    obs_span *p;
    int sampled;
    setup(kind, 0.5);
    if (root_expect >= 0) {
        CHECK(count_sampled_roots(200) == 200 * root_expect);
    } else {
        int k = count_sampled_roots(2000);
        CHECK(k > 800 && k < 1200);
    }
    CHECK(sampled_with(TP_SAMPLED, NULL) == 1);   /* remote sampled parent */
    CHECK(sampled_with(TP_UNSAMPLED, NULL) == 0); /* remote unsampled parent */
    p = local_parent(1);
    CHECK(obs_span_is_recording(p));
    CHECK(sampled_with(NULL, p) == 1); /* local sampled parent */
    obs_span_end(p);
    p = local_parent(0);
    CHECK(!obs_span_is_recording(p));
    CHECK(sampled_with(NULL, p) == 0); /* local unsampled parent */
    obs_span_end(p);
    /* the same through the current span instead of an explicit parent */
    for (sampled = 0; sampled < 2; sampled++) {
        obs_span *c;
        p = local_parent(sampled);
        obs_span_activate(p);
        c = obs_span_start(tr, "child");
        CHECK(obs_span_is_recording(c) == sampled);
        obs_span_end(c);
        obs_span_deactivate(p);
        obs_span_end(p);
    }
    teardown();
}

static void test_parent_based(void) {
    check_parent_based(OBS_SAMPLER_PARENTBASED_ALWAYS_ON, 1);
    check_parent_based(OBS_SAMPLER_PARENTBASED_ALWAYS_OFF, 0);
    check_parent_based(OBS_SAMPLER_PARENTBASED_TRACEIDRATIO, -1);
    check_parent_based(OBS_SAMPLER_DEFAULT, 1); /* parentbased_always_on */
}

static void test_ratio_ignores_parent(void) {
    setup(OBS_SAMPLER_TRACEIDRATIO, 1.0);
    CHECK(sampled_with(TP_UNSAMPLED, NULL) == 1);
    teardown();
    setenv("OTEL_TRACES_SAMPLER_ARG", "0", 1);
    setup(OBS_SAMPLER_TRACEIDRATIO, 0);
    CHECK(sampled_with(TP_SAMPLED, NULL) == 0);
    teardown();
    unsetenv("OTEL_TRACES_SAMPLER_ARG");
}

static int all_zero(const uint8_t *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (p[i]) return 0;
    }
    return 1;
}

static void test_unsampled_still_propagates(void) {
    obs_span *u, *c;
    uint8_t ut[16], us[8], ct[16], cs[8];
    char tp[64];
    obs_span_opts o;
    obs_stats st;
    setup(OBS_SAMPLER_PARENTBASED_ALWAYS_OFF, 0);
    u = obs_span_start(tr, "unsampled-root");
    CHECK(u != NULL && !obs_span_is_recording(u));
    CHECK(obs_span_current() == u); /* it carries context */
    obs_span_ids(u, ut, us);
    CHECK(!all_zero(ut, 16) && !all_zero(us, 8));
    CHECK(obs_span_traceparent(u, tp, sizeof tp) == 55);
    CHECK(strcmp(tp + 53, "00") == 0);
    c = obs_span_start(tr, "unsampled-child");
    CHECK(c != NULL && !obs_span_is_recording(c));
    obs_span_ids(c, ct, cs);
    CHECK(memcmp(ut, ct, 16) == 0);           /* the trace goes on */
    CHECK(memcmp(us, cs, 8) != 0 && !all_zero(cs, 8));
    CHECK(memcmp(c->d.parent_span_id, us, 8) == 0); /* white-box: its parent is u */
    obs_span_end(c);
    CHECK(obs_span_current() == u);
    obs_span_end(u);
    CHECK(obs_span_current() == NULL);
    /* an unsampled remote parent's tracestate travels on */
    memset(&o, 0, sizeof o);
    o.traceparent = TP_UNSAMPLED;
    o.tracestate = "rojo=00f067aa0ba902b7";
    u = obs_span_start_ex(tr, "remote-unsampled", &o);
    CHECK_STR(obs_span_tracestate(u), "rojo=00f067aa0ba902b7");
    c = obs_span_start(tr, "its-child");
    CHECK_STR(obs_span_tracestate(c), "rojo=00f067aa0ba902b7");
    CHECK(obs_span_traceparent(c, tp, sizeof tp) == 55);
    CHECK(strncmp(tp, "00-0af7651916cd43dd8448eb211c80319c-", 36) == 0 && strcmp(tp + 53, "00") == 0);
    obs_span_end(c);
    obs_span_end(u);
    /* a remote parent's random flag (0x02) is kept, sampled or not */
    memset(&o, 0, sizeof o);
    o.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03";
    u = obs_span_start_ex(tr, "random-flag", &o);
    CHECK(obs_span_traceparent(u, tp, sizeof tp) == 55 && strcmp(tp + 53, "03") == 0);
    obs_span_end(u);
    st = obs_get_stats();
    CHECK(obs_memory_exporter_span_count(mem) == 1); /* only random-flag, sampled by parent */
    CHECK(st.spans_unsampled == 4);
    CHECK(st.spans_started == 1 && st.spans_ended == 1);
    teardown();
}

static void test_env_sampler_names(void) {
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    setup(OBS_SAMPLER_DEFAULT, 0);
    CHECK(root_sampled() == 0);
    teardown();
    setenv("OTEL_TRACES_SAMPLER", "Parentbased_Always_Off", 1); /* names: any case */
    setup(OBS_SAMPLER_DEFAULT, 0);
    CHECK(root_sampled() == 0);
    CHECK(sampled_with(TP_SAMPLED, NULL) == 1);
    teardown();
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    setup(OBS_SAMPLER_ALWAYS_ON, 0); /* obs_config wins */
    CHECK(root_sampled() == 1);
    teardown();
    setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.5", 1);
    setup(OBS_SAMPLER_DEFAULT, 0);
    {
        int k = count_sampled_roots(2000);
        CHECK(k > 800 && k < 1200);
    }
    teardown();
    unsetenv("OTEL_TRACES_SAMPLER");
    unsetenv("OTEL_TRACES_SAMPLER_ARG");
}

/* Lowercase hex of n bytes into out (2n + 1 chars); returns out. */
static const char *hex(const uint8_t *b, size_t n, char *out) {
    size_t i;
    for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
    return out;
}

/* A dropped span draws its ids only when asked (a child, a header, a log, obs_span_ids):
   every ask gives the same ids, they are valid, and two dropped spans never share one. */
static uint8_t seen_tid[16], seen_sid[8];
static obs_result keep_log_ids(void *u, const obs_log_data *const *r, size_t n, int t) {
    (void)u, (void)t;
    if (n) {
        memcpy(seen_tid, r[n - 1]->trace_id, 16);
        memcpy(seen_sid, r[n - 1]->span_id, 8);
    }
    return OBS_OK;
}
typedef struct child_job {
    obs_span *parent;
    uint8_t trace_id[16], parent_span_id[8];
} child_job;
static void *child_on_another_thread(void *arg) { /* an explicit parent, not made current */
    child_job *j = (child_job *)arg;
    obs_span_opts o;
    obs_span *c;
    memset(&o, 0, sizeof o);
    o.parent = j->parent;
    o.no_activate = 1;
    c = obs_span_start_ex(tr, "remote child", &o);
    obs_span_ids(c, j->trace_id, NULL);
    memcpy(j->parent_span_id, c->d.parent_span_id, 8);
    obs_span_end(c);
    return NULL;
}
static void test_dropped_span_ids_on_demand(void) {
    {
        obs_sampler_kind kinds[3] = {OBS_SAMPLER_ALWAYS_OFF, OBS_SAMPLER_PARENTBASED_ALWAYS_OFF,
                                     OBS_SAMPLER_TRACEIDRATIO};
        int k;
        for (k = 0; k < 3; k++) {
            obs_exporter logs = {"logs", NULL, keep_log_ids, NULL, NULL, NULL};
            obs_config c;
            obs_span *a, *b, *child;
            uint8_t t1[16], s1[8], t2[16], s2[8], tb[16], sb[8], tc[16], sc[8];
            char tp1[64], tp2[64], want[96], th[33], sh[17];
            memset(&c, 0, sizeof c);
            c.traces_exporter = "none";
            c.logs_exporter = "none";
            c.simple_processor = 1;
            c.sampler = kinds[k];
            c.sampler_ratio = 1e-9; /* traceidratio: practically never */
            c.log_exporters[0] = &logs;
            CHECK(obs_init(&c) == OBS_OK);
            tr = obs_tracer_get("test_sampler", "1");
            a = obs_span_start(tr, "a");
            CHECK(a != NULL && !obs_span_is_recording(a));
            obs_span_ids(a, t1, s1);
            obs_span_ids(a, t2, s2);
            CHECK(memcmp(t1, t2, 16) == 0 && memcmp(s1, s2, 8) == 0); /* stable */
            CHECK(!all_zero(t1, 16) && !all_zero(s1, 8));
            CHECK(obs_span_traceparent(a, tp1, sizeof tp1) == 55);
            CHECK(obs_span_traceparent(a, tp2, sizeof tp2) == 55 && strcmp(tp1, tp2) == 0);
            snprintf(want, sizeof want, "00-%s-%s-00", hex(t1, 16, th), hex(s1, 8, sh));
            CHECK_STR(tp1, want);
            OBS_INFO("inside a dropped span");
            CHECK(memcmp(seen_tid, t1, 16) == 0 && memcmp(seen_sid, s1, 8) == 0);
            {
                char xh[128], want_parent[40];
                child_job j;
                pthread_t worker;
                CHECK(obs_span_xray_header(a, xh, sizeof xh) > 0);
                snprintf(want_parent, sizeof want_parent, "Parent=%s;", hex(s1, 8, sh));
                CHECK(strstr(xh, want_parent) != NULL);
                CHECK(strncmp(xh, "Root=1-", 7) == 0 && strncmp(xh + 7, hex(t1, 4, th), 8) == 0);
                j.parent = a;
                pthread_create(&worker, NULL, child_on_another_thread, &j);
                pthread_join(worker, NULL);
                CHECK(memcmp(j.trace_id, t1, 16) == 0 && memcmp(j.parent_span_id, s1, 8) == 0);
            }
            child = obs_span_start(tr, "child"); /* its parent's ids, worked out on demand */
            obs_span_ids(child, tc, sc);
            CHECK(memcmp(tc, t1, 16) == 0 && memcmp(sc, s1, 8) != 0);
            CHECK(memcmp(child->d.parent_span_id, s1, 8) == 0);
            obs_span_end(child);
            obs_span_end(a);
            b = obs_span_start(tr, "b");
            obs_span_ids(b, tb, sb);
            CHECK(memcmp(tb, t1, 16) != 0 && memcmp(sb, s1, 8) != 0); /* a new trace */
            obs_span_end(b);
            obs_shutdown();
        }
    }
}

/* A forked child reseeds its id generator: its spans, recorded or dropped, do not repeat the
   ids the parent draws next. */
static void ids_of_next_span(uint8_t *out) {
    obs_span *sp = obs_span_start(tr, "next");
    obs_span_ids(sp, out, out + 16);
    obs_span_end(sp);
}
static void test_fork_child_draws_new_ids(void) {
    obs_sampler_kind kinds[2] = {OBS_SAMPLER_ALWAYS_ON, OBS_SAMPLER_ALWAYS_OFF};
    int k;
    for (k = 0; k < 2; k++) {
        uint8_t mine[24], theirs[24];
        int fds[2], status = 0;
        pid_t pid;
        setup(kinds[k], 0);
        ids_of_next_span(mine); /* this thread's generator is set up before the fork */
        CHECK(pipe(fds) == 0);
        pid = fork();
        if (pid == 0) {
            ids_of_next_span(theirs);
            _exit(write(fds[1], theirs, sizeof theirs) == (ssize_t)sizeof theirs ? 0 : 1);
        }
        ids_of_next_span(mine);
        CHECK(pid > 0 && read(fds[0], theirs, sizeof theirs) == (ssize_t)sizeof theirs);
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(memcmp(mine, theirs, 16) != 0 && memcmp(mine + 16, theirs + 16, 8) != 0);
        close(fds[0]);
        close(fds[1]);
        teardown();
    }
}

/* An X-Ray header that names a trace but no parent span (Sampled=?) is not a parent: the
   span's parent is the current one, whose decision it follows (not the sampler's for a root). */
static void test_xray_header_without_parent_follows_local_parent(void) {
    obs_span_opts o;
    obs_span *parent, *child;
    uint8_t pt[16], ct[16];
    setup(OBS_SAMPLER_PARENTBASED_TRACEIDRATIO, 1e-9); /* roots: practically never */
    memset(&o, 0, sizeof o);
    o.traceparent = TP_SAMPLED;
    parent = obs_span_start_ex(tr, "parent", &o);
    CHECK(obs_span_is_recording(parent));
    memset(&o, 0, sizeof o);
    o.xray_header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?";
    child = obs_span_start_ex(tr, "child", &o);
    CHECK(obs_span_is_recording(child));
    obs_span_ids(parent, pt, NULL);
    obs_span_ids(child, ct, NULL);
    CHECK(memcmp(pt, ct, 16) == 0);
    obs_span_end(child);
    obs_span_end(parent);
    teardown();
}

int main(void) {
    RUN(test_always_on_off);
    RUN(test_ratio_statistics);
    RUN(test_ratio_follows_trace_id);
    RUN(test_ratio_zero_and_one);
    RUN(test_parent_based);
    RUN(test_ratio_ignores_parent);
    RUN(test_unsampled_still_propagates);
    RUN(test_dropped_span_ids_on_demand);
    RUN(test_fork_child_draws_new_ids);
    RUN(test_xray_header_without_parent_follows_local_parent);
    RUN(test_env_sampler_names);
    return TEST_EXIT_CODE();
}

/* tests/test_crash.c -- crash capture in a child process: stderr holds the FATAL line and a
   backtrace, the child dies of the original signal, the receiver gets the record and the
   errored span when the export had time. Also: exception.stacktrace on record_error. */
#include "receiver.h"
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>

static char *slurp(const char *path) {
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : 0;
    if (fd >= 0) close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* The child: spans and a log line, then the given crash. It reads the receiver's URL from a
   pipe: it is forked before the receiver's threads exist, since a child forked from a
   threaded process may find a lock (an allocator's, under ASan) held forever. */
static void crash_child(int url_fd, const char *errpath, int how) {
    obs_config cfg;
    obs_span *s;
    char url[64];
    ssize_t n = read(url_fd, url, sizeof url - 1);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (n <= 0) _exit(4);
    url[n] = 0;
    dup2(fd, 2);
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "otlp";
    cfg.logs_exporter = "otlp";
    cfg.otlp_endpoint = url;
    cfg.otlp_protocol = "http/json";
    cfg.crash_capture = 1;
    if (obs_init(&cfg) != OBS_OK) _exit(3);
    s = obs_span_start(obs_tracer_get("crash", NULL), "doomed");
    (void)s;
    OBS_WARN("about to crash");
    if (how == SIGSEGV) {
#ifdef OBS_TEST_SANITIZED
        raise(SIGSEGV); /* UBSan would stop a NULL store before the signal */
#else
        volatile int *p = NULL;
        *p = 1;
#endif
    }
    abort();
}

static void run_crash(int sig) {
    rcv_config rc;
    rcv *r;
    char url[64], err[64];
    pid_t pid;
    int status = 0, fds[2];
    const char *out;
    snprintf(err, sizeof err, "/tmp/obs-crash-%d.err", (int)getpid());
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid = fork();
    if (pid == 0) crash_child(fds[0], err, sig);
    memset(&rc, 0, sizeof rc);
    rc.retry_after_s = -1;
    rc.keep_bodies = 1;
    r = rcv_start(&rc);
    CHECK(r != NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", r ? rcv_port(r) : 1);
    CHECK(write(fds[1], url, strlen(url)) == (ssize_t)strlen(url));
    close(fds[0]);
    close(fds[1]);
    waitpid(pid, &status, 0);
    if (!r) return;
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig); /* died of its own signal */
    out = slurp(err);
    CHECK(strstr(out, sig == SIGSEGV ? "obs: FATAL: caught SIGSEGV" : "obs: FATAL: caught SIGABRT") != NULL);
#ifdef OBS__HAVE_BACKTRACE
    CHECK(strstr(out, "[0x") != NULL); /* backtrace_symbols_fd frames */
#endif
    CHECK(rcv_wait_spans(r, 1, 3000));
    CHECK(rcv_get_stats(r).logs == 2); /* the WARN and the FATAL record */
    {
        int i, found_error = 0, found_fatal = 0;
        for (i = 0; i < rcv_count(r); i++) {
            char path[64], *body = NULL;
            size_t len;
            if (!rcv_request(r, i, path, sizeof path, &body, &len)) continue;
            found_error |= strstr(body, "\"status\":{\"code\":2") != NULL;
            found_fatal |= strstr(body, "\"severityNumber\":21") != NULL && strstr(body, "exception.stacktrace") != NULL;
            free(body);
        }
        CHECK(found_error);
        CHECK(found_fatal);
    }
    unlink(err);
    rcv_stop(r);
}

static void segv_is_captured_and_reraised(void) { run_crash(SIGSEGV); }
static void abort_is_captured_and_reraised(void) { run_crash(SIGABRT); }

static void record_error_has_stacktrace(void) {
    obs_config cfg;
    obs_exporter *mem = obs_memory_exporter_new(8);
    const obs_span_data *d;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.simple_processor = 1;
    cfg.span_exporters[0] = mem;
    obs_init(&cfg);
    {
        obs_span *s = obs_span_start(obs_tracer_get("t", NULL), "fails");
        obs_span_record_error(s, "IOError", "disk full");
        obs_span_end(s);
    }
    d = obs_memory_exporter_span(mem, 0);
    CHECK(d && d->n_events == 1 && d->status == OBS_STATUS_ERROR);
#ifdef OBS__HAVE_BACKTRACE
    CHECK(d && obs_attr_find(d->events[0].attrs, d->events[0].n_attrs, "exception.stacktrace") != NULL);
#endif
    obs_shutdown();
    obs_memory_exporter_free(mem);
}

/* A fatal signal in a thread that holds a batch processor's lock (inside obs_flush, say):
   the crash handler's record must not wake the batch thread through that lock (the thread
   would wait for itself). The child dies of its signal, not of the alarm. */
static obs_result discard_logs(void *u, const obs_log_data *const *r, size_t n, int t) {
    (void)u, (void)r, (void)n, (void)t;
    return OBS_OK;
}
static void crash_holding_the_lock_child(void) {
    static obs_exporter discard = {"discard", NULL, discard_logs, NULL, NULL, NULL};
    obs_config cfg;
    obs__proc *p;
    int i;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.log_exporters[0] = &discard;
    cfg.logs.max_export_batch_size = 1; /* every push looks whether to wake the thread */
    cfg.crash_capture = 1;
    if (obs_init(&cfg) != OBS_OK) _exit(3);
    p = obs__g.procs[OBS__LOGS][0];
    OBS_INFO("this thread has obs's state: the crash handler records"); /* exported at once */
    for (i = 0; i < 2000 && !OBS__LOAD(&p->sleeping); i++) obs__sleep_ms(1);
    if (!OBS__LOAD(&p->sleeping)) _exit(5);
    pthread_mutex_lock(&p->lock);
    alarm(10);
    abort();
}
static void crash_while_holding_a_processor_lock(void) {
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        crash_holding_the_lock_child();
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* One exporter for both signals (slow: 50 ms an export), then a crash: the two batch threads
   wake for the crash's flush together and take turns at the exporter; neither gives up its
   batch, so the errored span and the FATAL record both go out. Each export appends a line to
   a file the parent reads. */
static int shared_fd = -1;
static void shared_note(const char *what) {
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    if (write(shared_fd, what, strlen(what)) < 0) _exit(6);
}
static obs_result shared_spans(void *u, const obs_span_data *const *sp, size_t n, int t) {
    size_t i;
    (void)u, (void)t;
    for (i = 0; i < n; i++) {
        if (sp[i]->status == OBS_STATUS_ERROR) shared_note("errored span\n");
    }
    return OBS_OK;
}
static obs_result shared_logs(void *u, const obs_log_data *const *r, size_t n, int t) {
    size_t i;
    (void)u, (void)t;
    for (i = 0; i < n; i++) {
        if (r[i]->level == OBS_LEVEL_FATAL) shared_note("fatal record\n");
    }
    return OBS_OK;
}
static void crash_with_shared_exporter_child(const char *path) {
    static obs_exporter e = {"shared", shared_spans, shared_logs, NULL, NULL, NULL};
    obs_config cfg;
    shared_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.span_exporters[0] = &e;
    cfg.log_exporters[0] = &e;
    cfg.crash_capture = 1;
    if (shared_fd < 0 || obs_init(&cfg) != OBS_OK) _exit(3);
    obs_span_start(obs_tracer_get("crash", NULL), "doomed");
    OBS_INFO("about to crash"); /* a record item the crash handler can reuse (it cannot allocate) */
    alarm(10);
    abort();
}
static void crash_exports_both_signals_through_one_exporter(void) {
    char path[64];
    int status = 0;
    pid_t pid;
    const char *got;
    snprintf(path, sizeof path, "/tmp/obs-crash-shared-%d.txt", (int)getpid());
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        crash_with_shared_exporter_child(path);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    got = slurp(path);
    CHECK(strstr(got, "errored span") != NULL);
    CHECK(strstr(got, "fatal record") != NULL);
    unlink(path);
}

int main(void) {
    RUN(record_error_has_stacktrace);
    RUN(segv_is_captured_and_reraised);
    RUN(abort_is_captured_and_reraised);
    RUN(crash_while_holding_a_processor_lock);
    RUN(crash_exports_both_signals_through_one_exporter);
    return TEST_EXIT_CODE();
}

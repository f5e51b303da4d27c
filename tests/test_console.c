/* tests/test_console.c -- what people read: the console exporter's trees and lines, log
   lines, colour only on a terminal and never with NO_COLOR. */
#define _XOPEN_SOURCE 700 /* posix_openpt: a pseudo-terminal for the colour check */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>

static char out[65536];

/* Runs fn with the console exporter (spans and logs) writing to f; returns what it wrote. */
static const char *capture(FILE *f, int tree, void (*fn)(obs_tracer *)) {
    obs_config cfg;
    obs_exporter *c = obs_console_exporter_new(f, tree);
    size_t n;
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.simple_processor = 1;
    cfg.span_exporters[0] = c;
    cfg.log_exporters[0] = obs_console_exporter_new(f, tree);
    obs_init(&cfg);
    fn(obs_tracer_get("console", NULL));
    obs_shutdown(); /* the console exporters free themselves */
    fflush(f);
    rewind(f);
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    return out;
}

static void request(obs_tracer *t) {
    obs_span_opts o;
    obs_span *root, *child, *leaf;
    memset(&o, 0, sizeof o);
    o.kind = OBS_SPAN_KIND_SERVER;
    root = obs_span_start_ex(t, "GET /api/activities/home", &o);
    obs_span_set_str(root, "http.request.method", "GET");
    child = obs_span_start(t, "home-activities-mock-data");
    obs_span_set_int(child, "app.result_length", 3);
    leaf = obs_span_start(t, "count");
    obs_span_end(leaf);
    obs_span_end(child);
    child = obs_span_start(t, "render");
    obs_span_record_error(child, "ValueError", "bad template");
    obs_span_end(child);
    OBS_INFO("served %d", 3);
    obs_span_end(root);
}

static void tree_shows_nesting_kind_attributes_errors(void) {
    FILE *f = tmpfile();
    const char *s = capture(f, 1, request);
    CHECK(strstr(s, "trace ") != NULL);
    CHECK(strstr(s, "GET /api/activities/home [server]") != NULL);
    CHECK(strstr(s, "http.request.method=\"GET\"") != NULL);
    CHECK(strstr(s, "├─ home-activities-mock-data") != NULL); /* first of two children */
    CHECK(strstr(s, "│  └─ count") != NULL);                 /* its only child */
    CHECK(strstr(s, "└─ render") != NULL);                    /* the last child */
    CHECK(strstr(s, "ERROR bad template") != NULL);
    CHECK(strstr(s, "* exception") != NULL);                  /* the event under its span */
    CHECK(strstr(s, "app.result_length=3") != NULL);
    CHECK(strstr(s, " INFO  served 3") != NULL);               /* the log line */
    CHECK(strstr(s, "\033[") == NULL);                         /* a file: no colour */
    /* order: the root line comes before its children */
    CHECK(strstr(s, "GET /api") < strstr(s, "home-activities-mock-data"));
    fclose(f);
}

static void line_mode_one_line_per_span(void) {
    FILE *f = tmpfile();
    const char *s = capture(f, 0, request);
    const char *p;
    int lines = 0;
    for (p = s; (p = strstr(p, "[trace ")) != NULL; p++) lines++;
    CHECK(lines == 4);
    CHECK(strstr(s, "├─") == NULL && strstr(s, "└─") == NULL);
    fclose(f);
}

static void open_child(obs_tracer *t) {
    obs_span *root = obs_span_start(t, "never-ends");
    obs_span *child = obs_span_start(t, "orphan");
    (void)root;
    obs_span_end(child); /* its root never ends: printed as a line at shutdown */
}
static void orphans_are_printed_at_shutdown(void) {
    FILE *f = tmpfile();
    const char *s = capture(f, 1, open_child);
    CHECK(strstr(s, "[trace ") != NULL && strstr(s, "orphan") != NULL);
    fclose(f);
}

static void log_line_format(obs_tracer *t) {
    obs_attr a[1];
    a[0] = obs_attr_str("user.id", "42");
    (void)t;
    OBS_WARN_ATTRS(a, 1, "disk at %d%%", 91);
}
static void log_line_has_time_level_message_attributes(void) {
    FILE *f = tmpfile();
    const char *s = capture(f, 1, log_line_format);
    /* 2026-11-29T13:40:28.179Z WARN  disk at 91% user.id="42" */
    CHECK(strlen(s) > 24 && s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[23] == 'Z');
    CHECK(strstr(s, " WARN  disk at 91% user.id=\"42\"") != NULL);
    CHECK(strstr(s, "code.") == NULL); /* source location is for machines, not this line */
    CHECK(strstr(s, "trace=") == NULL); /* not in a span */
    fclose(f);
}

/* A terminal: a pseudo-terminal (POSIX posix_openpt) whose other end we read. */
static const char *capture_tty(void (*fn)(obs_tracer *)) {
    int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
    FILE *f;
    ssize_t n;
    out[0] = 0;
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return NULL;
    if ((slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0) return NULL;
    f = fdopen(slave, "w");
    fcntl(master, F_SETFL, O_NONBLOCK);
    {
        obs_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.traces_exporter = "none";
        cfg.logs_exporter = "none";
        cfg.simple_processor = 1;
        cfg.span_exporters[0] = obs_console_exporter_new(f, 1);
        cfg.log_exporters[0] = obs_console_exporter_new(f, 1);
        obs_init(&cfg);
        fn(obs_tracer_get("console", NULL));
        obs_shutdown();
    }
    fflush(f);
    {
        size_t got = 0;
        int idle = 0;
        while (got < sizeof out - 1 && idle < 20) { /* until 20 ms pass without output */
            n = read(master, out + got, sizeof out - 1 - got);
            if (n > 0) {
                got += (size_t)n;
                idle = 0;
            } else {
                struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
                idle++;
            }
        }
        out[got] = 0;
    }
    fclose(f);
    close(master);
    return out;
}
static void colour_only_on_a_terminal_and_never_with_no_color(void) {
    const char *s;
    unsetenv("NO_COLOR");
    s = capture_tty(request);
    if (!s) {
        printf("    (no pseudo-terminal here: colour checks skipped)\n");
        return;
    }
    CHECK(strstr(s, "\033[") != NULL);
    setenv("NO_COLOR", "1", 1);
    s = capture_tty(request);
    CHECK(s && strstr(s, "\033[") == NULL && strstr(s, "GET /api") != NULL);
    unsetenv("NO_COLOR");
}

/* What fd 1 and fd 2 received while fn ran (into out and err_out). */
static char err_out[65536];
static void capture_std(void (*fn)(void)) {
    FILE *o = tmpfile(), *e = tmpfile();
    int saved1 = dup(1), saved2 = dup(2);
    size_t n;
    fflush(NULL);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    fn();
    fflush(NULL);
    dup2(saved1, 1);
    dup2(saved2, 2);
    close(saved1);
    close(saved2);
    rewind(o);
    rewind(e);
    n = fread(out, 1, sizeof out - 1, o);
    out[n] = 0;
    n = fread(err_out, 1, sizeof err_out - 1, e);
    err_out[n] = 0;
    fclose(o);
    fclose(e);
}
static void one_console_for_both(void) {
    obs_config cfg;
    obs_exporter *c = obs_console_exporter_new(NULL, 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.traces_exporter = "none";
    cfg.logs_exporter = "none";
    cfg.span_exporters[0] = c; /* one exporter, both signals, two batch threads */
    cfg.log_exporters[0] = c;
    obs_init(&cfg);
    {
        obs_span *s = obs_span_start(obs_tracer_get("console", NULL), "span-to-stdout");
        OBS_WARN("record-to-stderr");
        obs_span_end(s);
    }
    obs_shutdown(); /* frees the exporter once */
}
/* NULL: spans on stdout, log records on stderr, as the console exporter documents. */
static void null_file_means_stdout_for_spans_stderr_for_logs(void) {
    capture_std(one_console_for_both);
    CHECK(strstr(out, "span-to-stdout") != NULL && strstr(out, "record-to-stderr") == NULL);
    CHECK(strstr(err_out, "record-to-stderr") != NULL && strstr(err_out, "span-to-stdout") == NULL);
}

int main(void) {
    RUN(tree_shows_nesting_kind_attributes_errors);
    RUN(line_mode_one_line_per_span);
    RUN(orphans_are_printed_at_shutdown);
    RUN(log_line_has_time_level_message_attributes);
    RUN(colour_only_on_a_terminal_and_never_with_no_color);
    RUN(null_file_means_stdout_for_spans_stderr_for_logs);
    return TEST_EXIT_CODE();
}

/* tests/test_env.c -- the OpenTelemetry environment: disabling, service name and resource,
   samplers, batch settings, limits, exporter lists; bad values give one diagnostic and the
   default; obs_config wins over the environment. */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <stdlib.h>

static obs_exporter *mem;
static char diag[16384]; /* what obs_init wrote to stderr */

static const char *const vars[] = {
    "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG", "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_EXPORT_TIMEOUT", "OTEL_BLRP_MAX_QUEUE_SIZE", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_EVENT_COUNT_LIMIT", "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "OTEL_TRACES_EXPORTER",
    "OTEL_LOGS_EXPORTER", "OTEL_LOG_LEVEL", "OBS_LOG_LEVEL", "OBS_CONSOLE",
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"};

static void clear_env(void) {
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

/* stderr into a temporary file while obs_init runs. */
static int saved_fd = -1, cap_fd = -1;
static char cap_path[64];
static void capture_begin(void) {
    fflush(stderr);
    strcpy(cap_path, "/tmp/obs_test_env_XXXXXX");
    cap_fd = mkstemp(cap_path);
    saved_fd = dup(2);
    if (cap_fd >= 0) dup2(cap_fd, 2);
}
static void capture_end(char *out, size_t cap) {
    ssize_t n = 0;
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    out[0] = 0;
    if (cap_fd < 0) return;
    lseek(cap_fd, 0, SEEK_SET);
    n = read(cap_fd, out, cap - 1);
    out[n > 0 ? n : 0] = 0;
    close(cap_fd);
    unlink(cap_path);
}
/* Lines of diag that mention needle. */
static int diag_lines(const char *needle) {
    int n = 0;
    const char *line = diag;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[1024];
        if (len >= sizeof buf) len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = 0;
        if (strstr(buf, needle)) n++;
        line += len + (end ? 1 : 0);
    }
    return n;
}
static int diag_count(void) { return diag_lines("obs:"); }

/* obs_init(c) with stderr captured into diag. */
static obs_result start_cfg(obs_config *c) {
    obs_result r;
    capture_begin();
    r = obs_init(c);
    capture_end(diag, sizeof diag);
    return r;
}
/* The usual test set-up: no OTLP, no console; the memory exporter behind batch processors
   (so obs__g.procs[sig][0] carries the batch settings). */
static obs_result start(void) {
    obs_config c;
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(100);
    c.traces_exporter = "none";
    c.logs_exporter = "none";
    c.span_exporters[0] = mem;
    c.log_exporters[0] = mem;
    return start_cfg(&c);
}
static void stop(void) {
    obs_shutdown();
    obs_memory_exporter_free(mem);
    mem = NULL;
    clear_env();
}

static const char *res_str(const char *key) {
    size_t n;
    const obs_attr *res = obs_resource(&n);
    const obs_attr *a = obs_attr_find(res, n, key);
    return a && a->type == OBS_ATTR_STRING ? a->v.s : NULL;
}

static void test_sdk_disabled(void) {
    static const char *const yes[] = {"true", "TRUE", "True"};
    size_t i;
    for (i = 0; i < 3; i++) {
        setenv("OTEL_SDK_DISABLED", yes[i], 1);
        CHECK(start() == OBS_OK);
        CHECK(diag_count() == 0);
        CHECK(obs_tracer_get("x", NULL) == NULL);
        CHECK(obs_span_start(obs_tracer_get("x", NULL), "s") == NULL);
        CHECK(obs_span_current() == NULL);
        OBS_INFO("nothing %d", 1);
        (void)obs_flush(10); /* a no-op: nothing to flush */
        CHECK(obs_get_stats().logs_emitted == 0);
        stop();
    }
    setenv("OTEL_SDK_DISABLED", "yes", 1); /* only "true" disables: one diagnostic */
    CHECK(start() == OBS_OK);
    CHECK(diag_count() == 1 && diag_lines("OTEL_SDK_DISABLED") == 1);
    CHECK(obs_tracer_get("x", NULL) != NULL);
    stop();
    setenv("OTEL_SDK_DISABLED", "false", 1);
    CHECK(start() == OBS_OK);
    CHECK(diag_count() == 0 && obs_tracer_get("x", NULL) != NULL);
    stop();
    setenv("OTEL_SDK_DISABLED", "", 1); /* empty: unset */
    CHECK(start() == OBS_OK);
    CHECK(diag_count() == 0 && obs_tracer_get("x", NULL) != NULL);
    stop();
}

static void test_service_name(void) {
    obs_config c;
    const char *v;
    setenv("OTEL_SERVICE_NAME", "from-service-name", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,team=core", 1);
    CHECK(start() == OBS_OK);
    CHECK_STR(res_str("service.name"), "from-service-name");
    CHECK_STR(res_str("team"), "core");
    stop();

    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs", 1);
    CHECK(start() == OBS_OK);
    CHECK_STR(res_str("service.name"), "from-attrs");
    stop();

    setenv("OTEL_SERVICE_NAME", "", 1); /* empty: unset */
    CHECK(start() == OBS_OK);
    v = res_str("service.name");
    CHECK(v && strncmp(v, "unknown_service:", 16) == 0 && strstr(v, "test_env") != NULL);
    CHECK(diag_count() == 0);
    {
        size_t n;
        const obs_attr *res = obs_resource(&n);
        CHECK(res && n > 0 && strcmp(res[0].key, "service.name") == 0); /* first */
    }
    stop();

    setenv("OTEL_SERVICE_NAME", "from-env", 1);
    memset(&c, 0, sizeof c);
    c.traces_exporter = c.logs_exporter = "none";
    c.service_name = "from-config";
    CHECK(start_cfg(&c) == OBS_OK);
    CHECK_STR(res_str("service.name"), "from-config");
    obs_shutdown();
    clear_env();
}

static void test_resource_attributes(void) {
    obs_config c;
    setenv("OTEL_RESOURCE_ATTRIBUTES",
           "deployment.environment=prod%20eu, team = a%2Cb ,empty=,pct=100%25,,utf8=%C3%A9", 1);
    CHECK(start() == OBS_OK);
    CHECK(diag_count() == 0);
    CHECK_STR(res_str("deployment.environment"), "prod eu");
    CHECK_STR(res_str("team"), "a,b");
    CHECK_STR(res_str("empty"), "");
    CHECK_STR(res_str("pct"), "100%");
    CHECK_STR(res_str("utf8"), "\xC3\xA9");
    stop();

    /* one bad escape discards the whole variable, with one diagnostic */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "good=1,bad=%zz,later=2", 1);
    CHECK(start() == OBS_OK);
    CHECK(res_str("good") == NULL && res_str("later") == NULL);
    CHECK(diag_count() == 1 && diag_lines("OTEL_RESOURCE_ATTRIBUTES") == 1);
    CHECK(diag_lines("entry 2 (from 1)") == 1); /* which entry, not its (maybe secret) text */
    CHECK(res_str("service.name") != NULL);
    stop();
    setenv("OTEL_RESOURCE_ATTRIBUTES", "good=1,cut=%4", 1);
    CHECK(start() == OBS_OK);
    CHECK(res_str("good") == NULL && diag_count() == 1);
    stop();
    setenv("OTEL_RESOURCE_ATTRIBUTES", "good=1,novalue", 1);
    CHECK(start() == OBS_OK);
    CHECK(res_str("good") == NULL && diag_count() == 1);
    stop();

    /* obs_config's list is added to the environment's */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "a=env,b=env", 1);
    memset(&c, 0, sizeof c);
    c.traces_exporter = c.logs_exporter = "none";
    c.resource_attributes = "b=config,c=config";
    CHECK(start_cfg(&c) == OBS_OK);
    CHECK_STR(res_str("a"), "env");
    CHECK_STR(res_str("b"), "config");
    CHECK_STR(res_str("c"), "config");
    obs_shutdown();
    clear_env();
}

static void test_sdk_resource(void) {
    size_t n = 0;
    const obs_attr *res, *pid;
    CHECK(start() == OBS_OK);
    res = obs_resource(&n);
    CHECK(res != NULL && n >= 6);
    CHECK_STR(res_str("telemetry.sdk.name"), "obs.h");
    CHECK_STR(res_str("telemetry.sdk.language"), "c");
    CHECK_STR(res_str("telemetry.sdk.version"), OBS_VERSION_STRING);
    pid = obs_attr_find(res, n, "process.pid");
    CHECK(pid && pid->type == OBS_ATTR_INT && pid->v.i == (int64_t)getpid());
    CHECK(res_str("host.name") != NULL && res_str("host.name")[0] != 0);
    CHECK(obs_resource(NULL) == res);
    stop();
}

static void test_sampler_env(void) {
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.sampler.kind == OBS_SAMPLER_ALWAYS_OFF && diag_count() == 0);
    stop();
    setenv("OTEL_TRACES_SAMPLER", "xray_magic", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.sampler.kind == OBS_SAMPLER_PARENTBASED_ALWAYS_ON);
    CHECK(diag_count() == 1 && diag_lines("OTEL_TRACES_SAMPLER") == 1);
    stop();
    setenv("OTEL_TRACES_SAMPLER", "", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.sampler.kind == OBS_SAMPLER_PARENTBASED_ALWAYS_ON && diag_count() == 0);
    stop();
    /* OTEL_LOG_LEVEL=error hides warnings */
    setenv("OTEL_TRACES_SAMPLER", "xray_magic", 1);
    setenv("OTEL_LOG_LEVEL", "error", 1);
    CHECK(start() == OBS_OK);
    CHECK(diag_count() == 0);
    stop();
}

static void test_sampler_arg_env(void) {
    static const char *const bad[] = {"abc", "1.5", "-0.1", "0.5x", "nan"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
        setenv("OTEL_TRACES_SAMPLER_ARG", bad[i], 1);
        CHECK(start() == OBS_OK);
        CHECK(obs__g.sampler.threshold == 0); /* ratio 1.0: everything */
        CHECK(diag_count() == 1 && diag_lines("OTEL_TRACES_SAMPLER_ARG") == 1);
        stop();
    }
    setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.sampler.threshold == 0 && diag_count() == 0);
    stop();
    setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.5", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.sampler.threshold == ((uint64_t)1 << 55) && diag_count() == 0);
    stop();
    setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "0", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.sampler.threshold == ((uint64_t)1 << 56) && diag_count() == 0); /* never */
    stop();
}

/* The batch settings the span (sig 0) or log (sig 1) processor got. */
static obs_batch_config batch_cfg(int sig) {
    obs_batch_config b;
    memset(&b, 0, sizeof b);
    CHECK(obs__g.nprocs[sig] == 1);
    if (obs__g.nprocs[sig] >= 1) b = obs__g.procs[sig][0]->cfg;
    return b;
}

static void test_batch_env_defaults(void) {
    obs_batch_config s, l;
    CHECK(start() == OBS_OK);
    s = batch_cfg(0);
    l = batch_cfg(1);
    CHECK(s.schedule_delay_ms == 5000 && s.export_timeout_ms == 30000);
    CHECK(s.max_queue_size == 2048 && s.max_export_batch_size == 512);
    CHECK(l.schedule_delay_ms == 1000 && l.export_timeout_ms == 30000);
    CHECK(l.max_queue_size == 2048 && l.max_export_batch_size == 512);
    CHECK(diag_count() == 0);
    stop();
}

static void test_batch_env_bad_values(void) {
    static const char *const bad[] = {"abc", "-5", "99999999999999999999", "12abc", "1.5"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        obs_batch_config s, l;
        setenv("OTEL_BSP_SCHEDULE_DELAY", bad[i], 1);
        setenv("OTEL_BSP_MAX_QUEUE_SIZE", bad[i], 1);
        setenv("OTEL_BLRP_EXPORT_TIMEOUT", bad[i], 1);
        setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", bad[i], 1);
        CHECK(start() == OBS_OK);
        s = batch_cfg(0);
        l = batch_cfg(1);
        CHECK(s.schedule_delay_ms == 5000 && s.max_queue_size == 2048);
        CHECK(l.export_timeout_ms == 30000 && l.max_export_batch_size == 512);
        CHECK(diag_count() == 4); /* one per bad variable */
        CHECK(diag_lines("OTEL_BSP_SCHEDULE_DELAY") == 1 && diag_lines("OTEL_BSP_MAX_QUEUE_SIZE") == 1);
        CHECK(diag_lines("OTEL_BLRP_EXPORT_TIMEOUT") == 1);
        CHECK(diag_lines("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") == 1);
        stop();
    }
    /* empty values: unset, no diagnostic */
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "", 1);
    setenv("OTEL_BLRP_SCHEDULE_DELAY", "", 1);
    CHECK(start() == OBS_OK);
    CHECK(batch_cfg(0).max_queue_size == 2048 && batch_cfg(1).schedule_delay_ms == 1000);
    CHECK(diag_count() == 0);
    stop();
}

static void test_batch_env_good_values_and_clamp(void) {
    obs_config c;
    obs_batch_config s, l;
    setenv("OTEL_BSP_SCHEDULE_DELAY", "250", 1);
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "0", 1); /* 0: no limit */
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500", 1); /* > queue: clamped, diagnosed */
    setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "64", 1);
    setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "16", 1);
    CHECK(start() == OBS_OK);
    s = batch_cfg(0);
    l = batch_cfg(1);
    CHECK(s.schedule_delay_ms == 250 && s.export_timeout_ms == 0);
    CHECK(s.max_queue_size == 100 && s.max_export_batch_size == 100);
    CHECK(l.max_queue_size == 64 && l.max_export_batch_size == 16);
    CHECK(diag_count() == 1 && diag_lines("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") == 1);
    obs_shutdown();
    obs_memory_exporter_free(mem);

    /* obs_config wins over the environment (variables still set) */
    memset(&c, 0, sizeof c);
    mem = obs_memory_exporter_new(10);
    c.traces_exporter = c.logs_exporter = "none";
    c.span_exporters[0] = mem;
    c.log_exporters[0] = mem;
    c.spans.schedule_delay_ms = 77;
    c.spans.max_queue_size = 300;
    c.spans.max_export_batch_size = 30;
    c.logs.max_queue_size = 10;
    CHECK(start_cfg(&c) == OBS_OK);
    s = batch_cfg(0);
    l = batch_cfg(1);
    CHECK(s.schedule_delay_ms == 77 && s.max_queue_size == 300 && s.max_export_batch_size == 30);
    CHECK(s.export_timeout_ms == 0); /* not given: still from the environment */
    CHECK(l.max_queue_size == 10 && l.max_export_batch_size == 10); /* env 16 > 10: clamped */
    stop();
}

static void test_limit_env(void) {
    obs_config c;
    obs_tracer *tr;
    obs_span *s;
    const obs_span_data *d;
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.limits.attrs == 2 && obs__g.limits.event_attrs == 2 && obs__g.limits.link_attrs == 2);
    CHECK(obs__g.limits.value_len == 4);
    CHECK(obs__g.limits.events == 128 && obs__g.limits.links == 128);
    tr = obs_tracer_get("t", NULL);
    s = obs_span_start(tr, "lim");
    obs_span_set_str(s, "a", "abcdefg");
    obs_span_set_int(s, "b", 1);
    obs_span_set_int(s, "c", 1);
    obs_span_end(s);
    CHECK(obs_flush(2000) == OBS_OK);
    d = obs_memory_exporter_span(mem, 0);
    CHECK(d && d->n_attrs == 2 && d->dropped_attrs == 1);
    CHECK(d && obs_attr_find(d->attrs, d->n_attrs, "a") &&
          strcmp(obs_attr_find(d->attrs, d->n_attrs, "a")->v.s, "abcd") == 0);
    /* the resource is not cut by the span limits */
    CHECK(res_str("telemetry.sdk.language") != NULL && res_str("service.name") &&
          strlen(res_str("service.name")) > 4);
    stop();

    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "5", 1); /* the span-specific one wins for spans */
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "7", 1);
    setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "8", 1);
    setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "9", 1);
    setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "10", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.limits.attrs == 5 && obs__g.limits.events == 7 && obs__g.limits.links == 8);
    CHECK(obs__g.limits.event_attrs == 9 && obs__g.limits.link_attrs == 10);
    CHECK(obs__g.limits.value_len == (size_t)-1); /* no limit */
    CHECK(diag_count() == 0);
    stop();

    /* bad values: one diagnostic each, then the default */
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "lots", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-3", 1);
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "1e3", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs__g.limits.attrs == 128 && obs__g.limits.event_attrs == 128);
    CHECK(obs__g.limits.value_len == (size_t)-1 && obs__g.limits.events == 128);
    CHECK(diag_lines("OTEL_ATTRIBUTE_COUNT_LIMIT") == 1);
    CHECK(diag_lines("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") == 1);
    CHECK(diag_lines("OTEL_SPAN_EVENT_COUNT_LIMIT") == 1);
    CHECK(diag_count() == 3);
    stop();

    /* obs_config wins */
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "2", 1);
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4", 1);
    memset(&c, 0, sizeof c);
    c.traces_exporter = c.logs_exporter = "none";
    c.attribute_count_limit = 20;
    c.attribute_value_length_limit = 40;
    c.event_count_limit = 30;
    CHECK(start_cfg(&c) == OBS_OK);
    CHECK(obs__g.limits.attrs == 20 && obs__g.limits.value_len == 40 && obs__g.limits.events == 30);
    obs_shutdown();
    clear_env();
}

/* Exporters built for the variable value v (spans): names of the processors' exporters. */
static int traces_exporters(const char *v, char *names, size_t cap) {
    obs_config c;
    int i, n;
    memset(&c, 0, sizeof c);
    c.logs_exporter = "none";
    if (v) setenv("OTEL_TRACES_EXPORTER", v, 1);
    CHECK(start_cfg(&c) == OBS_OK);
    names[0] = 0;
    n = obs__g.nprocs[0];
    for (i = 0; i < n; i++) {
        if (i) strncat(names, ",", cap - strlen(names) - 1);
        strncat(names, obs__g.procs[0][i]->exp->name, cap - strlen(names) - 1);
    }
    obs_shutdown();
    clear_env();
    return n;
}

static void test_exporter_lists(void) {
    char names[256];
    CHECK(traces_exporters("none", names, sizeof names) == 0 && diag_count() == 0);
    CHECK(traces_exporters("console,none", names, sizeof names) == 0 && diag_count() == 0);
    CHECK(traces_exporters(" Console , NONE ", names, sizeof names) == 0 && diag_count() == 0);
    CHECK(traces_exporters("console", names, sizeof names) == 1);
    CHECK(strcmp(names, "console") == 0);
    CHECK(traces_exporters("console,bogus", names, sizeof names) == 1);
    CHECK(strcmp(names, "console") == 0);
    CHECK(diag_count() == 1 && diag_lines("bogus") == 1);
    /* nothing known left: the setting is ignored (spec), the default otlp applies */
    CHECK(traces_exporters("bogus", names, sizeof names) == 1 && diag_lines("bogus") == 1);
    CHECK(strcmp(names, "otlp") == 0 && diag_lines("using the default, otlp") == 1);
    CHECK(traces_exporters("otlp", names, sizeof names) == 1 && strcmp(names, "console") != 0);
    CHECK(traces_exporters("otlp,console", names, sizeof names) == 2);
    CHECK(traces_exporters("", names, sizeof names) == 1 && strcmp(names, "console") != 0); /* otlp */
    CHECK(traces_exporters(NULL, names, sizeof names) == 1 && strcmp(names, "console") != 0);
    {   /* obs_config wins */
        obs_config c;
        memset(&c, 0, sizeof c);
        c.traces_exporter = "none";
        c.logs_exporter = "none";
        setenv("OTEL_TRACES_EXPORTER", "console", 1);
        setenv("OTEL_LOGS_EXPORTER", "console", 1);
        CHECK(start_cfg(&c) == OBS_OK);
        CHECK(obs__g.nprocs[0] == 0 && obs__g.nprocs[1] == 0);
        obs_shutdown();
        clear_env();
    }
}

static void test_log_level_env(void) {
    setenv("OBS_LOG_LEVEL", "warn", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs_log_get_level() == OBS_LEVEL_WARN);
    stop();
    setenv("OBS_LOG_LEVEL", "loud", 1);
    CHECK(start() == OBS_OK);
    CHECK(obs_log_get_level() == OBS_LEVEL_INFO);
    CHECK(diag_count() == 1 && diag_lines("OBS_LOG_LEVEL") == 1);
    stop();
    setenv("OTEL_LOG_LEVEL", "chatty", 1);
    CHECK(start() == OBS_OK);
    CHECK(diag_count() == 1 && diag_lines("OTEL_LOG_LEVEL") == 1);
    stop();
}

int main(void) {
    clear_env();
    RUN(test_sdk_disabled);
    RUN(test_service_name);
    RUN(test_resource_attributes);
    RUN(test_sdk_resource);
    RUN(test_sampler_env);
    RUN(test_sampler_arg_env);
    RUN(test_batch_env_defaults);
    RUN(test_batch_env_bad_values);
    RUN(test_batch_env_good_values_and_clamp);
    RUN(test_limit_env);
    RUN(test_exporter_lists);
    RUN(test_log_level_env);
    return TEST_EXIT_CODE();
}

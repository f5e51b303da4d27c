/* obs.h -- v0.1.0 -- tracing and structured logging for C in one header. MIT license: end of file.

   USAGE
     In exactly one .c file:      #define OBS_IMPLEMENTATION
                                  #include "obs.h"
     Everywhere else:             #include "obs.h"
     Link with -lpthread. Needs libc, pthreads and BSD sockets; the `curl` binary only for
     https:// endpoints.

   CONTENTS (each marker is a grep-able section; `make check-toc` keeps this list honest)
     >>decl:config >>decl:types >>decl:setup >>decl:span >>decl:log >>decl:exporter
     >>decl:http >>decl:backends
     >>impl:platform >>impl:buf >>impl:propagation >>impl:state >>impl:json >>impl:attr
     >>impl:context >>impl:sampler >>impl:pool >>impl:span >>impl:log >>impl:processor
     >>impl:otlp >>impl:protobuf >>impl:console >>impl:insight >>impl:transport
     >>impl:exporter >>impl:xray >>impl:http_spans >>impl:rollbar >>impl:cloudwatch
     >>impl:env >>impl:crash >>impl:setup

   QUICK START (the same code as README.md's)
     obs_init(NULL);                                  // configure from OTEL_* variables
     obs_tracer *t = obs_tracer_get("my-app", "1.0");
     obs_span *s = obs_span_start(t, "handle-request");
     obs_span_set_str(s, "user.id", "42");
     OBS_INFO("served %d items", 3);                  // joins the current span
     obs_span_end(s);
     obs_shutdown();                                  // flushes

   CONFIGURATION (compile-time; [global] = same in every file, [impl] = implementation file only)
     OBS_IMPLEMENTATION  [impl]   compile the implementation into this file
     OBS_STATIC          [global] every function static (a private copy per file)
     OBSDEF              [global] linkage of public functions (default extern)
     OBS_DISABLE         [global] every call compiles to nothing
     OBS_MALLOC/OBS_REALLOC/OBS_FREE [impl] allocator (all three or none)
     OBS_ASSERT          [impl]   assert() replacement
     OBS_NO_TSC          [impl]   timestamps from clock_gettime even where the TSC is trusted
     OBS_NO_BACKTRACE    [impl]   no backtrace() (exception.stacktrace, crash capture)
   Compilers: gcc and clang (the lock-free queues need their __atomic builtins); C99 or C++11.

   ENVIRONMENT (OpenTelemetry SDK names; obs_config fields win; empty = unset; bad value:
   one diagnostic, then the default)
     OTEL_SDK_DISABLED                 false   `true` makes every call a no-op
     OTEL_SERVICE_NAME                 -       else service.name from the next, else
                                               unknown_service:<executable>
     OTEL_RESOURCE_ATTRIBUTES          -       k=v,k2=v2 (percent-decoded)
     OTEL_TRACES_EXPORTER              otlp    comma list of otlp, console, summary, chrome, xray,
                                               rollbar, none
     OTEL_LOGS_EXPORTER                otlp    comma list of otlp, console, rollbar,
                                               cloudwatch, none
     OTEL_TRACES_SAMPLER               parentbased_always_on  (+ always_on, always_off,
                                               traceidratio, parentbased_always_off,
                                               parentbased_traceidratio, xray,
                                               parentbased_xray)
     OTEL_TRACES_SAMPLER_ARG           1.0     ratio for the ratio samplers; X-Ray rule
                                               "reservoir=N,rate=R": N traces a second,
                                               then R of the rest (reservoir=1,rate=0.05)
     OTEL_BSP_SCHEDULE_DELAY           5000    ms between batch exports
     OTEL_BSP_EXPORT_TIMEOUT           30000   ms for one export
     OTEL_BSP_MAX_QUEUE_SIZE           2048    spans queued per lane (HOT PATH); more: dropped
     OTEL_BSP_MAX_EXPORT_BATCH_SIZE    512     spans per export
     OTEL_BLRP_*                       1000, 30000, 2048, 512: the same for log records
     OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT none    bytes; strings cut on a UTF-8 boundary
     OTEL_ATTRIBUTE_COUNT_LIMIT        128     also OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
                                               OTEL_SPAN_EVENT_COUNT_LIMIT, _LINK_COUNT_LIMIT,
                                               OTEL_EVENT_/OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
                                               OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT
     OTEL_EXPORTER_OTLP_ENDPOINT       http://localhost:4318  (/v1/traces, /v1/logs appended)
     OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _LOGS_ENDPOINT     used as given
     OTEL_EXPORTER_OTLP_HEADERS (and _TRACES_ / _LOGS_)      k=v,... percent-decoded; secret
     OTEL_EXPORTER_OTLP_TIMEOUT (and _TRACES_ / _LOGS_)      10000 ms per export, retries in
     OTEL_EXPORTER_OTLP_PROTOCOL       http/protobuf, or http/json (and _TRACES_ / _LOGS_); grpc:
                                       a diagnostic, then http/protobuf
     AWS_XRAY_DAEMON_ADDRESS           127.0.0.1:2000  X-Ray exporter: the daemon (UDP)
     OTEL_LOG_LEVEL                    info    obs.h's own diagnostics on stderr
     OBS_LOG_LEVEL                     info    minimum level of obs_log / OBS_INFO ...
     OBS_CONSOLE                       tree    console exporter style: tree or line
     OBS_TRACE_FILE                    obs-trace.json  the chrome exporter's file (Perfetto)
     OBS_CRASH_CAPTURE                 false   `true`: obs_crash_capture() at obs_init
     OBS_ID_GENERATOR                  random  `xray`: trace ids start with the time in seconds
                                               (X-Ray; on anyway with the xray exporter)
     OBS_CURL, OBS_CURL_CACERT         -       the curl binary (https://), a CA bundle for it
     ROLLBAR_ACCESS_TOKEN              -       rollbar exporter: a post_server_item token; secret
     OBS_ROLLBAR_ENDPOINT              https://api.rollbar.com/api/1/item/
     OBS_ROLLBAR_ENVIRONMENT           deployment.environment(.name), else production
     OBS_ROLLBAR_LEVEL                 error   log records at or above it become items
     OBS_ROLLBAR_MAX_PER_MINUTE        30      items a minute; more dropped (counted); 0: none
     OBS_ROLLBAR_TIMEOUT               10000   ms per export, retries in
     AWS_REGION, AWS_DEFAULT_REGION    -       cloudwatch exporter: the region (required)
     AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN  credentials; secret; reach
                                               curl (--aws-sigv4) through its config pipe
     OBS_CLOUDWATCH_LOG_GROUP          service.name
     OBS_CLOUDWATCH_LOG_STREAM         <host>/<executable>/<pid>; made when missing
     OBS_CLOUDWATCH_ENDPOINT           https://logs.<region>.amazonaws.com/
     OBS_CLOUDWATCH_LEVEL              -       records below it are not sent
     OBS_CLOUDWATCH_TIMEOUT            10000   ms per export, retries in
     NO_COLOR                          -       no colour on the console

   THREADING
     obs_init and obs_shutdown: once, from one thread, with no other obs call running.
     Everything else: any thread. A span is owned by one thread at a time (set attributes
     and end it from one thread, or hand it over with your own synchronisation). The current
     span is per thread. Exporter callbacks run on the exporter's thread (batch) or the
     caller's (simple); they must not call obs_ functions. A span lives until obs_shutdown:
     after it, span calls do nothing; a span from before a later obs_init must not be used.

   HOT PATH
     Starting, decorating and ending a span, and logging, take no global lock, allocate
     nothing once warmed up, and never wait for the network: a full queue drops the item and
     counts it (obs_get_stats). A batch processor's queue has 4 lanes; a thread queues in
     lane (thread id mod 4), each lane holds max_queue_size (rounded up to a power of two),
     so threads in different lanes share no queue line; threads in 2, 3 or 4 lanes may have
     up to that many times max_queue_size waiting. A NULL span is a valid no-op span. Every
     call before obs_init or after obs_shutdown is a cheap no-op.

   NON-GOALS
     No TLS code of its own (`curl` does it), no gRPC, no metrics yet.

   LICENSE
     MIT, full text at the end of this file.
*/
/* The implementation needs POSIX (clock_gettime, sockets, ...): ask for it before the first
   system header when the including file has not chosen. */
#if defined(OBS_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE) && \
    !defined(_DEFAULT_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef OBS_H_INCLUDED
#define OBS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>

#define OBS_VERSION_MAJOR 0
#define OBS_VERSION_MINOR 1
#define OBS_VERSION_PATCH 0
#define OBS_VERSION_STRING "0.1.0"

#if defined(OBS_DISABLE) && !defined(OBSDEF)
#define OBSDEF static inline
#endif
#ifndef OBSDEF
#ifdef OBS_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define OBSDEF static __attribute__((unused))
#else
#define OBSDEF static
#endif
#else
#define OBSDEF extern
#endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#define OBS__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OBS__PRINTF(f, a)
#endif

#ifdef __cplusplus
extern "C" {
#endif

// >>decl:config -- the desc struct: zero means "from the environment, then the default"

typedef enum obs_level {
    OBS_LEVEL_DEFAULT = 0,
    OBS_LEVEL_TRACE = 1, /* OTel severity numbers: TRACE 1, DEBUG 5, INFO 9 ... FATAL 21 */
    OBS_LEVEL_DEBUG = 5,
    OBS_LEVEL_INFO = 9,
    OBS_LEVEL_WARN = 13,
    OBS_LEVEL_ERROR = 17,
    OBS_LEVEL_FATAL = 21,
    OBS_LEVEL_OFF = 255
} obs_level;

typedef enum obs_sampler_kind {
    OBS_SAMPLER_DEFAULT = 0, /* OTEL_TRACES_SAMPLER, else parentbased_always_on */
    OBS_SAMPLER_ALWAYS_ON,
    OBS_SAMPLER_ALWAYS_OFF,
    OBS_SAMPLER_TRACEIDRATIO,
    OBS_SAMPLER_PARENTBASED_ALWAYS_ON,
    OBS_SAMPLER_PARENTBASED_ALWAYS_OFF,
    OBS_SAMPLER_PARENTBASED_TRACEIDRATIO,
    OBS_SAMPLER_XRAY,             /* the X-Ray rule at each entry (roots, remote parents) */
    OBS_SAMPLER_PARENTBASED_XRAY  /* the parent's decision, else the X-Ray rule */
} obs_sampler_kind;

typedef struct obs_exporter obs_exporter;

/* Limits and batch settings; 0 = environment, then the spec default. */
typedef struct obs_batch_config {
    int schedule_delay_ms;   /* spans 5000, logs 1000 */
    int export_timeout_ms;   /* 30000 */
    int max_queue_size;      /* 2048 */
    int max_export_batch_size; /* 512, at most max_queue_size */
} obs_batch_config;

typedef struct obs_config {
    const char *service_name;      /* copied; default OTEL_SERVICE_NAME, unknown_service:<exe> */
    const char *resource_attributes; /* "k=v,k2=v2" (percent-decoded); added to the env's */
    const char *traces_exporter;   /* "otlp,console,none"; default OTEL_TRACES_EXPORTER, otlp */
    const char *logs_exporter;     /* the same for logs */
    const char *trace_file;        /* the chrome exporter's file; OBS_TRACE_FILE, obs-trace.json */
    const char *otlp_endpoint;     /* base URL; default OTEL_EXPORTER_OTLP_ENDPOINT */
    const char *otlp_headers;      /* "k=v,..."; secret: never printed */
    const char *otlp_protocol;     /* "http/protobuf" (default) or "http/json" */
    int otlp_timeout_ms;           /* default 10000 */
    obs_sampler_kind sampler;
    double sampler_ratio;          /* 0 with a ratio sampler: OTEL_TRACES_SAMPLER_ARG, 1.0;
                                      X-Ray samplers: the fixed rate (<0: none) */
    int sampler_reservoir;         /* X-Ray samplers: traces a second before the rate;
                                      0: OTEL_TRACES_SAMPLER_ARG, else 1; <0: none */
    obs_batch_config spans;        /* OTEL_BSP_* */
    obs_batch_config logs;         /* OTEL_BLRP_* */
    int attribute_value_length_limit; /* bytes; default none */
    int attribute_count_limit;     /* 128 */
    int event_count_limit;         /* 128 */
    int link_count_limit;          /* 128 */
    obs_level log_level;           /* minimum for obs_log; OBS_LOG_LEVEL, info */
    int simple_processor;          /* 1: export synchronously on the caller's thread */
    int crash_capture;             /* 1: obs_crash_capture() at init; also OBS_CRASH_CAPTURE=true */
    int xray_trace_ids;            /* 1: trace ids start with the time (X-Ray); OBS_ID_GENERATOR=xray */
    obs_exporter *span_exporters[4]; /* extra span exporters (yours), NULL-terminated */
    obs_exporter *log_exporters[4];  /* extra log exporters (yours), NULL-terminated; one in
                                        both lists still gets one call at a time and one
                                        shutdown; one twice in a list is used once */
} obs_config;

// >>decl:types -- results, values, spans as exporters see them

typedef enum obs_result {
    OBS_OK = 0,
    OBS_ERR_INVALID_ARG = -1, /* bad argument or configuration */
    OBS_ERR_NOMEM = -2,
    OBS_ERR_QUEUE_FULL = -3,
    OBS_ERR_NET = -4,         /* connection failed, or a non-retryable HTTP status */
    OBS_ERR_TIMEOUT = -5,     /* flush or export did not finish in time */
    OBS_ERR_STATE = -6        /* not initialised, already initialised, or shut down */
} obs_result;

typedef enum obs_span_kind {
    OBS_SPAN_KIND_INTERNAL = 0, /* OTLP numbers are these + 1 */
    OBS_SPAN_KIND_SERVER,
    OBS_SPAN_KIND_CLIENT,
    OBS_SPAN_KIND_PRODUCER,
    OBS_SPAN_KIND_CONSUMER
} obs_span_kind;

typedef enum obs_status_code { OBS_STATUS_UNSET = 0, OBS_STATUS_OK, OBS_STATUS_ERROR } obs_status_code;

typedef enum obs_attr_type {
    OBS_ATTR_STRING = 1,
    OBS_ATTR_BOOL,
    OBS_ATTR_INT,
    OBS_ATTR_DOUBLE,
    OBS_ATTR_STRING_ARRAY,
    OBS_ATTR_BOOL_ARRAY,
    OBS_ATTR_INT_ARRAY,
    OBS_ATTR_DOUBLE_ARRAY
} obs_attr_type;

/* One attribute. Strings are NUL-terminated; `n` is a string's length or an array's size. */
typedef struct obs_attr {
    const char *key;
    obs_attr_type type;
    size_t n;
    union {
        const char *s;
        int b;
        int64_t i;
        double d;
        const char *const *sa;
        const int *ba;
        const int64_t *ia;
        const double *da;
    } v;
} obs_attr;

/* Attribute constructors, for events, links and log records. The pointers are copied by
   the call that takes the attribute, not by these. */
static inline obs_attr obs__attr_make(const char *key, obs_attr_type type, size_t n) {
    obs_attr a;
    a.key = key;
    a.type = type;
    a.n = n;
    a.v.i = 0;
    return a;
}
static inline obs_attr obs_attr_str(const char *key, const char *value) {
    obs_attr a = obs__attr_make(key, OBS_ATTR_STRING, 0);
    a.v.s = value ? value : "";
    a.n = strlen(a.v.s);
    return a;
}
static inline obs_attr obs_attr_int(const char *key, int64_t value) {
    obs_attr a = obs__attr_make(key, OBS_ATTR_INT, 1);
    a.v.i = value;
    return a;
}
static inline obs_attr obs_attr_double(const char *key, double value) {
    obs_attr a = obs__attr_make(key, OBS_ATTR_DOUBLE, 1);
    a.v.d = value;
    return a;
}
static inline obs_attr obs_attr_bool(const char *key, int value) {
    obs_attr a = obs__attr_make(key, OBS_ATTR_BOOL, 1);
    a.v.b = value != 0;
    return a;
}

typedef struct obs_scope {
    const char *name;
    const char *version;
} obs_scope;

typedef struct obs_event {
    const char *name;
    int64_t time_ns;
    const obs_attr *attrs;
    size_t n_attrs;
    uint32_t dropped_attrs;
} obs_event;

typedef struct obs_link {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;
    const char *trace_state;  /* NULL or a W3C tracestate value */
    const obs_attr *attrs;
    size_t n_attrs;
    uint32_t dropped_attrs;
} obs_link;

/* A finished span, as exporters see it. Valid only during the export call. */
typedef struct obs_span_data {
    const char *name;
    const obs_scope *scope;
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8];  /* all zero: a root span */
    uint8_t trace_flags;        /* W3C: 0x01 sampled */
    uint8_t parent_is_remote;   /* 1 when the parent came from a traceparent */
    uint8_t has_parent;
    uint32_t thread_id;         /* small number of the thread that started it (1, 2, ...) */
    obs_span_kind kind;
    int64_t start_time_ns;      /* Unix epoch nanoseconds */
    int64_t end_time_ns;
    obs_status_code status;
    const char *status_message; /* "" when none */
    const char *trace_state;    /* "" when none */
    const obs_attr *attrs;
    size_t n_attrs;
    uint32_t dropped_attrs;
    const obs_event *events;
    size_t n_events;
    uint32_t dropped_events;
    const obs_link *links;
    size_t n_links;
    uint32_t dropped_links;
} obs_span_data;

/* A log record, as exporters see it. Valid only during the export call. */
typedef struct obs_log_data {
    int64_t time_ns;
    int64_t observed_time_ns;
    obs_level level;           /* severity number 1..24 */
    const char *body;          /* the formatted message */
    const obs_attr *attrs;
    size_t n_attrs;
    uint32_t dropped_attrs;
    uint8_t trace_id[16];      /* all zero: not inside a span */
    uint8_t span_id[8];
    uint8_t trace_flags;
    uint32_t thread_id;        /* small number of the thread that emitted it (1, 2, ...) */
    const obs_scope *scope;
} obs_log_data;

typedef struct obs_stats {
    uint64_t spans_started;       /* recording spans started */
    uint64_t spans_unsampled;     /* non-recording spans (sampler said drop) */
    uint64_t spans_ended;         /* recording spans ended (handed to the processors) */
    uint64_t spans_exported;      /* accepted by an exporter (per processor) */
    uint64_t spans_dropped_queue; /* queue full, or every span in use (the pool's bound) */
    uint64_t spans_dropped_export; /* exporter failed (after retries) */
    uint64_t spans_rejected;      /* exported but refused: OTLP partialSuccess, or over the
                                     Rollbar rate limit (counted in spans_exported too) */
    uint64_t logs_emitted;
    uint64_t logs_exported;
    uint64_t logs_dropped_queue;
    uint64_t logs_dropped_export;
    uint64_t logs_rejected;       /* the same for records; also CloudWatch's rejected events */
    uint64_t attrs_dropped;       /* over a count limit (spans, events, links, logs) */
    uint64_t export_requests;     /* OTLP requests sent, retries included */
    uint64_t export_retries;
} obs_stats;

// >>decl:setup -- lifecycle

/* Starts obs: reads cfg (may be NULL), then the environment, then the spec defaults; starts
   the batch threads. Returns OBS_OK, OBS_ERR_STATE when already running, OBS_ERR_NOMEM.
   With OTEL_SDK_DISABLED=true it returns OBS_OK and every call stays a no-op.
   Thread safety: call once, before any other obs call on other threads. */
OBSDEF obs_result obs_init(const obs_config *cfg);

/* Exports everything queued so far and waits at most timeout_ms (0: the export timeout).
   Returns OBS_OK when all went out; OBS_ERR_TIMEOUT when the time ran out; OBS_ERR_NET when
   an export failed (those items are counted as dropped) since the previous flush.
   Thread safety: any thread. */
OBSDEF obs_result obs_flush(int timeout_ms);

/* Flushes, stops the threads, frees everything. Idempotent. Thread safety: as obs_init. */
OBSDEF void obs_shutdown(void);

/* Counters since obs_init (they survive obs_shutdown until the next obs_init); a fork's
   child counts from zero at the fork. */
OBSDEF obs_stats obs_get_stats(void);

/* A text for a result code; never NULL. */
OBSDEF const char *obs_result_string(obs_result r);

// >>decl:span -- tracers and spans

typedef struct obs_tracer obs_tracer;
typedef struct obs_span obs_span;

/* Options for obs_span_start_ex; zero means default. */
typedef struct obs_span_opts {
    obs_span_kind kind;
    obs_span *parent;          /* explicit parent; NULL: the current span */
    const char *traceparent;   /* remote parent (W3C header value); wins over parent */
    const char *tracestate;    /* with traceparent; discarded when invalid (W3C) */
    const char *xray_header;   /* remote parent from X-Amzn-Trace-Id (when no traceparent) */
    int root;                  /* 1: a new trace even if there is a current span */
    int no_activate;           /* 1: do not make the new span the current one */
    const obs_link *links;     /* copied */
    size_t n_links;
    const obs_attr *attrs;     /* set before sampling ends; copied */
    size_t n_attrs;
    int64_t start_time_ns;     /* Unix epoch ns; 0: now */
} obs_span_opts;

/* A tracer for an instrumentation scope (library or module). Returns the same pointer for
   the same name and version; valid until obs_shutdown. NULL before obs_init.
   Thread safety: any thread (takes a lock: call it once, not per span). */
OBSDEF obs_tracer *obs_tracer_get(const char *scope_name, const char *scope_version);

/* Starts a span as a child of the current span and makes it current. NULL before obs_init.
   A span the sampler drops is still returned: it carries context, records nothing.
   name: copied. Thread safety: any thread. */
OBSDEF obs_span *obs_span_start(obs_tracer *t, const char *name);
OBSDEF obs_span *obs_span_start_ex(obs_tracer *t, const char *name, const obs_span_opts *opts);

/* Ends the span (end time: now), restores the previous current span, hands it to the
   processors. s: may be NULL; must not be used afterwards. */
OBSDEF void obs_span_end(obs_span *s);
OBSDEF void obs_span_end_at(obs_span *s, int64_t end_time_ns);

/* Attributes. The same key again replaces the value; past the count limit a new key is
   dropped and counted. Strings are copied (cut at the value length limit on a UTF-8
   boundary). s may be NULL; on an ended or non-recording span they do nothing. */
OBSDEF void obs_span_set_str(obs_span *s, const char *key, const char *value);
OBSDEF void obs_span_set_int(obs_span *s, const char *key, int64_t value);
OBSDEF void obs_span_set_double(obs_span *s, const char *key, double value);
OBSDEF void obs_span_set_bool(obs_span *s, const char *key, int value);
OBSDEF void obs_span_set_str_array(obs_span *s, const char *key, const char *const *v, size_t n);
OBSDEF void obs_span_set_int_array(obs_span *s, const char *key, const int64_t *v, size_t n);
OBSDEF void obs_span_set_double_array(obs_span *s, const char *key, const double *v, size_t n);
OBSDEF void obs_span_set_bool_array(obs_span *s, const char *key, const int *v, size_t n);
OBSDEF void obs_span_set_attrs(obs_span *s, const obs_attr *attrs, size_t n);

/* Renames the span. */
OBSDEF void obs_span_update_name(obs_span *s, const char *name);

/* An event now, with optional attributes (copied). */
OBSDEF void obs_span_add_event(obs_span *s, const char *name);
OBSDEF void obs_span_add_event_attrs(obs_span *s, const char *name, const obs_attr *attrs, size_t n);

/* A link to another span context (after start; opts.links is better: samplers see it). */
OBSDEF void obs_span_add_link(obs_span *s, const obs_link *link);

/* Status: ERROR keeps description; OK is final; UNSET is ignored (spec rules). */
OBSDEF void obs_span_set_status(obs_span *s, obs_status_code code, const char *description);

/* An `exception` event (exception.type, exception.message) and status ERROR. */
OBSDEF void obs_span_record_error(obs_span *s, const char *type, const char *message);

/* The current span of this thread (NULL when none). */
OBSDEF obs_span *obs_span_current(void);

/* Makes s the current span of this thread (e.g. a span handed to a worker thread), and back. */
OBSDEF void obs_span_activate(obs_span *s);
OBSDEF void obs_span_deactivate(obs_span *s);

/* 1 when the span records (sampled and not ended). */
OBSDEF int obs_span_is_recording(const obs_span *s);

/* The span's ids: trace_id 16 bytes, span_id 8 bytes; either may be NULL. */
OBSDEF void obs_span_ids(const obs_span *s, uint8_t *trace_id, uint8_t *span_id);

/* Writes the W3C traceparent value of s ("00-<trace>-<span>-<flags>", 55 chars + NUL).
   Returns 55, or 0 when s is NULL or len < 56 (nothing written). */
OBSDEF size_t obs_span_traceparent(const obs_span *s, char *buf, size_t len);

/* Writes the X-Amzn-Trace-Id value of s ("Root=1-...;Parent=...;Sampled=0|1"). Returns its
   length, or 0 when s is NULL or buf too small (nothing written). */
OBSDEF size_t obs_span_xray_header(const obs_span *s, char *buf, size_t len);

/* The span's W3C tracestate ("" when none); valid while the span is. */
OBSDEF const char *obs_span_tracestate(const obs_span *s);

/* Adds or updates key=value in the tracestate text ts (capacity cap), moving it to the front
   and keeping at most 32 members (W3C). Returns 1, or 0 when key, value or ts is invalid
   (ts unchanged). Use with obs_span_opts.tracestate for a child you start. */
OBSDEF int obs_tracestate_set(char *ts, size_t cap, const char *key, const char *value);

/* Scoped span: the block's span ends when the block is left normally (not by return,
   break or goto: use OBS_SPAN_AUTO for those, where the compiler has cleanup). */
#define OBS_SPAN_SCOPE(tracer, name) \
    OBS__SPAN_SCOPE((tracer), (name), OBS__CAT(obs__scope_, __LINE__), OBS__CAT(obs__once_, __LINE__))
#define OBS__SPAN_SCOPE(tracer, name, s, once)                                  \
    for (obs_span *s = obs_span_start(tracer, name), *once = (obs_span *)1; once; \
         obs_span_end(s), once = (obs_span *)0)
#define OBS__CAT(a, b) OBS__CAT2(a, b) /* names unique per line: nested scopes do not shadow */
#define OBS__CAT2(a, b) a##b

#if defined(OBS_DISABLE)
#define OBS_SPAN_AUTO(var, tracer, name) obs_span *var = (obs_span *)0
#elif defined(__GNUC__) || defined(__clang__)
static inline void obs__span_cleanup(obs_span **s) { obs_span_end(*s); }
/* obs_span *var ends when var goes out of scope, by any path (gcc and clang). */
#define OBS_SPAN_AUTO(var, tracer, name) \
    obs_span *var __attribute__((cleanup(obs__span_cleanup))) = obs_span_start((tracer), (name))
#endif

// >>decl:log -- printf-style logs joined to the current span

/* Emits a record at level when level >= the threshold; joins the current span.
   Use the OBS_INFO(...) macros: they add the source location and skip argument evaluation
   when the level is filtered out. Messages longer than 4095 bytes are cut. */
OBSDEF void obs_log(obs_level level, const char *fmt, ...) OBS__PRINTF(2, 3);
OBSDEF void obs_log_at(obs_level level, const char *file, int line, const char *func,
                       const obs_attr *attrs, size_t n_attrs, const char *fmt, ...)
    OBS__PRINTF(7, 8);
OBSDEF void obs_log_v(obs_level level, const char *file, int line, const char *func,
                      const obs_attr *attrs, size_t n_attrs, const char *fmt, va_list ap);

/* The minimum level of obs_log (also OBS_LOG_LEVEL). Thread safety: any thread. */
OBSDEF void obs_log_set_level(obs_level level);
OBSDEF obs_level obs_log_get_level(void);

/* The threshold read by the macros without a call; private, use the macros. */
#ifdef OBS_STATIC
static int obs__log_threshold = OBS_LEVEL_OFF;
#else
extern int obs__log_threshold;
#endif
static inline int obs_log_enabled(obs_level level) {
    /* severities are 1..24; OFF (255) is a threshold, never a record's level */
#if defined(__GNUC__) || defined(__clang__)
    return (int)level >= __atomic_load_n(&obs__log_threshold, __ATOMIC_RELAXED) && (int)level <= 24;
#else
    return (int)level >= *(volatile int *)&obs__log_threshold && (int)level <= 24;
#endif
}

#define OBS_LOG_(lvl, ...)                                                                 \
    do {                                                                                   \
        if (obs_log_enabled(lvl)) obs_log_at((lvl), __FILE__, __LINE__, __func__, 0, 0,    \
                                             __VA_ARGS__);                                 \
    } while (0)
#define OBS_LOG_ATTRS_(lvl, attrs, n, ...)                                                 \
    do {                                                                                   \
        if (obs_log_enabled(lvl)) obs_log_at((lvl), __FILE__, __LINE__, __func__, (attrs), \
                                             (n), __VA_ARGS__);                            \
    } while (0)
#define OBS_TRACE(...) OBS_LOG_(OBS_LEVEL_TRACE, __VA_ARGS__)
#define OBS_DEBUG(...) OBS_LOG_(OBS_LEVEL_DEBUG, __VA_ARGS__)
#define OBS_INFO(...) OBS_LOG_(OBS_LEVEL_INFO, __VA_ARGS__)
#define OBS_WARN(...) OBS_LOG_(OBS_LEVEL_WARN, __VA_ARGS__)
#define OBS_ERROR(...) OBS_LOG_(OBS_LEVEL_ERROR, __VA_ARGS__)
#define OBS_FATAL(...) OBS_LOG_(OBS_LEVEL_FATAL, __VA_ARGS__)
/* With attributes: OBS_INFO_ATTRS(attrs, n, "fmt", ...). */
#define OBS_INFO_ATTRS(attrs, n, ...) OBS_LOG_ATTRS_(OBS_LEVEL_INFO, attrs, n, __VA_ARGS__)
#define OBS_WARN_ATTRS(attrs, n, ...) OBS_LOG_ATTRS_(OBS_LEVEL_WARN, attrs, n, __VA_ARGS__)
#define OBS_ERROR_ATTRS(attrs, n, ...) OBS_LOG_ATTRS_(OBS_LEVEL_ERROR, attrs, n, __VA_ARGS__)

/* "TRACE", "DEBUG", ... for a severity number. */
OBSDEF const char *obs_level_name(obs_level level);

/* Crash capture (opt-in): on SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT, writes a FATAL line
   and a backtrace to stderr (async-signal-safe calls only), marks the spans open on the
   crashing thread as errored and ends them, queues a FATAL log record, gives the batch
   exporters up to 3 s to send it (best effort: the process is broken), then re-raises the
   signal with its default action, so the exit status and core dump are what they would have
   been. Call after obs_init, from the main thread. Returns OBS_OK or OBS_ERR_STATE. */
OBSDEF obs_result obs_crash_capture(void);

/* Records an error the Rollbar way: an `exception` event and status ERROR on the current
   span, and an ERROR log record "type: message" joined to it. */
OBSDEF void obs_report_error(const char *type, const char *message);

// >>decl:exporter -- plug in your own exporter (the built-in ones use the same struct)

/* An exporter: export_spans or export_logs (or both) receive a batch and return OBS_OK or an
   error (the batch is then counted as dropped). timeout_ms bounds the call (0: none).
   Calls come from one thread at a time. flush and shutdown may be NULL. */
struct obs_exporter {
    const char *name;
    obs_result (*export_spans)(void *user_data, const obs_span_data *const *spans, size_t n,
                               int timeout_ms);
    obs_result (*export_logs)(void *user_data, const obs_log_data *const *records, size_t n,
                              int timeout_ms);
    obs_result (*flush)(void *user_data, int timeout_ms);
    void (*shutdown)(void *user_data);
    void *user_data;
};

/* The resource attributes obs_init settled on (service.name first), for exporters. Valid
   until obs_shutdown. */
OBSDEF const obs_attr *obs_resource(size_t *n);

/* In-memory exporter (tests, tools): keeps deep copies of the first `capacity` spans and as
   many log records (later ones are counted in _overflow, not kept). Copies are
   valid until _clear or _free. Thread safety: any thread (the exporter locks itself). */
OBSDEF obs_exporter *obs_memory_exporter_new(size_t capacity);
OBSDEF size_t obs_memory_exporter_span_count(obs_exporter *e);
OBSDEF const obs_span_data *obs_memory_exporter_span(obs_exporter *e, size_t i);
OBSDEF size_t obs_memory_exporter_log_count(obs_exporter *e);
OBSDEF const obs_log_data *obs_memory_exporter_log(obs_exporter *e, size_t i);
OBSDEF size_t obs_memory_exporter_overflow(obs_exporter *e);
OBSDEF void obs_memory_exporter_clear(obs_exporter *e);
OBSDEF void obs_memory_exporter_free(obs_exporter *e);

/* Looks up an attribute by key in a span's or record's list; NULL when absent. */
OBSDEF const obs_attr *obs_attr_find(const obs_attr *attrs, size_t n, const char *key);

/* Console exporter (what OTEL_TRACES_EXPORTER=console gives), writing to a FILE*
   (NULL: stdout for spans, stderr for logs). tree: 1 = a tree per trace, 0 = a line a span. */
OBSDEF obs_exporter *obs_console_exporter_new(void *file, int tree);

/* One span name's figures in a summary exporter. Durations in ns. The quantiles come from
   the histogram: less than 1/32 (3.125%) off the exact nearest-rank value, for durations up
   to 2^44 ns (4.9 hours); count, errors, total, min and max are exact. */
typedef struct obs_summary_stats {
    uint64_t count;  /* spans of this name */
    uint64_t errors; /* of them, with status ERROR */
    int64_t total_ns, min_ns, max_ns; /* exact */
    int64_t p50_ns, p90_ns, p99_ns;
} obs_summary_stats;

/* Summary exporter (what OTEL_TRACES_EXPORTER=summary gives): per span name the count, the
   errors and a latency histogram (16 log-linear buckets per power of two of ns, 5 KiB made
   when the name is first seen), for at most 256 names (63 bytes kept of each); spans of
   later names are added up in a row "(other)". Nothing is allocated per span. At
   obs_shutdown it prints its table to file (a FILE *; NULL: stderr): name, count, errors,
   total, p50, p90, p99, max and a text histogram, by total time; then it frees itself. */
OBSDEF obs_exporter *obs_summary_exporter_new(void *file);

/* Prints the table now to file (NULL: the exporter's own). e: NULL means the summary
   exporter made last (e.g. by OTEL_TRACES_EXPORTER=summary). Spans still queued in a batch
   processor are not in it: obs_flush(0) first. Thread safety: any thread, while obs runs. */
OBSDEF void obs_summary_print(obs_exporter *e, void *file);

/* One name's figures (name "(other)": the overflow row). Returns 1, or 0 when no span of
   that name was seen (out zeroed). e: as for obs_summary_print. */
OBSDEF int obs_summary_get(obs_exporter *e, const char *name, obs_summary_stats *out);

/* The q-quantile (0 <= q <= 1, nearest rank) of one name's durations in ns; -1 when none. */
OBSDEF int64_t obs_summary_quantile(obs_exporter *e, const char *name, double q);

/* Trace-file exporter (what OTEL_TRACES_EXPORTER=chrome gives; path OBS_TRACE_FILE, default
   obs-trace.json): the Chrome trace event format, which Perfetto (ui.perfetto.dev) and
   chrome://tracing open. A complete ("X") event per span on its process and thread (ts and
   dur in microseconds from the exporter's creation), attributes as args, span events as
   instant events, process and thread names. A span that overlaps another on its thread
   without nesting (handed to another thread, or started with no_activate) goes out as an
   async pair ("b"/"e") instead: the viewers accept only nested slices on a thread. Each batch
   is written in one write(2) and the file is valid JSON after every batch, so a program
   that dies still leaves a loadable file. Returns NULL when the file cannot be created
   (reported on stderr). */
OBSDEF obs_exporter *obs_trace_file_exporter_new(const char *path);

// >>decl:http -- HTTP server and client spans, the X-Ray daemon exporter

/* An incoming HTTP request, as obs_http_server_start reads it. Every field may be NULL. */
typedef struct obs_http_server_req {
    const char *method;         /* "GET" (NULL: GET) */
    const char *target;         /* the request target: "/path?query" (or an absolute URL) */
    const char *route;          /* the matched route template ("/api/users/:id"); NULL: none
                                   (unknown path: the span is named by the method alone) */
    const char *scheme;         /* "http" (NULL) or "https" */
    const char *host;           /* Host header: "name[:port]" -> server.address/.port */
    const char *client_address; /* the peer's address -> client.address */
    const char *user_agent;     /* User-Agent header -> user_agent.original */
    const char *traceparent;    /* request headers carrying the remote parent */
    const char *tracestate;
    const char *xray_header;    /* X-Amzn-Trace-Id: used when traceparent is absent or invalid */
} obs_http_server_req;

/* Header values to send with an outgoing request ("" = do not send that header). */
typedef struct obs_http_headers {
    char traceparent[56]; /* "traceparent" */
    char tracestate[513]; /* "tracestate" */
    char xray[80];        /* "X-Amzn-Trace-Id" */
} obs_http_headers;

/* Counts of one X-Ray exporter since it was made. */
typedef struct obs_xray_stats {
    uint64_t segments_sent;    /* datagrams handed to the kernel (UDP: no delivery receipt) */
    uint64_t segments_trimmed; /* sent without metadata, annotations or stacks: too big */
    uint64_t segments_dropped; /* sendto failed */
} obs_xray_stats;

/* Starts the SERVER span of an incoming request and makes it current. Name: "METHOD route"
   ("METHOD" without a route, so unknown paths cannot multiply span names). Parent: the remote
   one in req->traceparent (else req->xray_header), else none: a new trace, never the
   thread's current span. Sets http.request.method, url.path, url.query, url.scheme,
   http.route, server.address, server.port, client.address, user_agent.original before
   sampling; the parent-based samplers follow the caller's flag (-00: a non-recording span).
   req: read during the call only; NULL: GET /. Returns NULL before obs_init.
   Thread safety: any thread. */
OBSDEF obs_span *obs_http_server_start(obs_tracer *t, const obs_http_server_req *req);

/* Ends a server span: http.response.status_code (when > 0), http.response.body.size (when
   >= 0); 5xx also sets error.type and status ERROR. With req (the same request; may be
   NULL), first emits the access-log record of the course's after_request, joined to s even
   when s does not record: "<client> <METHOD> <scheme> <target> <status>" at INFO (ERROR for
   5xx) with the HTTP attributes. s may be NULL (the record is still written).
   Thread safety: the thread that owns s. */
OBSDEF void obs_http_server_end(obs_span *s, const obs_http_server_req *req, int status_code,
                                int64_t response_bytes);

/* Starts a CLIENT span for a request to url ("http://host[:port]/path"), a child of the
   current span, made current; sets http.request.method, url.full (credentials redacted),
   server.address, server.port. Writes the header values to send into *out (may be NULL).
   Returns NULL before obs_init (then *out is all ""). Thread safety: any thread. */
OBSDEF obs_span *obs_http_client_start(obs_tracer *t, const char *method, const char *url,
                                       obs_http_headers *out);

/* Ends a client span: status_code > 0 sets http.response.status_code (>= 400: error.type and
   status ERROR); 0 or less means no response (status ERROR, error.type _OTHER). s may be
   NULL. Thread safety: the thread that owns s. */
OBSDEF void obs_http_client_end(obs_span *s, int status_code);

/* Writes the header values carrying s's context into *out: traceparent, tracestate (when
   not empty) and X-Amzn-Trace-Id; all "" when s is NULL. Thread safety: any thread. */
OBSDEF void obs_http_inject(const obs_span *s, obs_http_headers *out);

/* An X-Ray exporter: one UDP datagram per finished span, to the X-Ray daemon at
   daemon_address ("host:port", or the SDKs' "tcp:h:p udp:h:p"; NULL: AWS_XRAY_DAEMON_ADDRESS,
   else 127.0.0.1:2000). SERVER and CONSUMER spans, roots and spans with a remote parent are
   segments (parent_id: the remote parent), the others independent subsegments (CLIENT:
   namespace remote). Scalar attributes become annotations (keys reduced to [A-Za-z0-9_]),
   the rest metadata "default"; the http block, error (4xx), throttle (429), fault (5xx or
   status ERROR) and cause (exception events) come from the span. A document over 64 KB is
   trimmed (metadata, then annotations and stacks, then long strings) and counted. Never
   blocks on the network. Give it to obs_config.span_exporters (or set
   OTEL_TRACES_EXPORTER=xray): obs_shutdown frees it. While one is in the pipeline, new trace
   ids start with the Unix time, as the X-Ray service requires. Returns NULL when the
   address does not parse or resolve. Thread safety: any thread. */
OBSDEF obs_exporter *obs_xray_exporter_new(const char *daemon_address);

/* The counts of an X-Ray exporter; all zero for NULL or another kind of exporter.
   Thread safety: any thread, until obs_shutdown frees the exporter. */
OBSDEF obs_xray_stats obs_xray_exporter_stats(obs_exporter *e);

// >>decl:backends -- Rollbar and CloudWatch Logs exporters
#define OBS__BACKENDS_PART_H 1 /* parts/backends.h, included after this, adds nothing */

/* Rollbar exporter settings; zero fields come from the environment, then the default.
   Everything is copied. */
typedef struct obs_rollbar_config {
    const char *access_token; /* a post_server_item token, secret (never printed, never on a
                                 command line); default ROLLBAR_ACCESS_TOKEN; required */
    const char *endpoint;     /* OBS_ROLLBAR_ENDPOINT, https://api.rollbar.com/api/1/item/ */
    const char *environment;  /* default OBS_ROLLBAR_ENVIRONMENT, else the resource's
                                 deployment.environment.name or deployment.environment,
                                 else "production" */
    obs_level level;          /* log records at or above it become items; OBS_ROLLBAR_LEVEL,
                                 error */
    int max_per_minute;       /* items a minute, more are dropped (counted as rejected);
                                 OBS_ROLLBAR_MAX_PER_MINUTE, 30 (0 there: no limit); < 0: none */
    int timeout_ms;           /* one export, retries included; OBS_ROLLBAR_TIMEOUT, 10000 */
} obs_rollbar_config;

/* Rollbar exporter (what OTEL_LOGS_EXPORTER=rollbar / OTEL_TRACES_EXPORTER=rollbar give): each
   log record at or above c->level, and each `exception` event of a span, becomes one Rollbar
   item: environment, level (critical, error, warning, info, debug from the severity),
   body.trace (frames from exception.stacktrace, exception class and message) or body.message,
   server.host, notifier, and custom.trace_id / span_id so an item joins its trace. Sent from
   the batch processor's thread, one request an item (Rollbar has no batch call); 429 and 5xx
   retried with backoff; at most max_per_minute items a minute. c: NULL or zeroed fields: the
   environment. Returns NULL without an access token or with a bad endpoint (a diagnostic says
   which, once obs_init has run). An exporter serves one pipeline (obs_shutdown frees it with
   that pipeline): for records and spans, make two. Thread safety: any thread. */
OBSDEF obs_exporter *obs_rollbar_exporter_new(const obs_rollbar_config *c);

/* CloudWatch Logs exporter settings; zero fields come from the environment, then the
   default. Everything is copied. */
typedef struct obs_cloudwatch_config {
    const char *log_group;         /* OBS_CLOUDWATCH_LOG_GROUP, else service.name */
    const char *log_stream;        /* OBS_CLOUDWATCH_LOG_STREAM, else "<host>/<executable>/<pid>";
                                      made (with its group) when missing */
    const char *region;            /* AWS_REGION, else AWS_DEFAULT_REGION; required */
    const char *endpoint;          /* OBS_CLOUDWATCH_ENDPOINT, else
                                      https://logs.<region>.amazonaws.com/ */
    const char *access_key_id;     /* AWS_ACCESS_KEY_ID; required */
    const char *secret_access_key; /* secret; AWS_SECRET_ACCESS_KEY; required */
    const char *session_token;     /* secret; AWS_SESSION_TOKEN (temporary credentials) */
    obs_level level;               /* records below it are skipped; OBS_CLOUDWATCH_LEVEL, none */
    int timeout_ms;                /* one export, retries included; OBS_CLOUDWATCH_TIMEOUT, 10000 */
} obs_cloudwatch_config;

/* CloudWatch Logs exporter (what OTEL_LOGS_EXPORTER=cloudwatch gives): PutLogEvents calls for
   one log group and stream, in time order, within the per-call limits (10,000 events,
   1,048,576 bytes counting 26 per event, 24 hours), each event's message a JSON object laid
   out as the Collector's awscloudwatchlogs exporter does (body, severity_number,
   severity_text, trace_id, span_id, attributes, resource) plus xray_trace_id. Signed
   by the curl binary (curl >= 7.75: --aws-sigv4); the credentials reach curl through its
   config pipe, never its command line. 429, 5xx and ThrottlingException retried with
   backoff. c: NULL or zeroed fields: the environment. Returns NULL without a region or
   credentials (a diagnostic says which, once obs_init has run). Log records only; one
   pipeline. Thread safety: any thread. */
OBSDEF obs_exporter *obs_cloudwatch_exporter_new(const obs_cloudwatch_config *c);


#ifdef OBS_DISABLE
/* Every function is an empty inline stub (OBSDEF is `static inline` here): calls compile to
   nothing; the log macros do not even evaluate their arguments. `make check-disable` keeps
   this list in step with the declarations. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter" /* the stubs ignore their arguments */
#endif
OBSDEF obs_result obs_init(const obs_config *cfg) { return OBS_OK; }
OBSDEF obs_result obs_flush(int timeout_ms) { return OBS_OK; }
OBSDEF void obs_shutdown(void) {}
OBSDEF obs_stats obs_get_stats(void) { obs_stats st; memset(&st, 0, sizeof st); return st; }
OBSDEF const char *obs_result_string(obs_result r) { return ""; }
OBSDEF obs_tracer *obs_tracer_get(const char *scope_name, const char *scope_version) { return 0; }
OBSDEF obs_span *obs_span_start(obs_tracer *t, const char *name) { return 0; }
OBSDEF obs_span *obs_span_start_ex(obs_tracer *t, const char *name, const obs_span_opts *opts) { return 0; }
OBSDEF void obs_span_end(obs_span *s) {}
OBSDEF void obs_span_end_at(obs_span *s, int64_t end_time_ns) {}
OBSDEF void obs_span_set_str(obs_span *s, const char *key, const char *value) {}
OBSDEF void obs_span_set_int(obs_span *s, const char *key, int64_t value) {}
OBSDEF void obs_span_set_double(obs_span *s, const char *key, double value) {}
OBSDEF void obs_span_set_bool(obs_span *s, const char *key, int value) {}
OBSDEF void obs_span_set_str_array(obs_span *s, const char *key, const char *const *v, size_t n) {}
OBSDEF void obs_span_set_int_array(obs_span *s, const char *key, const int64_t *v, size_t n) {}
OBSDEF void obs_span_set_double_array(obs_span *s, const char *key, const double *v, size_t n) {}
OBSDEF void obs_span_set_bool_array(obs_span *s, const char *key, const int *v, size_t n) {}
OBSDEF void obs_span_set_attrs(obs_span *s, const obs_attr *attrs, size_t n) {}
OBSDEF void obs_span_update_name(obs_span *s, const char *name) {}
OBSDEF void obs_span_add_event(obs_span *s, const char *name) {}
OBSDEF void obs_span_add_event_attrs(obs_span *s, const char *name, const obs_attr *attrs, size_t n) {}
OBSDEF void obs_span_add_link(obs_span *s, const obs_link *link) {}
OBSDEF void obs_span_set_status(obs_span *s, obs_status_code code, const char *description) {}
OBSDEF void obs_span_record_error(obs_span *s, const char *type, const char *message) {}
OBSDEF obs_span *obs_span_current(void) { return 0; }
OBSDEF void obs_span_activate(obs_span *s) {}
OBSDEF void obs_span_deactivate(obs_span *s) {}
OBSDEF int obs_span_is_recording(const obs_span *s) { return 0; }
OBSDEF void obs_span_ids(const obs_span *s, uint8_t *trace_id, uint8_t *span_id) {}
OBSDEF size_t obs_span_traceparent(const obs_span *s, char *buf, size_t len) { return 0; }
OBSDEF size_t obs_span_xray_header(const obs_span *s, char *buf, size_t len) { return 0; }
OBSDEF const char *obs_span_tracestate(const obs_span *s) { return ""; }
OBSDEF int obs_tracestate_set(char *ts, size_t cap, const char *key, const char *value) { return 0; }
OBSDEF void obs_log(obs_level level, const char *fmt, ...) {}
OBSDEF void obs_log_at(obs_level level, const char *file, int line, const char *func, const obs_attr *attrs, size_t n_attrs, const char *fmt, ...) {}
OBSDEF void obs_log_v(obs_level level, const char *file, int line, const char *func, const obs_attr *attrs, size_t n_attrs, const char *fmt, va_list ap) {}
OBSDEF void obs_log_set_level(obs_level level) {}
OBSDEF obs_level obs_log_get_level(void) { return OBS_LEVEL_OFF; }
OBSDEF const char *obs_level_name(obs_level level) { return ""; }
OBSDEF obs_result obs_crash_capture(void) { return OBS_OK; }
OBSDEF void obs_report_error(const char *type, const char *message) {}
OBSDEF const obs_attr *obs_resource(size_t *n) { return 0; }
OBSDEF obs_exporter *obs_memory_exporter_new(size_t capacity) { return 0; }
OBSDEF size_t obs_memory_exporter_span_count(obs_exporter *e) { return 0; }
OBSDEF const obs_span_data *obs_memory_exporter_span(obs_exporter *e, size_t i) { return 0; }
OBSDEF size_t obs_memory_exporter_log_count(obs_exporter *e) { return 0; }
OBSDEF const obs_log_data *obs_memory_exporter_log(obs_exporter *e, size_t i) { return 0; }
OBSDEF size_t obs_memory_exporter_overflow(obs_exporter *e) { return 0; }
OBSDEF void obs_memory_exporter_clear(obs_exporter *e) {}
OBSDEF void obs_memory_exporter_free(obs_exporter *e) {}
OBSDEF const obs_attr *obs_attr_find(const obs_attr *attrs, size_t n, const char *key) { return 0; }
OBSDEF obs_exporter *obs_console_exporter_new(void *file, int tree) { return 0; }
OBSDEF obs_exporter *obs_summary_exporter_new(void *file) { return 0; }
OBSDEF void obs_summary_print(obs_exporter *e, void *file) {}
OBSDEF int obs_summary_get(obs_exporter *e, const char *name, obs_summary_stats *out) { return 0; }
OBSDEF int64_t obs_summary_quantile(obs_exporter *e, const char *name, double q) { return -1; }
OBSDEF obs_exporter *obs_trace_file_exporter_new(const char *path) { return 0; }
OBSDEF obs_span *obs_http_server_start(obs_tracer *t, const obs_http_server_req *req) { return 0; }
OBSDEF void obs_http_server_end(obs_span *s, const obs_http_server_req *req, int status_code, int64_t response_bytes) {}
OBSDEF obs_span *obs_http_client_start(obs_tracer *t, const char *method, const char *url, obs_http_headers *out) { if (out) out->traceparent[0] = out->tracestate[0] = out->xray[0] = 0; return 0; }
OBSDEF void obs_http_client_end(obs_span *s, int status_code) {}
OBSDEF void obs_http_inject(const obs_span *s, obs_http_headers *out) { if (out) out->traceparent[0] = out->tracestate[0] = out->xray[0] = 0; }
OBSDEF obs_exporter *obs_xray_exporter_new(const char *daemon_address) { return 0; }
OBSDEF obs_xray_stats obs_xray_exporter_stats(obs_exporter *e) { obs_xray_stats st; memset(&st, 0, sizeof st); return st; }
OBSDEF obs_exporter *obs_rollbar_exporter_new(const obs_rollbar_config *c) { return 0; }
OBSDEF obs_exporter *obs_cloudwatch_exporter_new(const obs_cloudwatch_config *c) { return 0; }
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
#undef OBS_LOG_
#define OBS_LOG_(lvl, ...) do { if (0) obs_log((lvl), __VA_ARGS__); } while (0)
#undef OBS_LOG_ATTRS_
#define OBS_LOG_ATTRS_(lvl, a, n, ...) do { if (0) obs_log_at((lvl), 0, 0, 0, (a), (n), __VA_ARGS__); } while (0)
#endif /* OBS_DISABLE */

#ifdef __cplusplus
}
#endif
#endif /* OBS_H_INCLUDED */

/* ========================================================================================
   Everything below is the implementation.
   ======================================================================================== */
#if defined(OBS_IMPLEMENTATION) && !defined(OBS_DISABLE)
#ifndef OBS__IMPLEMENTATION_INCLUDED
#define OBS__IMPLEMENTATION_INCLUDED

// ============================================================================
// >>impl:platform -- clock, threads, atomics, thread-local state, randomness
// ============================================================================
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#if defined(__GLIBC__) && !defined(OBS_NO_BACKTRACE)
#include <execinfo.h> /* backtrace(): glibc; elsewhere stack traces are left out */
#define OBS__HAVE_BACKTRACE 1
#endif
#if defined(__GLIBC__) && !defined(_POSIX_C_SOURCE)
#error "obs.h: include obs.h (with OBS_IMPLEMENTATION) before system headers, or build with -D_POSIX_C_SOURCE=200809L"
#endif

#if defined(OBS_MALLOC) || defined(OBS_REALLOC) || defined(OBS_FREE)
#if !defined(OBS_MALLOC) || !defined(OBS_REALLOC) || !defined(OBS_FREE)
#error "obs.h: define all three of OBS_MALLOC, OBS_REALLOC and OBS_FREE, or none"
#endif
#else
#define OBS_MALLOC(n) malloc(n)
#define OBS_REALLOC(p, n) realloc(p, n)
#define OBS_FREE(p) free(p)
#endif
#ifndef OBS_ASSERT
#include <assert.h>
#define OBS_ASSERT(c) assert(c)
#endif

#ifdef __cplusplus
#define OBS__ZERO(T, x) T x = {}
#else
#define OBS__ZERO(T, x) T x = {0}
#endif
#define OBS__MIN(a, b) ((a) < (b) ? (a) : (b))

/* Memory: the only door to the allocator. */
static void *obs__alloc(size_t n) { return OBS_MALLOC(n ? n : 1); }
static void *obs__realloc(void *p, size_t n) { return OBS_REALLOC(p, n ? n : 1); }
static void obs__free(void *p) {
    if (p) OBS_FREE(p);
}
static void *obs__calloc(size_t n) {
    void *p = obs__alloc(n);
    if (p) memset(p, 0, n);
    return p;
}
static char *obs__strdup(const char *s) {
    size_t n = strlen(s ? s : "");
    char *p = (char *)obs__alloc(n + 1);
    if (p) memcpy(p, s ? s : "", n + 1);
    return p;
}

/* Atomics: GCC/Clang builtins; elsewhere one process-wide mutex (correct, slow). */
#if defined(__GNUC__) || defined(__clang__)
#define OBS__LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define OBS__LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define OBS__STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define OBS__STORE_RELAXED(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define OBS__ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define OBS__CAS(p, expp, v) \
    __atomic_compare_exchange_n((p), (expp), (v), 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)
/* A full barrier as a locked add (ThreadSanitizer does not model bare fences). Rare paths only. */
#define OBS__FENCE() ((void)__atomic_fetch_add(&obs__g.fence, 0, __ATOMIC_SEQ_CST))
#define OBS__XCHG(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define OBS__LIKELY(x) __builtin_expect(!!(x), 1)
#define OBS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define OBS__NOINLINE __attribute__((noinline)) /* slow paths: keep the fast ones small */
#define OBS__PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#else
/* obs.h needs lock-free atomics on the hot path; C99 has none, so: GCC/Clang builtins. */
#error "obs.h: this compiler has no __atomic builtins (gcc, clang and icc have them)"
#endif

/* Clocks. Span times are wall-clock (Unix epoch) but measured on the monotonic clock plus
   an offset, so one clock read per timestamp and durations immune to wall-clock jumps; the
   offset follows the wall clock again at every batch export (obs__clock_resync). */
static int64_t obs__mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static int64_t obs__mono_ms(void) { return obs__mono_ns() / 1000000; }
static int64_t obs__realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* On x86 with a TSC the kernel trusts, span timestamps read the TSC (a few ns) instead of
   clock_gettime (20-40 ns), scaled to nanoseconds; the scale is re-measured against the
   monotonic clock at every batch wake-up. OBS_NO_TSC turns it off. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(OBS_NO_TSC) && defined(__linux__)
#include <x86intrin.h>
#define OBS__HAVE_TSC 1
__extension__ typedef unsigned __int128 obs__u128;
#endif

/* Thread-local storage: the compiler's where it has one, else a pthread key. */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define OBS__THREAD_LOCAL thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define OBS__THREAD_LOCAL __thread
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define OBS__THREAD_LOCAL _Thread_local
#endif

/* splitmix64: fast, statistically strong enough for ids; seeded per thread from the OS. */
#define OBS__GOLDEN 0x9e3779b97f4a7c15ULL /* the generator's step */
static uint64_t obs__rng_next(uint64_t *state) {
    uint64_t z = (*state += OBS__GOLDEN);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t obs__os_random64(void) {
    uint64_t v = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ssize_t got = read(fd, &v, sizeof v);
        close(fd);
        if (got == (ssize_t)sizeof v) return v;
    }
    /* No /dev/urandom (chroot): time, address and pid still make ids unique enough. */
    return (uint64_t)obs__realtime_ns() ^ ((uint64_t)(uintptr_t)&v << 16) ^ (uint64_t)getpid();
}

typedef struct obs__thread {
    pthread_t tid;
    int started;
} obs__thread;
static int obs__thread_start(obs__thread *t, void *(*fn)(void *), void *arg) {
    t->started = pthread_create(&t->tid, NULL, fn, arg) == 0;
    return t->started;
}
static void obs__thread_join(obs__thread *t) {
    if (t->started) pthread_join(t->tid, NULL);
    t->started = 0;
}
/* Waits on cond until the monotonic deadline (ms); the condvar uses CLOCK_MONOTONIC. */
static void obs__cond_init(pthread_cond_t *c) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}
static void obs__sleep_ms(int64_t ms) {
    struct timespec ts;
    if (ms <= 0) return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void obs__cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, int64_t deadline_ms) {
    struct timespec ts;
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000;
    pthread_cond_timedwait(c, m, &ts);
}

// ============================================================================
// >>impl:buf -- growable byte buffer, UTF-8 helpers
// ============================================================================
/* On allocation failure `oom` is set and further writes are ignored; `p` is always
   NUL-terminated once anything was written. Reset keeps the memory for reuse. */
typedef struct obs__buf {
    char *p;
    size_t len, cap;
    int oom;
} obs__buf;

static int obs__buf_reserve(obs__buf *b, size_t extra) {
    size_t need, ncap;
    char *np;
    if (b->oom) return 0;
    need = b->len + extra + 1;
    if (need <= b->cap) return 1;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need) ncap *= 2;
    np = (char *)obs__realloc(b->p, ncap);
    if (!np) {
        b->oom = 1;
        return 0;
    }
    b->p = np;
    b->cap = ncap;
    return 1;
}
/* Room for n more bytes (and the NUL) to write in place, then obs__buf_commit what was
   written: one capacity check for a whole field, inline when it fits (encoders append many
   short pieces). NULL when out of memory. */
static inline char *obs__buf_room(obs__buf *b, size_t n) {
    return OBS__LIKELY(b->len + n < b->cap) || obs__buf_reserve(b, n) ? b->p + b->len : NULL;
}
static inline void obs__buf_commit(obs__buf *b, size_t n) {
    b->len += n;
    b->p[b->len] = 0;
}
static inline void obs__buf_put(obs__buf *b, const void *data, size_t n) {
    char *p = obs__buf_room(b, n);
    if (!p) return;
    memcpy(p, data, n);
    obs__buf_commit(b, n);
}
static void obs__buf_puts(obs__buf *b, const char *s) { obs__buf_put(b, s, strlen(s)); }
/* A string literal: its length is known at compile time. */
#define OBS__PUTL(b, lit) obs__buf_put((b), (lit), sizeof(lit) - 1)
static inline void obs__buf_putc(obs__buf *b, char c) {
    char *p = obs__buf_room(b, 1);
    if (!p) return;
    *p = c;
    obs__buf_commit(b, 1);
}
static void obs__buf_vprintf(obs__buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    int n;
    if (!obs__buf_reserve(b, 64)) return;
    va_copy(ap2, ap); /* one pass when it fits the room already there, else a second */
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->p[b->len] = 0;
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        if (!obs__buf_reserve(b, (size_t)n)) {
            b->p[b->len] = 0;
            return;
        }
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}
static void obs__buf_printf(obs__buf *b, const char *fmt, ...) OBS__PRINTF(2, 3);
static void obs__buf_printf(obs__buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    obs__buf_vprintf(b, fmt, ap);
    va_end(ap);
}
static void obs__buf_reset(obs__buf *b) {
    b->len = 0;
    b->oom = 0;
    if (b->cap) b->p[0] = 0;
}
static void obs__buf_free(obs__buf *b) {
    obs__free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one (RFC 3629:
   no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t obs__utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len, i;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3;
    else if (c >= 0xF0 && c <= 0xF4) len = 4;
    else return 0;
    if (n < len) return 0;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    if (s[1] < lo || s[1] > hi) return 0;
    for (i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
    }
    return len;
}

/* The longest prefix of s[0..n) no longer than limit that does not split a UTF-8 sequence.
   Reads only s[0..limit): a truncating vsnprintf has put its NUL at s[limit]. */
static size_t obs__utf8_cut(const char *s, size_t n, size_t limit) {
    size_t j, len;
    unsigned c;
    if (n <= limit) return n;
    if (limit == 0) return 0;
    for (j = limit - 1; j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80; j--) {
    }
    c = (unsigned char)s[j]; /* the last sequence's lead byte: does it fit whole? */
    len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return j + len <= limit ? limit : j;
}

// ============================================================================
// >>impl:propagation -- W3C traceparent / tracestate and AWS X-Ray headers
// ============================================================================
/* ---- propagation: W3C traceparent / tracestate and AWS X-Ray headers --------------------------
   Pure functions over caller buffers: no allocation, no global state, safe from any thread.
   W3C Trace Context Level 1 (Recommendation, 23 Nov 2021) plus Level 2's random flag.
   Decisions, with the wording they rest on (section numbers are Level 1's):
   - traceparent OWS: leading/trailing spaces and tabs are trimmed, nothing inside. The ABNF
     (s3.2.2 `value = version "-" version-format`) has none, but "The field value does not
     include any leading or trailing whitespace" (RFC 7230 s3.2.4) and the W3C test suite
     (test_traceparent_ows_handling) accepts " 00-..." and "...-01\t".
   - traceparent hex is lowercase only: s3.2.2 `HEXDIGLC ... ; lowercase hex character`;
     s3.2.2.4 "Vendors MUST ignore the traceparent when the parent-id is invalid (for example,
     if it contains non-lowercase hex characters)".
   - versions (s3.2.4): `ff` is invalid; 00 is exactly 55 characters; a higher version needs
     at least 55 and the flags "either the end of the string or a dash", so a 56th character
     must be `-`; the rest is unread ("Vendors MUST NOT parse or assume anything about unknown
     fields") and we send version 00.
   - trace-flags keep the known bits only (0x01 sampled, 0x02 Level 2 random): s3.2.2.5.2
     "Vendors MUST set those to zero"; s4.3 "Vendors will set all unparsed / unknown
     trace-flags to 0 on outgoing requests".
   - tracestate keys follow s3.3.1.3.1: simple-key `lcalpha 0*255(keychar)` or tenant-id
     `(lcalpha / DIGIT) 0*240(keychar)` "@" system-id `lcalpha 0*13(keychar)`. (Level 2 drafts
     allow `(lcalpha / DIGIT) 0*255(keychar / "@")`: only obs__ts_key_ok would change.)
   - values (s3.3.1.3.2): 1-256 chars of 0x20-0x7E except `,` `=`, not ending in a space.
     "Spaces and horizontal tabs surrounding list-members are ignored" (s3.3.1.1), so " k= v "
     is k -> " v" (Level 2: "All leading spaces MUST be preserved as part of the value").
   - empty members are skipped and not counted in the 32 ("Empty and whitespace-only list
     members are allowed", s3.3.1.1): combining header fields makes them.
   - an invalid member, a repeated key ("Only one entry per key is allowed", s3.3.1.4) or more
     than 32 members discards the whole header: s4.3 "If the tracestate header cannot be parsed
     the vendor MAY discard the entire header"; the W3C test suite expects exactly that.
   - size (s3.3.1.5): "Vendors SHOULD propagate at least 512 characters": use buffers of
     OBS__TRACESTATE_CAP. What does not fit is dropped as whole entries: "Entries larger than
     128 characters long SHOULD be removed first. Then entries SHOULD be removed starting from
     the end". Input over OBS__PROP_MAX_INPUT is rejected to bound the work.
   - X-Ray: keys Root, Parent, Sampled are case-sensitive, in any order, with OWS around fields
     and `=`; other fields (Self, Lineage, ...) are ignored; a repeated known key is invalid.
     Hex is lowercase only, so one decoder serves both formats: AWS emits lowercase, and the
     OpenTelemetry Go X-Ray propagator also decodes lowercase only (TraceIDFromHex). Root is
     required; Parent is optional (a load balancer sends root-only headers): span_id is then
     zero, meaning "trace id known, no parent span". Sampled=1 sets 0x01; Sampled=0, `?` (the
     callee is asked to decide) and absent leave 0, and the parser returns 2 rather than 1 for
     `?`/absent so the sampler may decide. OTel trace id = the 8 epoch hex + the 24 hex.
     X-Ray has no random flag: 0x02 does not survive a trip through X-Ray. */

#define OBS__TRACEPARENT_LEN 55      /* "00-" 32 "-" 16 "-" 2 */
#define OBS__TRACESTATE_MAX_MEMBERS 32
#define OBS__TRACESTATE_CAP 513      /* 512 characters + NUL: the propagation minimum */
#define OBS__TRACESTATE_BIG_MEMBER 128
#define OBS__PROP_MAX_INPUT 8192     /* longer tracestate / X-Ray values are rejected */
#define OBS__TRACE_FLAGS_KNOWN 0x03u /* sampled | random */

typedef struct obs__ctx {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t flags; /* W3C trace-flags: 0x01 sampled, 0x02 random */
} obs__ctx;

/* Lowercase hex of n bytes into 2n chars; no NUL. A byte's two digits come from one table
   entry ("00" "01" ... "ff"): ids are written three times a span. */
#define OBS__HEX16(h) h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
static const char obs__hex_pairs[] = OBS__HEX16("0") OBS__HEX16("1") OBS__HEX16("2") OBS__HEX16("3")
    OBS__HEX16("4") OBS__HEX16("5") OBS__HEX16("6") OBS__HEX16("7") OBS__HEX16("8") OBS__HEX16("9")
    OBS__HEX16("a") OBS__HEX16("b") OBS__HEX16("c") OBS__HEX16("d") OBS__HEX16("e") OBS__HEX16("f");
static void obs__hex_encode(const uint8_t *in, size_t n, char *out) {
    const uint8_t *end = in + n;
    for (; end - in >= 4; in += 4, out += 8) { /* ids are 8 or 16 bytes: four a step */
        memcpy(out, obs__hex_pairs + 2 * in[0], 2);
        memcpy(out + 2, obs__hex_pairs + 2 * in[1], 2);
        memcpy(out + 4, obs__hex_pairs + 2 * in[2], 2);
        memcpy(out + 6, obs__hex_pairs + 2 * in[3], 2);
    }
    for (; in < end; in++, out += 2) memcpy(out, obs__hex_pairs + 2 * in[0], 2);
}

static int obs__hex_nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* uppercase too: both headers use lowercase hex only */
}

/* Decodes n2 lowercase hex chars into n2/2 bytes; 1 ok. `out` may be partly written on error. */
static int obs__hex_decode(const char *in, size_t n2, uint8_t *out) {
    size_t i;
    if (n2 % 2) return 0;
    for (i = 0; i < n2; i += 2) {
        int hi = obs__hex_nibble(in[i]), lo = obs__hex_nibble(in[i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[i / 2] = (uint8_t)((hi << 4) | lo);
    }
    return 1;
}

static int obs__id_is_zero(const uint8_t *id, size_t n) {
    uint8_t acc = 0;
    size_t i;
    for (i = 0; i < n; i++) acc |= id[i];
    return acc == 0;
}

static int obs__is_ows(char c) { return c == ' ' || c == '\t'; }

static void obs__trim_ows(const char **s, size_t *n) {
    while (*n && obs__is_ows(**s)) { (*s)++; (*n)--; }
    while (*n && obs__is_ows((*s)[*n - 1])) (*n)--;
}

/* Next `sep`-separated field of s[0..n) starting at *pos, trimmed of OWS. Returns 0 once the
   last field has been returned; an empty input yields one empty field. */
static int obs__next_field(const char *s, size_t n, size_t *pos, char sep, const char **f,
                           size_t *fn) {
    const char *q;
    if (*pos > n) return 0;
    q = (const char *)memchr(s + *pos, sep, n - *pos);
    *f = s + *pos;
    *fn = q ? (size_t)(q - *f) : n - *pos;
    *pos += *fn + 1;
    obs__trim_ows(f, fn);
    return 1;
}

/* ---- traceparent ---- */

/* 1 when s[0..n) is a valid traceparent; fills *out. 0 leaves *out untouched. */
static int obs__traceparent_parse(const char *s, size_t n, obs__ctx *out) {
    obs__ctx c;
    uint8_t version;
    if (!s || !out) return 0;
    obs__trim_ows(&s, &n);
    if (n < OBS__TRACEPARENT_LEN || !obs__hex_decode(s, 2, &version) || version == 0xff) return 0;
    if (version == 0 ? n != OBS__TRACEPARENT_LEN : (n > 55 && s[55] != '-')) return 0;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-') return 0;
    if (!obs__hex_decode(s + 3, 32, c.trace_id) || !obs__hex_decode(s + 36, 16, c.span_id) ||
        !obs__hex_decode(s + 53, 2, &c.flags))
        return 0;
    if (obs__id_is_zero(c.trace_id, 16) || obs__id_is_zero(c.span_id, 8)) return 0;
    c.flags = (uint8_t)(c.flags & OBS__TRACE_FLAGS_KNOWN);
    *out = c;
    return 1;
}

/* Writes "00-<trace>-<span>-<flags>" and a NUL when len > 55; writes nothing otherwise.
   Always returns 55, the length of the value. */
static size_t obs__traceparent_format(const obs__ctx *c, char *buf, size_t len) {
    uint8_t flags;
    if (!c || !buf || len <= OBS__TRACEPARENT_LEN) return OBS__TRACEPARENT_LEN;
    flags = (uint8_t)(c->flags & OBS__TRACE_FLAGS_KNOWN);
    memcpy(buf, "00-", 3);
    obs__hex_encode(c->trace_id, 16, buf + 3);
    buf[35] = '-';
    obs__hex_encode(c->span_id, 8, buf + 36);
    buf[52] = '-';
    obs__hex_encode(&flags, 1, buf + 53);
    buf[55] = '\0';
    return OBS__TRACEPARENT_LEN;
}

/* ---- tracestate ---- */

typedef struct obs__ts_member {
    size_t off, len, klen; /* member at s + off, `len` chars; its key is the first `klen` */
} obs__ts_member;

static int obs__ts_keychar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '*' || c == '/';
}

/* One key part: 1..max keychars, the first a-z (or also 0-9 when digit_first). */
static int obs__ts_id_ok(const char *p, size_t n, size_t max, int digit_first) {
    size_t i;
    if (n == 0 || n > max) return 0;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (digit_first && p[0] >= '0' && p[0] <= '9'))) return 0;
    for (i = 1; i < n; i++) {
        if (!obs__ts_keychar(p[i])) return 0;
    }
    return 1;
}

/* Level 1 s3.3.1.3.1: simple-key, or tenant-id "@" system-id. */
static int obs__ts_key_ok(const char *k, size_t n) {
    const char *at = (const char *)memchr(k, '@', n);
    size_t t;
    if (!at) return obs__ts_id_ok(k, n, 256, 0);
    t = (size_t)(at - k);
    return obs__ts_id_ok(k, t, 241, 1) && obs__ts_id_ok(at + 1, n - t - 1, 14, 0);
}

/* s3.3.1.3.2: value = 0*255(chr) nblk-chr; chr is 0x20-0x7E without ',' and '='. */
static int obs__ts_value_ok(const char *v, size_t n) {
    size_t i;
    if (n == 0 || n > 256 || v[n - 1] == ' ') return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return 0;
    }
    return 1;
}

/* Index of the member whose key is k[0..kn), or count when there is none. */
static size_t obs__ts_find(const char *s, const obs__ts_member *m, size_t count, const char *k,
                           size_t kn) {
    size_t i;
    for (i = 0; i < count; i++) {
        if (m[i].klen == kn && memcmp(s + m[i].off, k, kn) == 0) return i;
    }
    return count;
}

/* Splits s[0..n) into validated members (offsets into s). 0 if any member is invalid, a key
   repeats, there are more than 32 members or the input is too long to bother with. */
static int obs__ts_split(const char *s, size_t n, obs__ts_member *m, size_t *count) {
    size_t pos = 0, fn;
    const char *f, *eq;
    *count = 0;
    if (!s) return n == 0;
    if (n > OBS__PROP_MAX_INPUT) return 0;
    while (obs__next_field(s, n, &pos, ',', &f, &fn)) {
        size_t klen;
        if (fn == 0) continue;
        eq = (const char *)memchr(f, '=', fn);
        if (!eq || *count == OBS__TRACESTATE_MAX_MEMBERS) return 0;
        klen = (size_t)(eq - f);
        if (!obs__ts_key_ok(f, klen) || !obs__ts_value_ok(eq + 1, fn - klen - 1)) return 0;
        if (obs__ts_find(s, m, *count, f, klen) != *count) return 0;
        m[*count].off = (size_t)(f - s);
        m[*count].len = fn;
        m[*count].klen = klen;
        (*count)++;
    }
    return 1;
}

/* The member to drop next (s3.3.1.5): the last kept one over 128 chars, else the last kept. */
static size_t obs__ts_victim(const obs__ts_member *m, size_t n, const unsigned char *keep) {
    size_t i, last = n;
    for (i = n; i-- > 0;) {
        if (!keep[i]) continue;
        if (m[i].len > OBS__TRACESTATE_BIG_MEMBER) return i;
        if (last == n) last = i;
    }
    return last;
}

/* Marks in keep[] the members that survive: at most max_n from the front, then dropped one by
   one until the comma-joined length fits in budget. Returns the number kept. */
static size_t obs__ts_fit(const obs__ts_member *m, size_t n, size_t max_n, size_t budget,
                          unsigned char *keep) {
    size_t i, kept = 0, used = 0;
    for (i = 0; i < n; i++) {
        keep[i] = (unsigned char)(i < max_n);
        if (keep[i]) used += m[i].len + (kept++ ? 1 : 0);
    }
    while (kept && used > budget) {
        size_t v = obs__ts_victim(m, n, keep);
        keep[v] = 0;
        used -= m[v].len + (kept-- > 1 ? 1 : 0);
    }
    return kept;
}

/* Writes the kept members of src comma-joined at dst; returns the length (no NUL). dst may
   equal src: every member moves left or stays, so memmove never overwrites unread input. */
static size_t obs__ts_emit(char *dst, const char *src, const obs__ts_member *m, size_t n,
                           const unsigned char *keep) {
    size_t i, w = 0;
    for (i = 0; i < n; i++) {
        if (!keep[i]) continue;
        if (w) dst[w++] = ',';
        memmove(dst + w, src + m[i].off, m[i].len);
        w += m[i].len;
    }
    return w;
}

/* Validates s[0..n) and writes it normalised (no OWS, no empty members) to out, NUL-terminated,
   dropping whole entries if it does not fit in outcap (see above). out may equal s (in place)
   but must not otherwise overlap it. 1 valid (possibly empty); 0 invalid, out = "". */
static int obs__tracestate_parse(const char *s, size_t n, char *out, size_t outcap) {
    obs__ts_member m[OBS__TRACESTATE_MAX_MEMBERS];
    unsigned char keep[OBS__TRACESTATE_MAX_MEMBERS];
    size_t count, w;
    if (!out || outcap == 0) return 0;
    if (!obs__ts_split(s, n, m, &count)) {
        out[0] = '\0';
        return 0;
    }
    obs__ts_fit(m, count, OBS__TRACESTATE_MAX_MEMBERS, outcap - 1, keep);
    w = obs__ts_emit(out, s, m, count, keep);
    out[w] = '\0';
    return 1;
}

/* Adds or updates key=value in the NUL-terminated tracestate ts (buffer of cap bytes), putting
   it first (s3.5: "Modified keys SHOULD be moved to the beginning (left) of the list"). Drops
   members from the end past 32 (Level 2: "the right-most list-member should be removed") or
   to fit cap. The result is normalised. key and value must not point into ts.
   1 ok; 0 (ts untouched) if key or value is invalid, ts is not a valid tracestate or not
   terminated within cap, or key=value alone does not fit. */
static int obs__tracestate_set(char *ts, size_t cap, const char *key, const char *value) {
    obs__ts_member m[OBS__TRACESTATE_MAX_MEMBERS];
    unsigned char keep[OBS__TRACESTATE_MAX_MEMBERS];
    const char *z;
    size_t klen, vlen, need, count, at, budget, w, sep;
    if (!ts || !key || !value || !(z = (const char *)memchr(ts, '\0', cap))) return 0;
    klen = strlen(key);
    vlen = strlen(value);
    need = klen + 1 + vlen;
    if (!obs__ts_key_ok(key, klen) || !obs__ts_value_ok(value, vlen) || need >= cap) return 0;
    if (!obs__ts_split(ts, (size_t)(z - ts), m, &count)) return 0;
    at = obs__ts_find(ts, m, count, key, klen);
    if (at < count) {
        memmove(m + at, m + at + 1, (count - at - 1) * sizeof m[0]);
        count--;
    }
    /* the survivors share cap with the new member, its comma and the NUL */
    budget = cap > need + 1 ? cap - need - 2 : 0;
    obs__ts_fit(m, count, OBS__TRACESTATE_MAX_MEMBERS - 1, budget, keep);
    w = obs__ts_emit(ts, ts, m, count, keep);
    sep = w ? 1 : 0;
    memmove(ts + need + sep, ts, w);
    memcpy(ts, key, klen);
    ts[klen] = '=';
    memcpy(ts + klen + 1, value, vlen);
    if (sep) ts[need] = ',';
    ts[need + sep + w] = '\0';
    return 1;
}

/* ---- AWS X-Ray: X-Amzn-Trace-Id ---- */

static int obs__str_is(const char *p, size_t n, const char *lit) {
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

/* "1-" 8 hex "-" 24 hex; the OTel trace id is the 8 epoch hex followed by the 24. */
static int obs__xray_root(const char *v, size_t n, uint8_t *tid) {
    return n == 35 && v[0] == '1' && v[1] == '-' && v[10] == '-' &&
           obs__hex_decode(v + 2, 8, tid) && obs__hex_decode(v + 11, 24, tid + 4) &&
           !obs__id_is_zero(tid, 16);
}

static int obs__xray_sampled(const char *v, size_t n, obs__ctx *c, int *decided) {
    if (n != 1 || (v[0] != '0' && v[0] != '1' && v[0] != '?')) return 0;
    c->flags = (uint8_t)(v[0] == '1');
    *decided = v[0] != '?';
    return 1;
}

/* Applies one field to c: returns the field's bit (1 Root, 2 Parent, 4 Sampled), 0 for a field
   we ignore, -1 for a known field with a bad value. */
static int obs__xray_field(const char *f, size_t fn, obs__ctx *c, int *decided) {
    const char *eq = (const char *)memchr(f, '=', fn), *k = f, *v;
    size_t kn, vn;
    if (!eq) return 0;
    kn = (size_t)(eq - f);
    v = eq + 1;
    vn = fn - kn - 1;
    obs__trim_ows(&k, &kn);
    obs__trim_ows(&v, &vn);
    if (obs__str_is(k, kn, "Root")) return obs__xray_root(v, vn, c->trace_id) ? 1 : -1;
    if (obs__str_is(k, kn, "Parent")) {
        return vn == 16 && obs__hex_decode(v, 16, c->span_id) && !obs__id_is_zero(c->span_id, 8)
                   ? 2 : -1;
    }
    if (obs__str_is(k, kn, "Sampled")) return obs__xray_sampled(v, vn, c, decided) ? 4 : -1;
    return 0;
}

/* Parses an X-Amzn-Trace-Id value. Returns 1 valid with a sampling decision (Sampled=0|1),
   2 valid without one (Sampled=? or absent: flags 0, let the sampler decide), 0 invalid
   (*out untouched). Without Parent, span_id is all zero: trace known, no parent span. */
static int obs__xray_parse(const char *s, size_t n, obs__ctx *out) {
    obs__ctx c;
    size_t pos = 0, fn;
    const char *f;
    int seen = 0, decided = 0;
    if (!s || !out || n > OBS__PROP_MAX_INPUT) return 0;
    memset(&c, 0, sizeof c);
    while (obs__next_field(s, n, &pos, ';', &f, &fn)) {
        int bit = obs__xray_field(f, fn, &c, &decided);
        if (bit < 0 || (seen & bit)) return 0;
        seen |= bit;
    }
    if (!(seen & 1)) return 0;
    *out = c;
    return decided ? 1 : 2;
}

/* Writes "Root=1-<8>-<24>;Parent=<16>;Sampled=0|1" (no Parent when span_id is zero) and a NUL
   when len is larger than the value; writes nothing otherwise. Returns the value's length:
   74, or 50 without Parent; 0 when c or buf is NULL. */
static size_t obs__xray_format(const obs__ctx *c, char *buf, size_t len) {
    int parent;
    size_t need, w = 40;
    if (!c || !buf) return 0;
    parent = !obs__id_is_zero(c->span_id, 8);
    need = parent ? 74 : 50;
    if (len <= need) return need;
    memcpy(buf, "Root=1-", 7);
    obs__hex_encode(c->trace_id, 4, buf + 7);
    buf[15] = '-';
    obs__hex_encode(c->trace_id + 4, 12, buf + 16);
    if (parent) {
        memcpy(buf + w, ";Parent=", 8);
        obs__hex_encode(c->span_id, 8, buf + w + 8);
        w += 24;
    }
    memcpy(buf + w, ";Sampled=", 9);
    buf[w + 9] = (c->flags & 0x01) ? '1' : '0';
    buf[w + 10] = '\0';
    return need;
}

// ============================================================================
// >>impl:state -- the one global, thread-local blocks, counters, diagnostics
// ============================================================================
#define OBS__TLS_CACHE 32  /* free items a thread keeps for itself, per pool */
#define OBS__STACK_INLINE 64   /* current-span stack depth before it moves to the heap */
#define OBS__STACK_MAX 65536   /* deeper spans still work, but are not made current */
#define OBS__MAX_PROCS 8   /* processors per signal */
#define OBS__MSG_MAX 4096  /* longest log message, bytes with the NUL */

enum { OBS__SPANS = 0, OBS__LOGS = 1 };

/* Counters. The first OBS__C_THREAD ones are bumped on the caller's thread: each thread
   owns its copy (no shared cache line on the hot path) and obs_get_stats adds them up. */
enum {
    OBS__C_STARTED,
    OBS__C_UNSAMPLED,
    OBS__C_ENDED,
    OBS__C_LOGS,
    OBS__C_SPAN_DROP_QUEUE,
    OBS__C_LOG_DROP_QUEUE,
    OBS__C_ATTR_DROP,
    OBS__C_THREAD,
    OBS__C_SPAN_EXPORTED = OBS__C_THREAD,
    OBS__C_SPAN_DROP_EXPORT,
    OBS__C_SPAN_REJECTED,
    OBS__C_LOG_EXPORTED,
    OBS__C_LOG_DROP_EXPORT,
    OBS__C_LOG_REJECTED,
    OBS__C_REQUESTS,
    OBS__C_RETRIES,
    OBS__C_COUNT
};

/* A bounded lock-free queue of pointers, many producers and one consumer: one CAS per push,
   producers never wait for each other or for the consumer. A cell says which position it
   holds (seq = position + 1 once written); only producers write cells, and the consumer
   publishes how far it has read once per batch, so a push reads no line the consumer wrote
   since its last batch (a cross-core miss per push otherwise). */
typedef struct obs__cell {
    uint64_t seq;
    void *data;
} obs__cell;
typedef struct obs__ring {
    obs__cell *cells;
    uint64_t mask;
    char pad0[48];
    uint64_t enq; /* own cache lines: producers and consumers do not share one */
    char pad1[56];
    uint64_t deq;  /* atomic: positions below it are read, their cells free */
    uint64_t done; /* atomic: items from this ring exported or dropped (a flush waits for it) */
    char pad2[48];
} obs__ring;

/* A batch processor's queue: a ring per lane, a thread pushes to lane (thread id mod
   OBS__LANES), so threads running on two cores do not fight over one ring's lines (the
   position word and the cells: a cache-line transfer per push each). Each lane holds
   max_queue_size items: a program with many threads may queue up to OBS__LANES times that. */
#define OBS__LANES 4
typedef struct obs__queue {
    obs__ring lane[OBS__LANES];
    unsigned next;            /* the consumer's: the lane it reads first next time (fairness) */
    size_t got[OBS__LANES];   /* the last pop: items from each lane, in order from lane first */
    unsigned first;
} obs__queue;

/* Spans and log records live in pools: allocated in slabs on demand, recycled forever, freed
   at shutdown. So memory stays valid for stale references, and a warmed-up program does not
   allocate. Free items wait on lock-free stacks: the item reused next is the one freed last,
   still in the cache, so a busy program cycles through few items whatever the pool's size.
   A stack per lane (threads by id, as the queues): an item goes back to the lane of the
   thread that wrote it, so items do not wander between cores (each a few line transfers). */
typedef struct obs__top {
    uint64_t top; /* atomic: (tag << 32) | index of the free stack's top item, 0 when empty */
    char pad[56]; /* a cache line each: not shared with another lane or the pool's fields */
} obs__top;
typedef struct obs__pool {
    char pad0[64];
    obs__top free[OBS__LANES];
    char **slabs; /* slab k holds the items with index k*32+1 .. k*32+32 */
    uint32_t *below; /* atomic: below[i], the item under item i on the free stack (0: none);
                        apart from the items, so freeing one does not write to its lines */
    size_t item_size;
    size_t allocated, max_items;
    void (*release)(void *item); /* frees what an item grew (arrays, arena blocks) */
} obs__pool;

typedef struct obs__ref {
    obs_span *span;
    uint32_t gen;
} obs__ref;

/* Per-thread state. Blocks are kept on a list for stats and reused after a thread exits. */
typedef struct obs__tls {
    uint32_t gen;        /* obs__g.gen when set up: a new obs_init invalidates it */
    uint64_t rng;
    int depth;
    obs__ref *stack; /* the inline array until deep recursion grows it */
    int stack_cap;
    obs__ref stack_inline[OBS__STACK_INLINE];
    int ncache[2];
    void *cache[2][OBS__TLS_CACHE];
    uint64_t counters[OBS__C_THREAD];
    uint32_t thread_id; /* 1, 2, ... in the order threads first used obs */
    int in_use;
    struct obs__tls *next;
} obs__tls;

#define OBS__ARENA_INLINE 256
#define OBS__BLOCK_MIN 2048
#define OBS__BLOCK_KEEP (64 * 1024) /* bigger blocks are freed at reuse, not kept */
#define OBS__ARENA_MAX (1024 * 1024) /* bytes one span or record may copy; more: dropped */

typedef struct obs__block {
    struct obs__block *next;
    size_t cap;
} obs__block;

/* Strings and arrays an item copies. Pointers into it stay valid until the item is reused
   (blocks never move), so obs_attr can point straight into it. */
typedef struct obs__arena {
    char *cur;
    size_t left, total;
    obs__block *blocks; /* kept for reuse */
    obs__block *next;   /* the next kept block not used since reset */
    char first[OBS__ARENA_INLINE];
} obs__arena;

/* An attribute list; `v` grows on the heap and is kept across reuse. */
typedef struct obs__attrs {
    obs_attr *v;
    uint32_t n, cap, dropped;
} obs__attrs;

struct obs_tracer {
    obs_scope scope;
    struct obs_tracer *next;
};

/* The X-Ray sampling rule: ReservoirSize traces a second are sampled first, then FixedRate
   of the rest. One 64-bit word holds the current second and the traces it took, so a
   decision is one CAS on the span-start path: no lock. */
#define OBS__XRAY_COUNT_BITS 24 /* low bits of `window`: traces taken this second */
#define OBS__XRAY_RESERVOIR_MAX 1000000u
typedef struct obs__xray_sampler {
    uint32_t reservoir; /* ReservoirSize: traces a second sampled first */
    uint64_t threshold; /* FixedRate of the rest: sampled when the trace id's low 56 bits >= this */
    uint64_t window;    /* atomic: (second << 24) | traces the reservoir gave this second */
} obs__xray_sampler;

typedef struct obs__sampler {
    obs_sampler_kind kind;
    uint64_t threshold; /* ratio samplers: sample when the trace id's low 56 bits >= this */
    obs__xray_sampler xray; /* OBS_SAMPLER_XRAY, OBS_SAMPLER_PARENTBASED_XRAY */
} obs__sampler;

typedef struct obs__limits {
    size_t value_len; /* SIZE_MAX: none */
    uint32_t attrs, events, links, event_attrs, link_attrs;
    uint32_t log_attrs; /* a log record's (OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT) */
} obs__limits;

typedef struct obs__proc obs__proc;

typedef struct obs__state {
    int running; /* atomic: 1 between obs_init and obs_shutdown */
    int crashing; /* atomic: a crash handler runs; exporters must not block on locks */
    int fence;    /* target of OBS__FENCE */
    obs_attr crash_attrs[2];
    uint32_t gen;
    int diag_level; /* 1 error, 2 warn, 3 info, 4 debug */
    int64_t clock_offset; /* wall - monotonic, ns; atomic */
    int use_tsc;
    uint64_t clk_tsc0, clk_mult; /* ns = clk_ns0 + (tsc - clk_tsc0) * clk_mult / 2^32 */
    int64_t clk_ns0;
    uint32_t clk_seq;        /* seqlock over the three: odd while being rewritten */
    int clk_busy;            /* atomic: one thread re-measures at a time */
    uint64_t clk_stale;      /* ticks after which the next reader re-measures (~0.25 s) */
    uint64_t cal_tsc;        /* the first reading: the scale is measured from here */
    int64_t cal_ns;          /* ... and the monotonic time then */
    uint64_t seed;
    obs__limits limits;
    obs__sampler sampler;
    int xray_ids; /* an X-Ray exporter exports spans: trace ids start with the time */
    int lazy_roots; /* the sampler records no root span: a root's trace id is drawn on demand */
    obs__pool pools[2];
    obs__proc *procs[2][OBS__MAX_PROCS];
    int nprocs[2];
    pthread_mutex_t lock; /* tracers, thread blocks: never taken on the hot path */
    obs_tracer *tracers;
    obs__tls *threads;
    uint32_t thread_count;
    pthread_key_t tls_key;
    int tls_key_ok;
    obs_attr *resource;
    size_t n_resource;
    obs__attrs res;   /* the resource's list and its copies */
    obs__arena *res_arena;
    obs_scope log_scope;
    uint64_t counters[OBS__C_COUNT]; /* exporter-side counts and those of exited threads */
} obs__state;

static obs__state obs__g;
static pthread_mutex_t obs__init_lock = PTHREAD_MUTEX_INITIALIZER;
#ifndef OBS_STATIC
int obs__log_threshold = OBS_LEVEL_OFF;
#endif
#ifdef OBS__THREAD_LOCAL
/* The block and the obs_init generation it belongs to: a block of an earlier generation was
   freed by obs_shutdown, so the generation is checked before the pointer is used. */
static OBS__THREAD_LOCAL struct {
    obs__tls *block;
    uint32_t gen;
} obs__tls_cur;
#endif

/* A byte that would break a diagnostic's one line or drive the terminal. */
static int obs__ctl_byte(char c) { return (unsigned char)c < 0x20 || c == 0x7f; }
static void obs__diag(int level, const char *fmt, ...) OBS__PRINTF(2, 3);
/* Self-diagnostics to stderr, never through obs_log (no recursion). Callers never pass
   secrets (header values). */
static void obs__diag(int level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    static const char *const names[] = {"", "error", "warn", "info", "debug"};
    char *c;
    if (level > obs__g.diag_level) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (c = msg; *c; c++) { /* one line, no terminal escapes, whatever a receiver or curl said */
        if (obs__ctl_byte(*c)) *c = '?';
    }
    fprintf(stderr, "obs: %s: %s\n", names[level < 1 ? 1 : level > 4 ? 4 : level], msg);
}

/* What a diagnostic may show of outside text: control bytes as '?', so one line stays one
   line; cut at cap - 1 bytes. A URL's user:password@ becomes ***@. */
static const char *obs__printable(const char *s, char *out, size_t cap) {
    size_t i = 0;
    const char *at = strchr(s, '@'), *scheme = strstr(s, "://"), *slash;
    if (scheme && at && at > scheme && (!(slash = strchr(scheme + 3, '/')) || at < slash)) {
        size_t pre = (size_t)(scheme + 3 - s);
        if (pre + 4 < cap) { /* keep "http://", hide the userinfo */
            memcpy(out, s, pre);
            memcpy(out + pre, "***", 3);
            i = pre + 3;
            s = at;
        }
    }
    for (; *s && i + 1 < cap; s++) out[i++] = obs__ctl_byte(*s) ? '?' : *s;
    out[i] = 0;
    return out;
}

static void obs__count_global(int c, uint64_t n) { OBS__ADD(&obs__g.counters[c], n); }
static void obs__count_n(obs__tls *t, int c, uint64_t n) {
    /* Only the owning thread writes its counter: a relaxed store, not a locked add. */
    OBS__STORE_RELAXED(&t->counters[c], t->counters[c] + n);
}
static void obs__count(obs__tls *t, int c) { obs__count_n(t, c, 1); }

static void obs__stack_push(obs__pool *p, unsigned lane, void *const *items, size_t n);
/* A thread's lane (queues and free stacks): its id mod OBS__LANES. */
static unsigned obs__lane_of(const obs__tls *t) { return t->thread_id & (OBS__LANES - 1); }
static void obs__tls_exit(void *arg) {
    obs__tls *t = (obs__tls *)arg;
    int p, c;
    if (!t || t->gen != obs__g.gen || !OBS__LOAD(&obs__g.running)) return;
    pthread_mutex_lock(&obs__g.lock); /* all of it before the block can be handed out again */
    for (c = 0; c < OBS__C_THREAD; c++) {
        obs__count_global(c, t->counters[c]);
        OBS__STORE_RELAXED(&t->counters[c], (uint64_t)0);
    }
    for (p = 0; p < 2; p++) {
        obs__stack_push(&obs__g.pools[p], obs__lane_of(t), t->cache[p], (size_t)t->ncache[p]);
        t->ncache[p] = 0;
    }
    t->in_use = 0;
    pthread_mutex_unlock(&obs__g.lock);
}

/* Finds or makes this thread's block: the slow path, once per thread (and per obs_init). */
static OBS__NOINLINE obs__tls *obs__tls_setup(void) {
    obs__tls *t;
    pthread_mutex_lock(&obs__g.lock);
    for (t = obs__g.threads; t && t->in_use; t = t->next) {
    }
    if (!t) {
        t = (obs__tls *)obs__calloc(sizeof *t);
        if (t) {
            t->next = obs__g.threads;
            obs__g.threads = t;
        }
    }
    if (t) {
        uint64_t mix = obs__g.seed ^ (uint64_t)(uintptr_t)t ^ ((uint64_t)getpid() << 32);
        t->in_use = 1;
        t->thread_id = ++obs__g.thread_count;
        t->gen = obs__g.gen;
        t->depth = 0;
        if (t->stack && t->stack != t->stack_inline) obs__free(t->stack);
        t->stack = t->stack_inline;
        t->stack_cap = OBS__STACK_INLINE;
        t->ncache[0] = t->ncache[1] = 0;
        t->rng = obs__rng_next(&mix) ^ obs__os_random64();
        if (obs__g.tls_key_ok) pthread_setspecific(obs__g.tls_key, t);
    }
    pthread_mutex_unlock(&obs__g.lock);
#ifdef OBS__THREAD_LOCAL
    obs__tls_cur.block = t;
    obs__tls_cur.gen = obs__g.gen;
#endif
    return t;
}

static inline obs__tls *obs__tls_get(void) {
#ifdef OBS__THREAD_LOCAL
    obs__tls *t = obs__tls_cur.gen == obs__g.gen ? obs__tls_cur.block : NULL;
#else
    obs__tls *t = obs__g.tls_key_ok ? (obs__tls *)pthread_getspecific(obs__g.tls_key) : NULL;
#endif
    if (OBS__LIKELY(t != NULL)) return t;
    return obs__tls_setup(); /* a thread's first call (after each obs_init) */
}

static void obs__clock_resync_try(void);
/* Wall-clock time in Unix ns from one monotonic read (or one TSC read). */
static int64_t obs__now_ns(void) {
#ifdef OBS__HAVE_TSC
    if (OBS__LIKELY(obs__g.use_tsc)) {
        uint64_t tsc0, mult;
        int64_t ns0;
        uint32_t q;
        do {
            q = OBS__LOAD(&obs__g.clk_seq);
            tsc0 = OBS__LOAD(&obs__g.clk_tsc0);
            mult = OBS__LOAD(&obs__g.clk_mult);
            ns0 = OBS__LOAD(&obs__g.clk_ns0);
        } while ((q & 1) || OBS__LOAD(&obs__g.clk_seq) != q);
        tsc0 = __rdtsc() - tsc0;
        if (OBS__UNLIKELY((int64_t)tsc0 < 0)) tsc0 = 0; /* rdtsc ran before the loads: ticks early */
        /* Without a batch thread nobody else re-measures: the first reader past 0.25 s does. */
        if (OBS__UNLIKELY(tsc0 > OBS__LOAD_RELAXED(&obs__g.clk_stale))) obs__clock_resync_try();
        return ns0 + (int64_t)(((obs__u128)tsc0 * mult) >> 32);
    }
#endif
    return obs__mono_ns() + OBS__LOAD_RELAXED(&obs__g.clock_offset);
}

#ifdef OBS__HAVE_TSC
/* The kernel has checked the TSC (invariant, synchronised across cores) when it uses it as
   its own clock source: only then do we. */
static int obs__tsc_trusted(void) {
    char src[16] = {0};
    int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, src, sizeof src - 1) : -1;
    if (fd >= 0) close(fd);
    return n >= 3 && strncmp(src, "tsc", 3) == 0;
}
/* Re-measures the TSC's rate over everything since obs_init, and rebases on now. */
/* A TSC reading and the monotonic time at one moment: of a few tries, the pair whose two TSC
   reads lie closest together, so a preemption between the reads cannot skew the scale. */
static void obs__tsc_pair(uint64_t *tsc, int64_t *mono) {
    uint64_t best = UINT64_MAX;
    int i;
    *tsc = 0;
    *mono = 0;
    for (i = 0; i < 5; i++) {
        uint64_t a = __rdtsc();
        int64_t m = obs__mono_ns();
        uint64_t b = __rdtsc();
        if (b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *mono = m;
        }
    }
}
/* Re-measures the TSC's rate over everything since obs_init, and rebases on now. */
static void obs__tsc_resync(void) {
    uint64_t tsc, ticks, mult = obs__g.clk_mult;
    int64_t mono;
    uint32_t q = obs__g.clk_seq;
    obs__tsc_pair(&tsc, &mono);
    ticks = tsc - obs__g.cal_tsc;
    if (ticks > 1000000) mult = (uint64_t)((((obs__u128)(uint64_t)(mono - obs__g.cal_ns)) << 32) / ticks);
    OBS__STORE_RELAXED(&obs__g.clk_seq, q + 1);
    OBS__STORE(&obs__g.clk_tsc0, tsc);
    OBS__STORE(&obs__g.clk_ns0, mono + obs__g.clock_offset);
    OBS__STORE(&obs__g.clk_mult, mult);
    OBS__STORE(&obs__g.clk_seq, q + 2);
    /* ~0.25 s in ticks: ticks per ns is 2^32 / mult */
    OBS__STORE_RELAXED(&obs__g.clk_stale, (uint64_t)(((obs__u128)250000000 << 32) / (mult ? mult : 1)));
}
static void obs__tsc_init(void) {
    int64_t t0;
    if (!obs__tsc_trusted()) return;
    obs__tsc_pair(&obs__g.cal_tsc, &obs__g.cal_ns); /* cal_ns: monotonic, not wall */
    t0 = obs__g.cal_ns;
    while (obs__mono_ns() - t0 < 1000000) { /* 1 ms: a first scale, refined as time passes */
    }
    obs__tsc_resync();
    obs__g.use_tsc = 1;
}
#endif

static void obs__clock_resync(void);
/* From any thread: whoever wins the flag re-measures; the others go on (no lock, no wait). */
static void obs__clock_resync_try(void) {
    int zero = 0;
    if (!OBS__CAS(&obs__g.clk_busy, &zero, 1)) return;
    obs__clock_resync();
    OBS__STORE(&obs__g.clk_busy, 0);
}

/* Follows the wall clock again (NTP, settimeofday) and re-measures the TSC. Called by one
   thread at a time: obs_init, then through obs__clock_resync_try. */
static void obs__clock_resync(void) {
    int64_t best = INT64_MAX, offset = 0;
    int i;
    for (i = 0; i < 5; i++) { /* the closest bracket of a few: preemption-proof */
        int64_t a = obs__mono_ns(), wall = obs__realtime_ns(), b = obs__mono_ns();
        if (b - a < best) {
            best = b - a;
            offset = wall - (a + (b - a) / 2);
        }
    }
    OBS__STORE_RELAXED(&obs__g.clock_offset, offset);
#ifdef OBS__HAVE_TSC
    if (obs__g.use_tsc) obs__tsc_resync();
#endif
}

// ============================================================================
// >>impl:json -- JSON text: strings for any bytes, numbers, hex ids
// ============================================================================
static void obs__hex_put(obs__buf *b, const uint8_t *id, size_t n) {
    char *p = obs__buf_room(b, 2 * n);
    if (!p) return;
    obs__hex_encode(id, n, p);
    obs__buf_commit(b, 2 * n);
}

/* Are all of p[0..8) printable ASCII other than " and \ ? (Word tricks: a byte below 0x20,
   a zero byte after xor with '"' or '\', a high bit; exact for the word as a whole.) */
static int obs__json_plain8(const unsigned char *p) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t w, q, bs;
    memcpy(&w, p, 8);
    q = w ^ (ones * '"');
    bs = w ^ (ones * '\\');
    return (((w - ones * 0x20) | (q - ones) | (bs - ones)) & ~w & highs) == 0 && (w & highs) == 0;
}

/* '1': a byte that goes out as it is in a JSON string (printable ASCII but " and \) */
static const char obs__json_as_is[] = "00000000000000000000000000000000" "11011111111111111111111111111111"
                                     "11111111111111111111111111110111" "11111111111111111111111111111111"
                                     "00000000000000000000000000000000" "00000000000000000000000000000000"
                                     "00000000000000000000000000000000" "00000000000000000000000000000000";

/* The rest of a JSON string from s[i], a byte that needs more than a copy: escapes, U+FFFD
   for invalid UTF-8, plain runs copied whole; then the closing quote. */
static OBS__NOINLINE void obs__json_str_rest(obs__buf *b, const char *s, size_t n, size_t i) {
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    while (i < n) {
        unsigned c = u[i];
        size_t len;
        if (obs__json_as_is[c] == '1') { /* plain ASCII: batch the copy, eight bytes a step while it lasts */
            size_t j = i + 1;
            while (j + 8 <= n && obs__json_plain8(u + j)) j += 8;
            while (j < n && obs__json_as_is[u[j]] == '1') j++;
            run += j - i;
            i = j;
            continue;
        }
        obs__buf_put(b, s + i - run, run);
        run = 0;
        if (c >= 0x80 && (len = obs__utf8_seq(u + i, n - i)) != 0) {
            obs__buf_put(b, s + i, len);
            i += len;
            continue;
        }
        i++;
        if (c >= 0x80) obs__buf_puts(b, "\xEF\xBF\xBD");
        else if (c == '"') obs__buf_puts(b, "\\\"");
        else if (c == '\\') obs__buf_puts(b, "\\\\");
        else if (c == '\n') obs__buf_puts(b, "\\n");
        else if (c == '\r') obs__buf_puts(b, "\\r");
        else if (c == '\t') obs__buf_puts(b, "\\t");
        else obs__buf_printf(b, "\\u%04x", c);
    }
    obs__buf_put(b, s + i - run, run);
    obs__buf_putc(b, '"');
}

/* Appends s[0..n) as a JSON string. Invalid UTF-8 becomes U+FFFD and control characters
   are escaped, so the output is valid JSON and valid UTF-8 whatever the input bytes.
   Most strings are plain: copied while checked, eight bytes a step, then the tail. */
static void obs__json_str(obs__buf *b, const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    char *p = obs__buf_room(b, n + 2);
    if (!p) return;
    *p++ = '"';
    for (; i + 8 <= n && obs__json_plain8(u + i); i += 8) memcpy(p + i, u + i, 8);
    for (; i < n && obs__json_as_is[u[i]] == '1'; i++) p[i] = s[i];
    if (OBS__LIKELY(i == n)) {
        p[n] = '"';
        obs__buf_commit(b, n + 2);
        return;
    }
    obs__buf_commit(b, i + 1); /* the quote and the plain start */
    obs__json_str_rest(b, s, n, i);
}
static void obs__json_cstr(obs__buf *b, const char *s) { obs__json_str(b, s ? s : "", s ? strlen(s) : 0); }

/* Decimal without printf: timestamps are written three times a span. Eight digits at a
   time in 32-bit arithmetic, two at a time from a table. */
static const char obs__digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                       "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                       "8081828384858687888990919293949596979899";
static void obs__digits2(char *p, uint32_t v) { memcpy(p, obs__digit_pairs + 2 * v, 2); }
static void obs__digits8(char *p, uint32_t v) {
    uint32_t hi = v / 10000, lo = v % 10000;
    obs__digits2(p, hi / 100);
    obs__digits2(p + 2, hi % 100);
    obs__digits2(p + 4, lo / 100);
    obs__digits2(p + 6, lo % 100);
}
/* Writes v in decimal at out (up to 20 chars, no NUL); returns the length. */
static size_t obs__u64_dec(char *out, uint64_t v) {
    static const uint64_t pow10[20] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
                                       100000000u, 1000000000u, 10000000000u, 100000000000u,
                                       1000000000000u, 10000000000000u, 100000000000000u,
                                       1000000000000000u, 10000000000000000u, 100000000000000000u,
                                       1000000000000000000u, 10000000000000000000u};
    size_t n = v >= pow10[18] ? 19 : v >= pow10[12] ? 13 : v >= pow10[6] ? 7 : 1; /* timestamps: 19 */
    char *p;
    uint32_t w;
    while (n < 20 && v >= pow10[n]) n++;
    p = out + n;
    while (v >= 100000000u) {
        p -= 8;
        obs__digits8(p, (uint32_t)(v % 100000000u));
        v /= 100000000u;
    }
    for (w = (uint32_t)v; w >= 100; w /= 100) obs__digits2(p -= 2, w % 100);
    if (w >= 10) obs__digits2(p - 2, w);
    else p[-1] = (char)('0' + w);
    return n;
}
static void obs__buf_u64(obs__buf *b, uint64_t v) {
    char *p = obs__buf_room(b, 20);
    if (p) obs__buf_commit(b, obs__u64_dec(p, v));
}
static void obs__json_i64(obs__buf *b, int64_t v) {
    if (v < 0) {
        obs__buf_putc(b, '-');
        obs__buf_u64(b, (uint64_t)0 - (uint64_t)v);
        return;
    }
    obs__buf_u64(b, (uint64_t)v);
}

/* Most doubles in telemetry have a few decimals (0.25, 12.5): written exactly without
   printf when d * 10^k is an integer below 2^53 for some k <= 6. */
static int obs__json_short_double(obs__buf *b, double d) {
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    int neg = d < 0 || (d == 0 && 1.0 / d < 0); /* -0.0 keeps its sign */
    double a = neg ? -d : d;
    int k;
    for (k = 0; k <= 6; k++) {
        double m = a * pow10[k];
        uint64_t u, ip;
        char frac[8];
        int i;
        if (m >= 9007199254740992.0) return 0;
        u = (uint64_t)m;
        if ((double)u != m || (double)u / pow10[k] != a) continue;
        if (neg) obs__buf_putc(b, '-');
        ip = u;
        for (i = 0; i < k; i++) ip /= 10;
        obs__buf_u64(b, ip);
        if (k == 0) return 1;
        for (i = k - 1; i >= 0; i--, u /= 10) frac[i] = (char)('0' + u % 10);
        obs__buf_putc(b, '.');
        obs__buf_put(b, frac, (size_t)k);
        return 1;
    }
    return 0;
}

/* A double as JSON: NaN and infinities have no JSON number, so they go as the proto3 JSON
   strings "NaN", "Infinity", "-Infinity". %.17g round-trips every double. */
static void obs__json_double(obs__buf *b, double d) {
    if (d != d) obs__buf_puts(b, "\"NaN\"");
    else if (d > 1.7976931348623157e308) obs__buf_puts(b, "\"Infinity\"");
    else if (d < -1.7976931348623157e308) obs__buf_puts(b, "\"-Infinity\"");
    else if (!obs__json_short_double(b, d)) obs__buf_printf(b, "%.17g", d);
}

// ============================================================================
// >>impl:attr -- per-item arena and attribute lists (copied, limited, reused)
// ============================================================================
static void obs__arena_reset(obs__arena *a) {
    obs__block **pp = &a->blocks;
    while (*pp) { /* keep the small blocks, free a rare huge one */
        obs__block *b = *pp;
        if (b->cap > OBS__BLOCK_KEEP) {
            *pp = b->next;
            obs__free(b);
        } else {
            pp = &b->next;
        }
    }
    a->cur = a->first;
    a->left = sizeof a->first;
    a->total = 0;
    a->next = a->blocks;
}
static void obs__arena_free(obs__arena *a) {
    while (a->blocks) {
        obs__block *b = a->blocks;
        a->blocks = b->next;
        obs__free(b);
    }
    a->next = NULL;
}
static char *obs__arena_grow(obs__arena *a, size_t n) {
    obs__block *b;
    while (a->next && a->next->cap < n) a->next = a->next->next;
    if (a->next) {
        b = a->next;
        a->next = b->next;
    } else {
        size_t cap = n > OBS__BLOCK_MIN ? n : OBS__BLOCK_MIN;
        b = (obs__block *)obs__alloc(sizeof(obs__block) + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->next = a->blocks;
        a->blocks = b;
    }
    if (a->total + b->cap > OBS__ARENA_MAX) return NULL; /* the block stays kept, unused */
    a->total += b->cap;
    a->cur = (char *)(b + 1);
    a->left = b->cap;
    return a->cur;
}
/* n bytes after pad bytes of alignment: the fast path is a bump of the pointer. */
static inline char *obs__arena_take(obs__arena *a, size_t n, size_t pad) {
    char *p;
    if (OBS__UNLIKELY(n + pad > a->left)) {
        if (!obs__arena_grow(a, n)) return NULL;
        pad = 0; /* blocks start aligned */
    }
    p = a->cur + pad;
    a->cur = p + n;
    a->left -= n + pad;
    return p;
}
/* Aligned for any scalar (arrays of int64 and double live here too). */
static char *obs__arena_alloc(obs__arena *a, size_t n) {
    return obs__arena_take(a, n, (size_t)(-(uintptr_t)a->cur & 7));
}
/* memcpy for the short strings spans are made of (names, keys, values): up to 32 bytes in a
   few word moves (the first and the last words overlap), not a call. */
static inline void obs__copy(char *d, const char *s, size_t n) {
    uint64_t w[4];
    uint32_t h[2];
    if (n > 32) {
        memcpy(d, s, n);
    } else if (n > 16) {
        memcpy(w, s, 16);
        memcpy(w + 2, s + n - 16, 16);
        memcpy(d, w, 16);
        memcpy(d + n - 16, w + 2, 16);
    } else if (n >= 8) {
        memcpy(w, s, 8);
        memcpy(w + 1, s + n - 8, 8);
        memcpy(d, w, 8);
        memcpy(d + n - 8, w + 1, 8);
    } else if (n >= 4) {
        memcpy(h, s, 4);
        memcpy(h + 1, s + n - 4, 4);
        memcpy(d, h, 4);
        memcpy(d + n - 4, h + 1, 4);
    } else {
        size_t i;
        for (i = 0; i < n; i++) d[i] = s[i];
    }
}
static inline const char *obs__arena_str(obs__arena *a, const char *s, size_t n) {
    char *p = obs__arena_take(a, n + 1, 0);
    if (!p) return NULL;
    obs__copy(p, s, n);
    p[n] = 0;
    return p;
}

static int obs__vec_grow(void **v, uint32_t *cap, size_t elem) {
    uint32_t ncap = *cap ? *cap * 2 : 8;
    void *nv = obs__realloc(*v, (size_t)ncap * elem);
    if (!nv) return 0;
    *v = nv;
    *cap = ncap;
    return 1;
}

/* Copies a string value into the arena, cut at the value length limit on a UTF-8 boundary. */
static const char *obs__copy_value(obs__arena *a, const char *s, size_t n, size_t *out_n) {
    size_t lim = obs__g.limits.value_len;
    if (n > lim) n = obs__utf8_cut(s, n, lim);
    *out_n = n;
    return obs__arena_str(a, s, n);
}

/* Copies src's value (not its key) into dst; 0 when the arena is full. */
static int obs__attr_copy_value(obs__arena *a, obs_attr *dst, const obs_attr *src) {
    size_t i, esz;
    dst->type = src->type;
    dst->n = src->n;
    switch (src->type) {
    case OBS_ATTR_STRING:
        dst->v.s = obs__copy_value(a, src->v.s ? src->v.s : "", src->v.s ? src->n : 0, &dst->n);
        return dst->v.s != NULL;
    case OBS_ATTR_BOOL: case OBS_ATTR_INT: case OBS_ATTR_DOUBLE:
        dst->v = src->v;
        return 1;
    case OBS_ATTR_STRING_ARRAY: {
        const char **arr = (const char **)(void *)obs__arena_alloc(a, src->n * sizeof(char *) + 1);
        if (!arr) return 0;
        for (i = 0; i < src->n; i++) {
            const char *e = src->v.sa[i] ? src->v.sa[i] : "";
            size_t len;
            if (!(arr[i] = obs__copy_value(a, e, strlen(e), &len))) return 0;
        }
        dst->v.sa = arr;
        return 1;
    }
    case OBS_ATTR_BOOL_ARRAY: case OBS_ATTR_INT_ARRAY: case OBS_ATTR_DOUBLE_ARRAY: {
        char *arr;
        esz = src->type == OBS_ATTR_BOOL_ARRAY ? sizeof(int) : 8;
        if (!(arr = obs__arena_alloc(a, src->n * esz + 1))) return 0;
        if (src->n) memcpy(arr, (const void *)src->v.ia, src->n * esz);
        dst->v.ia = (const int64_t *)(void *)arr;
        return 1;
    }
    }
    return 0;
}

/* Sets key=value in list l (its part from index `from`: an event's or link's own attributes):
   replaces a value with the same key, else appends within limit.
   Returns 0 (and counts) when the attribute was dropped. */
static int obs__attrs_set(obs__attrs *l, uint32_t from, obs__arena *a, uint32_t limit,
                          const obs_attr *src) {
    uint32_t i;
    obs_attr *dst;
    obs_attr tmp;
    if (!src->key || !src->key[0]) return 1; /* OTLP keys are non-empty: ignored, not "dropped" */
    for (i = from; i < l->n; i++) { /* the first byte rules out most keys before strcmp */
        if (l->v[i].key[0] == src->key[0] && strcmp(l->v[i].key, src->key) == 0) break;
    }
    if (i == l->n && (l->n - from >= limit || (l->n == l->cap &&
                                        !obs__vec_grow((void **)&l->v, &l->cap, sizeof(obs_attr))))) {
        l->dropped++;
        return 0;
    }
    /* Copy into tmp first: a full arena must not leave half a value behind. */
    tmp.key = i < l->n ? l->v[i].key : obs__arena_str(a, src->key, strlen(src->key));
    if (!tmp.key || !obs__attr_copy_value(a, &tmp, src)) {
        l->dropped++;
        return 0;
    }
    dst = &l->v[i];
    *dst = tmp;
    l->n += i == l->n;
    return 1;
}

OBSDEF const obs_attr *obs_attr_find(const obs_attr *attrs, size_t n, const char *key) {
    size_t i;
    for (i = 0; attrs && key && i < n; i++) {
        if (strcmp(attrs[i].key, key) == 0) return &attrs[i];
    }
    return NULL;
}

// ============================================================================
// >>impl:context -- ids, the current-span stack, W3C traceparent
// ============================================================================
/* The remote or parent tracestate, copied into the span (it must outlive the parent). */
static const char *obs__copy_tracestate(obs__arena *a, const char *ts) {
    return obs__arena_str(a, ts, strlen(ts));
}

/* n is 8 or 16 (inline: the loop unrolls for a constant n). */
static inline void obs__random_id(obs__tls *t, uint8_t *id, size_t n) {
    uint64_t any;
    do { /* an all-zero id is invalid: draw again */
        size_t i;
        any = 0;
        for (i = 0; i < n; i += 8) {
            uint64_t r = obs__rng_next(&t->rng);
            memcpy(id + i, &r, 8);
            any |= r;
        }
    } while (!any);
}

/* A span the sampler drops draws no ids at its start: it keeps the generator's position and
   skips three draws (two for a trace id, one for a span id); its ids are worked out when
   something asks for them (a child, a header, a log record), the same ids at every ask, as
   if drawn at the start. Recorded spans draw at once (exporters read the data). */
#define OBS__LAZY_SPAN 1  /* d.span_id is not set */
#define OBS__LAZY_TRACE 2 /* nor d.trace_id (a root under a sampler that records no root) */
static void obs__id_at(uint64_t seed, int word, uint8_t *id, size_t n) {
    uint64_t any = 0, r;
    size_t i;
    for (i = 0; i < n; i += 8) {
        uint64_t z = seed + (uint64_t)(word + (int)(i / 8)) * OBS__GOLDEN;
        r = obs__rng_next(&z);
        memcpy(id + i, &r, 8);
        any |= r;
    }
    if (!any) { /* all zero (2^-64 odds or less) is invalid: a value from the seed still */
        r = obs__rng_next(&seed) | 1;
        memcpy(id, &r, 8);
    }
}

static uint32_t obs__gen_of(const obs_span *s);
/* The current span: the top of this thread's stack, skipping spans that have ended. */
static obs_span *obs__current(obs__tls *t) {
    while (t->depth > 0) {
        const obs__ref *r = &t->stack[t->depth - 1];
        if (obs__gen_of(r->span) == r->gen) return r->span;
        t->depth--;
    }
    return NULL;
}
static int obs__stack_grow(obs__tls *t) {
    int ncap = t->stack_cap * 2;
    obs__ref *ns;
    if (ncap > OBS__STACK_MAX) return 0;
    ns = (obs__ref *)obs__alloc((size_t)ncap * sizeof *ns);
    if (!ns) return 0;
    memcpy(ns, t->stack, (size_t)t->depth * sizeof *ns);
    if (t->stack != t->stack_inline) obs__free(t->stack);
    t->stack = ns;
    t->stack_cap = ncap;
    return 1;
}
static inline void obs__push_current(obs__tls *t, obs_span *s) {
    if (t->depth < t->stack_cap || obs__stack_grow(t)) {
        t->stack[t->depth].span = s;
        t->stack[t->depth].gen = obs__gen_of(s);
        t->depth++;
    }
}
static inline void obs__pop_current(obs__tls *t, obs_span *s) {
    if (t->depth > 0 && t->stack[t->depth - 1].span == s &&
        t->stack[t->depth - 1].gen == obs__gen_of(s)) {
        t->depth--;
    }
}

// ============================================================================
// >>impl:sampler -- the spec's samplers
// ============================================================================
/* Ratio samplers compare the trace id's right-most 56 bits with a threshold, as the spec's
   probability sampling does: W3C Level 2 puts the randomness there, and X-Ray-style ids
   start with a timestamp. */
static uint64_t obs__ratio_threshold(double ratio) {
    if (!(ratio > 0.0)) return (uint64_t)1 << 56; /* never: no 56-bit value reaches it */
    if (ratio >= 1.0) return 0;
    return (uint64_t)((1.0 - ratio) * 72057594037927936.0); /* 2^56 */
}
static int obs__ratio_sample(const obs__sampler *sm, const uint8_t *trace_id) {
    uint64_t r = 0;
    int i;
    for (i = 9; i < 16; i++) r = (r << 8) | trace_id[i];
    return r >= sm->threshold;
}
/* The rule for one trace at time now_ns (Unix ns). The reservoir resets when the second
   changes (either way: a clock stepped back does not starve it); the fixed rate reads the
   trace id's right-most 56 bits, like traceidratio, so services agree on it. */
static int obs__xray_sample(obs__xray_sampler *x, int64_t now_ns, const uint8_t *trace_id) {
    uint64_t sec = (uint64_t)(now_ns < 0 ? 0 : now_ns / 1000000000), r = 0;
    uint64_t mask = ((uint64_t)1 << OBS__XRAY_COUNT_BITS) - 1;
    int i;
    if (x->reservoir) {
        uint64_t w = OBS__LOAD_RELAXED(&x->window), next;
        for (;;) {
            if ((w >> OBS__XRAY_COUNT_BITS) != sec) next = (sec << OBS__XRAY_COUNT_BITS) | 1;
            else if ((w & mask) < x->reservoir) next = w + 1;
            else break; /* this second's reservoir is spent */
            if (OBS__CAS(&x->window, &w, next)) return 1;
        }
    }
    for (i = 9; i < 16; i++) r = (r << 8) | trace_id[i];
    return r >= x->threshold;
}

/* Case-insensitive: is k[0..kn) the lowercase word w? */
static int obs__xray_word(const char *k, size_t kn, const char *w) {
    size_t i;
    if (kn != strlen(w)) return 0;
    for (i = 0; i < kn; i++) {
        char c = k[i] >= 'A' && k[i] <= 'Z' ? (char)(k[i] + 32) : k[i];
        if (c != w[i]) return 0;
    }
    return 1;
}
/* A decimal number in s[0..n), spaces and tabs around it allowed. 1 ok. */
static int obs__xray_number(const char *s, size_t n, double *out) {
    char num[64], *end;
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n >= sizeof num) return 0;
    memcpy(num, s, n);
    num[n] = 0;
    *out = strtod(num, &end);
    return end == num + n && *out == *out;
}

/* Parses the X-Ray sampler argument: "reservoir=N,rate=R" (either may be left out, any
   order, keys in any case, spaces allowed) or a bare rate "R". N: a whole number of traces a
   second, 0..1000000; R: 0..1. Returns 1 and updates only what it names; 0 (nothing
   changed) when malformed. */
static int obs__xray_rule_parse(const char *arg, uint32_t *reservoir, double *rate) {
    uint32_t res = *reservoir;
    double rt = *rate, v;
    const char *p = arg;
    if (!arg) return 0;
    if (!strchr(arg, '=')) {
        if (!obs__xray_number(arg, strlen(arg), &v) || !(v >= 0.0 && v <= 1.0)) return 0;
        *rate = v;
        return 1;
    }
    for (;;) {
        size_t len = strcspn(p, ","), kn;
        const char *eq = (const char *)memchr(p, '=', len), *k = p;
        if (!eq) {
            if (strspn(p, " \t") < len) return 0; /* blank members are allowed */
        } else {
            kn = (size_t)(eq - p);
            while (kn && (*k == ' ' || *k == '\t')) k++, kn--;
            while (kn && (k[kn - 1] == ' ' || k[kn - 1] == '\t')) kn--;
            if (!obs__xray_number(eq + 1, len - (size_t)(eq - p) - 1, &v)) return 0;
            if (obs__xray_word(k, kn, "rate") && v >= 0.0 && v <= 1.0) {
                rt = v;
            } else if (obs__xray_word(k, kn, "reservoir") && v >= 0.0 &&
                       v <= (double)OBS__XRAY_RESERVOIR_MAX && v == (double)(uint32_t)v) {
                res = (uint32_t)v;
            } else {
                return 0;
            }
        }
        if (!p[len]) break;
        p += len + 1;
    }
    *reservoir = res;
    *rate = rt;
    return 1;
}

/* Configures the rule: the X-Ray default (1 a second, then 5%), then arg (the value of
   OTEL_TRACES_SAMPLER_ARG, may be NULL), then the obs_config fields (0: not set; a negative
   value means 0). */
static void obs__xray_sampler_setup(obs__xray_sampler *x, int cfg_reservoir, double cfg_rate,
                                    const char *arg) {
    uint32_t res = 1;
    double rate = 0.05;
    if (arg && !obs__xray_rule_parse(arg, &res, &rate)) {
        obs__diag(2, "OTEL_TRACES_SAMPLER_ARG=\"%.64s\" is not reservoir=N,rate=R for the X-Ray "
                     "sampler; using reservoir=1,rate=0.05", arg);
        res = 1;
        rate = 0.05;
    }
    if (cfg_reservoir)
        res = cfg_reservoir < 0
            ? 0
            : (uint32_t)OBS__MIN((uint32_t)cfg_reservoir, OBS__XRAY_RESERVOIR_MAX);
    if (cfg_rate != 0.0) rate = cfg_rate < 0 ? 0.0 : cfg_rate > 1 ? 1.0 : cfg_rate;
    x->reservoir = res;
    x->threshold = obs__ratio_threshold(rate);
    OBS__STORE(&x->window, (uint64_t)0);
}

/* OTEL_TRACES_SAMPLER=parentbased_xray (parent_based 1; the X-Ray SDKs' behaviour): a span
   with a parent follows the parent's decision; roots, and X-Ray parents that left the
   decision open (Sampled=?), get the rule. =xray (parent_based 0): the rule decides at every
   entry into this process, roots and remote parents alike (callers' decisions are ignored);
   spans with a local parent follow it, so a trace is never cut inside the process. */
static int obs__xray_decide(obs__xray_sampler *x, int parent_based, int has_parent,
                            int parent_remote, int parent_sampled, const uint8_t *trace_id) {
    if (has_parent && (parent_based || !parent_remote)) return parent_sampled;
    return obs__xray_sample(x, obs__now_ns(), trace_id);
}
/* X-Ray trace ids begin with the Unix time in seconds, and the X-Ray service refuses ids
   that do not: obs_init turns this on for new traces when an X-Ray exporter is in the
   pipeline. The other 12 bytes stay random (the right-most 7 too: W3C Level 2). */
static void obs__xray_stamp_id(uint8_t *trace_id, int64_t now_ns) {
    uint32_t sec = (uint32_t)(now_ns / 1000000000);
    trace_id[0] = (uint8_t)(sec >> 24);
    trace_id[1] = (uint8_t)(sec >> 16);
    trace_id[2] = (uint8_t)(sec >> 8);
    trace_id[3] = (uint8_t)sec;
}
/* has_parent/parent_sampled describe the parent context (local or remote); parent_remote:
   it came from request headers. */
static int obs__sample(obs__sampler *sm, int has_parent, int parent_remote, int parent_sampled,
                       const uint8_t *trace_id) {
    switch (sm->kind) {
    case OBS_SAMPLER_XRAY:
    case OBS_SAMPLER_PARENTBASED_XRAY:
        return obs__xray_decide(&sm->xray, sm->kind == OBS_SAMPLER_PARENTBASED_XRAY, has_parent,
                                parent_remote, parent_sampled, trace_id);
    case OBS_SAMPLER_ALWAYS_ON: return 1;
    case OBS_SAMPLER_ALWAYS_OFF: return 0;
    case OBS_SAMPLER_TRACEIDRATIO: return obs__ratio_sample(sm, trace_id);
    case OBS_SAMPLER_PARENTBASED_ALWAYS_OFF: return has_parent && parent_sampled;
    case OBS_SAMPLER_PARENTBASED_TRACEIDRATIO:
        return has_parent ? parent_sampled : obs__ratio_sample(sm, trace_id);
    default: return has_parent ? parent_sampled : 1;
    }
}

// ============================================================================
// >>impl:pool -- lock-free queues and item pools
// ============================================================================
static int obs__ring_init(obs__ring *r, size_t min_cap) {
    size_t cap = 2, i;
    while (cap < min_cap) cap *= 2;
    r->cells = (obs__cell *)obs__alloc(cap * sizeof(obs__cell));
    if (!r->cells) return 0;
    for (i = 0; i < cap; i++) r->cells[i].seq = 0; /* never a position + 1 the consumer waits for */
    r->mask = cap - 1;
    r->enq = r->deq = r->done = 0;
    return 1;
}
static void obs__ring_free(obs__ring *r) {
    obs__free(r->cells);
    r->cells = NULL;
}
static void obs__ring_clear(obs__ring *r) {
    uint64_t i;
    for (i = 0; i <= r->mask; i++) r->cells[i].seq = 0;
    r->enq = r->deq = r->done = 0;
}
/* Tests define it to widen a push's windows: step 0 between its reads, 1 between taking a
   cell and writing it. */
#ifndef OBS__RING_PUSH_HOOK
#define OBS__RING_PUSH_HOOK(step)
#endif
/* Returns the item's position + 1 (so never 0), or 0 when the ring is full. */
static uint64_t obs__ring_push(obs__ring *r, void *item) {
    uint64_t pos = OBS__LOAD_RELAXED(&r->enq), deq;
    obs__cell *c;
    OBS__RING_PUSH_HOOK(0);
    for (;;) { /* every pos tried is checked against deq first: a full ring is never pushed */
        /* acquire: the consumer has read the cell pos - capacity before it moved deq past it */
        deq = OBS__LOAD(&r->deq);
        if ((int64_t)(pos - deq) < 0) { /* pos went stale while others pushed and were read */
            pos = OBS__LOAD_RELAXED(&r->enq);
            continue;
        }
        if (pos - deq > r->mask) return 0; /* full */
        if (OBS__CAS(&r->enq, &pos, pos + 1)) break; /* else pos is the current enq: again */
    }
    OBS__RING_PUSH_HOOK(1);
    c = &r->cells[pos & r->mask];
    c->data = item;
    OBS__STORE(&c->seq, pos + 1); /* release: the consumer sees data once it sees seq */
    return pos + 1;
}
/* The consumer's pop (one consumer, no CAS); its position is published once per batch. */
static size_t obs__ring_pop_batch(obs__ring *r, void **out, size_t max) {
    uint64_t pos = r->deq;
    size_t n = 0;
    while (n < max) {
        obs__cell *c = &r->cells[pos & r->mask];
        if (OBS__LOAD(&c->seq) != pos + 1) break; /* empty, or the next push unfinished */
        out[n++] = c->data;
        pos++;
    }
    OBS__STORE(&r->deq, pos); /* release: the cells read are free for producers */
    return n;
}
static uint64_t obs__ring_size(obs__ring *r) {
    return OBS__LOAD_RELAXED(&r->enq) - OBS__LOAD_RELAXED(&r->deq);
}

static int obs__queue_init(obs__queue *q, size_t cap) {
    int i;
    for (i = 0; i < OBS__LANES; i++) {
        if (!obs__ring_init(&q->lane[i], cap)) return 0;
    }
    q->next = 0;
    return 1;
}
static void obs__queue_free(obs__queue *q) {
    int i;
    for (i = 0; i < OBS__LANES; i++) obs__ring_free(&q->lane[i]);
}
static void obs__queue_clear(obs__queue *q) { /* a fork's child: nothing queued */
    int i;
    for (i = 0; i < OBS__LANES; i++) obs__ring_clear(&q->lane[i]);
}
static obs__ring *obs__queue_lane(obs__queue *q, const obs__tls *t) {
    return &q->lane[obs__lane_of(t)];
}
/* The consumer's view after a pop: does a lane hold items behind a cell a push has taken but
   not written yet? Those wait for that push, however many they are. */
static int obs__queue_hole(obs__queue *q) {
    int i;
    for (i = 0; i < OBS__LANES; i++) {
        obs__ring *r = &q->lane[i];
        if (OBS__LOAD_RELAXED(&r->enq) != r->deq && OBS__LOAD(&r->cells[r->deq & r->mask].seq) != r->deq + 1) {
            return 1;
        }
    }
    return 0;
}
static uint64_t obs__queue_size(obs__queue *q) {
    uint64_t n = 0;
    int i;
    for (i = 0; i < OBS__LANES; i++) n += obs__ring_size(&q->lane[i]);
    return n;
}
/* What a flush waits for: each lane's items queued so far. Per lane, since lanes are not
   one order: later items of a busy lane must not stand in for earlier ones of a lane held
   up by an unfinished push. */
static void obs__queue_marks(obs__queue *q, uint64_t *marks) {
    int i;
    for (i = 0; i < OBS__LANES; i++) marks[i] = OBS__LOAD(&q->lane[i].enq);
}
static int obs__queue_done_up_to(obs__queue *q, const uint64_t *marks) {
    int i;
    for (i = 0; i < OBS__LANES; i++) {
        if (OBS__LOAD(&q->lane[i].done) < marks[i]) return 0;
    }
    return 1;
}
/* The last pop's items are exported or dropped: a flush waiting for them may return. */
static void obs__queue_done(obs__queue *q) {
    unsigned i;
    for (i = 0; i < OBS__LANES; i++) {
        if (q->got[i]) OBS__ADD(&q->lane[(q->first + i) & (OBS__LANES - 1)].done, (uint64_t)q->got[i]);
    }
}
/* Up to max items from the lanes in turn, starting with a different lane each time. */
static size_t obs__queue_pop(obs__queue *q, void **out, size_t max) {
    size_t n = 0;
    unsigned i;
    q->first = q->next++;
    for (i = 0; i < OBS__LANES; i++) {
        q->got[i] = n < max ? obs__ring_pop_batch(&q->lane[(q->first + i) & (OBS__LANES - 1)], out + n, max - n) : 0;
        n += q->got[i];
    }
    return n;
}

/* What spans and log records share, first in both: the pool's bookkeeping. */
typedef struct obs__item {
    uint32_t gen;   /* bumped when the item ends: stale references see a new value */
    int32_t refs;   /* processors still holding it */
    uint8_t recording, ended; /* ended: free, queued or exported (not the program's) */
    uint8_t lazy;   /* a span's ids not drawn yet (OBS__LAZY_*) */
    uint64_t seed;  /* lazy ids: the id generator's position when the span started */
} obs__item;

#define OBS__SLAB_ITEMS 32
/* An item's place in its pool (1, 2, ...; the free stack links by it) lives in the last bytes
   of the item's slot, past the struct: the thread that frees an item reads it there without
   touching the lines the item's next user writes. */
static uint32_t *obs__index_of(const obs__pool *p, void *item) {
    return (uint32_t *)(void *)((char *)item + p->item_size - sizeof(uint32_t));
}
/* Items sit on their own cache lines (no false sharing between threads' spans). */
static obs__item *obs__pool_at(obs__pool *p, uint32_t index) {
    /* atomic: a stack walk that is about to fail its CAS may look at a slab being added */
    char *slab = OBS__LOAD_RELAXED(&p->slabs[(index - 1) / OBS__SLAB_ITEMS]);
    uintptr_t base = ((uintptr_t)slab + 63) & ~(uintptr_t)63;
    return (obs__item *)(base + (index - 1) % OBS__SLAB_ITEMS * p->item_size);
}
static int obs__pool_init(obs__pool *p, size_t item_size, size_t max_items,
                          void (*release)(void *)) {
    p->item_size = (item_size + sizeof(uint32_t) + 63) & ~(size_t)63; /* whole cache lines */
    p->max_items = max_items;
    p->allocated = 0;
    memset(p->free, 0, sizeof p->free);
    p->release = release;
    p->slabs = (char **)obs__calloc((max_items / OBS__SLAB_ITEMS + 1) * sizeof(char *));
    p->below = (uint32_t *)obs__calloc((max_items + 1) * sizeof(uint32_t));
    if (p->slabs && p->below) return 1;
    obs__free(p->slabs);
    obs__free(p->below);
    p->slabs = NULL;
    p->below = NULL;
    return 0;
}
/* Frees every item's growth, then the slabs. Only at shutdown, when no thread uses them. */
static void obs__pool_free(obs__pool *p) {
    uint32_t i;
    for (i = 1; i <= p->allocated; i++) p->release(obs__pool_at(p, i));
    for (i = 0; i < p->allocated / OBS__SLAB_ITEMS; i++) obs__free(p->slabs[i]);
    obs__free(p->slabs);
    obs__free(p->below);
    p->slabs = NULL;
    p->below = NULL;
}

/* The free stack (Treiber's), one CAS per push or pop of a whole bunch. The tag in the top
   word changes with every CAS, so a thread that read a top which was popped and pushed
   again meanwhile fails its CAS instead of corrupting the stack (ABA); items are never
   freed while obs runs, so following a stale link is harmless. */
static void obs__stack_push(obs__pool *p, unsigned lane, void *const *items, size_t n) {
    uint64_t *tp = &p->free[lane & (OBS__LANES - 1)].top;
    uint64_t top = OBS__LOAD_RELAXED(tp);
    uint32_t bottom;
    size_t i;
    if (n == 0) return;
    for (i = 1; i < n; i++) { /* items[n-1] on top: the last freed is the first reused */
        OBS__STORE_RELAXED(&p->below[*obs__index_of(p, items[i])], *obs__index_of(p, items[i - 1]));
    }
    bottom = *obs__index_of(p, items[0]);
    do {
        OBS__STORE_RELAXED(&p->below[bottom], (uint32_t)top);
    } while (!OBS__CAS(tp, &top, (((top >> 32) + 1) << 32) | *obs__index_of(p, items[n - 1])));
}
/* Up to max items off the top of a lane's stack; returns how many. */
static size_t obs__stack_pop(obs__pool *p, unsigned lane, void **out, size_t max) {
    uint64_t *tp = &p->free[lane & (OBS__LANES - 1)].top;
    uint64_t top = OBS__LOAD(tp);
    for (;;) {
        uint32_t idx = (uint32_t)top;
        size_t k = 0;
        while (idx && k < max) {
            out[k++] = obs__pool_at(p, idx);
            idx = OBS__LOAD_RELAXED(&p->below[idx]);
        }
        if (k == 0) return 0;
        if (OBS__CAS(tp, &top, (((top >> 32) + 1) << 32) | idx)) return k;
        top = OBS__LOAD(tp); /* acquire: the links of whoever changed it are visible */
    }
}
/* Free items for a thread: its own lane's first, then other lanes' (before the pool grows). */
static size_t obs__pool_take(obs__pool *p, const obs__tls *t, void **out, size_t max) {
    unsigned i, lane = obs__lane_of(t);
    size_t n = 0;
    for (i = 0; i < OBS__LANES && n == 0; i++) n = obs__stack_pop(p, lane + i, out, max);
    return n;
}

/* Slow path: a new slab of zeroed items (under the global lock; bounded by max_items). */
static void *obs__pool_grow(int pool, obs__tls *t) {
    obs__pool *p = &obs__g.pools[pool];
    char *s = NULL;
    void *spare[OBS__SLAB_ITEMS];
    size_t i, n = 0;
    uint32_t first = 0;
    pthread_mutex_lock(&obs__g.lock);
    if (p->allocated + OBS__SLAB_ITEMS <= p->max_items) {
        s = (char *)obs__calloc(64 + OBS__SLAB_ITEMS * p->item_size);
        if (s) {
            OBS__STORE_RELAXED(&p->slabs[p->allocated / OBS__SLAB_ITEMS], s);
            first = (uint32_t)p->allocated + 1;
            for (i = 0; i < OBS__SLAB_ITEMS; i++) {
                obs__item *it = obs__pool_at(p, first + (uint32_t)i);
                *obs__index_of(p, it) = first + (uint32_t)i;
                it->ended = 1; /* free: a fork's child may hand it out again */
            }
            p->allocated += OBS__SLAB_ITEMS;
        }
    }
    pthread_mutex_unlock(&obs__g.lock);
    if (!s) return NULL;
    for (i = 1; i < OBS__SLAB_ITEMS; i++) {
        void *item = obs__pool_at(p, first + (uint32_t)i);
        if (t->ncache[pool] < OBS__TLS_CACHE) t->cache[pool][t->ncache[pool]++] = item;
        else spare[n++] = item;
    }
    obs__stack_push(p, obs__lane_of(t), spare, n);
    return obs__pool_at(p, first);
}
/* The item the thread takes next is fetched into the cache now, while this one is used: a busy
   program cycles through as many items as its queues hold, each cold again by its turn. */
#define OBS__PREFETCH_LINES 7 /* what a span writes: bookkeeping, its data, the first strings */
static inline void obs__pool_prefetch(const obs__tls *t, int pool) {
    int i;
    if (t->ncache[pool] > 0) {
        const char *next = (const char *)t->cache[pool][t->ncache[pool] - 1];
        for (i = 0; i < OBS__PREFETCH_LINES; i++) OBS__PREFETCH_W(next + 64 * i);
    }
}
static void *obs__pool_get(int pool, obs__tls *t) {
    if (OBS__LIKELY(t->ncache[pool] > 0)) {
        void *item = t->cache[pool][--t->ncache[pool]];
        obs__pool_prefetch(t, pool);
        return item;
    }
    /* Refill half the cache in one go (one CAS on a shared stack). */
    t->ncache[pool] = (int)obs__pool_take(&obs__g.pools[pool], t, t->cache[pool], OBS__TLS_CACHE / 2);
    if (t->ncache[pool] > 0) return t->cache[pool][--t->ncache[pool]];
    return obs__pool_grow(pool, t);
}
static void obs__pool_put_local(int pool, obs__tls *t, void *item) {
    if (t->ncache[pool] < OBS__TLS_CACHE) t->cache[pool][t->ncache[pool]++] = item;
    else obs__stack_push(&obs__g.pools[pool], obs__lane_of(t), &item, 1);
}

// ============================================================================
// >>impl:span -- starting, decorating and ending spans
// ============================================================================
struct obs_span {
    obs__item h;
    obs_span_data d; /* what exporters see */
    obs__attrs attrs, eattrs, lattrs;
    obs_event *events;
    uint32_t n_events, cap_events;
    obs_link *links;
    uint32_t n_links, cap_links;
    obs__arena arena;
};

static void obs__span_ids_get(const obs_span *s, uint8_t *trace_id, uint8_t *span_id) {
    if (trace_id) {
        if (s->h.lazy & OBS__LAZY_TRACE) obs__id_at(s->h.seed, 0, trace_id, 16);
        else memcpy(trace_id, s->d.trace_id, 16);
    }
    if (span_id) {
        if (s->h.lazy & OBS__LAZY_SPAN) obs__id_at(s->h.seed, 2, span_id, 8);
        else memcpy(span_id, s->d.span_id, 8);
    }
}

/* The exporter's view of an item (the same offset for spans and log records). */
#define OBS__VIEW(item) ((const void *)((const char *)(item) + offsetof(struct obs_span, d)))

static uint32_t obs__gen_of(const obs_span *s) { return OBS__LOAD(&s->h.gen); }

static void obs__span_release_mem(void *item) {
    obs_span *s = (obs_span *)item;
    obs__free(s->attrs.v);
    obs__free(s->eattrs.v);
    obs__free(s->lattrs.v);
    obs__free(s->events);
    obs__free(s->links);
    obs__arena_free(&s->arena);
}

static void obs__dispatch(int sig, obs__tls *t, obs__item *item);

/* A span may be used only while obs runs: its memory goes with obs_shutdown. */
static int obs__live(const obs_span *s) { return s && OBS__LOAD_RELAXED(&obs__g.running); }
static int obs__span_ok(const obs_span *s) { return obs__live(s) && s->h.recording && !s->h.ended; }

static void obs__count_attr_drops(uint32_t n) {
    obs__tls *t;
    if (n && (t = obs__tls_get()) != NULL) {
        OBS__STORE_RELAXED(&t->counters[OBS__C_ATTR_DROP], t->counters[OBS__C_ATTR_DROP] + n);
    }
}

/* Sets an attribute on a span the caller checked (obs__span_ok). */
static void obs__span_put(obs_span *s, const obs_attr *a) {
    if (!obs__attrs_set(&s->attrs, 0, &s->arena, obs__g.limits.attrs, a)) obs__count_attr_drops(1);
}
static void obs__span_set(obs_span *s, const obs_attr *a) {
    if (obs__span_ok(s)) obs__span_put(s, a);
}

/* Copies attributes into list l as one event's or link's own; returns how many it kept. */
static size_t obs__attrs_add_group(obs_span *s, obs__attrs *l, uint32_t limit, const obs_attr *attrs,
                                   size_t n, uint32_t *dropped) {
    uint32_t from = l->n, before = l->dropped;
    size_t i;
    for (i = 0; i < n; i++) obs__attrs_set(l, from, &s->arena, limit, &attrs[i]);
    *dropped = l->dropped - before;
    obs__count_attr_drops(*dropped);
    return l->n - from;
}

/* The parent context of a new span: remote (traceparent or X-Ray), explicit, or current. */
typedef struct obs__parent {
    const uint8_t *trace_id, *span_id; /* into the parent span or ctx; trace_id NULL: none */
    uint8_t flags;
    int remote;
    int undecided; /* X-Ray "Sampled=?" or none: the sampler decides as for a root */
    const char *tracestate;
    obs__ctx ctx; /* a remote parent, parsed */
    char ts_buf[OBS__TRACESTATE_CAP];
} obs__parent;

/* A remote parent from the headers; an invalid header is ignored (a new trace starts). */
static int obs__span_remote_parent(const obs_span_opts *o, obs__parent *p) {
    memset(&p->ctx, 0, sizeof p->ctx);
    if (o->traceparent) {
        if (!obs__traceparent_parse(o->traceparent, strlen(o->traceparent), &p->ctx)) return 0;
        if (o->tracestate &&
            obs__tracestate_parse(o->tracestate, strlen(o->tracestate), p->ts_buf, sizeof p->ts_buf)) {
            p->tracestate = p->ts_buf;
        }
        return 1;
    }
    /* X-Ray without a Parent names the trace but no span: no parent span to point at. */
    if (!o->xray_header) return 0;
    switch (obs__xray_parse(o->xray_header, strlen(o->xray_header), &p->ctx)) {
    case 0: return 0;
    case 2: p->undecided = 1; break;
    default: break;
    }
    return !obs__id_is_zero(p->ctx.span_id, 8);
}

static void obs__span_parent(obs__tls *t, const obs_span_opts *o, obs__parent *p) {
    obs_span *ps;
    p->trace_id = NULL;
    p->remote = p->undecided = 0;
    p->tracestate = "";
    if (OBS__LIKELY(!o)) {
        ps = obs__current(t);
    } else if ((o->traceparent || o->xray_header) && obs__span_remote_parent(o, p)) {
        p->trace_id = p->ctx.trace_id;
        p->span_id = p->ctx.span_id;
        p->flags = p->ctx.flags;
        p->remote = 1;
        return;
    } else {
        p->undecided = 0; /* an X-Ray header with no parent span: the local parent decides */
        ps = o->root ? NULL : o->parent ? o->parent : obs__current(t);
    }
    if (!ps) return;
    if (ps->h.lazy) { /* a dropped parent's ids, worked out now */
        obs__span_ids_get(ps, p->ctx.trace_id, p->ctx.span_id);
        p->trace_id = p->ctx.trace_id;
        p->span_id = p->ctx.span_id;
    } else {
        p->trace_id = ps->d.trace_id;
        p->span_id = ps->d.span_id;
    }
    p->flags = ps->d.trace_flags;
    p->tracestate = ps->d.trace_state;
}

static void obs__span_reset(obs_span *s, obs_tracer *tr) {
    obs__arena_reset(&s->arena);
    s->attrs.n = s->eattrs.n = s->lattrs.n = 0;
    s->attrs.dropped = s->eattrs.dropped = s->lattrs.dropped = 0;
    s->n_events = s->n_links = 0;
    s->d.scope = &tr->scope;
    s->d.kind = OBS_SPAN_KIND_INTERNAL;
    s->d.status = OBS_STATUS_UNSET;
    s->d.status_message = "";
    s->d.dropped_events = s->d.dropped_links = 0;
}

static inline const char *obs__span_tracestate(obs_span *s, const char *ts) {
    /* Copied: the parent's text may be recycled before this span ends. */
    if (!ts || !ts[0]) return "";
    ts = obs__copy_tracestate(&s->arena, ts);
    return ts ? ts : "";
}

static void obs__span_name(obs_span *s, const char *name) {
    const char *copy;
    name = name && name[0] ? name : "unnamed"; /* OTLP requires a non-empty name */
    copy = obs__arena_str(&s->arena, name, strlen(name));
    s->d.name = copy ? copy : "unnamed";
}

OBSDEF obs_span *obs_span_start_ex(obs_tracer *tr, const char *name, const obs_span_opts *o) {
    obs__tls *t;
    obs_span *s;
    obs__parent par;
    uint8_t trace_id[16], parent_id[8];
    int sampled, has, lazy_root;
    size_t i;
    if (!OBS__LOAD_RELAXED(&obs__g.running) || !tr || !(t = obs__tls_get())) return NULL;
    obs__span_parent(t, o, &par);
    has = par.trace_id != NULL;
    lazy_root = !has && obs__g.lazy_roots;
    if (has) {
        memcpy(trace_id, par.trace_id, 16); /* copied before the pool hands out an item */
        memcpy(parent_id, par.span_id, 8);
    } else {
        if (!lazy_root) obs__random_id(t, trace_id, 16);
        if (obs__g.xray_ids) obs__xray_stamp_id(trace_id, obs__now_ns());
        memset(parent_id, 0, 8);
    }
    sampled = !lazy_root && obs__sample(&obs__g.sampler, has && !par.undecided, par.remote,
                                        has && (par.flags & 1), trace_id);
    if (!(s = (obs_span *)obs__pool_get(OBS__SPANS, t))) { /* every span in use: the pool's bound */
        if (sampled) { /* ended, and dropped by each processor, as a full queue counts it */
            obs__count(t, OBS__C_STARTED);
            obs__count(t, OBS__C_ENDED);
            obs__count_n(t, OBS__C_SPAN_DROP_QUEUE, (uint64_t)obs__g.nprocs[OBS__SPANS]);
        } else {
            obs__count(t, OBS__C_UNSAMPLED);
        }
        return NULL;
    }
    if (!lazy_root) memcpy(s->d.trace_id, trace_id, 16);
    if (sampled) {
        obs__random_id(t, s->d.span_id, 8);
        s->h.lazy = 0;
    } else { /* the draws are skipped; the ids come from the seed when asked for */
        s->h.lazy = (uint8_t)(OBS__LAZY_SPAN | (lazy_root ? OBS__LAZY_TRACE : 0));
        s->h.seed = t->rng - (lazy_root ? 0 : 2 * OBS__GOLDEN); /* the span id: 3rd draw from it */
        t->rng += (lazy_root ? 3 : 1) * OBS__GOLDEN;
    }
    s->d.trace_flags = (uint8_t)((has ? par.flags & ~1 : 0) | (sampled ? 1 : 0));
    s->d.has_parent = (uint8_t)has;
    s->d.parent_is_remote = (uint8_t)par.remote;
    memcpy(s->d.parent_span_id, parent_id, 8);
    s->h.recording = (uint8_t)sampled;
    s->h.ended = 0;
    if (!(o && o->no_activate)) obs__push_current(t, s);
    if (!sampled) {
        /* Context only: ids and tracestate travel on, nothing is recorded. */
        if (par.tracestate[0]) obs__arena_reset(&s->arena);
        s->d.trace_state = obs__span_tracestate(s, par.tracestate);
        obs__count(t, OBS__C_UNSAMPLED);
        return s;
    }
    s->d.thread_id = t->thread_id;
    if (s->attrs.v) OBS__PREFETCH_W(s->attrs.v); /* kept from the item's last use; written soon */
    obs__span_reset(s, tr);
    s->d.trace_state = obs__span_tracestate(s, par.tracestate);
    s->d.start_time_ns = o && o->start_time_ns ? o->start_time_ns : obs__now_ns();
    obs__span_name(s, name);
    if (o) {
        s->d.kind = o->kind;
        obs_span_set_attrs(s, o->attrs, o->n_attrs);
        for (i = 0; i < o->n_links; i++) obs_span_add_link(s, &o->links[i]);
    }
    obs__count(t, OBS__C_STARTED);
    return s;
}

OBSDEF obs_span *obs_span_start(obs_tracer *t, const char *name) {
    return obs_span_start_ex(t, name, NULL);
}

/* Points the exporter's view at the arrays (they may have moved while growing). */
static void obs__span_finish(obs_span *s) {
    const obs_attr *ea = s->eattrs.v, *la = s->lattrs.v;
    uint32_t i;
    s->d.attrs = s->attrs.v;
    s->d.n_attrs = s->attrs.n;
    s->d.dropped_attrs = s->attrs.dropped;
    for (i = 0; i < s->n_events; i++) { /* attributes lie in order, each event's after the last */
        s->events[i].attrs = s->events[i].n_attrs ? ea : NULL;
        if (s->events[i].n_attrs) ea += s->events[i].n_attrs;
    }
    for (i = 0; i < s->n_links; i++) {
        s->links[i].attrs = s->links[i].n_attrs ? la : NULL;
        if (s->links[i].n_attrs) la += s->links[i].n_attrs;
    }
    s->d.events = s->events;
    s->d.n_events = s->n_events;
    s->d.links = s->links;
    s->d.n_links = s->n_links;
}

OBSDEF void obs_span_end_at(obs_span *s, int64_t end_time_ns) {
    obs__tls *t;
    if (!obs__live(s) || s->h.ended || !(t = obs__tls_get())) return;
    obs__pop_current(t, s);
    s->h.ended = 1;
    OBS__STORE(&s->h.gen, s->h.gen + 1);
    if (!s->h.recording) {
        obs__pool_put_local(OBS__SPANS, t, s);
        return;
    }
    s->d.end_time_ns = end_time_ns ? end_time_ns : obs__now_ns();
    if (s->d.end_time_ns < s->d.start_time_ns) s->d.end_time_ns = s->d.start_time_ns;
    obs__span_finish(s);
    obs__count(t, OBS__C_ENDED);
    obs__dispatch(OBS__SPANS, t, &s->h);
}
OBSDEF void obs_span_end(obs_span *s) { obs_span_end_at(s, 0); }

OBSDEF void obs_span_set_attrs(obs_span *s, const obs_attr *attrs, size_t n) {
    size_t i;
    for (i = 0; attrs && i < n; i++) obs__span_set(s, &attrs[i]);
}
OBSDEF void obs_span_set_str(obs_span *s, const char *key, const char *value) {
    obs_attr a;
    if (!obs__span_ok(s) || !value) return;
    a = obs_attr_str(key, value);
    obs__span_put(s, &a);
}
OBSDEF void obs_span_set_int(obs_span *s, const char *key, int64_t value) {
    obs_attr a;
    if (!obs__span_ok(s)) return;
    a = obs_attr_int(key, value);
    obs__span_put(s, &a);
}
OBSDEF void obs_span_set_double(obs_span *s, const char *key, double value) {
    obs_attr a;
    if (!obs__span_ok(s)) return;
    a = obs_attr_double(key, value);
    obs__span_put(s, &a);
}
OBSDEF void obs_span_set_bool(obs_span *s, const char *key, int value) {
    obs_attr a;
    if (!obs__span_ok(s)) return;
    a = obs_attr_bool(key, value);
    obs__span_put(s, &a);
}
static void obs__span_set_array(obs_span *s, const char *key, obs_attr_type type,
                                const void *v, size_t n) {
    obs_attr a = obs__attr_make(key, type, v ? n : 0);
    a.v.ia = (const int64_t *)v; /* the union's array members share one representation */
    if (type == OBS_ATTR_STRING_ARRAY) a.v.sa = (const char *const *)v;
    else if (type == OBS_ATTR_BOOL_ARRAY) a.v.ba = (const int *)v;
    else if (type == OBS_ATTR_DOUBLE_ARRAY) a.v.da = (const double *)v;
    obs__span_set(s, &a);
}
OBSDEF void obs_span_set_str_array(obs_span *s, const char *key, const char *const *v, size_t n) {
    obs__span_set_array(s, key, OBS_ATTR_STRING_ARRAY, (const void *)v, n);
}
OBSDEF void obs_span_set_int_array(obs_span *s, const char *key, const int64_t *v, size_t n) {
    obs__span_set_array(s, key, OBS_ATTR_INT_ARRAY, (const void *)v, n);
}
OBSDEF void obs_span_set_double_array(obs_span *s, const char *key, const double *v, size_t n) {
    obs__span_set_array(s, key, OBS_ATTR_DOUBLE_ARRAY, (const void *)v, n);
}
OBSDEF void obs_span_set_bool_array(obs_span *s, const char *key, const int *v, size_t n) {
    obs__span_set_array(s, key, OBS_ATTR_BOOL_ARRAY, (const void *)v, n);
}

OBSDEF void obs_span_update_name(obs_span *s, const char *name) {
    if (obs__span_ok(s)) obs__span_name(s, name);
}

OBSDEF void obs_span_add_event_attrs(obs_span *s, const char *name, const obs_attr *attrs,
                                     size_t n) {
    obs_event *ev;
    if (!obs__span_ok(s)) return;
    if (s->n_events >= obs__g.limits.events ||
        (s->n_events == s->cap_events &&
         !obs__vec_grow((void **)&s->events, &s->cap_events, sizeof(obs_event)))) {
        s->d.dropped_events++;
        return;
    }
    ev = &s->events[s->n_events];
    ev->name = obs__arena_str(&s->arena, name ? name : "", name ? strlen(name) : 0);
    if (!ev->name) {
        s->d.dropped_events++;
        return;
    }
    ev->time_ns = obs__now_ns();
    ev->attrs = NULL;
    ev->n_attrs = obs__attrs_add_group(s, &s->eattrs, obs__g.limits.event_attrs, attrs, attrs ? n : 0,
                                       &ev->dropped_attrs);
    s->n_events++;
}
OBSDEF void obs_span_add_event(obs_span *s, const char *name) {
    obs_span_add_event_attrs(s, name, NULL, 0);
}

OBSDEF void obs_span_add_link(obs_span *s, const obs_link *link) {
    obs_link *l;
    if (!obs__span_ok(s) || !link) return;
    if (s->n_links >= obs__g.limits.links ||
        (s->n_links == s->cap_links &&
         !obs__vec_grow((void **)&s->links, &s->cap_links, sizeof(obs_link)))) {
        s->d.dropped_links++;
        return;
    }
    l = &s->links[s->n_links];
    memcpy(l->trace_id, link->trace_id, 16);
    memcpy(l->span_id, link->span_id, 8);
    l->trace_flags = link->trace_flags;
    l->trace_state = obs__span_tracestate(s, link->trace_state);
    l->attrs = NULL;
    l->n_attrs = obs__attrs_add_group(s, &s->lattrs, obs__g.limits.link_attrs, link->attrs,
                                      link->attrs ? link->n_attrs : 0, &l->dropped_attrs);
    s->n_links++;
}

OBSDEF void obs_span_set_status(obs_span *s, obs_status_code code, const char *description) {
    if (!obs__span_ok(s) || code == OBS_STATUS_UNSET || s->d.status == OBS_STATUS_OK) return;
    s->d.status = code;
    s->d.status_message = "";
    if (code == OBS_STATUS_ERROR && description) { /* the spec keeps a description for ERROR only */
        const char *copy = obs__arena_str(&s->arena, description, strlen(description));
        s->d.status_message = copy ? copy : "";
    }
}

/* The caller's stack as text, one frame a line ("" where there is no backtrace()). */
static void obs__stacktrace(obs__buf *out, int skip) {
#ifdef OBS__HAVE_BACKTRACE
    void *frames[64];
    int n = backtrace(frames, 64), i;
    char **names = backtrace_symbols(frames, n);
    for (i = skip; names && i < n; i++) obs__buf_printf(out, "%s%s", i > skip ? "\n" : "", names[i]);
    free(names); /* backtrace_symbols uses malloc itself */
#else
    (void)skip;
#endif
    obs__buf_put(out, "", 0);
}

OBSDEF void obs_span_record_error(obs_span *s, const char *type, const char *message) {
    obs_attr a[3];
    size_t n = 0;
    obs__buf trace;
    if (!obs__span_ok(s)) return;
    memset(&trace, 0, sizeof trace);
    obs__stacktrace(&trace, 1);
    if (type) a[n++] = obs_attr_str("exception.type", type);
    if (message) a[n++] = obs_attr_str("exception.message", message);
    if (trace.len) a[n++] = obs_attr_str("exception.stacktrace", trace.p);
    obs_span_add_event_attrs(s, "exception", a, n);
    obs_span_set_status(s, OBS_STATUS_ERROR, message ? message : type);
    obs__buf_free(&trace);
}

OBSDEF obs_span *obs_span_current(void) {
    obs__tls *t;
    if (!OBS__LOAD_RELAXED(&obs__g.running) || !(t = obs__tls_get())) return NULL;
    return obs__current(t);
}
OBSDEF void obs_span_activate(obs_span *s) {
    obs__tls *t;
    if (obs__live(s) && !s->h.ended && (t = obs__tls_get()) != NULL) obs__push_current(t, s);
}
OBSDEF void obs_span_deactivate(obs_span *s) {
    obs__tls *t;
    if (obs__live(s) && (t = obs__tls_get()) != NULL) obs__pop_current(t, s);
}
OBSDEF int obs_span_is_recording(const obs_span *s) { return obs__span_ok(s); }

OBSDEF void obs_span_ids(const obs_span *s, uint8_t *trace_id, uint8_t *span_id) {
    if (obs__live(s)) obs__span_ids_get(s, trace_id, span_id);
}

static void obs__span_ctx(const obs_span *s, obs__ctx *c) {
    obs__span_ids_get(s, c->trace_id, c->span_id);
    c->flags = s->d.trace_flags;
}
OBSDEF size_t obs_span_traceparent(const obs_span *s, char *buf, size_t len) {
    obs__ctx c;
    size_t n;
    if (!obs__live(s) || !buf) return 0;
    obs__span_ctx(s, &c);
    n = obs__traceparent_format(&c, buf, len);
    return n < len ? n : 0;
}
OBSDEF size_t obs_span_xray_header(const obs_span *s, char *buf, size_t len) {
    obs__ctx c;
    size_t n;
    if (!obs__live(s) || !buf) return 0;
    obs__span_ctx(s, &c);
    n = obs__xray_format(&c, buf, len);
    return n < len ? n : 0;
}
OBSDEF int obs_tracestate_set(char *ts, size_t cap, const char *key, const char *value) {
    return ts && key && value && obs__tracestate_set(ts, cap, key, value);
}
OBSDEF const char *obs_span_tracestate(const obs_span *s) {
    return obs__live(s) && s->d.trace_state ? s->d.trace_state : "";
}

// ============================================================================
// >>impl:log -- log records joined to the current span
// ============================================================================
typedef struct obs__record {
    obs__item h;
    obs_log_data d;
    obs__attrs attrs;
    obs__arena arena;
} obs__record;

/* OBS__VIEW relies on both items keeping their view at the same offset. */
typedef char obs__view_offsets_match[offsetof(obs__record, d) == offsetof(struct obs_span, d) ? 1 : -1];

static void obs__record_release_mem(void *item) {
    obs__record *r = (obs__record *)item;
    obs__free(r->attrs.v);
    obs__arena_free(&r->arena);
}

/* printf's common conversions without vsnprintf (which costs more than the rest of a log
   call): %s %d %i %u %x %X %c and %%, with the l and ll length modifiers (z for %zu %zx),
   and no flags, width or precision. Writes at most cap - 1 bytes and a NUL; returns the full length, as
   vsnprintf does, or -1 when fmt needs more than this (the caller then uses vsnprintf). */
typedef struct obs__out {
    char *p;
    size_t len, cap; /* len counts every byte, also those past cap */
} obs__out;
static void obs__out_put(obs__out *o, const char *s, size_t n) {
    if (o->len + 1 < o->cap) memcpy(o->p + o->len, s, OBS__MIN(n, o->cap - 1 - o->len));
    o->len += n;
}
static void obs__out_uint(obs__out *o, unsigned long long v, int base, int upper, int neg) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = digits[v % (unsigned)base];
        v /= (unsigned)base;
    } while (v);
    if (neg) tmp[--i] = '-';
    obs__out_put(o, tmp + i, sizeof tmp - i);
}
static int obs__fmt_fast(char *buf, size_t cap, const char *fmt, va_list ap) {
    obs__out o;
    const char *lit;
    o.p = buf;
    o.len = 0;
    o.cap = cap;
    while (*fmt) {
        int size = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
        long long sv;
        unsigned long long uv;
        char c;
        for (lit = fmt; *fmt && *fmt != '%'; fmt++) {
        }
        obs__out_put(&o, lit, (size_t)(fmt - lit));
        if (!*fmt) break;
        fmt++;
        if (*fmt == 'l') size = fmt[1] == 'l' ? (fmt++, 2) : 1, fmt++;
        else if (*fmt == 'z') size = 3, fmt++;
        c = *fmt++;
        if ((c == 'd' || c == 'i') && size == 3) {
            return -1; /* %zd: ssize_t, whose width this code cannot name portably */
        } else if (c == 'd' || c == 'i') {
            sv = size == 0 ? va_arg(ap, int) : size == 1 ? va_arg(ap, long) : va_arg(ap, long long);
            uv = sv < 0 ? 0ULL - (unsigned long long)sv : (unsigned long long)sv;
            obs__out_uint(&o, uv, 10, 0, sv < 0);
        } else if (c == 'u' || c == 'x' || c == 'X') {
            uv = size == 0 ? va_arg(ap, unsigned) : size == 1 ? va_arg(ap, unsigned long)
                 : size == 2 ? va_arg(ap, unsigned long long) : (unsigned long long)va_arg(ap, size_t);
            obs__out_uint(&o, uv, c == 'u' ? 10 : 16, c == 'X', 0);
        } else if (c == 's' && size == 0) {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)"; /* as glibc prints it */
            obs__out_put(&o, s, strlen(s));
        } else if (c == 'c' && size == 0) {
            char ch = (char)va_arg(ap, int);
            obs__out_put(&o, &ch, 1);
        } else if (c == '%' && size == 0) {
            obs__out_put(&o, "%", 1);
        } else {
            return -1; /* flags, width, precision, floating point, %p, %n, ...: vsnprintf */
        }
    }
    if (cap) o.p[OBS__MIN(o.len, cap - 1)] = 0;
    return o.len > (size_t)INT32_MAX ? -1 : (int)o.len;
}

/* Does fmt hold a %n conversion (printf would store through an argument: with a format the
   caller does not control, a write anywhere)? */
static int obs__fmt_writes(const char *fmt) {
    const char *p = fmt;
    while ((p = strchr(p, '%')) != NULL) {
        p += 1 + strspn(p + 1, "-+ #0'*.123456789hljztLqZ");
        if (*p == 'n') return 1;
        if (*p) p++; /* the conversion, "%%" included */
    }
    return 0;
}
/* Such a format is not carried out: its text becomes the message, reported once. */
static int obs__fmt_refused(char *msg, size_t cap, const char *fmt) {
    static int told;
    if (!OBS__XCHG(&told, 1)) obs__diag(2, "a log format with %%n is not carried out: logged as its text");
    return snprintf(msg, cap, "%s", fmt);
}

OBSDEF const char *obs_level_name(obs_level level) {
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    int l = (int)level;
    if (l < 1 || l > 24) return "UNSPECIFIED";
    return names[(l - 1) / 4];
}

OBSDEF void obs_log_set_level(obs_level level) {
    int l = level == OBS_LEVEL_DEFAULT ? OBS_LEVEL_INFO : (int)level;
    OBS__STORE_RELAXED(&obs__log_threshold, OBS__LOAD_RELAXED(&obs__g.running) ? l : OBS_LEVEL_OFF);
}
OBSDEF obs_level obs_log_get_level(void) {
    return (obs_level)OBS__LOAD_RELAXED(&obs__log_threshold);
}

static void obs__record_attr(obs__record *r, const obs_attr *a) {
    if (!obs__attrs_set(&r->attrs, 0, &r->arena, obs__g.limits.log_attrs, a)) obs__count_attr_drops(1);
}

/* The source location (semantic conventions code.*). Its keys are ours, so they need no
   copy and, without attributes of the caller's, no search for an equal key. */
static void obs__record_location(obs__record *r, const char *file, int line, const char *func) {
    obs_attr loc[3];
    obs__attrs *l = &r->attrs;
    size_t i, n = func ? 3 : 2;
    loc[0] = obs_attr_str("code.file.path", file);
    loc[1] = obs_attr_int("code.line.number", line);
    loc[2] = obs_attr_str("code.function.name", func ? func : "");
    if (l->n == 0 && n <= obs__g.limits.log_attrs && (l->cap >= n || obs__vec_grow((void **)&l->v, &l->cap, sizeof(obs_attr)))) {
        for (i = 0; i < n; i++) {
            l->v[l->n] = loc[i];
            if (loc[i].type == OBS_ATTR_STRING &&
                !(l->v[l->n].v.s = obs__copy_value(&r->arena, loc[i].v.s, loc[i].n, &l->v[l->n].n))) {
                l->dropped++;
                obs__count_attr_drops(1);
                continue;
            }
            l->n++;
        }
        return;
    }
    for (i = 0; i < n; i++) obs__record_attr(r, &loc[i]);
}

OBSDEF void obs_log_v(obs_level level, const char *file, int line, const char *func,
                      const obs_attr *attrs, size_t n_attrs, const char *fmt, va_list ap) {
    char msg[OBS__MSG_MAX];
    obs__tls *t;
    obs__record *r;
    obs_span *cur;
    va_list cp;
    int n;
    size_t i, len;
    if (!obs_log_enabled(level) || !fmt || !OBS__LOAD_RELAXED(&obs__g.running) || !(t = obs__tls_get())) return;
    if (!(r = (obs__record *)obs__pool_get(OBS__LOGS, t))) { /* every record in use */
        obs__count(t, OBS__C_LOGS);
        obs__count_n(t, OBS__C_LOG_DROP_QUEUE, (uint64_t)obs__g.nprocs[OBS__LOGS]);
        return;
    }
    obs__arena_reset(&r->arena);
    r->attrs.n = r->attrs.dropped = 0;
    r->h.recording = 1;
    r->h.ended = 0;
    va_copy(cp, ap);
    n = obs__fmt_fast(msg, sizeof msg, fmt, cp);
    va_end(cp);
    if (n < 0) n = obs__fmt_writes(fmt) ? obs__fmt_refused(msg, sizeof msg, fmt) : vsnprintf(msg, sizeof msg, fmt, ap);
    len = n < 0 ? 0 : obs__utf8_cut(msg, (size_t)n, sizeof msg - 1);
    r->d.body = obs__arena_str(&r->arena, msg, len);
    if (!r->d.body) r->d.body = "";
    r->d.time_ns = r->d.observed_time_ns = obs__now_ns();
    r->d.level = level;
    r->d.thread_id = t->thread_id;
    r->d.scope = &obs__g.log_scope;
    for (i = 0; attrs && i < n_attrs; i++) obs__record_attr(r, &attrs[i]);
    if (file) obs__record_location(r, file, line, func);
    r->d.attrs = r->attrs.v;
    r->d.n_attrs = r->attrs.n;
    r->d.dropped_attrs = r->attrs.dropped;
    if ((cur = obs__current(t)) != NULL) {
        obs__span_ids_get(cur, r->d.trace_id, r->d.span_id);
        r->d.trace_flags = cur->d.trace_flags;
    } else {
        memset(r->d.trace_id, 0, 16);
        memset(r->d.span_id, 0, 8);
        r->d.trace_flags = 0;
    }
    r->h.ended = 1;
    obs__count(t, OBS__C_LOGS);
    obs__dispatch(OBS__LOGS, t, &r->h);
}

OBSDEF void obs_log_at(obs_level level, const char *file, int line, const char *func,
                       const obs_attr *attrs, size_t n_attrs, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    obs_log_v(level, file, line, func, attrs, n_attrs, fmt, ap);
    va_end(ap);
}
OBSDEF void obs_log(obs_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    obs_log_v(level, NULL, 0, NULL, NULL, 0, fmt, ap);
    va_end(ap);
}

OBSDEF void obs_report_error(const char *type, const char *message) {
    obs_span_record_error(obs_span_current(), type, message);
    obs_log(OBS_LEVEL_ERROR, "%s: %s", type ? type : "error", message ? message : "");
}

// ============================================================================
// >>impl:processor -- simple (synchronous) and batch (background thread) processors
// ============================================================================
struct obs__proc {
    int sig;
    obs_exporter *exp;
    int batch; /* 0: simple */
    obs_batch_config cfg;
    obs__queue q;
    pthread_mutex_t lock;  /* the thread's state and condition variables */
    pthread_mutex_t xlock; /* one exporter call at a time; batch callers never take it */
    pthread_mutex_t *xl;   /* &xlock, or the first processor's of an exporter both signals use */
    int shared;            /* its exporter serves the other signal too: xl may be held long */
    int twin;              /* its exporter serves an earlier processor too: shut down there */
    pthread_cond_t wake, done;
    obs__thread thread;
    int stop, flush_req;
    int sleeping;      /* atomic: the thread waits for work */
    int failed;        /* atomic: OBS_ERR_NET (an export failed) or OBS_ERR_TIMEOUT (no turn at a
                          shared exporter) since the last flush; else 0 (OBS_OK) */
    uint64_t wake_mask; /* a caller wakes the thread when wake_mask + 1 items wait (a power of
                           2), looking every check_mask + 1 pushes to its lane */
    uint64_t check_mask;
    int restart;        /* atomic: a fork's child starts the thread with its first item */
    int64_t stop_deadline_ms;
    void **items;
    const void **views;
};

/* One processor is done with the item: 1 when it was the last holder (the item is free). */
static int obs__item_unref(int sig, obs__item *it) {
    return obs__g.nprocs[sig] <= 1 || OBS__ADD(&it->refs, -1) == 1;
}
/* A caller's thread lets go of an item (its queue was full, or a simple processor exported
   it): back to the thread's own cache when no other processor holds it, touching nothing
   shared. */
static void obs__item_release(int sig, obs__tls *t, obs__item *it) {
    if (obs__item_unref(sig, it)) obs__pool_put_local(sig, t, it);
}
/* Releases items of one lane: those no other processor holds go back in one push. */
static void obs__items_release(int sig, unsigned lane, void **items, size_t n) {
    size_t i, k = 0;
    for (i = 0; i < n; i++) { /* compacted in place: the caller is done with the array */
        if (obs__item_unref(sig, (obs__item *)items[i])) items[k++] = items[i];
    }
    obs__stack_push(&obs__g.pools[sig], lane, items, k);
}
/* Releases the batch obs__queue_pop gave: each item to the lane of the thread that wrote it. */
static void obs__batch_release(obs__proc *p, void **items) {
    unsigned i;
    for (i = 0; i < OBS__LANES; i++) {
        obs__items_release(p->sig, p->q.first + i, items, p->q.got[i]);
        items += p->q.got[i];
    }
}

/* n of this processor's items not exported: counted as dropped (export). */
static void obs__proc_dropped(const obs__proc *p, uint64_t n) {
    obs__count_global(p->sig == OBS__LOGS ? OBS__C_LOG_DROP_EXPORT : OBS__C_SPAN_DROP_EXPORT, n);
}
static const char *obs__proc_items(const obs__proc *p) { return p->sig == OBS__LOGS ? "log records" : "spans"; }
/* n items of an export not delivered: dropped, and the next flush says why (OBS_ERR_*). */
static void obs__proc_failed(obs__proc *p, uint64_t n, obs_result why) {
    obs__proc_dropped(p, n);
    OBS__STORE(&p->failed, (int)why);
}

/* Takes m, waiting no later than deadline_ms (another thread may hold it through a whole
   export); 1 when taken. */
static int obs__lock_by(pthread_mutex_t *m, int64_t deadline_ms) {
    while (pthread_mutex_trylock(m) != 0) {
        if (obs__mono_ms() >= deadline_ms) return 0;
        obs__sleep_ms(1);
    }
    return 1;
}

#define OBS__CRASH_LOCK_MS 1000 /* a batch thread's wait for a shared exporter in a crash */
#ifdef OBS__THREAD_LOCAL
/* The exporter lock this thread holds: an exporter that calls obs inside its export (it must
   not) finds its own lock taken, and must not wait for itself. And whether this thread runs
   the crash handler: the holder of any lock may be this very thread, stopped. */
static OBS__THREAD_LOCAL pthread_mutex_t *obs__xl_mine;
static OBS__THREAD_LOCAL int obs__crash_here;
/* Items of the batch being exported that a built-in exporter could not deliver although the
   call as a whole succeeded (one half of a split batch): counted as dropped, not exported. */
static OBS__THREAD_LOCAL size_t obs__export_lost;
#define OBS__XL_MINE(m) (obs__xl_mine == (m))
#define OBS__XL_SET(m) (obs__xl_mine = (m))
#define OBS__CRASH_HERE() obs__crash_here
#define OBS__HAVE_EXPORT_LOST 1
#else
#define OBS__XL_MINE(m) 0
#define OBS__XL_SET(m) ((void)0)
#define OBS__CRASH_HERE() OBS__LOAD_RELAXED(&obs__g.crashing) /* unknown: nobody waits */
#endif

/* When this export gives up waiting for the exporter's lock: -1 never (the lock is this
   processor's alone), 0 at once (this thread holds it, or runs the crash handler), else a
   deadline. */
static int64_t obs__proc_lock_deadline(const obs__proc *p, int timeout_ms) {
    int64_t now, by;
    if (OBS__XL_MINE(p->xl) || OBS__CRASH_HERE()) return 0;
    if (!p->shared) return -1;
    /* The other signal's processor may be exporting: no longer than this export may take
       (and, in a crash, well within the crash handler's wait). */
    now = obs__mono_ms();
    by = timeout_ms > 0 ? now + timeout_ms : -1;
    if (OBS__LOAD_RELAXED(&obs__g.crashing) && (by < 0 || by > now + OBS__CRASH_LOCK_MS)) by = now + OBS__CRASH_LOCK_MS;
    return by;
}

/* Exports items[0..n) and counts the outcome; the caller releases them. */
static void obs__proc_export(obs__proc *p, void **items, size_t n, int timeout_ms) {
    obs_result r = OBS_ERR_INVALID_ARG;
    size_t i;
    int logs = p->sig == OBS__LOGS;
    int64_t by = obs__proc_lock_deadline(p, timeout_ms);
    if (by < 0) {
        pthread_mutex_lock(p->xl);
    } else {
        int64_t start = obs__mono_ms();
        if (!obs__lock_by(p->xl, by)) {
            obs__proc_failed(p, n, OBS_ERR_TIMEOUT);
            return;
        }
        if (timeout_ms > 0) { /* the export gets what is left of its time */
            int64_t left = timeout_ms - (obs__mono_ms() - start);
            timeout_ms = left > 0 ? (int)left : 1;
        }
    }
    OBS__XL_SET(p->xl);
#ifdef OBS__HAVE_EXPORT_LOST
    obs__export_lost = 0;
#endif
    for (i = 0; i < n; i++) p->views[i] = OBS__VIEW(items[i]);
    if (!logs && p->exp->export_spans) {
        r = p->exp->export_spans(p->exp->user_data, (const obs_span_data *const *)p->views, n,
                                 timeout_ms);
    } else if (logs && p->exp->export_logs) {
        r = p->exp->export_logs(p->exp->user_data, (const obs_log_data *const *)p->views, n,
                                timeout_ms);
    }
    OBS__XL_SET(NULL);
    pthread_mutex_unlock(p->xl);
#ifdef OBS__HAVE_EXPORT_LOST
    if (r == OBS_OK && obs__export_lost > 0) { /* part of the batch went out */
        size_t lost = obs__export_lost < n ? obs__export_lost : n;
        obs__proc_failed(p, lost, OBS_ERR_NET);
        n -= lost;
    }
#endif
    if (r == OBS_OK) {
        obs__count_global(logs ? OBS__C_LOG_EXPORTED : OBS__C_SPAN_EXPORTED, n);
    } else {
        obs__proc_failed(p, n, OBS_ERR_NET);
    }
}

static void *obs__proc_main(void *arg);
/* In a fork's child, the first item to queue starts the batch thread again. */
static OBS__NOINLINE void obs__proc_restart(obs__proc *p) {
    if (!OBS__XCHG(&p->restart, 0)) return; /* another thread does it */
    pthread_mutex_lock(&p->lock);
    if (!obs__thread_start(&p->thread, obs__proc_main, p)) obs__diag(1, "fork: no batch thread in the child");
    pthread_mutex_unlock(&p->lock);
}

static void obs__proc_on_end(obs__proc *p, obs__tls *t, obs__item *it) {
    uint64_t pos;
    if (OBS__UNLIKELY(OBS__LOAD_RELAXED(&p->restart)) && !OBS__LOAD_RELAXED(&obs__g.crashing)) {
        obs__proc_restart(p); /* never from a crash handler: creating a thread is not safe there */
    }
    if (!p->batch) {
        void *one = it;
        obs__proc_export(p, &one, 1, p->cfg.export_timeout_ms);
        obs__item_release(p->sig, t, it);
        return;
    }
    /* The lane holds max_queue_size (rounded up to a power of two): a full lane drops. */
    if (!(pos = obs__ring_push(obs__queue_lane(&p->q, t), it))) {
        obs__count(t, p->sig == OBS__LOGS ? OBS__C_LOG_DROP_QUEUE : OBS__C_SPAN_DROP_QUEUE);
        obs__item_release(p->sig, t, it);
        return;
    }
    /* About a batch waits in all lanes (a look at the others every quarter batch of this one's:
       the thread wakes as often as with one queue, and works on as few items at a time). */
    if (OBS__UNLIKELY((pos & p->check_mask) == 0) && obs__queue_size(&p->q) > p->wake_mask &&
        !OBS__LOAD_RELAXED(&obs__g.crashing)) { /* a crash handler's thread may hold p->lock;
                                                    the thread sees its flush within 250 ms */
        int one = 1;
        OBS__FENCE();
        if (OBS__CAS(&p->sleeping, &one, 0)) { /* only one caller wakes the thread */
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->wake);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Exports what is queued, a batch at a time. At shutdown past the deadline, drops the rest
   (counted) so that obs_shutdown returns in bounded time. */
static void obs__proc_drain(obs__proc *p, int stopping) {
    for (;;) {
        size_t n = 0;
        int timeout = p->cfg.export_timeout_ms;
        stopping |= OBS__LOAD(&p->stop); /* a shutdown during a long drain bounds it too */
        n = obs__queue_pop(&p->q, p->items, (size_t)p->cfg.max_export_batch_size);
        if (n == 0) return;
        if (stopping) {
            int64_t left = p->stop_deadline_ms - obs__mono_ms();
            if (left <= 0) {
                obs__diag(2, "shutdown: dropping %lu queued %s (timeout)", (unsigned long)n, obs__proc_items(p));
                obs__proc_dropped(p, n);
                obs__batch_release(p, p->items);
                obs__queue_done(&p->q);
                continue;
            }
            if (timeout == 0 || left < timeout) timeout = (int)left;
        }
        obs__proc_export(p, p->items, n, timeout);
        obs__batch_release(p, p->items);
        obs__queue_done(&p->q);
    }
}

/* Stopping, with items left that drain could not pop (a push still writing its cell): wait a
   moment for them, but not past the shutdown deadline; then they count as dropped and 1 is
   returned (stop now). Called and returns with the lock held. */
static int obs__proc_give_up(obs__proc *p) {
    uint64_t left = obs__queue_size(&p->q);
    if (obs__mono_ms() < p->stop_deadline_ms) {
        pthread_mutex_unlock(&p->lock);
        obs__sleep_ms(1);
        pthread_mutex_lock(&p->lock);
        return 0;
    }
    obs__diag(2, "shutdown: %lu queued %s never written; given up", (unsigned long)left, obs__proc_items(p));
    obs__proc_dropped(p, left);
    return 1;
}

static void *obs__proc_main(void *arg) {
    obs__proc *p = (obs__proc *)arg;
    uint64_t batch = (uint64_t)p->cfg.max_export_batch_size;
    int64_t next = obs__mono_ms() + p->cfg.schedule_delay_ms;
    int hole = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int stopping;
        /* A push is writing its cell, items wait behind it: look again in a moment (not at
           once: no spinning; not at the schedule: a flush waits for those items). */
        if (hole) obs__cond_wait_until(&p->wake, &p->lock, obs__mono_ms() + 1);
        while (!hole && !p->stop && !p->flush_req && obs__queue_size(&p->q) < batch && obs__mono_ms() < next) {
            OBS__STORE(&p->sleeping, 1);
            OBS__FENCE();
            if (obs__queue_size(&p->q) >= batch) break; /* a caller may have missed the flag */
            /* Wake at least every 250 ms: to keep the clock in step, and to see a crash
               handler's flush request (it may not signal: not async-signal-safe). */
            obs__cond_wait_until(&p->wake, &p->lock, OBS__MIN(next, obs__mono_ms() + 250));
            obs__clock_resync_try();
        }
        OBS__STORE(&p->sleeping, 0);
        stopping = p->stop;
        p->flush_req = 0;
        pthread_mutex_unlock(&p->lock);
        obs__proc_drain(p, stopping);
        hole = obs__queue_hole(&p->q);
        next = obs__mono_ms() + p->cfg.schedule_delay_ms;
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->done);
        if (stopping && (obs__queue_size(&p->q) == 0 || obs__proc_give_up(p))) break;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static obs__proc *obs__proc_new(int sig, obs_exporter *exp, int batch, const obs_batch_config *cfg) {
    obs__proc *p = (obs__proc *)obs__calloc(sizeof *p);
    size_t nb;
    if (!p) return NULL;
    p->sig = sig;
    p->exp = exp;
    p->batch = batch;
    p->cfg = *cfg;
    nb = batch ? (size_t)cfg->max_export_batch_size : 1;
    for (p->wake_mask = 1; p->wake_mask * 2 <= (uint64_t)nb; p->wake_mask *= 2) {
    }
    p->wake_mask--; /* the largest power of 2 not above the batch size, less one */
    p->check_mask = p->wake_mask / OBS__LANES; /* a quarter of it (masks: 2^k - 1) */
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->xlock, NULL);
    p->xl = &p->xlock;
    obs__cond_init(&p->wake);
    obs__cond_init(&p->done);
    p->items = (void **)obs__alloc(nb * sizeof(void *));
    p->views = (const void **)obs__alloc(nb * sizeof(void *));
    if (!p->items || !p->views || (batch && (!obs__queue_init(&p->q, (size_t)cfg->max_queue_size) ||
                                             !obs__thread_start(&p->thread, obs__proc_main, p)))) {
        obs__diag(1, "cannot start a %s processor", batch ? "batch" : "simple");
        obs__queue_free(&p->q);
        obs__free(p->items);
        obs__free(p->views);
        obs__free(p);
        return NULL;
    }
    return p;
}

/* Items a processor may hold at once: every lane full and a batch being exported. */
static int64_t obs__proc_holds(const obs__proc *p) {
    if (!p->batch) return 0; /* exports on the caller's thread, with the caller's item */
    return OBS__LANES * (int64_t)(p->q.lane[0].mask + 1) + p->cfg.max_export_batch_size;
}

/* Waits until everything queued before the call was handled, or the deadline.
   Returns OBS_OK, OBS_ERR_TIMEOUT, or OBS_ERR_NET when an export failed since the last flush. */
static obs_result obs__proc_flush(obs__proc *p, int64_t deadline_ms) {
    uint64_t marks[OBS__LANES];
    int ok = 1;
    obs__queue_marks(&p->q, marks);
    if (p->batch) {
        pthread_mutex_lock(&p->lock);
        p->flush_req = 1;
        pthread_cond_signal(&p->wake);
        while (!obs__queue_done_up_to(&p->q, marks) && obs__mono_ms() < deadline_ms) {
            obs__cond_wait_until(&p->done, &p->lock, deadline_ms);
        }
        ok = obs__queue_done_up_to(&p->q, marks);
        pthread_mutex_unlock(&p->lock);
    }
    if (p->exp->flush) { /* the exporter may be busy exporting: wait for it only until the deadline */
        if (!obs__lock_by(p->xl, deadline_ms)) return OBS_ERR_TIMEOUT;
        {
            int64_t left = deadline_ms - obs__mono_ms();
            ok &= p->exp->flush(p->exp->user_data, left > 0 ? (int)left : 1) == OBS_OK;
        }
        pthread_mutex_unlock(p->xl);
    }
    if (!ok) return OBS_ERR_TIMEOUT;
    return (obs_result)OBS__XCHG(&p->failed, 0); /* OBS_OK, or what went wrong since the last flush */
}

/* Shutdown in two steps, so that all processors drain at the same time. */
static void obs__proc_stop_begin(obs__proc *p, int64_t deadline_ms) {
    if (!p->batch) return;
    pthread_mutex_lock(&p->lock);
    p->stop_deadline_ms = deadline_ms;
    OBS__STORE(&p->stop, 1);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}
/* The second step, for every processor before any obs__proc_free: an exporter serving both
   signals must see no call after its shutdown. */
static void obs__proc_stop_end(obs__proc *p) {
    if (p->batch) {
        obs__thread_join(&p->thread);
        obs__queue_free(&p->q);
    }
}
static void obs__proc_free(obs__proc *p) {
    if (!p->twin && p->exp->shutdown) p->exp->shutdown(p->exp->user_data); /* twin: done by the first */
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->xlock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    obs__free(p->items);
    obs__free(p->views);
    obs__free(p);
}

static void obs__dispatch(int sig, obs__tls *t, obs__item *it) {
    int i, n = obs__g.nprocs[sig];
    it->refs = n;
    if (n == 0) {
        obs__pool_put_local(sig, t, it);
        return;
    }
    for (i = 0; i < n; i++) obs__proc_on_end(obs__g.procs[sig][i], t, it);
}

// ============================================================================
// >>impl:otlp -- the OTLP/JSON encoder (protobuf JSON mapping with OTLP's hex ids)
// ============================================================================
static void obs__otlp_value(obs__buf *b, const obs_attr *a);

static void obs__otlp_array(obs__buf *b, const obs_attr *a) {
    size_t i;
    OBS__PUTL(b, "{\"arrayValue\":{\"values\":[");
    for (i = 0; i < a->n; i++) {
        obs_attr e = obs__attr_make(a->key, OBS_ATTR_STRING, 0);
        if (i) obs__buf_putc(b, ',');
        switch (a->type) {
        case OBS_ATTR_STRING_ARRAY: e = obs_attr_str(a->key, a->v.sa[i]); break;
        case OBS_ATTR_BOOL_ARRAY: e = obs_attr_bool(a->key, a->v.ba[i]); break;
        case OBS_ATTR_INT_ARRAY: e = obs_attr_int(a->key, a->v.ia[i]); break;
        default: e = obs_attr_double(a->key, a->v.da[i]); break;
        }
        obs__otlp_value(b, &e);
    }
    OBS__PUTL(b, "]}}");
}

/* An AnyValue. */
static void obs__otlp_value(obs__buf *b, const obs_attr *a) {
    switch (a->type) {
    case OBS_ATTR_STRING:
        OBS__PUTL(b, "{\"stringValue\":");
        obs__json_str(b, a->v.s, a->n);
        break;
    case OBS_ATTR_BOOL: obs__buf_puts(b, a->v.b ? "{\"boolValue\":true" : "{\"boolValue\":false"); break;
    case OBS_ATTR_INT:
        OBS__PUTL(b, "{\"intValue\":\""); /* int64 as a decimal string (proto3 JSON) */
        obs__json_i64(b, a->v.i);
        obs__buf_putc(b, '"');
        break;
    case OBS_ATTR_DOUBLE:
        OBS__PUTL(b, "{\"doubleValue\":");
        obs__json_double(b, a->v.d);
        break;
    default: obs__otlp_array(b, a); return;
    }
    obs__buf_putc(b, '}');
}

/* [{"key":..,"value":{..}},...] */
static void obs__otlp_attr_list(obs__buf *b, const obs_attr *attrs, size_t n) {
    size_t i;
    obs__buf_putc(b, '[');
    for (i = 0; i < n; i++) {
        if (i) obs__buf_putc(b, ',');
        OBS__PUTL(b, "{\"key\":");
        obs__json_cstr(b, attrs[i].key);
        OBS__PUTL(b, ",\"value\":");
        obs__otlp_value(b, &attrs[i]);
        obs__buf_putc(b, '}');
    }
    obs__buf_putc(b, ']');
}

/* ,"attributes":[...] and ,"droppedAttributesCount":n, each only when non-empty. */
static void obs__otlp_attrs(obs__buf *b, const obs_attr *attrs, size_t n, uint32_t dropped) {
    if (n) {
        OBS__PUTL(b, ",\"attributes\":");
        obs__otlp_attr_list(b, attrs, n);
    }
    if (dropped) {
        OBS__PUTL(b, ",\"droppedAttributesCount\":");
        obs__buf_u64(b, dropped);
    }
}

/* key"<hex id>" and key"<decimal>" (int64 as a string), each written in one piece. */
static inline void obs__otlp_id(obs__buf *b, const char *key, const uint8_t *id, size_t n) {
    size_t k = strlen(key);
    char *p = obs__buf_room(b, k + 2 * n + 2);
    if (!p) return;
    memcpy(p, key, k);
    p[k] = '"';
    obs__hex_encode(id, n, p + k + 1);
    p[k + 1 + 2 * n] = '"';
    obs__buf_commit(b, k + 2 * n + 2);
}
static inline void obs__otlp_time(obs__buf *b, const char *key, int64_t ns) {
    size_t k = strlen(key), d;
    char *p = obs__buf_room(b, k + 22);
    if (!p) return;
    memcpy(p, key, k);
    p[k] = '"';
    d = obs__u64_dec(p + k + 1, (uint64_t)(ns < 0 ? 0 : ns));
    p[k + 1 + d] = '"';
    obs__buf_commit(b, k + d + 2);
}
static inline void obs__otlp_count(obs__buf *b, const char *key, uint64_t n) {
    if (!n) return;
    obs__buf_puts(b, key);
    obs__buf_u64(b, n);
}

static void obs__otlp_span(obs__buf *b, const obs_span_data *s) {
    size_t i;
    /* OTLP span flags: W3C flags in bits 0-7; bit 8 "is-remote known", bit 9 "remote". */
    uint32_t flags = s->trace_flags | 0x100u | (s->parent_is_remote ? 0x200u : 0u);
    obs__otlp_id(b, "{\"traceId\":", s->trace_id, 16);
    obs__otlp_id(b, ",\"spanId\":", s->span_id, 8);
    if (s->has_parent) obs__otlp_id(b, ",\"parentSpanId\":", s->parent_span_id, 8);
    if (s->trace_state && s->trace_state[0]) {
        OBS__PUTL(b, ",\"traceState\":");
        obs__json_cstr(b, s->trace_state);
    }
    obs__otlp_count(b, ",\"flags\":", flags);
    OBS__PUTL(b, ",\"name\":");
    obs__json_cstr(b, s->name);
    obs__otlp_count(b, ",\"kind\":", (uint64_t)s->kind + 1);
    obs__otlp_time(b, ",\"startTimeUnixNano\":", s->start_time_ns);
    obs__otlp_time(b, ",\"endTimeUnixNano\":", s->end_time_ns);
    obs__otlp_attrs(b, s->attrs, s->n_attrs, s->dropped_attrs);
    if (s->n_events) OBS__PUTL(b, ",\"events\":[");
    for (i = 0; i < s->n_events; i++) {
        const obs_event *e = &s->events[i];
        obs__otlp_time(b, i ? ",{\"timeUnixNano\":" : "{\"timeUnixNano\":", e->time_ns);
        OBS__PUTL(b, ",\"name\":");
        obs__json_cstr(b, e->name);
        obs__otlp_attrs(b, e->attrs, e->n_attrs, e->dropped_attrs);
        obs__buf_putc(b, '}');
    }
    if (s->n_events) obs__buf_putc(b, ']');
    obs__otlp_count(b, ",\"droppedEventsCount\":", s->dropped_events);
    if (s->n_links) OBS__PUTL(b, ",\"links\":[");
    for (i = 0; i < s->n_links; i++) {
        const obs_link *l = &s->links[i];
        obs__otlp_id(b, i ? ",{\"traceId\":" : "{\"traceId\":", l->trace_id, 16);
        obs__otlp_id(b, ",\"spanId\":", l->span_id, 8);
        if (l->trace_state && l->trace_state[0]) {
            OBS__PUTL(b, ",\"traceState\":");
            obs__json_cstr(b, l->trace_state);
        }
        obs__otlp_attrs(b, l->attrs, l->n_attrs, l->dropped_attrs);
        obs__otlp_count(b, ",\"flags\":", l->trace_flags); /* whether it is remote: unknown */
        obs__buf_putc(b, '}');
    }
    if (s->n_links) obs__buf_putc(b, ']');
    obs__otlp_count(b, ",\"droppedLinksCount\":", s->dropped_links);
    if (s->status != OBS_STATUS_UNSET) {
        obs__otlp_count(b, ",\"status\":{\"code\":", (uint64_t)s->status);
        if (s->status == OBS_STATUS_ERROR && s->status_message && s->status_message[0]) {
            OBS__PUTL(b, ",\"message\":");
            obs__json_cstr(b, s->status_message);
        }
        obs__buf_putc(b, '}');
    }
    obs__buf_putc(b, '}');
}

static void obs__otlp_record(obs__buf *b, const obs_log_data *r) {
    static const uint8_t zero[16] = {0};
    obs_attr body = obs_attr_str("", r->body);
    obs__otlp_time(b, "{\"timeUnixNano\":", r->time_ns);
    obs__otlp_time(b, ",\"observedTimeUnixNano\":", r->observed_time_ns);
    obs__otlp_count(b, ",\"severityNumber\":", (uint64_t)r->level);
    OBS__PUTL(b, ",\"severityText\":\"");
    obs__buf_puts(b, obs_level_name(r->level));
    OBS__PUTL(b, "\",\"body\":");
    obs__otlp_value(b, &body);
    obs__otlp_attrs(b, r->attrs, r->n_attrs, r->dropped_attrs);
    if (memcmp(r->trace_id, zero, 16) != 0) {
        obs__otlp_count(b, ",\"flags\":", r->trace_flags);
        obs__otlp_id(b, ",\"traceId\":", r->trace_id, 16);
        obs__otlp_id(b, ",\"spanId\":", r->span_id, 8);
    }
    obs__buf_putc(b, '}');
}

static void obs__otlp_resource(obs__buf *b) {
    OBS__PUTL(b, "{\"resource\":{\"attributes\":");
    obs__otlp_attr_list(b, obs__g.resource, obs__g.n_resource);
    obs__buf_putc(b, '}');
}

static const obs_scope *obs__item_scope(int logs, const void *item) {
    return logs ? ((const obs_log_data *)item)->scope : ((const obs_span_data *)item)->scope;
}
/* Did a scope already go out in this request? The common few are remembered in seen[];
   past that, look back through the items. */
static int obs__scope_done(int logs, const void *const *items, size_t i, const obs_scope **seen,
                           size_t *nseen, size_t max) {
    const obs_scope *sc = obs__item_scope(logs, items[i]);
    size_t j;
    for (j = 0; j < *nseen; j++) {
        if (seen[j] == sc) return 1;
    }
    if (*nseen < max) {
        seen[(*nseen)++] = sc;
        return 0;
    }
    for (j = 0; j < i; j++) {
        if (obs__item_scope(logs, items[j]) == sc) return 1;
    }
    return 0;
}

/* A whole Export{Trace,Logs}ServiceRequest for items (span or log views), grouped by scope:
   {"resourceSpans":[{"resource":{...},"scopeSpans":[{"scope":{...},"spans":[...]}]}]} */
static void obs__otlp_request(obs__buf *b, int logs, const void *const *items, size_t n) {
    const obs_scope *seen[32];
    size_t nseen = 0, i, j;
    int groups = 0;
    obs__buf_puts(b, logs ? "{\"resourceLogs\":[" : "{\"resourceSpans\":[");
    obs__otlp_resource(b);
    obs__buf_puts(b, logs ? ",\"scopeLogs\":[" : ",\"scopeSpans\":[");
    for (i = 0; i < n; i++) {
        const obs_scope *sc = obs__item_scope(logs, items[i]);
        int first = 1;
        if (obs__scope_done(logs, items, i, seen, &nseen, 32)) continue;
        obs__buf_puts(b, groups++ ? ",{\"scope\":{\"name\":" : "{\"scope\":{\"name\":");
        obs__json_cstr(b, sc->name);
        if (sc->version && sc->version[0]) {
            OBS__PUTL(b, ",\"version\":");
            obs__json_cstr(b, sc->version);
        }
        obs__buf_puts(b, logs ? "},\"logRecords\":[" : "},\"spans\":[");
        for (j = i; j < n; j++) {
            if (obs__item_scope(logs, items[j]) != sc) continue;
            if (!first) obs__buf_putc(b, ',');
            first = 0;
            if (logs) obs__otlp_record(b, (const obs_log_data *)items[j]);
            else obs__otlp_span(b, (const obs_span_data *)items[j]);
        }
        OBS__PUTL(b, "]}");
    }
    OBS__PUTL(b, "]}]}");
}

// ============================================================================
// >>impl:protobuf -- the OTLP protobuf encoder (http/protobuf), by hand
// ============================================================================
/* >>part:protobuf begin */
/* ---- OTLP/protobuf: the binary twin of the JSON encoder above ---------------------------------
   http/protobuf (Content-Type: application/x-protobuf): ExportTraceServiceRequest and
   ExportLogsServiceRequest written straight into the reused request buffer, and the
   partial_success of an Export*ServiceResponse read back. It mirrors obs__otlp_request field
   for field (the same fields present or left out, the same flags, kind + 1, ids, resource,
   scope groups in the same order), so the two encodings of a batch decode to one message.
   Field numbers: opentelemetry-proto v1.x (common, resource, trace, logs, and the trace and
   logs collector services).
   proto3 rules: zero numbers and empty strings are left out; a oneof member (AnyValue) and a
   message field are written even when empty, as the JSON writes them.

   Nested lengths, with no second buffer and no sizing pass:
   - Leaves have exact sizes before a byte is written, and from them a whole KeyValue and its
     AnyValue, arrays included: one reserve, then straight stores. Text is taken to be ASCII
     (size = length) and checked while it is copied; text with other bytes is written again
     with its exact UTF-8 size (invalid bytes become U+FFFD, as in the JSON, so strict parsers
     accept it). Usual text is read once.
   - A message holding a variable number of leaves (span, event, link, log record, resource,
     scope group, resource group) gets a length slot as wide as its usual size needs (1 byte for
     events and links, 2 for spans, records and the resource, 3 for the groups: 16 KiB-2 MiB).
     When its content is written the minimal varint goes in; only when that is wider or
     narrower than the slot does the content move (one memmove of that message, no larger
     than what was just written). Output is the minimal encoding; a usual span never moves. */

#define OBS__PB_TAG(field, wire) ((uint32_t)(field) << 3 | (uint32_t)(wire))
#define OBS__PB_SLOT_SMALL 1 /* event, link, scope */
#define OBS__PB_SLOT_ITEM 2  /* span, log record, resource: 128 B - 16 KiB */
#define OBS__PB_SLOT_GROUP 3 /* scope and resource groups: 16 KiB - 2 MiB */

/* Room for n more bytes at the end of b, or NULL (out of memory: b->oom, nothing written). */
static inline unsigned char *obs__pb_room(obs__buf *b, size_t n) {
    if (OBS__UNLIKELY(b->oom || b->len + n >= b->cap) && !obs__buf_reserve(b, n)) return NULL;
    return (unsigned char *)b->p + b->len;
}
static inline void obs__pb_end(obs__buf *b, const unsigned char *p) {
    b->len = (size_t)((const char *)p - b->p);
}

static inline size_t obs__pb_vsize(uint64_t v) { /* bytes of v as a varint, 1..10 */
    return (size_t)(63 - __builtin_clzll(v | 1)) / 7 + 1;
}
static inline unsigned char *obs__pb_varint(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}
static inline unsigned char *obs__pb_le32(unsigned char *p, uint32_t v) { /* fixed32 */
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
    return p + 4;
}
static inline unsigned char *obs__pb_le64(unsigned char *p, uint64_t v) { /* fixed64, double */
    return obs__pb_le32(obs__pb_le32(p, (uint32_t)v), (uint32_t)(v >> 32));
}
/* Size of a field with a one-byte tag and m bytes of length-delimited content. */
static inline size_t obs__pb_lenfield(size_t m) { return 1 + obs__pb_vsize(m) + m; }

/* Bytes s[0..n) take once each invalid UTF-8 byte is replaced by U+FFFD (3 bytes), as
   obs__json_str does; n for valid text (the usual case: ASCII is checked 8 bytes a step). */
static size_t obs__pb_utf8_len(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, out = 0, k;
    while (i < n) {
        uint64_t w;
        if (i + 8 <= n) {
            memcpy(&w, u + i, 8);
            if (!(w & 0x8080808080808080ULL)) {
                i += 8;
                out += 8;
                continue;
            }
        }
        if (u[i] < 0x80) k = 1;
        else if ((k = obs__utf8_seq(u + i, n - i)) == 0) {
            i++;
            out += 3;
            continue;
        }
        i += k;
        out += k;
    }
    return out;
}
/* Writes s[0..n) as m bytes (m from obs__pb_utf8_len). */
static unsigned char *obs__pb_utf8_put(unsigned char *p, const char *s, size_t n, size_t m) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;
    if (m == n) {
        if (n) memcpy(p, s, n);
        return p + n;
    }
    while (i < n) {
        k = u[i] < 0x80 ? 1 : obs__utf8_seq(u + i, n - i);
        if (k) {
            memcpy(p, u + i, k);
            p += k;
            i += k;
        } else {
            *p++ = 0xEF;
            *p++ = 0xBF;
            *p++ = 0xBD;
            i++;
        }
    }
    return p;
}

/* Copies s[0..n) to p; 1 when it was all ASCII (then valid UTF-8 as it is). */
static inline int obs__pb_copy_ascii(unsigned char *p, const char *s, size_t n) {
    uint64_t acc = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        memcpy(p + i, &w, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= p[i] = (unsigned char)s[i];
    return !(acc & 0x8080808080808080ULL);
}
/* Text s[0..n) as m bytes: exact (m from obs__pb_utf8_len), or, in the first pass (m == n),
   a copy that clears *ascii when a byte is not ASCII: the caller then writes it again. */
static inline unsigned char *obs__pb_text(unsigned char *p, const char *s, size_t n, size_t m,
                                          int exact, int *ascii) {
    if (exact) return obs__pb_utf8_put(p, s, n, m);
    *ascii &= obs__pb_copy_ascii(p, s, n);
    return p + n;
}
static inline size_t obs__pb_text_size(const char *s, size_t n, int exact) {
    return exact ? obs__pb_utf8_len(s, n) : n;
}

/* ---- fields ---- */
static void obs__pb_str(obs__buf *b, uint32_t tag, const char *s, size_t n, int keep_empty) {
    unsigned char *p;
    size_t m;
    if (!s) s = "", n = 0;
    if (!n && !keep_empty) return;
    if (!(p = obs__pb_room(b, 12 + n))) return;
    p = obs__pb_varint(obs__pb_varint(p, tag), n);
    if (obs__pb_copy_ascii(p, s, n) || (m = obs__pb_utf8_len(s, n)) == n) {
        obs__pb_end(b, p + n); /* ASCII, or valid UTF-8: the copy stands */
        return;
    }
    if (!(p = obs__pb_room(b, 12 + m))) return; /* invalid bytes: again, with U+FFFD */
    p = obs__pb_varint(obs__pb_varint(p, tag), m);
    obs__pb_end(b, obs__pb_utf8_put(p, s, n, m));
}
static void obs__pb_cstr(obs__buf *b, uint32_t tag, const char *s) { /* left out when empty */
    if (s && s[0]) obs__pb_str(b, tag, s, strlen(s), 0);
}
static void obs__pb_bytes(obs__buf *b, uint32_t tag, const uint8_t *id, size_t n) {
    unsigned char *p = obs__pb_room(b, 2 + n);
    if (!p) return;
    p = obs__pb_varint(p, tag);
    *p++ = (unsigned char)n; /* ids: 8 or 16 bytes */
    memcpy(p, id, n);
    obs__pb_end(b, p + n);
}
static void obs__pb_uint(obs__buf *b, uint32_t tag, uint64_t v) { /* varint, left out when 0 */
    unsigned char *p;
    if (!v || !(p = obs__pb_room(b, 12))) return;
    obs__pb_end(b, obs__pb_varint(obs__pb_varint(p, tag), v));
}
static void obs__pb_fixed64(obs__buf *b, uint32_t tag, uint64_t v) { /* left out at 0 */
    unsigned char *p;
    if (!v || !(p = obs__pb_room(b, 10))) return;
    obs__pb_end(b, obs__pb_le64(obs__pb_varint(p, tag), v));
}
static void obs__pb_fixed32(obs__buf *b, uint32_t tag, uint32_t v) { /* left out at 0 */
    unsigned char *p;
    if (!v || !(p = obs__pb_room(b, 10))) return;
    obs__pb_end(b, obs__pb_le32(obs__pb_varint(p, tag), v));
}
static uint64_t obs__pb_time(int64_t ns) { return (uint64_t)(ns < 0 ? 0 : ns); }

/* A message field whose size is not known yet: the tag, then a length slot of `slot` bytes.
   Returns where the content starts, for obs__pb_close. */
static size_t obs__pb_open(obs__buf *b, uint32_t tag, size_t slot) {
    unsigned char *p = obs__pb_room(b, 5 + slot);
    if (!p) return 0;
    obs__pb_end(b, obs__pb_varint(p, tag) + slot);
    return b->len;
}
/* Writes the content's length into the slot before `start` as a minimal varint; moves the
   content when the varint is wider or narrower than the slot. */
static void obs__pb_close(obs__buf *b, size_t start, size_t slot) {
    size_t len, k;
    if (b->oom) return;
    len = b->len - start;
    k = obs__pb_vsize(len);
    if (k > slot) {
        if (!obs__pb_room(b, k - slot)) return;
        memmove(b->p + start + (k - slot), b->p + start, len);
        b->len += k - slot;
    } else if (k < slot) {
        memmove(b->p + start - (slot - k), b->p + start, len);
        b->len -= slot - k;
    }
    obs__pb_varint((unsigned char *)b->p + start - slot, len);
}

/* ---- AnyValue and KeyValue: sizes first, then straight stores ---- */
/* In both: exact 0 is the first pass (text taken as ASCII), 1 the exact one. */
static const char *obs__pb_elem_str(const obs_attr *a, size_t i) {
    return a->v.sa[i] ? a->v.sa[i] : "";
}
/* Size of the AnyValue holding element i of array a (its one field). */
static size_t obs__pb_elem_size(const obs_attr *a, size_t i, int exact) {
    const char *s;
    switch (a->type) {
    case OBS_ATTR_STRING_ARRAY:
        s = obs__pb_elem_str(a, i);
        return obs__pb_lenfield(obs__pb_text_size(s, strlen(s), exact));
    case OBS_ATTR_BOOL_ARRAY: return 2;
    case OBS_ATTR_INT_ARRAY: return 1 + obs__pb_vsize((uint64_t)a->v.ia[i]);
    default: return 9;
    }
}
/* Size of a's AnyValue content; *inner gets the string's size (string) or the ArrayValue's
   (arrays), for obs__pb_any_put. */
static size_t obs__pb_any_size(const obs_attr *a, size_t *inner, int exact) {
    size_t i, arr = 0;
    *inner = 0;
    switch (a->type) {
    case OBS_ATTR_STRING:
        *inner = a->v.s ? obs__pb_text_size(a->v.s, a->n, exact) : 0;
        return obs__pb_lenfield(*inner);
    case OBS_ATTR_BOOL: return 2;
    case OBS_ATTR_INT: return 1 + obs__pb_vsize((uint64_t)a->v.i);
    case OBS_ATTR_DOUBLE: return 9;
    default:
        for (i = 0; i < a->n; i++) arr += obs__pb_lenfield(obs__pb_elem_size(a, i, exact));
        *inner = arr;
        return obs__pb_lenfield(arr);
    }
}
static unsigned char *obs__pb_double(unsigned char *p, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    *p++ = OBS__PB_TAG(4, 1); /* AnyValue.double_value */
    return obs__pb_le64(p, u);
}
/* a's AnyValue content: its one oneof member, written even when zero or empty. */
static unsigned char *obs__pb_any_put(unsigned char *p, const obs_attr *a, size_t inner,
                                      int exact, int *ascii) {
    size_t i;
    switch (a->type) {
    case OBS_ATTR_STRING:
        *p++ = OBS__PB_TAG(1, 2); /* string_value */
        p = obs__pb_varint(p, inner);
        return obs__pb_text(p, a->v.s ? a->v.s : "", a->v.s ? a->n : 0, inner, exact, ascii);
    case OBS_ATTR_BOOL:
        *p++ = OBS__PB_TAG(2, 0); /* bool_value */
        *p++ = (unsigned char)(a->v.b != 0);
        return p;
    case OBS_ATTR_INT:
        *p++ = OBS__PB_TAG(3, 0); /* int_value: a negative one takes 10 bytes */
        return obs__pb_varint(p, (uint64_t)a->v.i);
    case OBS_ATTR_DOUBLE: return obs__pb_double(p, a->v.d);
    default: break;
    }
    *p++ = OBS__PB_TAG(5, 2); /* array_value: ArrayValue { repeated AnyValue values = 1 } */
    p = obs__pb_varint(p, inner);
    for (i = 0; i < a->n; i++) {
        *p++ = OBS__PB_TAG(1, 2);
        p = obs__pb_varint(p, obs__pb_elem_size(a, i, exact));
        switch (a->type) {
        case OBS_ATTR_STRING_ARRAY: {
            const char *s = obs__pb_elem_str(a, i);
            size_t n = strlen(s), m = obs__pb_text_size(s, n, exact);
            *p++ = OBS__PB_TAG(1, 2);
            p = obs__pb_text(obs__pb_varint(p, m), s, n, m, exact, ascii);
            break;
        }
        case OBS_ATTR_BOOL_ARRAY:
            *p++ = OBS__PB_TAG(2, 0);
            *p++ = (unsigned char)(a->v.ba[i] != 0);
            break;
        case OBS_ATTR_INT_ARRAY:
            *p++ = OBS__PB_TAG(3, 0);
            p = obs__pb_varint(p, (uint64_t)a->v.ia[i]);
            break;
        default: p = obs__pb_double(p, a->v.da[i]); break;
        }
    }
    return p;
}
/* Writes the KeyValue; 0 when the first pass met text that is not ASCII. */
static int obs__pb_kv(obs__buf *b, uint32_t tag, const obs_attr *a, int exact) {
    const char *key = a->key ? a->key : "";
    size_t kn = strlen(key), km = obs__pb_text_size(key, kn, exact), inner;
    size_t any = obs__pb_any_size(a, &inner, exact);
    size_t kv = (km ? obs__pb_lenfield(km) : 0) + obs__pb_lenfield(any);
    unsigned char *p = obs__pb_room(b, 12 + kv);
    int ascii = 1;
    if (!p) return 1;
    p = obs__pb_varint(obs__pb_varint(p, tag), kv);
    if (km) {
        *p++ = OBS__PB_TAG(1, 2);
        p = obs__pb_text(obs__pb_varint(p, km), key, kn, km, exact, &ascii);
    }
    *p++ = OBS__PB_TAG(2, 2);
    p = obs__pb_varint(p, any);
    obs__pb_end(b, obs__pb_any_put(p, a, inner, exact, &ascii));
    return ascii;
}
/* An AnyValue as field `tag` (a log record's body), in two passes as a KeyValue. */
static void obs__pb_any(obs__buf *b, uint32_t tag, const obs_attr *a) {
    size_t start = b->len, inner, any;
    int exact, ascii = 0;
    unsigned char *p;
    for (exact = 0; exact < 2 && !ascii; exact++) {
        b->len = start;
        ascii = 1;
        any = obs__pb_any_size(a, &inner, exact);
        if (!(p = obs__pb_room(b, 12 + any))) return;
        p = obs__pb_varint(obs__pb_varint(p, tag), any);
        obs__pb_end(b, obs__pb_any_put(p, a, inner, exact, &ascii));
    }
}
/* One KeyValue { key = 1, value = 2 } as field `tag` of the enclosing message. */
static void obs__pb_keyvalue(obs__buf *b, uint32_t tag, const obs_attr *a) {
    size_t start = b->len;
    if (obs__pb_kv(b, tag, a, 0)) return;
    b->len = start; /* text beyond ASCII: again, with exact UTF-8 sizes */
    obs__pb_kv(b, tag, a, 1);
}
/* attributes (field number `field`, repeated) and dropped_attributes_count (`field` + 1:
   Resource, Span, Event, Link and LogRecord all number them so). */
static void obs__pb_attrs(obs__buf *b, uint32_t field, const obs_attr *attrs, size_t n,
                          uint32_t dropped) {
    size_t i;
    for (i = 0; i < n; i++) obs__pb_keyvalue(b, OBS__PB_TAG(field, 2), &attrs[i]);
    obs__pb_uint(b, OBS__PB_TAG(field + 1, 0), dropped);
}

/* ---- spans and log records ---- */
static void obs__pb_span(obs__buf *b, const obs_span_data *s) {
    uint32_t flags = s->trace_flags | 0x100u | (s->parent_is_remote ? 0x200u : 0u);
    size_t at = obs__pb_open(b, OBS__PB_TAG(2, 2), OBS__PB_SLOT_ITEM), i; /* ScopeSpans.spans */
    obs__pb_bytes(b, OBS__PB_TAG(1, 2), s->trace_id, 16);
    obs__pb_bytes(b, OBS__PB_TAG(2, 2), s->span_id, 8);
    obs__pb_cstr(b, OBS__PB_TAG(3, 2), s->trace_state);
    if (s->has_parent) obs__pb_bytes(b, OBS__PB_TAG(4, 2), s->parent_span_id, 8);
    obs__pb_cstr(b, OBS__PB_TAG(5, 2), s->name);
    obs__pb_uint(b, OBS__PB_TAG(6, 0), (uint64_t)s->kind + 1);
    obs__pb_fixed64(b, OBS__PB_TAG(7, 1), obs__pb_time(s->start_time_ns));
    obs__pb_fixed64(b, OBS__PB_TAG(8, 1), obs__pb_time(s->end_time_ns));
    obs__pb_attrs(b, 9, s->attrs, s->n_attrs, s->dropped_attrs);
    for (i = 0; i < s->n_events; i++) { /* Span.Event */
        const obs_event *e = &s->events[i];
        size_t ev = obs__pb_open(b, OBS__PB_TAG(11, 2), OBS__PB_SLOT_SMALL);
        obs__pb_fixed64(b, OBS__PB_TAG(1, 1), obs__pb_time(e->time_ns));
        obs__pb_cstr(b, OBS__PB_TAG(2, 2), e->name);
        obs__pb_attrs(b, 3, e->attrs, e->n_attrs, e->dropped_attrs);
        obs__pb_close(b, ev, OBS__PB_SLOT_SMALL);
    }
    obs__pb_uint(b, OBS__PB_TAG(12, 0), s->dropped_events);
    for (i = 0; i < s->n_links; i++) { /* Span.Link */
        const obs_link *l = &s->links[i];
        size_t lk = obs__pb_open(b, OBS__PB_TAG(13, 2), OBS__PB_SLOT_SMALL);
        obs__pb_bytes(b, OBS__PB_TAG(1, 2), l->trace_id, 16);
        obs__pb_bytes(b, OBS__PB_TAG(2, 2), l->span_id, 8);
        obs__pb_cstr(b, OBS__PB_TAG(3, 2), l->trace_state);
        obs__pb_attrs(b, 4, l->attrs, l->n_attrs, l->dropped_attrs);
        obs__pb_fixed32(b, OBS__PB_TAG(6, 5), l->trace_flags);
        obs__pb_close(b, lk, OBS__PB_SLOT_SMALL);
    }
    obs__pb_uint(b, OBS__PB_TAG(14, 0), s->dropped_links);
    if (s->status != OBS_STATUS_UNSET) { /* Status { message = 2, code = 3 }: exact size */
        const char *msg = s->status == OBS_STATUS_ERROR && s->status_message ? s->status_message
                                                                              : "";
        size_t n = strlen(msg), m = obs__pb_utf8_len(msg, n);
        uint64_t code = (uint64_t)s->status;
        size_t size = (m ? obs__pb_lenfield(m) : 0) + 1 + obs__pb_vsize(code);
        unsigned char *p = obs__pb_room(b, 12 + size);
        if (p) {
            p = obs__pb_varint(obs__pb_varint(p, OBS__PB_TAG(15, 2)), size);
            if (m) {
                *p++ = OBS__PB_TAG(2, 2);
                p = obs__pb_utf8_put(obs__pb_varint(p, m), msg, n, m);
            }
            *p++ = OBS__PB_TAG(3, 0);
            obs__pb_end(b, obs__pb_varint(p, code));
        }
    }
    obs__pb_fixed32(b, OBS__PB_TAG(16, 5), flags);
    obs__pb_close(b, at, OBS__PB_SLOT_ITEM);
}

static void obs__pb_record(obs__buf *b, const obs_log_data *r) {
    static const uint8_t zero[16] = {0};
    size_t at = obs__pb_open(b, OBS__PB_TAG(2, 2), OBS__PB_SLOT_ITEM); /* ScopeLogs.log_records */
    obs_attr text = obs_attr_str("", r->body);
    obs__pb_fixed64(b, OBS__PB_TAG(1, 1), obs__pb_time(r->time_ns));
    obs__pb_uint(b, OBS__PB_TAG(2, 0), (uint64_t)r->level);
    obs__pb_cstr(b, OBS__PB_TAG(3, 2), obs_level_name(r->level));
    obs__pb_any(b, OBS__PB_TAG(5, 2), &text); /* body: AnyValue { string_value }, even "" */
    obs__pb_attrs(b, 6, r->attrs, r->n_attrs, r->dropped_attrs);
    if (memcmp(r->trace_id, zero, 16) != 0) {
        obs__pb_fixed32(b, OBS__PB_TAG(8, 5), r->trace_flags);
        obs__pb_bytes(b, OBS__PB_TAG(9, 2), r->trace_id, 16);
        obs__pb_bytes(b, OBS__PB_TAG(10, 2), r->span_id, 8);
    }
    obs__pb_fixed64(b, OBS__PB_TAG(11, 1), obs__pb_time(r->observed_time_ns));
    obs__pb_close(b, at, OBS__PB_SLOT_ITEM);
}

/* InstrumentationScope { name = 1, version = 2 } as Scope{Spans,Logs}.scope. */
static void obs__pb_scope(obs__buf *b, const obs_scope *sc) {
    size_t at = obs__pb_open(b, OBS__PB_TAG(1, 2), OBS__PB_SLOT_SMALL);
    obs__pb_cstr(b, OBS__PB_TAG(1, 2), sc->name);
    obs__pb_cstr(b, OBS__PB_TAG(2, 2), sc->version);
    obs__pb_close(b, at, OBS__PB_SLOT_SMALL);
}

/* A whole Export{Trace,Logs}ServiceRequest for items (span or log views), appended to b:
   one Resource{Spans,Logs} (field 1) with the resource (1) and a Scope{Spans,Logs} (2) per
   scope, in the order of each scope's first item, as obs__otlp_request groups them. */
static void obs__pb_request(obs__buf *b, int logs, const void *const *items, size_t n) {
    const obs_scope *seen[32];
    size_t nseen = 0, i, j, rs, res;
    rs = obs__pb_open(b, OBS__PB_TAG(1, 2), OBS__PB_SLOT_GROUP);
    res = obs__pb_open(b, OBS__PB_TAG(1, 2), OBS__PB_SLOT_ITEM); /* Resource, even empty */
    obs__pb_attrs(b, 1, obs__g.resource, obs__g.n_resource, 0);
    obs__pb_close(b, res, OBS__PB_SLOT_ITEM);
    for (i = 0; i < n; i++) {
        const obs_scope *sc = obs__item_scope(logs, items[i]);
        size_t group;
        if (obs__scope_done(logs, items, i, seen, &nseen, 32)) continue;
        group = obs__pb_open(b, OBS__PB_TAG(2, 2), OBS__PB_SLOT_GROUP);
        obs__pb_scope(b, sc);
        for (j = i; j < n; j++) {
            if (obs__item_scope(logs, items[j]) != sc) continue;
            if (logs) obs__pb_record(b, (const obs_log_data *)items[j]);
            else obs__pb_span(b, (const obs_span_data *)items[j]);
        }
        obs__pb_close(b, group, OBS__PB_SLOT_GROUP);
    }
    obs__pb_close(b, rs, OBS__PB_SLOT_GROUP);
    if (!b->oom && b->len < b->cap) b->p[b->len] = 0; /* obs__buf's promise */
}

/* ---- reading a response ---- */
/* The next field of [*p, end): its number, wire type and value (varint, fixed32/64) or, for
   length-delimited fields, its data and length in *v. 0 when malformed or truncated (a
   varint over 10 bytes, a length past the end, field number 0, groups, wire types 6-7). */
static int obs__pb_field(const unsigned char **p, const unsigned char *end, uint64_t *field,
                         int *wire, uint64_t *v, const unsigned char **data) {
    uint64_t x[2] = {0, 0};
    int k, shift, nb;
    for (k = 0; k < 2; k++) { /* the tag, then a varint value or a length */
        if (k == 1 && *wire != 0 && *wire != 2) break;
        for (shift = 0;; shift += 7) {
            unsigned c;
            if (*p >= end || shift > 63) return 0;
            c = *(*p)++;
            x[k] |= (uint64_t)(c & 0x7f) << shift;
            if (!(c & 0x80)) break;
        }
        if (k == 0) {
            *field = x[0] >> 3;
            *wire = (int)(x[0] & 7);
            if (*field == 0 || x[0] > 0xFFFFFFFFu) return 0;
        }
    }
    *v = x[1];
    *data = *p;
    switch (*wire) {
    case 0: return 1;
    case 2:
        if (x[1] > (uint64_t)(end - *p)) return 0;
        *p += x[1];
        return 1;
    case 1: case 5:
        nb = *wire == 1 ? 8 : 4;
        if (end - *p < nb) return 0;
        for (k = 0; k < nb; k++) *v |= (uint64_t)(*p)[k] << (8 * k);
        *p += nb;
        return 1;
    default: return 0;
    }
}

/* Export{Trace,Logs}ServiceResponse: partial_success (1) { rejected_spans or
   rejected_log_records (1, int64), error_message (2) } -- the same numbers for both signals.
   Returns the rejected count (0 when absent, negative or the body is malformed) and copies
   the message into msg (cut on a UTF-8 boundary; "" when absent or malformed). Unknown
   fields are skipped; a repeated field's last value wins (protobuf merge). */
static uint64_t obs__pb_partial_rejected(const void *body, size_t len, int logs, char *msg,
                                         size_t msgcap) {
    const unsigned char *p = (const unsigned char *)body, *end, *d, *q, *mp = NULL;
    uint64_t f, v, rejected = 0, mlen = 0;
    int w;
    (void)logs;
    if (msg && msgcap) msg[0] = 0;
    if (!p) return 0;
    end = p + len;
    while (p < end) {
        if (!obs__pb_field(&p, end, &f, &w, &v, &d)) return 0;
        if (f != 1 || w != 2) continue;
        for (q = d; q < d + v;) {
            const unsigned char *sd;
            uint64_t sf, sv;
            int sw;
            if (!obs__pb_field(&q, d + v, &sf, &sw, &sv, &sd)) return 0;
            if (sf == 1 && sw == 0) rejected = sv;
            else if (sf == 2 && sw == 2) mp = sd, mlen = sv;
        }
    }
    if (mp && msg && msgcap) {
        size_t k = obs__utf8_cut((const char *)mp, (size_t)mlen, msgcap - 1);
        memcpy(msg, mp, k);
        msg[k] = 0;
    }
    return rejected >> 63 ? 0 : rejected; /* a negative int64 is no count */
}
/* >>part:protobuf end */

// ============================================================================
// >>impl:console -- deep copies, the console exporter (a tree per trace), memory exporter
// ============================================================================
/* Deep copies of spans and records in one allocation each: a dry run measures, a second
   run copies. The console exporter keeps spans until their trace's root ends; the memory
   exporter keeps them for tests. */
typedef struct obs__copier {
    char *p;
    size_t used;
} obs__copier;

static void *obs__cp_bytes(obs__copier *c, const void *src, size_t n) {
    char *dst = c->p ? c->p + c->used : NULL;
    if (dst && src) memcpy(dst, src, n);
    c->used += (n + 7) & ~(size_t)7;
    return dst;
}
static const char *obs__cp_str(obs__copier *c, const char *s) {
    return s ? (const char *)obs__cp_bytes(c, s, strlen(s) + 1) : NULL;
}
static const obs_attr *obs__cp_attrs(obs__copier *c, const obs_attr *a, size_t n) {
    obs_attr *d = (obs_attr *)obs__cp_bytes(c, a, n * sizeof *a);
    size_t i, j;
    for (i = 0; i < n; i++) {
        const char *key = obs__cp_str(c, a[i].key);
        const char **sa = NULL;
        const void *arr = NULL;
        size_t esz = a[i].type == OBS_ATTR_BOOL_ARRAY ? sizeof(int) : 8;
        if (a[i].type == OBS_ATTR_STRING) { /* n bytes: a value may hold a NUL */
            char *str = (char *)obs__cp_bytes(c, a[i].v.s, a[i].n + 1);
            if (str) str[a[i].n] = 0;
            arr = str;
        }
        else if (a[i].type == OBS_ATTR_STRING_ARRAY) {
            sa = (const char **)obs__cp_bytes(c, NULL, a[i].n * sizeof(char *));
            for (j = 0; j < a[i].n; j++) {
                const char *e = obs__cp_str(c, a[i].v.sa[j]);
                if (sa) sa[j] = e;
            }
        } else if (a[i].type >= OBS_ATTR_BOOL_ARRAY) {
            arr = obs__cp_bytes(c, (const void *)a[i].v.ia, a[i].n * esz);
        }
        if (!d) continue;
        d[i].key = key;
        if (a[i].type == OBS_ATTR_STRING) d[i].v.s = (const char *)arr;
        else if (a[i].type == OBS_ATTR_STRING_ARRAY) d[i].v.sa = sa;
        else if (a[i].type >= OBS_ATTR_BOOL_ARRAY) d[i].v.ia = (const int64_t *)arr;
    }
    return d;
}
static void obs__cp_span(obs__copier *c, const obs_span_data *s) {
    obs_span_data *d = (obs_span_data *)obs__cp_bytes(c, s, sizeof *s);
    const char *name = obs__cp_str(c, s->name), *msg = obs__cp_str(c, s->status_message);
    const char *ts = obs__cp_str(c, s->trace_state);
    const obs_attr *attrs = obs__cp_attrs(c, s->attrs, s->n_attrs);
    obs_event *ev = (obs_event *)obs__cp_bytes(c, s->events, s->n_events * sizeof(obs_event));
    obs_link *ln = (obs_link *)obs__cp_bytes(c, s->links, s->n_links * sizeof(obs_link));
    size_t i;
    for (i = 0; i < s->n_events; i++) {
        const char *en = obs__cp_str(c, s->events[i].name);
        const obs_attr *ea = obs__cp_attrs(c, s->events[i].attrs, s->events[i].n_attrs);
        if (ev) {
            ev[i].name = en;
            ev[i].attrs = ea;
        }
    }
    for (i = 0; i < s->n_links; i++) {
        const char *lts = obs__cp_str(c, s->links[i].trace_state);
        const obs_attr *la = obs__cp_attrs(c, s->links[i].attrs, s->links[i].n_attrs);
        if (ln) {
            ln[i].trace_state = lts;
            ln[i].attrs = la;
        }
    }
    if (!d) return;
    d->name = name;
    d->status_message = msg;
    d->trace_state = ts;
    d->attrs = attrs;
    d->events = ev;
    d->links = ln;
}
static void obs__cp_record(obs__copier *c, const obs_log_data *r) {
    obs_log_data *d = (obs_log_data *)obs__cp_bytes(c, r, sizeof *r);
    const char *body = obs__cp_str(c, r->body);
    const obs_attr *attrs = obs__cp_attrs(c, r->attrs, r->n_attrs);
    if (!d) return;
    d->body = body;
    d->attrs = attrs;
}
/* One allocation holding a deep copy of a span (logs = 0) or a log record (logs = 1). */
static void *obs__clone(int logs, const void *item) {
    obs__copier c;
    c.p = NULL;
    c.used = 0;
    if (logs) obs__cp_record(&c, (const obs_log_data *)item);
    else obs__cp_span(&c, (const obs_span_data *)item);
    if (!(c.p = (char *)obs__alloc(c.used))) return NULL;
    c.used = 0;
    if (logs) obs__cp_record(&c, (const obs_log_data *)item);
    else obs__cp_span(&c, (const obs_span_data *)item);
    return c.p;
}

/* ---- console exporter ---- */
#define OBS__CONSOLE_PENDING 1024 /* spans waiting for their root; more: printed as lines */

/* Where one signal's text goes: spans and log records each have their own, since one
   console exporter may serve both signals from two batch threads at once. */
typedef struct obs__pen {
    FILE *out;
    int color;
    obs__buf line;
} obs__pen;
typedef struct obs__console {
    obs_exporter exp;
    obs__pen pen[2]; /* spans, log records */
    int tree;
    obs_span_data *pending[OBS__CONSOLE_PENDING];
    size_t npending;
} obs__console;

static void obs__console_attr(obs__buf *b, const obs_attr *a) {
    size_t i;
    obs__buf_printf(b, " %s=", a->key);
    switch (a->type) {
    case OBS_ATTR_STRING: obs__json_str(b, a->v.s, a->n); break;
    case OBS_ATTR_BOOL: obs__buf_puts(b, a->v.b ? "true" : "false"); break;
    case OBS_ATTR_INT: obs__json_i64(b, a->v.i); break;
    case OBS_ATTR_DOUBLE: obs__buf_printf(b, "%g", a->v.d); break;
    default:
        obs__buf_putc(b, '[');
        for (i = 0; i < a->n; i++) {
            obs_attr e = a->type == OBS_ATTR_STRING_ARRAY ? obs_attr_str("", a->v.sa[i])
                       : a->type == OBS_ATTR_BOOL_ARRAY   ? obs_attr_bool("", a->v.ba[i])
                       : a->type == OBS_ATTR_INT_ARRAY    ? obs_attr_int("", a->v.ia[i])
                                                          : obs_attr_double("", a->v.da[i]);
            obs__buf_puts(b, i ? "," : "");
            obs__console_attr(b, &e);
        }
        obs__buf_putc(b, ']');
    }
}

static const char *obs__color(const obs__pen *w, const char *code) { return w->color ? code : ""; }

/* "  12.3 µs", "  1.234 ms", "  2.10 s": three significant figures a person can read. */
static void obs__console_duration(obs__buf *b, int64_t ns) {
    if (ns < 1000000) obs__buf_printf(b, "  %.1f \xC2\xB5s", (double)ns / 1e3);
    else if (ns < 1000000000) obs__buf_printf(b, "  %.3f ms", (double)ns / 1e6);
    else obs__buf_printf(b, "  %.2f s", (double)ns / 1e9);
}

/* One span: "name  kind  1.23 ms  key=value ...", then its events. */
static void obs__console_span(obs__pen *w, const obs_span_data *s, const char *prefix,
                              const char *branch) {
    static const char *const kinds[] = {"", "server", "client", "producer", "consumer"};
    obs__buf *b = &w->line;
    size_t i, j;
    obs__buf_printf(b, "%s%s%s%s%s", prefix, branch, obs__color(w, "\033[1m"), s->name,
                    obs__color(w, "\033[0m"));
    if (s->kind != OBS_SPAN_KIND_INTERNAL && (unsigned)s->kind < 5) obs__buf_printf(b, " [%s]", kinds[s->kind]);
    obs__console_duration(b, s->end_time_ns - s->start_time_ns);
    if (s->status == OBS_STATUS_ERROR) {
        obs__buf_printf(b, "  %sERROR%s %s", obs__color(w, "\033[31m"), obs__color(w, "\033[0m"),
                        s->status_message ? s->status_message : "");
    }
    for (i = 0; i < s->n_attrs; i++) obs__console_attr(b, &s->attrs[i]);
    obs__buf_putc(b, '\n');
    for (i = 0; i < s->n_events; i++) {
        const obs_event *e = &s->events[i];
        obs__buf_printf(b, "%s%s  * %s +%.3f ms", prefix, *branch ? "   " : "", e->name,
                        (double)(e->time_ns - s->start_time_ns) / 1e6);
        for (j = 0; j < e->n_attrs; j++) obs__console_attr(b, &e->attrs[j]);
        obs__buf_putc(b, '\n');
    }
}

static int obs__is_child(const obs_span_data *child, const obs_span_data *parent) {
    return child->has_parent && memcmp(child->trace_id, parent->trace_id, 16) == 0 &&
           memcmp(child->parent_span_id, parent->span_id, 8) == 0;
}

/* Prints s and, below it, its pending children (by start time), removing them. */
static void obs__console_tree(obs__console *c, const obs_span_data *s, obs__buf *prefix, int depth) {
    size_t plen = prefix->len;
    for (;;) {
        size_t i, best = c->npending;
        obs_span_data *child;
        for (i = 0; i < c->npending; i++) {
            if (obs__is_child(c->pending[i], s) &&
                (best == c->npending || c->pending[i]->start_time_ns < c->pending[best]->start_time_ns)) {
                best = i;
            }
        }
        if (best == c->npending) return;
        child = c->pending[best];
        c->pending[best] = c->pending[--c->npending];
        for (i = 0; i < c->npending && !obs__is_child(c->pending[i], s); i++) {
        }
        /* last child: a corner; otherwise a tee (depth 64 and more: flat, bounded recursion) */
        obs__console_span(&c->pen[0], child, prefix->p ? prefix->p : "", i == c->npending ? "└─ " : "├─ ");
        if (depth < 64) {
            obs__buf_puts(prefix, i == c->npending ? "   " : "│  ");
            obs__console_tree(c, child, prefix, depth + 1);
            prefix->len = plen;
            prefix->p[plen] = 0;
        }
        obs__free(child);
    }
}

static void obs__console_flush_line(obs__pen *w) {
    fwrite(w->line.p ? w->line.p : "", 1, w->line.len, w->out);
    fflush(w->out);
    obs__buf_reset(&w->line);
}

static void obs__console_trace(obs__console *c, const obs_span_data *root) {
    obs__buf prefix;
    char tid[33];
    memset(&prefix, 0, sizeof prefix);
    obs__hex_encode(root->trace_id, 16, tid);
    tid[32] = 0;
    obs__buf_printf(&c->pen[0].line, "%strace %s%s%s\n", obs__color(&c->pen[0], "\033[2m"), tid,
                    root->has_parent ? " (remote parent)" : "", obs__color(&c->pen[0], "\033[0m"));
    obs__console_span(&c->pen[0], root, "", "");
    obs__buf_puts(&prefix, "");
    obs__console_tree(c, root, &prefix, 0);
    obs__buf_free(&prefix);
    obs__console_flush_line(&c->pen[0]);
}

/* A span whose root never came (or too many pending): one line, with its ids. */
static void obs__console_orphan(obs__console *c, obs_span_data *s) {
    char tid[33];
    obs__hex_encode(s->trace_id, 16, tid);
    tid[32] = 0;
    obs__buf_printf(&c->pen[0].line, "[trace %.8s] ", tid);
    obs__console_span(&c->pen[0], s, "", "");
    obs__console_flush_line(&c->pen[0]);
    obs__free(s);
}

static obs_result obs__console_export(void *ud, const obs_span_data *const *spans, size_t n, int timeout_ms) {
    obs__console *c = (obs__console *)ud;
    size_t i;
    (void)timeout_ms;
    for (i = 0; i < n; i++) {
        const obs_span_data *s = spans[i];
        if (!c->tree) {
            obs__console_orphan(c, (obs_span_data *)obs__clone(0, s));
            continue;
        }
        if (!s->has_parent || s->parent_is_remote) { /* a local root: its tree is complete */
            obs__console_trace(c, s);
            continue;
        }
        if (c->npending == OBS__CONSOLE_PENDING) {
            obs__console_orphan(c, c->pending[0]);
            c->pending[0] = c->pending[--c->npending];
        }
        if ((c->pending[c->npending] = (obs_span_data *)obs__clone(0, s)) != NULL) c->npending++;
    }
    return OBS_OK;
}

static void obs__console_log_line(obs__pen *w, const obs_log_data *r) {
    static const char *const colors[] = {"\033[2m", "\033[36m", "\033[32m", "\033[33m", "\033[31m", "\033[1;31m"};
    time_t secs = (time_t)(r->time_ns / 1000000000);
    struct tm tm;
    char ts[32];
    size_t i;
    int lvl = ((int)r->level - 1) / 4;
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    obs__buf_printf(&w->line, "%s.%03dZ %s%-5s%s %s", ts, (int)(r->time_ns / 1000000 % 1000),
                    obs__color(w, colors[lvl < 0 ? 0 : lvl > 5 ? 5 : lvl]), obs_level_name(r->level),
                    obs__color(w, "\033[0m"), r->body);
    for (i = 0; i < r->n_attrs; i++) {
        if (strncmp(r->attrs[i].key, "code.", 5) != 0) obs__console_attr(&w->line, &r->attrs[i]);
    }
    if (!obs__id_is_zero(r->trace_id, 16)) {
        char tid[17];
        obs__hex_encode(r->trace_id, 8, tid);
        tid[16] = 0;
        obs__buf_printf(&w->line, "  %strace=%s%s", obs__color(w, "\033[2m"), tid, obs__color(w, "\033[0m"));
    }
    obs__buf_putc(&w->line, '\n');
}

static obs_result obs__console_export_logs(void *ud, const obs_log_data *const *recs, size_t n, int timeout_ms) {
    obs__console *c = (obs__console *)ud;
    size_t i;
    (void)timeout_ms;
    for (i = 0; i < n; i++) obs__console_log_line(&c->pen[1], recs[i]);
    obs__console_flush_line(&c->pen[1]);
    return OBS_OK;
}

static void obs__console_shutdown(void *ud) {
    obs__console *c = (obs__console *)ud;
    int i;
    while (c->npending) obs__console_orphan(c, c->pending[--c->npending]);
    for (i = 0; i < 2; i++) obs__buf_free(&c->pen[i].line);
    obs__free(c);
}

OBSDEF obs_exporter *obs_console_exporter_new(void *file, int tree) {
    obs__console *c = (obs__console *)obs__calloc(sizeof *c);
    const char *nc = getenv("NO_COLOR");
    int i;
    if (!c) return NULL;
    c->pen[0].out = file ? (FILE *)file : stdout;
    c->pen[1].out = file ? (FILE *)file : stderr;
    for (i = 0; i < 2; i++) c->pen[i].color = isatty(fileno(c->pen[i].out)) && !(nc && nc[0]);
    c->tree = tree;
    c->exp.name = "console";
    c->exp.export_spans = obs__console_export;
    c->exp.export_logs = obs__console_export_logs;
    c->exp.shutdown = obs__console_shutdown;
    c->exp.user_data = c;
    return &c->exp;
}

/* ---- memory exporter ---- */
typedef struct obs__memory {
    obs_exporter exp;
    pthread_mutex_t lock;
    size_t cap, overflow, n[2];
    void **items[2];
} obs__memory;

static obs_result obs__memory_add(obs__memory *m, int logs, const void *const *items, size_t n) {
    size_t i;
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < n; i++) {
        void *copy = m->n[logs] < m->cap ? obs__clone(logs, items[i]) : NULL;
        if (copy) m->items[logs][m->n[logs]++] = copy;
        else m->overflow++;
    }
    pthread_mutex_unlock(&m->lock);
    return OBS_OK;
}
static obs_result obs__memory_spans(void *ud, const obs_span_data *const *s, size_t n, int t) {
    (void)t;
    return obs__memory_add((obs__memory *)ud, 0, (const void *const *)s, n);
}
static obs_result obs__memory_logs(void *ud, const obs_log_data *const *r, size_t n, int t) {
    (void)t;
    return obs__memory_add((obs__memory *)ud, 1, (const void *const *)r, n);
}
OBSDEF obs_exporter *obs_memory_exporter_new(size_t capacity) {
    obs__memory *m = (obs__memory *)obs__calloc(sizeof *m);
    if (!m) return NULL;
    m->cap = capacity;
    m->items[0] = (void **)obs__calloc((capacity + 1) * sizeof(void *));
    m->items[1] = (void **)obs__calloc((capacity + 1) * sizeof(void *));
    if (!m->items[0] || !m->items[1]) {
        obs__free(m->items[0]);
        obs__free(m->items[1]);
        obs__free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    m->exp.name = "memory";
    m->exp.export_spans = obs__memory_spans;
    m->exp.export_logs = obs__memory_logs;
    m->exp.user_data = m;
    return &m->exp;
}
static size_t obs__memory_count(obs_exporter *e, int logs) {
    obs__memory *m = (obs__memory *)e;
    size_t n;
    if (!m) return 0;
    pthread_mutex_lock(&m->lock);
    n = m->n[logs];
    pthread_mutex_unlock(&m->lock);
    return n;
}
static const void *obs__memory_get(obs_exporter *e, int logs, size_t i) {
    obs__memory *m = (obs__memory *)e;
    const void *r;
    if (!m) return NULL;
    pthread_mutex_lock(&m->lock);
    r = i < m->n[logs] ? m->items[logs][i] : NULL;
    pthread_mutex_unlock(&m->lock);
    return r;
}
OBSDEF size_t obs_memory_exporter_span_count(obs_exporter *e) { return obs__memory_count(e, 0); }
OBSDEF size_t obs_memory_exporter_log_count(obs_exporter *e) { return obs__memory_count(e, 1); }
OBSDEF const obs_span_data *obs_memory_exporter_span(obs_exporter *e, size_t i) {
    return (const obs_span_data *)obs__memory_get(e, 0, i);
}
OBSDEF const obs_log_data *obs_memory_exporter_log(obs_exporter *e, size_t i) {
    return (const obs_log_data *)obs__memory_get(e, 1, i);
}
OBSDEF size_t obs_memory_exporter_overflow(obs_exporter *e) {
    return e ? ((obs__memory *)e)->overflow : 0;
}
OBSDEF void obs_memory_exporter_clear(obs_exporter *e) {
    obs__memory *m = (obs__memory *)e;
    size_t l, i;
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    for (l = 0; l < 2; l++) {
        for (i = 0; i < m->n[l]; i++) obs__free(m->items[l][i]);
        m->n[l] = 0;
    }
    m->overflow = 0;
    pthread_mutex_unlock(&m->lock);
}
OBSDEF void obs_memory_exporter_free(obs_exporter *e) {
    obs__memory *m = (obs__memory *)e;
    if (!m) return;
    obs_memory_exporter_clear(e);
    pthread_mutex_destroy(&m->lock);
    obs__free(m->items[0]);
    obs__free(m->items[1]);
    obs__free(m);
}

// ============================================================================
// >>impl:insight -- a latency summary per span name, and a Chrome/Perfetto trace file
// ============================================================================
/* parts/insight.h -- spliced into obs.h after >>impl:console. Insight without a backend:
   a latency table per span name printed at exit, and a trace file for Perfetto or
   chrome://tracing. Both are ordinary exporters (the obs_exporter struct), so they work
   beside any other exporter and behind a batch (off the hot path) or a simple processor. */
/* END OF DECLARATIONS */

/* ---- summary exporter ----
   Histogram: durations in ns, log-linear (HDR style). Values below 2*SUB have a bucket each;
   above, every power of two [2^e, 2^(e+1)) is cut into SUB equal buckets of width
   w = 2^(e-SUB_BITS). A value v in a bucket starting at L >= SUB*w is reported as the
   bucket's middle, off by less than w/2 <= v/(2*SUB): 1/32 = 3.125% with SUB = 16. Durations
   of 2^44 ns (4.9 h) and more share the last bucket (the exact max still caps them). */
#define OBS__SUM_SUB_BITS 4
#define OBS__SUM_SUB (1 << OBS__SUM_SUB_BITS)
#define OBS__SUM_TOP 44
#define OBS__SUM_BUCKETS (OBS__SUM_SUB * (OBS__SUM_TOP - OBS__SUM_SUB_BITS + 1))
#define OBS__SUM_NAMES 256 /* rows with a name; one more row is "(other)" */
#define OBS__SUM_SLOTS 512 /* open addressing: at most half full */
#define OBS__SUM_NAME_MAX 64 /* bytes kept of a name, NUL included */
#define OBS__SUM_BARS 16   /* characters of a row's text histogram */

typedef struct obs__sum_row {
    char name[OBS__SUM_NAME_MAX];
    int cut;        /* the name was longer than kept */
    uint64_t count, errors, total;
    int64_t min, max;
    uint64_t *hist; /* OBS__SUM_BUCKETS counts, allocated when the name is first seen */
} obs__sum_row;

typedef struct obs__summary {
    obs_exporter exp;
    FILE *out;
    pthread_mutex_t lock; /* export (exporter thread) against print and get (any thread) */
    int16_t slot[OBS__SUM_SLOTS]; /* row index + 1; 0: empty */
    int nrows;
    uint64_t seen;        /* spans summarized */
    obs__sum_row rows[OBS__SUM_NAMES + 1];
} obs__summary;

static obs__summary *obs__summary_last; /* for e == NULL; atomic */

static int obs__log2_u64(uint64_t v) { return 63 - __builtin_clzll(v); } /* v > 0 */
static int obs__sum_bucket(uint64_t v) {
    int e;
    if (v < 2 * OBS__SUM_SUB) return (int)v;
    e = obs__log2_u64(v);
    if (e >= OBS__SUM_TOP) return OBS__SUM_BUCKETS - 1;
    return (e - OBS__SUM_SUB_BITS + 1) * OBS__SUM_SUB + (int)((v >> (e - OBS__SUM_SUB_BITS)) - OBS__SUM_SUB);
}
/* The first value of bucket i and its width. */
static uint64_t obs__sum_low(int i, uint64_t *width) {
    int g = i / OBS__SUM_SUB;
    if (i < 2 * OBS__SUM_SUB) {
        *width = 1;
        return (uint64_t)i;
    }
    *width = (uint64_t)1 << (g - 1);
    return (uint64_t)(OBS__SUM_SUB + i % OBS__SUM_SUB) << (g - 1);
}
/* What bucket i stands for: its middle, kept within the row's exact min and max. */
static int64_t obs__sum_value(const obs__sum_row *r, int i) {
    uint64_t w, low = obs__sum_low(i, &w);
    int64_t v = (int64_t)(low + (w - 1) / 2);
    return v < r->min ? r->min : v > r->max ? r->max : v;
}
/* Nearest rank: the smallest value with at least ceil(q * count) values at or below it. */
static int64_t obs__sum_quantile(const obs__sum_row *r, double q) {
    double x;
    uint64_t rank, seen = 0;
    int i;
    if (!r->count || !r->hist) return -1;
    if (!(q > 0)) return r->min;
    if (q >= 1) return r->max;
    x = q * (double)r->count;
    rank = (uint64_t)x;
    if ((double)rank < x * (1 - 1e-12)) rank++; /* ceil, forgiving 0.9 * 1000 = 900.0000001 */
    if (rank <= 1) return r->min; /* the ends are known exactly */
    if (rank >= r->count) return r->max;
    for (i = 0; i < OBS__SUM_BUCKETS; i++) {
        seen += r->hist[i];
        if (seen >= rank) return obs__sum_value(r, i);
    }
    return r->max;
}

static uint32_t obs__fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* The row for a name (the kept prefix of a long one): found, made, or "(other)". */
static obs__sum_row *obs__sum_row_for(obs__summary *m, const char *name, int make) {
    size_t n = 0, kept;
    uint32_t h;
    int i;
    obs__sum_row *r;
    name = name ? name : "";
    while (n < OBS__SUM_NAME_MAX && name[n]) n++;
    kept = obs__utf8_cut(name, n, OBS__SUM_NAME_MAX - 1);
    h = obs__fnv1a(name, kept);
    for (i = (int)(h & (OBS__SUM_SLOTS - 1));; i = (i + 1) & (OBS__SUM_SLOTS - 1)) {
        if (!m->slot[i]) break;
        r = &m->rows[m->slot[i] - 1];
        if (strncmp(r->name, name, kept) == 0 && r->name[kept] == 0) return r;
    }
    if (!make) return NULL;
    if (m->nrows == OBS__SUM_NAMES) return &m->rows[OBS__SUM_NAMES];
    r = &m->rows[m->nrows];
    if (!r->hist && !(r->hist = (uint64_t *)obs__calloc(OBS__SUM_BUCKETS * sizeof(uint64_t)))) {
        return &m->rows[OBS__SUM_NAMES]; /* no memory for one more name: counted in (other) */
    }
    memcpy(r->name, name, kept);
    r->name[kept] = 0;
    r->cut = kept < n;
    m->slot[i] = (int16_t)(++m->nrows);
    return r;
}

static void obs__sum_add(obs__sum_row *r, const obs_span_data *s) {
    int64_t d = s->end_time_ns - s->start_time_ns;
    if (d < 0) d = 0;
    if (!r->count || d < r->min) r->min = d;
    if (!r->count || d > r->max) r->max = d;
    r->count++;
    r->total += (uint64_t)d;
    r->errors += s->status == OBS_STATUS_ERROR;
    if (r->hist) r->hist[obs__sum_bucket((uint64_t)d)]++;
}

/* The lock, except in a crash handler, which may have interrupted its holder. */
static int obs__sum_lock(obs__summary *m) {
    if (OBS__UNLIKELY(OBS__LOAD_RELAXED(&obs__g.crashing))) return pthread_mutex_trylock(&m->lock) == 0;
    pthread_mutex_lock(&m->lock);
    return 1;
}

static obs_result obs__summary_export(void *ud, const obs_span_data *const *spans, size_t n, int timeout_ms) {
    obs__summary *m = (obs__summary *)ud;
    size_t i;
    (void)timeout_ms;
    if (!obs__sum_lock(m)) return OBS_OK;
    for (i = 0; i < n; i++) obs__sum_add(obs__sum_row_for(m, spans[i]->name, 1), spans[i]);
    m->seen += n;
    pthread_mutex_unlock(&m->lock);
    return OBS_OK;
}

/* "850ns", "12.3µs", "4.56ms", "1.23s": three significant digits. */
static void obs__sum_dur(char *out, size_t n, int64_t ns) {
    static const char *const units[] = {"ns", "\xC2\xB5s", "ms", "s"};
    double x = (double)ns;
    int u = 0;
    if (ns < 0) {
        snprintf(out, n, "-");
        return;
    }
    while (u < 3 && x >= 999.5) {
        x /= 1000;
        u++;
    }
    if (u == 0) snprintf(out, n, "%d%s", (int)ns, units[0]);
    else snprintf(out, n, x < 9.995 ? "%.2f%s" : x < 99.95 ? "%.1f%s" : "%.0f%s", x, units[u]);
}

/* Characters (not bytes) of UTF-8 text. */
static size_t obs__sum_width(const char *s) {
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}
/* s right-aligned (right = 1) or left-aligned in width characters. */
static void obs__sum_cell(obs__buf *b, const char *s, size_t width, int right) {
    size_t w = obs__sum_width(s), i;
    if (!right) obs__buf_puts(b, s);
    for (i = w; i < width; i++) obs__buf_putc(b, ' ');
    if (right) obs__buf_puts(b, s);
}

/* A row's distribution as up to 16 bars, log scale from its min to its max: a column per
   power of two (several when the range is wider), heights relative to the tallest. */
static void obs__sum_bars(obs__buf *b, const obs__sum_row *r) {
    static const char *const bars[] = {"\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
                                       "\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88"};
    uint64_t col[OBS__SUM_BARS], top = 0;
    int lo = obs__log2_u64((uint64_t)r->min | 1), hi = obs__log2_u64((uint64_t)r->max | 1);
    int per = (hi - lo) / OBS__SUM_BARS + 1, ncol = (hi - lo) / per + 1, i;
    memset(col, 0, sizeof col);
    for (i = 0; r->hist && i < OBS__SUM_BUCKETS; i++) {
        int c;
        if (!r->hist[i]) continue;
        c = (obs__log2_u64((uint64_t)obs__sum_value(r, i) | 1) - lo) / per;
        c = c < 0 ? 0 : c >= ncol ? ncol - 1 : c;
        col[c] += r->hist[i];
    }
    for (i = 0; i < ncol; i++) top = col[i] > top ? col[i] : top;
    for (i = 0; i < ncol; i++) {
        if (!col[i]) obs__buf_putc(b, ' ');
        else obs__buf_puts(b, bars[(int)((col[i] * 8 + top - 1) / top) - 1]); /* ceil(8 c / top) */
    }
}

/* Spans ended since obs_init, all threads (the summary's "did it see them all" check). */
static uint64_t obs__sum_ended(void) {
    uint64_t v = OBS__LOAD_RELAXED(&obs__g.counters[OBS__C_ENDED]);
    obs__tls *t;
    for (t = obs__g.threads; t; t = t->next) v += OBS__LOAD_RELAXED(&t->counters[OBS__C_ENDED]);
    return v;
}

static void obs__summary_write(obs__summary *m, FILE *out, int at_exit) {
    static const char *const head[] = {"count", "errors", "total", "p50", "p90", "p99", "max"};
    static const size_t widths[] = {8, 7, 9, 9, 9, 9, 9};
    int order[OBS__SUM_NAMES + 1], n = 0, i, j;
    size_t namew = 4;
    obs__buf b;
    char cell[32];
    uint64_t ended;
    memset(&b, 0, sizeof b);
    for (i = 0; i <= OBS__SUM_NAMES; i++) {
        if (!m->rows[i].count) continue;
        for (j = n; j > 0 && m->rows[order[j - 1]].total < m->rows[i].total; j--) order[j] = order[j - 1];
        order[j] = i; /* by total time, largest first; "(other)" goes last below */
        n++;
        if (obs__sum_width(m->rows[i].name) + (size_t)m->rows[i].cut > namew) {
            namew = obs__sum_width(m->rows[i].name) + (size_t)m->rows[i].cut;
        }
    }
    for (i = 0; i < n; i++) { /* "(other)" last, whatever its total */
        if (order[i] == OBS__SUM_NAMES) {
            memmove(order + i, order + i + 1, (size_t)(n - 1 - i) * sizeof(int));
            order[n - 1] = OBS__SUM_NAMES;
            break;
        }
    }
    if (namew > 40) namew = 40;
    if (n == 0) {
        fputs("span summary (obs.h): no spans\n", out);
        fflush(out);
        return;
    }
    obs__buf_printf(&b, "span summary (obs.h): %llu spans, %d names; by total time\n",
                    (unsigned long long)m->seen, m->nrows);
    obs__sum_cell(&b, "name", namew, 0);
    for (i = 0; i < 7; i++) {
        obs__buf_putc(&b, ' ');
        obs__sum_cell(&b, head[i], widths[i], 1);
    }
    obs__buf_puts(&b, "  distribution (log, min..max)\n");
    for (i = 0; i < n; i++) {
        const obs__sum_row *r = &m->rows[order[i]];
        char name[OBS__SUM_NAME_MAX + 8];
        size_t kept = strlen(r->name);
        int64_t v[7];
        if (obs__sum_width(r->name) + (size_t)r->cut > namew) { /* cut to the column, with an ellipsis */
            size_t w = 0, k;
            for (k = 0; r->name[k]; k++) { /* stop where character namew would start */
                if (((unsigned char)r->name[k] & 0xC0) != 0x80 && w++ == namew - 1) break;
            }
            kept = k;
        }
        memcpy(name, r->name, kept);
        strcpy(name + kept, kept < strlen(r->name) || r->cut ? "\xE2\x80\xA6" : "");
        obs__sum_cell(&b, name, namew, 0);
        v[0] = (int64_t)r->count;
        v[1] = (int64_t)r->errors;
        v[2] = (int64_t)r->total;
        v[3] = obs__sum_quantile(r, 0.5);
        v[4] = obs__sum_quantile(r, 0.9);
        v[5] = obs__sum_quantile(r, 0.99);
        v[6] = r->max;
        for (j = 0; j < 7; j++) {
            if (j < 2) snprintf(cell, sizeof cell, "%lld", (long long)v[j]);
            else obs__sum_dur(cell, sizeof cell, v[j]);
            obs__buf_putc(&b, ' ');
            obs__sum_cell(&b, cell, widths[j], 1);
        }
        obs__buf_puts(&b, "  ");
        obs__sum_bars(&b, r);
        obs__buf_putc(&b, '\n');
    }
    if (m->rows[OBS__SUM_NAMES].count) {
        obs__buf_printf(&b, "(other): spans of names beyond the first %d\n", OBS__SUM_NAMES);
    }
    /* Spans a full batch queue dropped never reached the summary: say so at exit. */
    if (at_exit && obs__g.threads && (ended = obs__sum_ended()) > m->seen) {
        obs__buf_printf(&b, "note: %llu of %llu ended spans did not reach the summary (dropped: a full "
                            "queue, see OTEL_BSP_MAX_QUEUE_SIZE)\n",
                        (unsigned long long)(ended - m->seen), (unsigned long long)ended);
    }
    if (b.len) fwrite(b.p, 1, b.len, out);
    fflush(out);
    obs__buf_free(&b);
}

static void obs__summary_shutdown(void *ud) {
    obs__summary *m = (obs__summary *)ud;
    int i;
    obs__summary *self = m;
    if (obs__sum_lock(m)) {
        obs__summary_write(m, m->out, 1);
        pthread_mutex_unlock(&m->lock);
    }
    if (OBS__LOAD(&obs__summary_last) == self) OBS__STORE(&obs__summary_last, (obs__summary *)NULL);
    for (i = 0; i <= OBS__SUM_NAMES; i++) obs__free(m->rows[i].hist);
    pthread_mutex_destroy(&m->lock);
    obs__free(m);
}

OBSDEF obs_exporter *obs_summary_exporter_new(void *file) {
    obs__summary *m = (obs__summary *)obs__calloc(sizeof *m);
    obs__sum_row *other;
    if (!m) return NULL;
    other = &m->rows[OBS__SUM_NAMES];
    if (!(other->hist = (uint64_t *)obs__calloc(OBS__SUM_BUCKETS * sizeof(uint64_t)))) {
        obs__free(m);
        return NULL;
    }
    strcpy(other->name, "(other)");
    pthread_mutex_init(&m->lock, NULL);
    m->out = file ? (FILE *)file : stderr;
    m->exp.name = "summary";
    m->exp.export_spans = obs__summary_export;
    m->exp.shutdown = obs__summary_shutdown;
    m->exp.user_data = m;
    OBS__STORE(&obs__summary_last, m);
    return &m->exp;
}

static obs__summary *obs__summary_of(obs_exporter *e) {
    return e ? (obs__summary *)e->user_data : OBS__LOAD(&obs__summary_last);
}

OBSDEF void obs_summary_print(obs_exporter *e, void *file) {
    obs__summary *m = obs__summary_of(e);
    if (!m || !obs__sum_lock(m)) return;
    obs__summary_write(m, file ? (FILE *)file : m->out, 0);
    pthread_mutex_unlock(&m->lock);
}

OBSDEF int obs_summary_get(obs_exporter *e, const char *name, obs_summary_stats *out) {
    obs__summary *m = obs__summary_of(e);
    const obs__sum_row *r;
    int found = 0;
    if (out) memset(out, 0, sizeof *out);
    if (!m || !obs__sum_lock(m)) return 0;
    r = name && strcmp(name, "(other)") == 0 ? &m->rows[OBS__SUM_NAMES] : obs__sum_row_for(m, name, 0);
    if (r && r->count) {
        found = 1;
        if (out) {
            out->count = r->count;
            out->errors = r->errors;
            out->total_ns = (int64_t)r->total;
            out->min_ns = r->min;
            out->max_ns = r->max;
            out->p50_ns = obs__sum_quantile(r, 0.5);
            out->p90_ns = obs__sum_quantile(r, 0.9);
            out->p99_ns = obs__sum_quantile(r, 0.99);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

OBSDEF int64_t obs_summary_quantile(obs_exporter *e, const char *name, double q) {
    obs__summary *m = obs__summary_of(e);
    const obs__sum_row *r;
    int64_t v = -1;
    if (!m || !obs__sum_lock(m)) return -1;
    r = name && strcmp(name, "(other)") == 0 ? &m->rows[OBS__SUM_NAMES] : obs__sum_row_for(m, name, 0);
    if (r) v = obs__sum_quantile(r, q);
    pthread_mutex_unlock(&m->lock);
    return v;
}

/* ---- trace-file exporter (Chrome trace event format) ----
   The file is a JSON array, one event per line. Every batch is one write: it overwrites the
   closing "\n]\n" with ",\n{event}..." and writes the closing bracket again, so the file is
   valid JSON between batches (a killed program leaves a loadable file). On a pipe or other
   unseekable output, events end in ",\n" and the bracket comes at shutdown (the format
   allows a missing "]"; both viewers drop a trailing comma before adding it).
   A span that does not nest in time with the spans already written on its thread (a span
   handed to another thread, or started with no_activate) would break the viewers' slice
   stacks: it is written as an async pair ("b"/"e", its own track) instead of an "X". */
#define OBS__TF_LANES 64 /* threads tracked at once (direct-mapped by id) */
#define OBS__TF_DEPTH 32 /* intervals kept per thread for the nesting check */

typedef struct obs__tf_lane {
    uint32_t tid; /* 0: free */
    int n;
    int64_t start[OBS__TF_DEPTH], end[OBS__TF_DEPTH]; /* disjoint, by time, newest on top */
} obs__tf_lane;

typedef struct obs__tfile {
    obs_exporter exp;
    int fd;
    int seekable;
    int64_t end;       /* seekable: where the closing "\n]\n" starts */
    uint64_t nevents;
    int64_t base_ns;   /* ts 0 */
    long pid;
    int wrote_process, failed;
    obs__buf buf;
    obs__tf_lane lanes[OBS__TF_LANES];
} obs__tfile;

/* Writes all of p[0..n) at off (pwrite) or at the end (write). */
static int obs__tf_write(obs__tfile *f, const char *p, size_t n, int64_t off) {
    while (n) {
        ssize_t w = f->seekable ? pwrite(f->fd, p, n, (off_t)off) : write(f->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 1;
}

/* Microseconds since base with nanosecond decimals: exact, no printf, no double. */
static void obs__tf_us(obs__buf *b, int64_t ns) {
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char frac[4];
    if (ns < 0) obs__buf_putc(b, '-');
    obs__buf_u64(b, a / 1000);
    frac[0] = '.';
    frac[1] = (char)('0' + a % 1000 / 100);
    frac[2] = (char)('0' + a % 100 / 10);
    frac[3] = (char)('0' + a % 10);
    obs__buf_put(b, frac, 4);
}

/* Starts an event line (the separator, then `{"name":<name>,"ph":"<ph>"`). */
static void obs__tf_event(obs__tfile *f, const char *name, const char *ph) {
    obs__buf *b = &f->buf;
    if (f->seekable) obs__buf_puts(b, f->nevents ? ",\n" : "\n");
    f->nevents++;
    obs__buf_puts(b, "{\"name\":");
    obs__json_cstr(b, name);
    obs__buf_puts(b, ",\"ph\":\"");
    obs__buf_puts(b, ph);
    obs__buf_putc(b, '"');
}
static void obs__tf_event_end(obs__tfile *f) { obs__buf_puts(&f->buf, f->seekable ? "}" : "},\n"); }

static void obs__tf_ids(obs__tfile *f, uint32_t tid) {
    obs__buf_puts(&f->buf, ",\"pid\":");
    obs__buf_u64(&f->buf, (uint64_t)f->pid);
    obs__buf_puts(&f->buf, ",\"tid\":");
    obs__buf_u64(&f->buf, tid);
}

/* A metadata event up to its args' opening brace (ts 0, as Chrome writes them). */
static void obs__tf_meta(obs__tfile *f, const char *name, uint32_t tid) {
    obs__tf_event(f, name, "M");
    obs__buf_puts(&f->buf, ",\"ts\":0");
    obs__tf_ids(f, tid);
    obs__buf_puts(&f->buf, ",\"args\":{");
}

/* A value as JSON: numbers JavaScript reads exactly; bigger integers as strings. */
static void obs__tf_value(obs__buf *b, const obs_attr *a) {
    size_t i;
    int64_t big = (int64_t)1 << 53;
    switch (a->type) {
    case OBS_ATTR_STRING: obs__json_str(b, a->v.s, a->n); return;
    case OBS_ATTR_BOOL: obs__buf_puts(b, a->v.b ? "true" : "false"); return;
    case OBS_ATTR_INT:
        if (a->v.i > -big && a->v.i < big) obs__json_i64(b, a->v.i);
        else {
            obs__buf_putc(b, '"');
            obs__json_i64(b, a->v.i);
            obs__buf_putc(b, '"');
        }
        return;
    case OBS_ATTR_DOUBLE: obs__json_double(b, a->v.d); return;
    default: break;
    }
    obs__buf_putc(b, '[');
    for (i = 0; i < a->n; i++) {
        obs_attr e = a->type == OBS_ATTR_STRING_ARRAY ? obs_attr_str("", a->v.sa[i])
                   : a->type == OBS_ATTR_BOOL_ARRAY   ? obs_attr_bool("", a->v.ba[i])
                   : a->type == OBS_ATTR_INT_ARRAY    ? obs_attr_int("", a->v.ia[i])
                                                      : obs_attr_double("", a->v.da[i]);
        if (i) obs__buf_putc(b, ',');
        obs__tf_value(b, &e);
    }
    obs__buf_putc(b, ']');
}

static void obs__tf_attrs(obs__buf *b, const obs_attr *attrs, size_t n, int comma) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (comma || i) obs__buf_putc(b, ',');
        obs__json_cstr(b, attrs[i].key);
        obs__buf_putc(b, ':');
        obs__tf_value(b, &attrs[i]);
    }
}

/* "process_name" once (service.name), then per thread "thread_name" and its sort index. */
static void obs__tf_process(obs__tfile *f) {
    size_t n = 0, i;
    const obs_attr *res = obs__g.resource;
    const char *svc = "obs.h";
    for (i = 0, n = obs__g.n_resource; res && i < n; i++) {
        if (strcmp(res[i].key, "service.name") == 0 && res[i].type == OBS_ATTR_STRING) svc = res[i].v.s;
    }
    obs__tf_meta(f, "process_name", 0);
    obs__buf_puts(&f->buf, "\"name\":");
    obs__json_cstr(&f->buf, svc);
    obs__buf_puts(&f->buf, ",\"obs.time_origin_unix_ns\":\""); /* ts 0, as wall-clock time */
    obs__buf_u64(&f->buf, (uint64_t)f->base_ns);
    obs__buf_puts(&f->buf, "\"}");
    obs__tf_event_end(f);
    f->wrote_process = 1;
}

static obs__tf_lane *obs__tf_lane_for(obs__tfile *f, uint32_t tid) {
    obs__tf_lane *l = &f->lanes[tid % OBS__TF_LANES];
    char name[32];
    if (l->tid == tid) return l;
    l->tid = tid; /* new, or it took the place of another thread: names again (harmless) */
    l->n = 0;
    snprintf(name, sizeof name, "thread %lu", (unsigned long)tid);
    obs__tf_meta(f, "thread_name", tid);
    obs__buf_puts(&f->buf, "\"name\":");
    obs__json_cstr(&f->buf, name);
    obs__buf_puts(&f->buf, "}");
    obs__tf_event_end(f);
    obs__tf_meta(f, "thread_sort_index", tid);
    obs__buf_puts(&f->buf, "\"sort_index\":");
    obs__buf_u64(&f->buf, tid);
    obs__buf_puts(&f->buf, "}");
    obs__tf_event_end(f);
    return l;
}

/* 1 when [s, e) nests with every interval kept for the thread (inside one, around some,
   or apart); records it. Spans mostly come in end order (children first): the kept list is
   the outermost intervals so far, disjoint, in time order. */
static int obs__tf_nests(obs__tf_lane *l, int64_t s, int64_t e) {
    int i, k;
    for (i = 0; i < l->n; i++) {
        int64_t ks = l->start[i], ke = l->end[i];
        int inside = s >= ks && e <= ke, around = s <= ks && e >= ke, apart = e <= ks || s >= ke;
        if (!inside && !around && !apart) return 0;
    }
    for (i = 0; i < l->n; i++) { /* inside a kept one: nothing changes */
        if (s >= l->start[i] && e <= l->end[i]) return 1;
    }
    for (i = k = 0; i < l->n; i++) { /* drop those it contains */
        if (!(s <= l->start[i] && e >= l->end[i])) {
            l->start[k] = l->start[i];
            l->end[k++] = l->end[i];
        }
    }
    l->n = k;
    for (i = l->n; i > 0 && l->start[i - 1] > s; i--) { /* insert in time order */
    }
    if (l->n == OBS__TF_DEPTH) { /* full: forget the oldest */
        if (i == 0) return 1;
        memmove(l->start, l->start + 1, (size_t)(l->n - 1) * sizeof(int64_t));
        memmove(l->end, l->end + 1, (size_t)(l->n - 1) * sizeof(int64_t));
        l->n--;
        i--;
    }
    memmove(l->start + i + 1, l->start + i, (size_t)(l->n - i) * sizeof(int64_t));
    memmove(l->end + i + 1, l->end + i, (size_t)(l->n - i) * sizeof(int64_t));
    l->start[i] = s;
    l->end[i] = e;
    l->n++;
    return 1;
}

static void obs__tf_span(obs__tfile *f, const obs_span_data *s) {
    static const char *const kinds[] = {"internal", "server", "client", "producer", "consumer"};
    obs__buf *b = &f->buf;
    uint32_t tid = s->thread_id;
    int64_t start = s->start_time_ns, end = s->end_time_ns < start ? start : s->end_time_ns;
    const char *cat = s->scope && s->scope->name && s->scope->name[0] ? s->scope->name : "span";
    int nests = obs__tf_nests(obs__tf_lane_for(f, tid), start, end);
    size_t i;
    obs__tf_event(f, s->name, nests ? "X" : "b");
    obs__buf_puts(b, ",\"cat\":");
    obs__json_cstr(b, cat);
    if (!nests) obs__otlp_id(b, ",\"id\":", s->span_id, 8);
    obs__buf_puts(b, ",\"ts\":");
    obs__tf_us(b, start - f->base_ns);
    if (nests) {
        obs__buf_puts(b, ",\"dur\":");
        obs__tf_us(b, end - start);
    }
    obs__tf_ids(f, tid);
    if (s->status == OBS_STATUS_ERROR) obs__buf_puts(b, ",\"cname\":\"terrible\""); /* red in chrome://tracing */
    obs__buf_puts(b, ",\"args\":{");
    obs__tf_attrs(b, s->attrs, s->n_attrs, 0);
    obs__otlp_id(b, s->n_attrs ? ",\"trace_id\":" : "\"trace_id\":", s->trace_id, 16);
    obs__otlp_id(b, ",\"span_id\":", s->span_id, 8);
    if (s->has_parent) obs__otlp_id(b, ",\"parent_span_id\":", s->parent_span_id, 8);
    if (s->kind != OBS_SPAN_KIND_INTERNAL && (unsigned)s->kind < 5) {
        obs__buf_puts(b, ",\"span.kind\":\"");
        obs__buf_puts(b, kinds[s->kind]);
        obs__buf_putc(b, '"');
    }
    if (s->status != OBS_STATUS_UNSET) {
        obs__buf_puts(b, s->status == OBS_STATUS_ERROR ? ",\"otel.status_code\":\"ERROR\"" : ",\"otel.status_code\":\"OK\"");
        if (s->status_message && s->status_message[0]) {
            obs__buf_puts(b, ",\"otel.status_description\":");
            obs__json_cstr(b, s->status_message);
        }
    }
    obs__buf_putc(b, '}');
    obs__tf_event_end(f);
    if (!nests) { /* the async pair's end */
        obs__tf_event(f, s->name, "e");
        obs__buf_puts(b, ",\"cat\":");
        obs__json_cstr(b, cat);
        obs__otlp_id(b, ",\"id\":", s->span_id, 8);
        obs__buf_puts(b, ",\"ts\":");
        obs__tf_us(b, end - f->base_ns);
        obs__tf_ids(f, tid);
        obs__tf_event_end(f);
    }
    for (i = 0; i < s->n_events; i++) { /* span events: instants on the thread ("s":"t") */
        const obs_event *ev = &s->events[i];
        obs__tf_event(f, ev->name, "i");
        obs__buf_puts(b, ",\"cat\":");
        obs__json_cstr(b, cat);
        obs__buf_puts(b, ",\"s\":\"t\",\"ts\":");
        obs__tf_us(b, ev->time_ns - f->base_ns);
        obs__tf_ids(f, tid);
        obs__buf_puts(b, ",\"args\":{");
        obs__tf_attrs(b, ev->attrs, ev->n_attrs, 0);
        obs__buf_puts(b, "}");
        obs__tf_event_end(f);
    }
}

/* Writes what is in buf: at the closing bracket (which it writes again), or appended. */
static obs_result obs__tf_commit(obs__tfile *f, int closing) {
    obs_result r = OBS_OK;
    if (f->seekable || closing) obs__buf_puts(&f->buf, "\n]\n");
    if (f->buf.oom) r = OBS_ERR_NOMEM;
    else if (f->fd >= 0 && f->buf.len) {
        if (obs__tf_write(f, f->buf.p, f->buf.len, f->end)) {
            if (f->seekable) f->end += (int64_t)f->buf.len - 3;
        } else {
            if (!f->failed) obs__diag(1, "trace file: cannot write (%s); spans lost", strerror(errno));
            f->failed = 1;
            r = OBS_ERR_NET;
        }
    }
    obs__buf_reset(&f->buf);
    return r;
}

static obs_result obs__tf_export(void *ud, const obs_span_data *const *spans, size_t n, int timeout_ms) {
    obs__tfile *f = (obs__tfile *)ud;
    size_t i;
    (void)timeout_ms;
    if (!f->wrote_process) obs__tf_process(f);
    for (i = 0; i < n; i++) obs__tf_span(f, spans[i]);
    return obs__tf_commit(f, 0);
}

static void obs__tf_shutdown(void *ud) {
    obs__tfile *f = (obs__tfile *)ud;
    if (!f->wrote_process) obs__tf_process(f); /* a file with no span still names its process */
    if (!f->seekable) { /* the closing bracket after one more event (no trailing comma) */
        obs__tf_meta(f, "process_sort_index", 0);
        obs__buf_puts(&f->buf, "\"sort_index\":0}}");
    }
    obs__tf_commit(f, 1);
    if (f->fd >= 0) close(f->fd);
    obs__buf_free(&f->buf);
    obs__free(f);
}

OBSDEF obs_exporter *obs_trace_file_exporter_new(const char *path) {
    obs__tfile *f;
    if (!path || !path[0]) return NULL;
    if (!(f = (obs__tfile *)obs__calloc(sizeof *f))) return NULL;
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        obs__diag(1, "trace file \"%.200s\": %s", path, strerror(errno));
        obs__free(f);
        return NULL;
    }
    f->seekable = lseek(f->fd, 0, SEEK_CUR) >= 0;
    f->pid = (long)getpid();
    f->base_ns = obs__realtime_ns() / 1000 * 1000;
    if (!obs__tf_write(f, f->seekable ? "[\n]\n" : "[\n", f->seekable ? 4 : 2, 0)) {
        obs__diag(1, "trace file \"%.200s\": %s", path, strerror(errno));
        close(f->fd);
        obs__free(f);
        return NULL;
    }
    f->end = 1;
    f->exp.name = "chrome";
    f->exp.export_spans = obs__tf_export;
    f->exp.shutdown = obs__tf_shutdown;
    f->exp.user_data = f;
    return &f->exp;
}

// ============================================================================
// >>impl:transport -- HTTP/1.1 over sockets, and the curl binary for https
// ============================================================================
/* >>part:http begin */
/* ==== obs: transports (socket HTTP client, curl) ==== */
/* parts/http.h -- the OTLP/HTTP transport: URL parsing, an HTTP/1.1 keep-alive client over
   POSIX sockets for http://, and the system `curl` binary for https://. Everything is static
   and private. The include below exists only for the standalone part test. */
#ifndef OBS__PART_BASE_H
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define OBS__RESP_MAX ((size_t)4 << 20)  /* response body bytes kept (OTLP: read at most 4 MiB) */
#define OBS__HEAD_MAX ((size_t)64 << 10) /* response header bytes, interim responses included */
#define OBS__UA "obs.h/0.1"
#define OBS__NO_CURL "curl not found on PATH (needed for https:// endpoints; install curl or " \
                     "use http://)"

#ifdef MSG_NOSIGNAL
#define OBS__NOSIGNAL MSG_NOSIGNAL
#else
#define OBS__NOSIGNAL 0 /* e.g. macOS: obs__fd_flags() sets SO_NOSIGPIPE instead */
#endif

typedef struct obs__url {
    int https;
    char host[256];     /* without IPv6 brackets: what getaddrinfo wants */
    char port[8];       /* digits, default filled in */
    char path[1024];    /* starts with '/', query included */
    char hostport[300]; /* Host header: brackets kept, default port omitted */
} obs__url;

typedef struct obs__http_req {
    const obs__url *url;
    const char *content_type;   /* NULL: none */
    const char *const *headers; /* "Name: value"; values are secrets, never printed */
    size_t n_headers;
    const void *body;
    size_t body_len;
    int timeout_ms; /* whole call, name resolution aside; 0 = no limit */
    const char *aws_sigv4; /* curl --aws-sigv4 value ("aws:amz:REGION:SERVICE"); NULL: none.
                              Set, the request goes through curl even for http:// */
    const char *user;      /* curl --user value ("KEY:SECRET"), a secret: config pipe only */
} obs__http_req;

typedef struct obs__http_resp {
    int status;        /* valid when the call returned 0 */
    int retry_after_s; /* -1 when absent */
    obs__buf body;     /* at most 4 MiB kept */
    char err[160];     /* why it failed; never holds a header value */
    int local;         /* it failed here (no curl, a bad setting): trying again cannot help */
} obs__http_resp;

typedef struct obs__http_conn {
    int fd;             /* -1 when not connected */
    char hostport[300]; /* the endpoint fd talks to: reused only for the same one */
} obs__http_conn;

static const char obs__tchar[] = /* RFC 9110 token characters (header names) */
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int obs__fail(obs__http_resp *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return -1;
}
/* A failure of this machine's setup, not of the network or the receiver: not retried. */
#define OBS__FAIL_LOCAL(r, msg) ((r)->local = 1, obs__fail((r), "%s", (msg)))

static void obs__close(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void obs__http_resp_init(obs__http_resp *r) {
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

static void obs__http_resp_free(obs__http_resp *r) {
    obs__buf_free(&r->body);
    obs__http_resp_init(r);
}

/* Keeps the body's memory, so one resp can serve every export. */
static void obs__http_resp_reset(obs__http_resp *r) {
    r->status = r->err[0] = 0;
    r->retry_after_s = -1;
    obs__buf_reset(&r->body);
}

/* Digits in `base` (10 or 16) at s, no sign or blanks; -1 if none or above 2^48. */
static int64_t obs__num(const char *s, int base, const char **end) {
    int64_t v = 0;
    int any = 0;
    for (;; s++, any = 1) {
        int c = (unsigned char)*s, d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else break;
        v = v * base + d;
        if (v > ((int64_t)1 << 48)) return -1;
    }
    *end = s;
    return any ? v : -1;
}

/* ---- URL ---- */

static int obs__url_parse(const char *url, obs__url *out) {
    static const char v4[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._";
    static const char v6[] = "0123456789abcdefABCDEF:.";
    const char *p, *h, *q, *end, *e;
    size_t n;
    int64_t port = 0;
    int v6lit;
    memset(out, 0, sizeof *out);
    if (!url) return -1;
    for (p = url; *p; p++) { /* no space, control or non-ASCII byte: header injection */
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) return -1;
    }
    out->https = strncasecmp(url, "https://", 8) == 0;
    if (!out->https && strncasecmp(url, "http://", 7) != 0) return -1;
    p = url + 7 + out->https;
    end = p + strcspn(p, "/?#"); /* authority is [p, end) */
    if (memchr(p, '@', (size_t)(end - p))) return -1; /* userinfo would leak a secret */
    v6lit = *p == '[';
    h = p + v6lit;
    q = v6lit ? (const char *)memchr(h, ']', (size_t)(end - h)) : h + strcspn(h, ":/?#");
    if (!q || q == h || (size_t)(q - h) >= sizeof out->host) return -1;
    memcpy(out->host, h, (size_t)(q - h));
    if (strspn(out->host, v6lit ? v6 : v4) != (size_t)(q - h)) return -1;
    if (v6lit && !strchr(out->host, ':')) return -1; /* "[310]" is no IPv6 address */
    q += v6lit;
    if (q < end) {
        if (*q != ':' || (size_t)(end - q - 1) >= sizeof out->port - 2) return -1;
        memcpy(out->port, q + 1, (size_t)(end - q - 1));
        port = obs__num(out->port, 10, &e);
        if (port < 1 || port > 65535 || *e) return -1;
    }
    snprintf(out->port, sizeof out->port, "%d", port ? (int)port : out->https ? 443 : 80);
    n = strlen(end);
    if (strchr(end, '#') || n + 2 > sizeof out->path) return -1;
    snprintf(out->path, sizeof out->path, "%s%s", *end == '/' ? "" : "/", end);
    port = port == (out->https ? 443 : 80) ? 0 : port;
    snprintf(out->hostport, sizeof out->hostport, "%s%s%s%s%s", v6lit ? "[" : "", out->host,
             v6lit ? "]" : "", port ? ":" : "", port ? out->port : "");
    return 0;
}

/* ---- request checks shared by both transports ---- */

/* True if s holds a byte that could end a header line or confuse a parser. */
static int obs__has_ctl(const char *s) {
    for (; *s; s++) {
        if (((unsigned char)*s < ' ' && *s != '\t') || *s == 0x7f) return 1;
    }
    return 0;
}

/* Rejects header injection. Errors name the header by index only: values are secrets. */
static int obs__http_check(const obs__http_req *req, obs__http_resp *resp) {
    size_t i, n;
    if (!req || !req->url || (!req->body && req->body_len)) return obs__fail(resp, "bad request");
    if (req->content_type && obs__has_ctl(req->content_type)) {
        return obs__fail(resp, "bad content type");
    }
    if ((req->aws_sigv4 && obs__has_ctl(req->aws_sigv4)) ||
        (req->user && obs__has_ctl(req->user))) {
        return obs__fail(resp, "bad signing settings"); /* never the value: a secret */
    }
    for (i = 0; i < req->n_headers; i++) {
        const char *h = req->headers[i];
        n = h ? strspn(h, obs__tchar) : 0;
        if (!n || h[n] != ':') return obs__fail(resp, "header %zu is not \"Name: value\"", i + 1);
        if (obs__has_ctl(h + n)) return obs__fail(resp, "header %zu holds CR, LF or NUL", i + 1);
    }
    return 0;
}

/* ---- response parsing helpers shared by both transports ---- */

/* "HTTP/<version> NNN[ reason]" -> NNN, or -1. */
static int obs__status_code(const char *s) {
    const char *e;
    int64_t code;
    if (strncmp(s, "HTTP/", 5) != 0) return -1;
    s += 5 + strspn(s + 5, "0123456789.");
    if (*s != ' ') return -1;
    code = obs__num(s + 1, 10, &e);
    if (code < 100 || code > 599 || e != s + 4 || (*e && *e != ' ')) return -1;
    return (int)code;
}

/* If `line` is header `name` (any case), its value with blanks trimmed (in place). */
static char *obs__hdr(char *line, const char *name) {
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':') return NULL;
    line += n + 1;
    line += strspn(line, " \t");
    for (n = strlen(line); n && (line[n - 1] == ' ' || line[n - 1] == '\t');) line[--n] = 0;
    return line;
}

/* True if comma list `v` holds token `tok` (any case). */
static int obs__has_token(const char *v, const char *tok) {
    size_t n = strlen(tok), len;
    while (*v) {
        v += strspn(v, " \t,");
        len = strcspn(v, " \t,;");
        if (len == n && strncasecmp(v, tok, n) == 0) return 1;
        v += len;
        v += strcspn(v, ",");
    }
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil);
   timegm() is not POSIX. */
static int64_t obs__days(int64_t y, int m, int d) {
    int64_t era, yoe, doy;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* An HTTP-date in any of RFC 9110's three forms (a recipient must accept all): IMF-fixdate
   "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" (a two-digit
   year below 70 is 20xx), asctime "Sun Nov  6 08:49:37 1994". 1 when it is one of them. */
static int obs__http_date(const char *v, int *d, char *mon, int *y, int *hh, int *mm, int *ss) {
    int used = -1;
    if (sscanf(v, "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", d, mon, y, hh, mm, ss, &used) == 6 &&
        used >= 0 && !v[used]) return 1;
    used = -1;
    if (sscanf(v, "%*[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", d, mon, y, hh, mm, ss, &used) == 6 &&
        used >= 0 && !v[used]) {
        *y += *y < 70 ? 2000 : 1900;
        return 1;
    }
    used = -1;
    return sscanf(v, "%*3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, d, hh, mm, ss, y, &used) == 6 &&
           used >= 0 && !v[used];
}

/* Retry-After: delta-seconds or an HTTP-date, as seconds from now, >= 0; -1 when
   unparseable. */
static int obs__retry_after(const char *v) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *e, *mp;
    char mon[4];
    int d, y, hh, mm, ss;
    int64_t t = obs__num(v, 10, &e);
    if (t < 0 || *e) {
        if (!obs__http_date(v, &d, mon, &y, &hh, &mm, &ss)) return -1;
        mp = strstr(months, mon);
        if (strlen(mon) != 3 || !mp || (mp - months) % 3 || d < 1 || d > 31 || y < 1970 ||
            hh > 23 || mm > 59 || ss > 60) return -1;
        t = obs__days(y, (int)(mp - months) / 3 + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
        t -= (int64_t)time(NULL);
    }
    return t < 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
}

/* ---- socket HTTP/1.1 client ---- */

static void obs__http_conn_init(obs__http_conn *c) {
    c->fd = -1;
    c->hostport[0] = 0;
}

static void obs__http_conn_close(obs__http_conn *c) {
    obs__close(&c->fd);
    c->hostport[0] = 0;
}

static int obs__again(void) { return errno == EAGAIN || errno == EWOULDBLOCK; }

/* An idle kept-alive connection with something to read was closed by the server, or carries
   what no request asked for (an unprompted 408, RFC 9110 15.5.9): not to be reused. */
static int obs__conn_stale(int fd) {
    struct pollfd p;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) != 0;
}

/* Non-blocking (all waits go through poll with the deadline), close-on-exec (a child that
   another thread forks must not keep our connection open). */
static void obs__fd_flags(int fd) {
#ifdef SO_NOSIGPIPE /* no MSG_NOSIGNAL there (macOS): sockets only, fails on pipes */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Milliseconds left before `deadline` as a poll() timeout: -1 none, 0 passed. */
static int obs__ms_left(int64_t deadline) {
    int64_t left;
    if (!deadline) return -1;
    left = deadline - obs__mono_ms();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Waits for `ev` on fd: 1 ready, 0 deadline passed, -1 error. */
static int obs__wait(int fd, short ev, int64_t deadline) {
    struct pollfd p;
    int ms, rc;
    p.fd = fd;
    p.events = ev;
    for (;;) {
        if ((ms = obs__ms_left(deadline)) == 0) return 0;
        if ((rc = poll(&p, 1, ms)) >= 0) return rc > 0;
        if (errno != EINTR) return -1;
    }
}

/* One address: 0 connected fd in *out, else an errno value. */
static int obs__connect_one(const struct addrinfo *ai, int64_t deadline, int *out) {
    int fd, one = 1, err = 0, w, type = ai->ai_socktype;
    socklen_t len = sizeof err;
#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC;
#endif
    fd = socket(ai->ai_family, type, ai->ai_protocol);
    if (fd < 0) return errno;
    obs__fd_flags(fd);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* head and body: 2 sends */
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
            err = errno;
        } else if ((w = obs__wait(fd, POLLOUT, deadline)) <= 0) {
            err = w == 0 ? ETIMEDOUT : errno;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
    }
    if (err) close(fd);
    else *out = fd;
    return err;
}

static int obs__connect(obs__http_conn *c, const obs__url *u, int64_t deadline,
                        obs__http_resp *resp) {
    struct addrinfo hints, *res, *ai;
    int rc, err = ENOENT;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) return obs__fail(resp, "cannot resolve %s: %s", u->host, gai_strerror(rc));
    for (ai = res; ai && err; ai = ai->ai_next) err = obs__connect_one(ai, deadline, &c->fd);
    freeaddrinfo(res);
    if (err) return obs__fail(resp, "connect to %s: %s", u->hostport, strerror(err));
    snprintf(c->hostport, sizeof c->hostport, "%s", u->hostport);
    return 0;
}

/* One request/response exchange on one connection. */
typedef struct obs__io {
    int fd;
    int64_t deadline;           /* obs__mono_ms() value; 0 = none */
    int got;                    /* a response byte arrived: the connection was not stale */
    int timed_out;
    int overflow;               /* body over OBS__RESP_MAX: the rest is left unread */
    size_t pos, len;            /* unread bytes are buf[pos, len) */
    char buf[16384];
} obs__io;

static int obs__io_wait(obs__io *io, short ev, obs__http_resp *resp) {
    int w = obs__wait(io->fd, ev, io->deadline);
    if (w > 0) return 0;
    if (w < 0) return obs__fail(resp, "poll: %s", strerror(errno));
    io->timed_out = 1;
    return obs__fail(resp, "timed out");
}

static int obs__io_send(obs__io *io, const void *data, size_t n, obs__http_resp *resp) {
    const char *p = (const char *)data;
    while (n > 0) {
        ssize_t k = send(io->fd, p, n, OBS__NOSIGNAL);
        if (k > 0) {
            p += k, n -= (size_t)k;
        } else if (k < 0 && obs__again()) {
            if (obs__io_wait(io, POLLOUT, resp)) return -1;
        } else if (k == 0 || errno != EINTR) {
            return obs__fail(resp, "send: %s", strerror(errno));
        }
    }
    return 0;
}

/* 1 bytes buffered, 0 peer closed, -1 error. */
static int obs__io_fill(obs__io *io, obs__http_resp *resp) {
    for (;;) {
        ssize_t k = recv(io->fd, io->buf, sizeof io->buf, 0);
        if (k >= 0) {
            io->pos = 0, io->len = (size_t)k, io->got |= k > 0;
            return k > 0;
        }
        if (obs__again()) {
            if (obs__io_wait(io, POLLIN, resp)) return -1;
        } else if (errno != EINTR) {
            return obs__fail(resp, "recv: %s", strerror(errno));
        }
    }
}

/* Reads one line, CR LF stripped, charging its bytes to *budget. */
static int obs__io_line(obs__io *io, obs__http_resp *resp, obs__buf *line, size_t *budget) {
    const char *nl = NULL;
    int r = 0;
    obs__buf_reset(line);
    while (!nl) {
        size_t n;
        if (io->pos == io->len && (r = obs__io_fill(io, resp)) <= 0) {
            if (r < 0) return -1;
            return obs__fail(resp, io->got ? "connection closed mid-response"
                                           : "connection closed before any response");
        }
        nl = (const char *)memchr(io->buf + io->pos, '\n', io->len - io->pos);
        n = nl ? (size_t)(nl - (io->buf + io->pos)) + 1 : io->len - io->pos;
        if (n > *budget) return obs__fail(resp, "response header section or line too long");
        *budget -= n;
        obs__buf_put(line, io->buf + io->pos, n);
        io->pos += n;
    }
    if (line->oom) return obs__fail(resp, "out of memory");
    while (line->len && (line->p[line->len - 1] == '\n' || line->p[line->len - 1] == '\r')) {
        line->p[--line->len] = 0;
    }
    if (strlen(line->p) != line->len) return obs__fail(resp, "NUL byte in response header");
    return 0;
}

/* Reads n body bytes (n < 0: until the peer closes), keeping the first OBS__RESP_MAX. A longer
   body is not drained (it could be endless): io->overflow makes the caller drop the
   connection, and the status still counts. */
static int obs__io_body(obs__io *io, obs__http_resp *resp, int64_t n) {
    while (n != 0 && !io->overflow) {
        size_t take, room = OBS__RESP_MAX - resp->body.len;
        if (io->pos == io->len) {
            int r = obs__io_fill(io, resp);
            if (r <= 0) return r < 0 || n < 0 ? r : obs__fail(resp, "connection closed mid-body");
        }
        take = io->len - io->pos;
        if (n > 0 && (int64_t)take > n) take = (size_t)n;
        if (take > room) io->overflow = 1, take = room;
        obs__buf_put(&resp->body, io->buf + io->pos, take);
        io->pos += take;
        if (n > 0) n -= (int64_t)take;
    }
    return 0;
}

typedef struct obs__head {
    int status, close, chunked, te;
    int64_t length; /* Content-Length, -1 when absent */
} obs__head;

static int obs__head_field(obs__head *h, char *line, obs__http_resp *resp) {
    size_t n = strspn(line, obs__tchar);
    const char *e;
    char *v;
    int64_t len;
    if (*line == ' ' || *line == '\t') return 0; /* obsolete line folding: ignored */
    if (!n || line[n] != ':') return obs__fail(resp, "malformed response header");
    if ((v = obs__hdr(line, "content-length")) != NULL) {
        len = obs__num(v, 10, &e);
        if (len < 0 || *e || (h->length >= 0 && h->length != len)) {
            return obs__fail(resp, "bad Content-Length");
        }
        h->length = len;
    } else if ((v = obs__hdr(line, "transfer-encoding")) != NULL) {
        h->te = 1;
        h->chunked = obs__has_token(v, "chunked");
    } else if ((v = obs__hdr(line, "connection")) != NULL) {
        if (obs__has_token(v, "close")) h->close = 1;
        else if (obs__has_token(v, "keep-alive")) h->close = 0;
    } else if ((v = obs__hdr(line, "retry-after")) != NULL) {
        resp->retry_after_s = obs__retry_after(v);
    }
    return 0;
}

static int obs__read_head(obs__io *io, obs__http_resp *resp, obs__head *h, obs__buf *line,
                          size_t *budget) {
    int i;
    for (i = 0; i < 8; i++) { /* a few 1xx interim responses (100 Continue) may come first */
        if (obs__io_line(io, resp, line, budget)) return -1;
        h->status = strncmp(line->p, "HTTP/1.", 7) == 0 ? obs__status_code(line->p) : -1;
        if (h->status < 0) return obs__fail(resp, "malformed status line");
        h->close = line->p[7] == '0'; /* HTTP/1.0: close unless keep-alive is said */
        h->chunked = h->te = 0, h->length = -1;
        resp->retry_after_s = -1;
        for (;;) {
            if (obs__io_line(io, resp, line, budget)) return -1;
            if (!line->len) break;
            if (obs__head_field(h, line->p, resp)) return -1;
        }
        if (h->status == 101) return obs__fail(resp, "unexpected 101 Switching Protocols");
        if (h->status >= 200) return 0;
    }
    return obs__fail(resp, "too many interim responses");
}

static int obs__read_chunked(obs__io *io, obs__http_resp *resp, obs__buf *line,
                             size_t *budget) {
    for (;;) {
        size_t lim = 1024; /* size line with extensions */
        const char *e;
        int64_t n;
        if (obs__io_line(io, resp, line, &lim)) return -1;
        n = obs__num(line->p, 16, &e);
        if (n < 0 || (*e && !strchr("; \t", *e))) return obs__fail(resp, "malformed chunk size");
        if (n == 0) break;
        if (obs__io_body(io, resp, n)) return -1;
        if (io->overflow) return 0;
        lim = 2;
        if (obs__io_line(io, resp, line, &lim)) return -1;
        if (line->len) return obs__fail(resp, "malformed chunk");
    }
    do { /* trailers, up to the empty line */
        if (obs__io_line(io, resp, line, budget)) return -1;
    } while (line->len);
    return 0;
}

static int obs__read_response(obs__io *io, obs__http_resp *resp, obs__head *h) {
    obs__buf line;
    size_t budget = OBS__HEAD_MAX;
    int rc;
    memset(&line, 0, sizeof line);
    rc = obs__read_head(io, resp, h, &line, &budget);
    if (rc || h->status == 204 || h->status == 304) {
        /* no body */
    } else if (h->chunked) {
        rc = obs__read_chunked(io, resp, &line, &budget);
    } else if (h->te || h->length < 0) { /* framed by the peer closing */
        h->close = 1;
        rc = obs__io_body(io, resp, -1);
    } else {
        rc = obs__io_body(io, resp, h->length);
    }
    obs__buf_free(&line);
    if (!rc) resp->status = h->status;
    return rc;
}

static int obs__http_head(const obs__http_req *req, obs__buf *b, obs__http_resp *resp) {
    size_t i;
    obs__buf_printf(b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " OBS__UA
                    "\r\nContent-Length: %zu\r\n", req->url->path, req->url->hostport,
                    req->body_len);
    if (req->content_type) obs__buf_printf(b, "Content-Type: %s\r\n", req->content_type);
    for (i = 0; i < req->n_headers; i++) obs__buf_printf(b, "%s\r\n", req->headers[i]);
    obs__buf_puts(b, "\r\n");
    return b->oom ? obs__fail(resp, "out of memory") : 0;
}

/* Sends the request and reads the reply on c->fd; drops the connection unless it can
   carry the next request. */
static int obs__exchange(obs__http_conn *c, const obs__http_req *req, const obs__buf *head,
                         obs__io *io, obs__http_resp *resp) {
    obs__head h;
    int rc;
    memset(&h, 0, sizeof h);
    io->fd = c->fd;
    rc = obs__io_send(io, head->p, head->len, resp);
    if (!rc) rc = obs__io_send(io, req->body, req->body_len, resp);
    if (!rc) rc = obs__read_response(io, resp, &h);
    if (rc || h.close || io->overflow || io->pos != io->len) obs__http_conn_close(c);
    return rc;
}

static int obs__http_post(obs__http_conn *c, const obs__http_req *req, obs__http_resp *resp) {
    obs__http_conn tmp;
    obs__buf head;
    obs__io *io;
    int attempt, reused, rc = -1;
    obs__http_resp_reset(resp);
    if (obs__http_check(req, resp)) return -1;
    memset(&head, 0, sizeof head);
    io = (obs__io *)obs__alloc(sizeof *io);
    if (!io || obs__http_head(req, &head, resp)) {
        obs__free(io);
        obs__buf_free(&head);
        return io ? -1 : obs__fail(resp, "out of memory");
    }
    if (!c) obs__http_conn_init(c = &tmp);
    memset(io, 0, sizeof *io);
    io->deadline = req->timeout_ms > 0 ? obs__mono_ms() + req->timeout_ms : 0;
    /* A kept-alive connection the server has meanwhile closed fails before any response
       byte: reconnect once and resend, which is what the server expects of a client. */
    for (attempt = 0; attempt < 2 && rc; attempt++) {
        reused = c->fd >= 0 && strcmp(c->hostport, req->url->hostport) == 0 && !obs__conn_stale(c->fd);
        if (!reused) {
            obs__http_conn_close(c);
            if (obs__connect(c, req->url, io->deadline, resp)) break;
        }
        io->got = io->pos = io->len = 0;
        rc = obs__exchange(c, req, &head, io, resp);
        if (!reused || io->got || io->timed_out) break;
    }
    if (c == &tmp) obs__http_conn_close(c);
    obs__free(io);
    obs__buf_free(&head);
    return rc;
}

/* ---- curl transport ---- */

/* Appends `key = "<v1><v2>"` to a curl config, escaped per curl's config-file rules. */
static void obs__cfg(obs__buf *b, const char *key, const char *v1, const char *v2) {
    const char *s;
    int i;
    obs__buf_printf(b, "%s = \"", key);
    for (i = 0; i < 2; i++) {
        for (s = i ? v2 : v1; *s; s++) {
            if (*s == '"' || *s == '\\') obs__buf_putc(b, '\\');
            obs__buf_putc(b, *s);
        }
    }
    obs__buf_puts(b, "\"\n");
}

/* Everything curl needs, secrets included; it reaches curl through a pipe, never argv. */
static int obs__curl_config(const obs__http_req *req, obs__buf *b, obs__http_resp *resp) {
    char base[320];
    const char *cacert = getenv("OBS_CURL_CACERT");
    size_t i;
    if (cacert && obs__has_ctl(cacert)) return OBS__FAIL_LOCAL(resp, "bad OBS_CURL_CACERT");
    snprintf(base, sizeof base, "%s://%s", req->url->https ? "https" : "http",
             req->url->hostport);
    obs__cfg(b, "url", base, req->url->path);
    obs__buf_puts(b, "silent\nshow-error\ngloboff\n"); /* globoff: [::1] is no glob */
    obs__cfg(b, "request", "POST", "");
    obs__cfg(b, "data-binary", "@-", "");          /* body: stdin */
    obs__cfg(b, "dump-header", "/dev/fd/4", "");   /* status line and Retry-After */
    obs__cfg(b, "user-agent", OBS__UA, "");
    /* no 1 s wait for 100 Continue; but curl before 8.3 signs the empty "Expect:" it was told
       to remove, which AWS refuses (curl#11664): signed requests keep curl's default */
    if (!req->aws_sigv4) obs__cfg(b, "header", "Expect:", "");
    obs__cfg(b, "header", "Content-Type: ", req->content_type ? req->content_type : "");
    for (i = 0; i < req->n_headers; i++) obs__cfg(b, "header", req->headers[i], "");
    if (req->timeout_ms > 0) {
        obs__buf_printf(b, "max-time = \"%d.%03d\"\n", req->timeout_ms / 1000,
                        req->timeout_ms % 1000);
    }
    if (cacert && *cacert) obs__cfg(b, "cacert", cacert, "");
    if (req->aws_sigv4) obs__cfg(b, "aws-sigv4", req->aws_sigv4, "");
    if (req->user) obs__cfg(b, "user", req->user, "");
    return b->oom ? obs__fail(resp, "out of memory") : 0;
}

/* A channel to the child: the parent's end in `fd`, close-on-exec, non-blocking. */
typedef struct obs__stream {
    int fd;
    const char *src; /* parent writes: bytes still to send */
    size_t left;
    obs__buf *dst;   /* parent reads: where bytes go */
    size_t max;      /* keep at most this many, drain the rest */
} obs__stream;

/* Both ends numbered >= 5, so the child's dup2 onto 0..4 never clobbers a source fd. */
static int obs__chan(int fds[2], int sock) {
    int p[2], i;
    if (sock ? socketpair(AF_UNIX, SOCK_STREAM, 0, p) : pipe(p)) return -1;
    for (i = 0; i < 2; i++) {
        fds[i] = fcntl(p[i], F_DUPFD_CLOEXEC, 5);
        close(p[i]);
    }
    if (fds[0] >= 0 && fds[1] >= 0) return 0;
    obs__close(&fds[0]);
    obs__close(&fds[1]);
    return -1;
}

static void obs__stream_step(obs__stream *s) {
    char tmp[16384];
    ssize_t k;
    if (!s->dst) {
        k = send(s->fd, s->src, s->left < 65536 ? s->left : 65536, OBS__NOSIGNAL);
        if (k > 0) s->src += k, s->left -= (size_t)k;
        if (s->left == 0 || (k < 0 && !obs__again() && errno != EINTR)) obs__close(&s->fd);
        return;
    }
    k = read(s->fd, tmp, sizeof tmp);
    if (k > 0) {
        size_t room = s->max - s->dst->len;
        obs__buf_put(s->dst, tmp, (size_t)k < room ? (size_t)k : room);
    } else if (k == 0 || (!obs__again() && errno != EINTR)) {
        obs__close(&s->fd);
    }
}

/* Moves bytes until every channel is closed (0) or the deadline passes (-1). */
static int obs__pump(obs__stream *s, int n, int64_t deadline) {
    struct pollfd pf[8];
    int idx[8], i, k, ms;
    for (;;) {
        for (i = k = 0; i < n; i++) {
            if (s[i].fd < 0) continue;
            pf[k].fd = s[i].fd;
            pf[k].events = s[i].dst ? POLLIN : POLLOUT;
            pf[k].revents = 0;
            idx[k++] = i;
        }
        if (!k) return 0;
        ms = obs__ms_left(deadline);
        if (ms == 0 || (poll(pf, (nfds_t)k, ms) < 0 && errno != EINTR)) return -1;
        for (i = 0; i < k; i++) {
            if (pf[i].revents) obs__stream_step(&s[idx[i]]);
        }
    }
}

/* Child fds: 0 body (a socket: MSG_NOSIGNAL writes, so a curl that dies early cannot raise
   SIGPIPE here), 1 response body, 2 errors, 3 config (a pipe filled before the spawn, so the
   parent never writes to a pipe whose reader may be gone), 4 header dump. */
static pid_t obs__curl_spawn(const obs__buf *cfg, obs__stream *s, obs__http_resp *resp) {
    extern char **environ;
    char a0[] = "curl", a1[] = "-q", a2[] = "--config", a3[] = "/dev/fd/3";
    char *argv[5];
    const char *prog = getenv("OBS_CURL");
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none;
    int child[5] = {-1, -1, -1, -1, -1}, p[2], i, rc = 0;
    pid_t pid = -1;
    argv[0] = a0, argv[1] = a1, argv[2] = a2, argv[3] = a3, argv[4] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr); /* an exporter thread may block signals: curl must not */
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    for (i = 0; i < 5 && !rc; i++) {
        int in = i == 0 || i == 3; /* the child reads these */
        if (obs__chan(p, i == 0)) {
            rc = errno;
            break;
        }
        child[i] = p[!in], s[i].fd = p[in];
        obs__fd_flags(s[i].fd);
        rc = posix_spawn_file_actions_adddup2(&fa, child[i], i);
    }
    if (!rc && write(s[3].fd, cfg->p, cfg->len) != (ssize_t)cfg->len) rc = E2BIG;
    obs__close(&s[3].fd);
    if (!rc) rc = posix_spawnp(&pid, prog && *prog ? prog : "curl", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (i = 0; i < 5; i++) obs__close(&child[i]);
    if (!rc) return pid;
    if (rc == ENOENT && !(prog && *prog)) {
        OBS__FAIL_LOCAL(resp, OBS__NO_CURL);
    } else if (rc == E2BIG) {
        OBS__FAIL_LOCAL(resp, "request headers too large for curl's config pipe");
    } else {
        obs__fail(resp, "cannot run curl: %s", strerror(rc));
        resp->local = rc == ENOENT || rc == EACCES; /* OBS_CURL names no program it may run */
    }
    return -1;
}

/* curl's exit code, 128 + signal when killed. 0 when the host program reaps children itself
   (SIGCHLD ignored): the header dump decides then. Blocks only briefly: the pump ended, so
   curl has closed its outputs (exited) or has just been killed. */
static int obs__reap(pid_t pid, int kill_it) {
    int st = 0;
    if (kill_it) kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return 0;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Status and Retry-After from the header dump; the last response wins (curl also dumps
   100 Continue and proxy CONNECT replies). */
static void obs__curl_head(char *dump, obs__http_resp *resp) {
    char *line, *next, *v;
    for (line = dump; *line; line = next) {
        size_t n = strcspn(line, "\r\n");
        next = line + n + strspn(line + n, "\r\n");
        line[n] = 0;
        if (strncmp(line, "HTTP/", 5) == 0) {
            resp->status = obs__status_code(line);
            resp->retry_after_s = -1;
        } else if ((v = obs__hdr(line, "retry-after")) != NULL) {
            resp->retry_after_s = obs__retry_after(v);
        }
    }
}

/* curl's own error line ("curl: (7) Failed to connect ..."; more lines may follow it), else
   the last line it printed. Trims in place. */
static const char *obs__curl_msg(obs__buf *b) {
    char *m, *s;
    if (!b->p) return "";
    while (b->len && strchr(" \t\r\n", b->p[b->len - 1])) b->p[--b->len] = 0;
    m = strrchr(b->p, '\n');
    m = m ? m + 1 : b->p;
    for (s = b->p; (s = strstr(s, "curl: (")) != NULL; s++) m = s;
    m[strcspn(m, "\r\n")] = 0;
    return m;
}

static int obs__curl_result(int code, int late, const obs__http_req *req, obs__buf *hdr,
                            obs__buf *errb, obs__http_resp *resp) {
    const char *msg = obs__curl_msg(errb);
    if (late) return obs__fail(resp, "curl timed out after %d ms, killed", req->timeout_ms);
    if (code == 127 && !*msg && !getenv("OBS_CURL")) return OBS__FAIL_LOCAL(resp, OBS__NO_CURL);
    if (code) return *msg ? obs__fail(resp, "%s", msg) : obs__fail(resp, "curl exit %d", code);
    if (hdr->len >= OBS__HEAD_MAX) return obs__fail(resp, "response headers exceed 64 KiB");
    if (hdr->p) obs__curl_head(hdr->p, resp);
    return resp->status > 0 ? 0 : obs__fail(resp, "curl reported no HTTP status");
}

static int obs__curl_post(const obs__http_req *req, obs__http_resp *resp) {
    obs__buf cfg, hdr, errb;
    obs__stream s[5];
    int i, rc;
    pid_t pid;
    obs__http_resp_reset(resp);
    if (obs__http_check(req, resp)) return -1;
    memset(&cfg, 0, sizeof cfg);
    memset(&hdr, 0, sizeof hdr);
    memset(&errb, 0, sizeof errb);
    memset(s, 0, sizeof s);
    for (i = 0; i < 5; i++) s[i].fd = -1;
    s[0].src = (const char *)req->body, s[0].left = req->body_len;
    s[1].dst = &resp->body, s[1].max = OBS__RESP_MAX;
    s[2].dst = &errb, s[2].max = 4096;
    s[4].dst = &hdr, s[4].max = OBS__HEAD_MAX;
    rc = obs__curl_config(req, &cfg, resp);
    pid = rc ? -1 : obs__curl_spawn(&cfg, s, resp);
    if (pid > 0) {
        /* curl's --max-time should end it; if not, kill it a second later */
        int late = obs__pump(s, 5, req->timeout_ms > 0 ? obs__mono_ms() + req->timeout_ms
                                                             + 1000 : 0);
        rc = obs__curl_result(obs__reap(pid, late), late, req, &hdr, &errb, resp);
    }
    for (i = 0; i < 5; i++) obs__close(&s[i].fd);
    obs__buf_free(&cfg);
    obs__buf_free(&hdr);
    obs__buf_free(&errb);
    if (pid <= 0 || rc) resp->status = 0;
    return pid > 0 ? rc : -1;
}

/* ---- dispatcher ---- */

/* https:// goes through curl (obs.h has no TLS of its own), and so does a request curl must
   sign (aws_sigv4, user); http:// through the socket client on connection c (may be NULL: a
   fresh connection, closed after the call). */
static int obs__transport_post(obs__http_conn *c, const obs__http_req *req,
                               obs__http_resp *resp) {
    resp->local = 0;
    if (req && req->url && (req->url->https || req->aws_sigv4 || req->user)) {
        return obs__curl_post(req, resp);
    }
    return obs__http_post(c, req, resp);
}
/* >>part:http end */

// ============================================================================
// >>impl:exporter -- the OTLP/HTTP exporter: encode, post, retry, count
// ============================================================================
#define OBS__MAX_BODY (8u * 1024 * 1024) /* a bigger batch is split in halves */

typedef struct obs__otlp {
    obs_exporter exp;
    int logs;
    int protobuf; /* http/protobuf, else http/json */
    char *endpoint;
    obs__url url;
    char **headers; /* "Name: value" (values are secrets) */
    size_t n_headers;
    int timeout_ms;
    obs__http_conn conn;
    obs__buf body;
    obs__http_resp resp;
} obs__otlp;


/* The number after "key": in a JSON response (quoted or not); 0 when absent. */
static uint64_t obs__json_find_u64(const char *body, const char *key) {
    const char *p = body ? strstr(body, key) : NULL;
    uint64_t v = 0;
    if (!p) return 0;
    p += strlen(key);
    while (*p == '"' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10) v = v * 10 + (uint64_t)(*p++ - '0');
    return v;
}

/* The "errorMessage" string of a JSON partialSuccess, unescaped no further (for a diagnostic). */
static void obs__json_find_str(const char *body, const char *key, char *out, size_t cap) {
    const char *p = body ? strstr(body, key) : NULL;
    size_t n = 0;
    out[0] = 0;
    if (!p || !(p = strchr(p + strlen(key), '"'))) return;
    for (p++; *p && *p != '"' && n + 1 < cap; p++) out[n++] = *p == '\\' && p[1] ? *++p : *p;
    out[n] = 0;
}

/* A 2xx may still refuse some items (partialSuccess): count them, never retry. */
static void obs__otlp_partial(obs__otlp *o, size_t n) {
    char msg[200];
    uint64_t rejected;
    if (o->protobuf) {
        rejected = obs__pb_partial_rejected(o->resp.body.p, o->resp.body.len, o->logs, msg, sizeof msg);
    } else {
        rejected = obs__json_find_u64(o->resp.body.p, o->logs ? "\"rejectedLogRecords\"" : "\"rejectedSpans\"");
        obs__json_find_str(o->resp.body.p, "\"errorMessage\"", msg, sizeof msg);
    }
    if (!rejected) return;
    if (rejected > n) rejected = n;
    obs__count_global(o->logs ? OBS__C_LOG_REJECTED : OBS__C_SPAN_REJECTED, rejected);
    obs__diag(2, "%s: the receiver rejected %llu of %lu %s: %s", o->endpoint, (unsigned long long)rejected,
              (unsigned long)n, o->logs ? "log records" : "spans", msg[0] ? msg : "(no message)");
}

static int obs__retryable(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Exponential backoff with jitter (0.5 s, 1 s, 2 s ... capped at 5 s, each 50-100%), or
   the receiver's Retry-After when it asks for longer (never shorter: "Retry-After: 0" or a
   past date must not turn the retries into a flood at a receiver already overloaded). */
static int64_t obs__backoff_ms(int attempt, int retry_after_s) {
    uint64_t r = obs__os_random64();
    int64_t base = 500LL << (attempt < 4 ? attempt : 4), wait;
    if (base > 5000) base = 5000;
    wait = base / 2 + (int64_t)(r % (uint64_t)(base / 2 + 1));
    return retry_after_s >= 0 && (int64_t)retry_after_s * 1000 > wait ? (int64_t)retry_after_s * 1000 : wait;
}

/* What a retry policy says of a response (status > 0) or a failed connection (status 0). */
enum { OBS__GIVE_UP = 0, OBS__RETRY = 1, OBS__TO_CALLER = 2 };
static int obs__otlp_policy(int status, const obs__http_resp *resp) {
    return (status == 0 && !resp->local) || obs__retryable(status) ? OBS__RETRY : OBS__GIVE_UP;
}

/* Posts req until it is accepted (2xx: OBS_OK), refused, or the deadline passes, retrying what
   policy says (backoff, Retry-After). OBS__TO_CALLER returns OBS_ERR_NET quietly, the response
   in resp for the caller to act on. who names the endpoint and `n what` the items in
   diagnostics (never a header value). Counts requests and retries. */
static obs_result obs__post_retry(obs__http_conn *conn, obs__http_req *req, obs__http_resp *resp,
                                  int (*policy)(int status, const obs__http_resp *resp),
                                  const char *who, size_t n, const char *what, int64_t deadline_ms) {
    int attempt;
    for (attempt = 0;; attempt++) {
        int64_t left = deadline_ms - obs__mono_ms(), wait;
        int rc, status, verdict;
        if (left <= 0) {
            obs__diag(1, "%s: export timed out; dropping %lu %s", who, (unsigned long)n, what);
            return OBS_ERR_TIMEOUT;
        }
        req->timeout_ms = (int)left;
        obs__count_global(OBS__C_REQUESTS, 1);
        rc = obs__transport_post(conn, req, resp);
        status = rc == 0 ? resp->status : 0;
        if (status >= 200 && status < 300) {
            obs__diag(4, "%s: exported %lu %s (HTTP %d)", who, (unsigned long)n, what, status);
            return OBS_OK;
        }
        verdict = policy(status, resp);
        if (verdict == OBS__TO_CALLER) return OBS_ERR_NET;
        if (verdict == OBS__GIVE_UP) {
            if (rc) obs__diag(1, "%s: %s; dropping %lu %s", who, resp->err, (unsigned long)n,
                              what);
            else obs__diag(1, "%s: HTTP %d; dropping %lu %s (not retryable)", who, status,
                           (unsigned long)n, what);
            return OBS_ERR_NET;
        }
        wait = obs__backoff_ms(attempt, rc == 0 ? resp->retry_after_s : -1);
        if (rc) obs__diag(3, "%s: %s; retry in %lld ms", who, resp->err, (long long)wait);
        else obs__diag(3, "%s: HTTP %d; retry in %lld ms", who, status, (long long)wait);
        if (wait >= deadline_ms - obs__mono_ms()) {
            obs__diag(1, "%s: %s; dropping %lu %s (no time left to retry)", who,
                      rc ? resp->err : "receiver busy", (unsigned long)n, what);
            return rc ? OBS_ERR_NET : OBS_ERR_TIMEOUT;
        }
        obs__count_global(OBS__C_RETRIES, 1);
        obs__sleep_ms(wait);
    }
}

/* Posts o->body until it is accepted, refused, or the deadline passes. */
static obs_result obs__otlp_send(obs__otlp *o, size_t n, int64_t deadline_ms) {
    obs__http_req req;
    obs_result r;
    memset(&req, 0, sizeof req);
    req.url = &o->url;
    req.content_type = o->protobuf ? "application/x-protobuf" : "application/json";
    req.headers = (const char *const *)o->headers;
    req.n_headers = o->n_headers;
    req.body = o->body.p;
    req.body_len = o->body.len;
    r = obs__post_retry(&o->conn, &req, &o->resp, obs__otlp_policy, o->endpoint, n,
                        o->logs ? "log records" : "spans", deadline_ms);
    if (r == OBS_OK) obs__otlp_partial(o, n);
    return r;
}

static obs_result obs__otlp_export(obs__otlp *o, const void *const *items, size_t n, int64_t deadline_ms) {
    obs_result a, b;
    obs__buf_reset(&o->body);
    if (o->protobuf) obs__pb_request(&o->body, o->logs, items, n);
    else obs__otlp_request(&o->body, o->logs, items, n);
    if (o->body.oom) return OBS_ERR_NOMEM;
    if (o->body.len <= OBS__MAX_BODY || n < 2) return obs__otlp_send(o, n, deadline_ms);
    a = obs__otlp_export(o, items, n / 2, deadline_ms); /* too big for one request: halves */
    b = obs__otlp_export(o, items + n / 2, n - n / 2, deadline_ms);
#ifdef OBS__HAVE_EXPORT_LOST
    if ((a == OBS_OK) != (b == OBS_OK)) { /* one half delivered: the processor counts both right */
        obs__export_lost += a == OBS_OK ? n - n / 2 : n / 2;
        return OBS_OK;
    }
#endif
    return a != OBS_OK ? a : b; /* (without the channel a lost half loses the count of both) */
}

static int64_t obs__deadline(int a_ms, int b_ms) {
    int ms = a_ms <= 0 ? b_ms : b_ms <= 0 ? a_ms : OBS__MIN(a_ms, b_ms);
    return obs__mono_ms() + (ms <= 0 ? 24LL * 3600 * 1000 : ms); /* 0: no limit */
}
static obs_result obs__otlp_spans(void *ud, const obs_span_data *const *s, size_t n, int timeout_ms) {
    obs__otlp *o = (obs__otlp *)ud;
    return obs__otlp_export(o, (const void *const *)s, n, obs__deadline(o->timeout_ms, timeout_ms));
}
static obs_result obs__otlp_logs(void *ud, const obs_log_data *const *r, size_t n, int timeout_ms) {
    obs__otlp *o = (obs__otlp *)ud;
    return obs__otlp_export(o, (const void *const *)r, n, obs__deadline(o->timeout_ms, timeout_ms));
}
static void obs__otlp_free(void *ud) {
    obs__otlp *o = (obs__otlp *)ud;
    size_t i;
    obs__http_conn_close(&o->conn);
    obs__http_resp_free(&o->resp);
    obs__buf_free(&o->body);
    for (i = 0; i < o->n_headers; i++) obs__free(o->headers[i]);
    obs__free(o->headers);
    obs__free(o->endpoint);
    obs__free(o);
}

/* headers: "k=v,k2=v2" already percent-decoded into "Name: value" lines by the caller. */
static obs_exporter *obs__otlp_new(int logs, int protobuf, const char *endpoint, char **headers,
                                   size_t n_headers, int timeout_ms) {
    obs__otlp *o = (obs__otlp *)obs__calloc(sizeof *o);
    if (!o) return NULL;
    o->logs = logs;
    o->protobuf = protobuf;
    o->headers = headers;
    o->n_headers = n_headers;
    o->timeout_ms = timeout_ms;
    o->endpoint = obs__strdup(endpoint);
    obs__http_conn_init(&o->conn);
    obs__http_resp_init(&o->resp);
    if (!o->endpoint || obs__url_parse(endpoint, &o->url) != 0) {
        char shown[256];
        obs__diag(1, "invalid OTLP endpoint \"%s\": want http://host[:port][/path] or https://...",
                  obs__printable(endpoint, shown, sizeof shown));
        obs__otlp_free(o);
        return NULL;
    }
    o->exp.name = "otlp";
    o->exp.export_spans = obs__otlp_spans;
    o->exp.export_logs = obs__otlp_logs;
    o->exp.shutdown = obs__otlp_free;
    o->exp.user_data = o;
    return &o->exp;
}

// ============================================================================
// >>impl:xray -- the X-Ray daemon exporter: segment documents over UDP
// ============================================================================
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <poll.h>
#include <fcntl.h>
#include <unistd.h>
/* Decisions (AWS X-Ray developer guide, "Segment documents" and "Sending trace data"):
   - One datagram per span: the header {"format": "json", "version": 1}, a newline, one
     document. Spans arrive one by one as they end (children first), so children go as
     independent subsegments ("type": "subsegment", parent_id, trace_id) rather than nested.
   - A segment is a service's entry: SERVER and CONSUMER spans, roots, and spans whose parent
     is remote (parent_id: the caller's span). Its name is the service (service.name), like
     the X-Ray SDKs and the collector's awsxray exporter; the span name goes to metadata.
   - A CLIENT subsegment is "namespace": "remote", named by server.address (X-Ray draws the
     downstream node from it), else the span name.
   - Names: at most 200 bytes; characters X-Ray does not allow become '_'.
   - Times: epoch seconds with microseconds. trace_id: "1-" + the trace id's first 8 hex +
     "-" + the other 24 (the X-Ray service wants the first 8 to be a recent Unix time).
   - http: request {method, url, user_agent, client_ip}, response {status, content_length}
     from the semantic-convention attributes (current names, then the older http.* and net.* ones);
     those attributes do not repeat as annotations.
   - error for 4xx, throttle (and error) for 429, fault for 5xx, and fault for status ERROR
     without an HTTP error; cause.exceptions from `exception` events (type, message, stack
     parsed from exception.stacktrace, at most 32 frames, the rest counted in "truncated"),
     else from an ERROR status message.
   - annotations: string, number and boolean attributes; keys reduced to [A-Za-z0-9_]; a key
     that collides after that goes to metadata; strings cut at 1000 bytes (UTF-8 boundary).
     metadata.default: arrays and collisions, original keys.
   - Too big (over OBS__XRAY_MAX_DATAGRAM): again without metadata, then without annotations
     and stacks, then with strings cut at 256 bytes (always fits); each counted as trimmed.
   - The socket is non-blocking and unconnected (sendto): a daemon that is down costs
     nothing, and a full socket buffer gets at most 20 ms before the datagram is dropped. */
#define OBS__XRAY_MAX_DATAGRAM 65000 /* header + document; < 65507, IPv4's UDP payload limit */
#define OBS__XRAY_HEADER "{\"format\": \"json\", \"version\": 1}\n"
#define OBS__XRAY_NAME_MAX 200
#define OBS__XRAY_ANNOTATION_MAX 1000
#define OBS__XRAY_SHORT 256
#define OBS__XRAY_STACK_MAX 32
#define OBS__XRAY_EXCEPTIONS_MAX 16

typedef struct obs__xray {
    obs_exporter exp;
    int fd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    size_t max_datagram;
    obs__buf out, tmp;
    uint64_t sent, trimmed, dropped; /* atomic: read by obs_xray_exporter_stats */
    int warned;
} obs__xray;

/* Attributes the http block uses; they are not repeated as annotations. */
static const char *const obs__xray_http_keys[] = {
    "http.request.method", "http.request.method_original", "http.method", "url.full", "http.url",
    "url.scheme", "http.scheme", "url.path", "url.query", "http.target", "server.address",
    "server.port", "net.host.name", "net.host.port", "net.peer.name", "net.peer.port",
    "client.address", "http.client_ip", "user_agent.original", "http.user_agent",
    "http.response.status_code", "http.status_code", "http.response.body.size",
    "http.response_content_length"};

static int obs__xray_is_http_key(const char *k) {
    size_t i;
    for (i = 0; i < sizeof obs__xray_http_keys / sizeof obs__xray_http_keys[0]; i++) {
        if (strcmp(k, obs__xray_http_keys[i]) == 0) return 1;
    }
    return 0;
}

static const obs_attr *obs__xray_get(const obs_span_data *s, const char *k, const char *old) {
    const obs_attr *a = obs_attr_find(s->attrs, s->n_attrs, k);
    return a || !old ? a : obs_attr_find(s->attrs, s->n_attrs, old);
}
static const obs_attr *obs__xray_get_str(const obs_span_data *s, const char *k, const char *old) {
    const obs_attr *a = obs__xray_get(s, k, old);
    return a && a->type == OBS_ATTR_STRING ? a : NULL;
}
/* An integer attribute (or a decimal string); def when absent. */
static int64_t obs__xray_get_int(const obs_span_data *s, const char *k, const char *old,
                                 int64_t def) {
    const obs_attr *a = obs__xray_get(s, k, old);
    if (!a) return def;
    if (a->type == OBS_ATTR_INT) return a->v.i;
    if (a->type == OBS_ATTR_DOUBLE) return a->v.d >= 0 && a->v.d < 1e15 ? (int64_t)a->v.d : def;
    if (a->type == OBS_ATTR_STRING && a->n && a->v.s[0] >= '0' && a->v.s[0] <= '9')
        return strtoll(a->v.s, NULL, 10);
    return def;
}

/* A JSON string of s[0..n) cut at cap bytes on a UTF-8 boundary. */
static void obs__xray_str(obs__buf *b, const char *s, size_t n, size_t cap) {
    obs__json_str(b, s, n > cap ? obs__utf8_cut(s, n, cap) : n);
}
/* Unix ns as seconds with six decimals. */
static void obs__xray_time(obs__buf *b, int64_t ns) {
    uint64_t u = (uint64_t)(ns < 0 ? 0 : ns), us = u / 1000 % 1000000;
    char frac[6];
    int i;
    obs__buf_u64(b, u / 1000000000);
    for (i = 5; i >= 0; i--, us /= 10) frac[i] = (char)('0' + us % 10);
    obs__buf_putc(b, '.');
    obs__buf_put(b, frac, 6);
}

/* A segment name: X-Ray allows Unicode letters and digits, whitespace and
   _ . : / % & # = + \ - @ */
static void obs__xray_name(obs__buf *b, const char *name) {
    char tmp[OBS__XRAY_NAME_MAX + 1];
    size_t n, i;
    if (!name || !name[0]) name = "unknown";
    n = obs__utf8_cut(name, strlen(name), OBS__XRAY_NAME_MAX);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        int ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || (c && strchr(" _.:/%&#=+\\-@", (int)c) != NULL);
        tmp[i] = ok ? (char)c : '_';
    }
    obs__json_str(b, tmp, n);
}

/* An annotation key: [A-Za-z0-9_] (X-Ray's filter expressions), at most 500. */
static size_t obs__xray_akey(const char *k, char *out, size_t cap) {
    size_t i;
    for (i = 0; k[i] && i + 1 < cap && i < 500; i++) {
        char c = k[i];
        out[i] =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
    }
    out[i] = 0;
    return i;
}

/* The request URL: url.full, else scheme://server.address[:port]path[?query]. */
static void obs__xray_url(obs__buf *u, const obs_span_data *s) {
    const obs_attr *full = obs__xray_get_str(s, "url.full", "http.url");
    const obs_attr *path = obs__xray_get_str(s, "url.path", NULL);
    const obs_attr *target = obs__xray_get_str(s, "http.target", NULL);
    const obs_attr *query, *scheme, *host;
    int64_t port;
    obs__buf_reset(u);
    if (full) {
        obs__buf_put(u, full->v.s, full->n);
        return;
    }
    if (!path && !target) return;
    scheme = obs__xray_get_str(s, "url.scheme", "http.scheme");
    host = obs__xray_get_str(s, "server.address", "net.host.name");
    port = obs__xray_get_int(s, "server.port", "net.host.port", 0);
    if (host) {
        obs__buf_puts(u, scheme ? scheme->v.s : "http");
        obs__buf_puts(u, memchr(host->v.s, ':', host->n) ? "://[" : "://"); /* IPv6: [::1] */
        obs__buf_put(u, host->v.s, host->n);
        if (memchr(host->v.s, ':', host->n)) obs__buf_putc(u, ']');
        if (port > 0 && !(port == 80 && (!scheme || strcmp(scheme->v.s, "http") == 0)) &&
            !(port == 443 && scheme && strcmp(scheme->v.s, "https") == 0)) {
            obs__buf_printf(u, ":%d", (int)port);
        }
    }
    if (path) {
        obs__buf_put(u, path->v.s, path->n);
        if ((query = obs__xray_get_str(s, "url.query", NULL)) != NULL && query->n) {
            obs__buf_putc(u, '?');
            obs__buf_put(u, query->v.s, query->n);
        }
    } else {
        obs__buf_put(u, target->v.s, target->n);
    }
}

/* ,"http":{...} when the span has any of it. */
static void obs__xray_http(obs__buf *b, obs__buf *tmp, const obs_span_data *s, size_t cap,
                           int64_t status) {
    const obs_attr *method = obs__xray_get_str(s, "http.request.method", "http.method");
    const obs_attr *ua = obs__xray_get_str(s, "user_agent.original", "http.user_agent");
    const obs_attr *ip = obs__xray_get_str(s, "client.address", "http.client_ip");
    int64_t length =
        obs__xray_get_int(s, "http.response.body.size", "http.response_content_length", -1);
    int req, n = 0;
    if (method && strcmp(method->v.s, "_OTHER") == 0) {
        const obs_attr *orig = obs__xray_get_str(s, "http.request.method_original", NULL);
        method = orig ? orig : method;
    }
    obs__xray_url(tmp, s);
    req = method || ua || ip || tmp->len;
    if (!req && status <= 0 && length < 0) return;
    obs__buf_puts(b, ",\"http\":{");
    if (req) {
        obs__buf_puts(b, "\"request\":{");
        if (method) {
            obs__buf_puts(b, "\"method\":");
            obs__xray_str(b, method->v.s, method->n, cap);
            n++;
        }
        if (tmp->len) {
            obs__buf_puts(b, n++ ? ",\"url\":" : "\"url\":");
            obs__xray_str(b, tmp->p, tmp->len, cap);
        }
        if (ua) {
            obs__buf_puts(b, n++ ? ",\"user_agent\":" : "\"user_agent\":");
            obs__xray_str(b, ua->v.s, ua->n, cap);
        }
        if (ip) {
            obs__buf_puts(b, n++ ? ",\"client_ip\":" : "\"client_ip\":");
            obs__xray_str(b, ip->v.s, ip->n, cap);
        }
        obs__buf_putc(b, '}');
    }
    if (status > 0 || length >= 0) {
        obs__buf_puts(b, req ? ",\"response\":{" : "\"response\":{");
        if (status > 0) {
            obs__buf_puts(b, "\"status\":");
            obs__json_i64(b, status);
        }
        if (length >= 0) {
            obs__buf_puts(b, status > 0 ? ",\"content_length\":" : "\"content_length\":");
            obs__json_i64(b, length);
        }
        obs__buf_putc(b, '}');
    }
    obs__buf_putc(b, '}');
}

/* One attribute value as plain JSON (arrays as arrays). */
static void obs__xray_value(obs__buf *b, const obs_attr *a, size_t cap) {
    size_t i;
    switch (a->type) {
    case OBS_ATTR_STRING: obs__xray_str(b, a->v.s, a->n, cap); return;
    case OBS_ATTR_BOOL: obs__buf_puts(b, a->v.b ? "true" : "false"); return;
    case OBS_ATTR_INT: obs__json_i64(b, a->v.i); return;
    case OBS_ATTR_DOUBLE: obs__json_double(b, a->v.d); return;
    default: break;
    }
    obs__buf_putc(b, '[');
    for (i = 0; i < a->n; i++) {
        if (i) obs__buf_putc(b, ',');
        if (a->type == OBS_ATTR_STRING_ARRAY) obs__xray_str(b, a->v.sa[i], strlen(a->v.sa[i]), cap);
        else if (a->type == OBS_ATTR_BOOL_ARRAY) obs__buf_puts(b, a->v.ba[i] ? "true" : "false");
        else if (a->type == OBS_ATTR_INT_ARRAY) obs__json_i64(b, a->v.ia[i]);
        else obs__json_double(b, a->v.da[i]);
    }
    obs__buf_putc(b, ']');
}

/* Does attribute i go to annotations (1), or to metadata (0)? */
static int obs__xray_is_annotation(const obs_span_data *s, size_t i) {
    char k[512], k2[512];
    size_t j;
    if (s->attrs[i].type > OBS_ATTR_DOUBLE || obs__xray_is_http_key(s->attrs[i].key)) return 0;
    obs__xray_akey(s->attrs[i].key, k, sizeof k);
    for (j = 0; j < i; j++) { /* an earlier key that reads the same after sanitising wins */
        if (s->attrs[j].type > OBS_ATTR_DOUBLE || obs__xray_is_http_key(s->attrs[j].key)) continue;
        obs__xray_akey(s->attrs[j].key, k2, sizeof k2);
        if (strcmp(k, k2) == 0) return 0;
    }
    return 1;
}

static void obs__xray_annotations(obs__buf *b, const obs_span_data *s) {
    char k[512];
    size_t i, n = 0;
    for (i = 0; i < s->n_attrs; i++) {
        if (!obs__xray_is_annotation(s, i)) continue;
        obs__buf_puts(b, n++ ? "," : ",\"annotations\":{");
        obs__xray_akey(s->attrs[i].key, k, sizeof k);
        obs__json_cstr(b, k);
        obs__buf_putc(b, ':');
        obs__xray_value(b, &s->attrs[i], OBS__XRAY_ANNOTATION_MAX);
    }
    if (n) obs__buf_putc(b, '}');
}

static void obs__xray_metadata(obs__buf *b, const obs_span_data *s, const char *span_name) {
    size_t i, n = 0;
    if (span_name) {
        obs__buf_puts(b, ",\"metadata\":{\"default\":{\"otel.span.name\":");
        obs__json_cstr(b, span_name);
        n++;
    }
    for (i = 0; i < s->n_attrs; i++) {
        if (obs__xray_is_http_key(s->attrs[i].key) || obs__xray_is_annotation(s, i)) continue;
        if (span_name && strcmp(s->attrs[i].key, "otel.span.name") == 0) continue;
        obs__buf_puts(b, n++ ? "," : ",\"metadata\":{\"default\":{");
        obs__json_cstr(b, s->attrs[i].key);
        obs__buf_putc(b, ':');
        obs__xray_value(b, &s->attrs[i], (size_t)-1);
    }
    if (n) obs__buf_puts(b, "}}");
}

/* "stack":[{"path":..,"label":..},...] from backtrace_symbols() lines: "path(label) [addr]". */
static void obs__xray_stack(obs__buf *b, const char *st, size_t n, size_t cap) {
    size_t pos = 0, frames = 0, more = 0;
    while (pos < n) {
        const char *line = st + pos, *nl = (const char *)memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) : n - pos;
        const char *open = (const char *)memchr(line, '(', len), *close;
        const char *br = NULL;
        size_t plen = len, i;
        pos += len + 1;
        if (len == 0) continue;
        if (frames == OBS__XRAY_STACK_MAX) {
            more++;
            continue;
        }
        for (i = 0; i + 1 < len; i++) {
            if (line[i] == ' ' && line[i + 1] == '[') { br = line + i; break; }
        }
        if (open) plen = (size_t)(open - line);
        else if (br) plen = (size_t)(br - line);
        obs__buf_puts(b, frames++ ? ",{\"path\":" : ",\"stack\":[{\"path\":");
        obs__xray_str(b, line, plen, cap);
        close = open ? (const char *)memchr(open, ')', len - plen) : NULL;
        if (open && close && close > open + 1) {
            obs__buf_puts(b, ",\"label\":");
            obs__xray_str(b, open + 1, (size_t)(close - open - 1), cap);
        }
        obs__buf_putc(b, '}');
    }
    if (frames) obs__buf_putc(b, ']');
    if (more) {
        obs__buf_puts(b, ",\"truncated\":");
        obs__buf_u64(b, more);
    }
}

/* An exception id: 16 hex, from the span id and the exception's index. */
static void obs__xray_exception_id(obs__buf *b, const obs_span_data *s, size_t i) {
    uint64_t st = 0, v;
    uint8_t id[8];
    memcpy(&st, s->span_id, 8);
    st += i + 1;
    v = obs__rng_next(&st);
    memcpy(id, &v, 8);
    obs__buf_puts(b, "{\"id\":\"");
    obs__hex_put(b, id, 8);
    obs__buf_putc(b, '"');
}

/* ,"cause":{"exceptions":[...]} from the span's exception events, else its ERROR message. */
static void obs__xray_cause(obs__buf *b, const obs_span_data *s, int stacks, size_t cap) {
    size_t i, n = 0;
    for (i = 0; i < s->n_events && n < OBS__XRAY_EXCEPTIONS_MAX; i++) {
        const obs_event *e = &s->events[i];
        const obs_attr *type, *msg, *st;
        if (strcmp(e->name, "exception") != 0) continue;
        type = obs_attr_find(e->attrs, e->n_attrs, "exception.type");
        msg = obs_attr_find(e->attrs, e->n_attrs, "exception.message");
        st = obs_attr_find(e->attrs, e->n_attrs, "exception.stacktrace");
        obs__buf_puts(b, n ? "," : ",\"cause\":{\"exceptions\":[");
        obs__xray_exception_id(b, s, n++);
        if (type && type->type == OBS_ATTR_STRING) {
            obs__buf_puts(b, ",\"type\":");
            obs__xray_str(b, type->v.s, type->n, cap);
        }
        if (msg && msg->type == OBS_ATTR_STRING) {
            obs__buf_puts(b, ",\"message\":");
            obs__xray_str(b, msg->v.s, msg->n, cap);
        }
        if (stacks && st && st->type == OBS_ATTR_STRING) obs__xray_stack(b, st->v.s, st->n, cap);
        obs__buf_putc(b, '}');
    }
    if (!n && s->status == OBS_STATUS_ERROR && s->status_message && s->status_message[0]) {
        obs__buf_puts(b, ",\"cause\":{\"exceptions\":[");
        obs__xray_exception_id(b, s, n++);
        obs__buf_puts(b, ",\"message\":");
        obs__xray_str(b, s->status_message, strlen(s->status_message), cap);
        obs__buf_putc(b, '}');
    }
    if (n) obs__buf_puts(b, "]}");
}

static int obs__xray_is_segment(const obs_span_data *s) {
    return !s->has_parent || s->parent_is_remote || s->kind == OBS_SPAN_KIND_SERVER ||
           s->kind == OBS_SPAN_KIND_CONSUMER;
}

/* Appends the segment document of s to b. level 0: everything; 1: no metadata; 2: also no
   annotations and no stacks; 3: also strings cut at 256 bytes. */
static void obs__xray_segment(obs__buf *b, obs__buf *tmp, const obs_span_data *s, int level) {
    int segment = obs__xray_is_segment(s);
    int remote = !segment && s->kind == OBS_SPAN_KIND_CLIENT;
    size_t cap = level >= 3 ? OBS__XRAY_SHORT : (size_t)-1, nres = 0;
    const obs_attr *res = obs_resource(&nres), *svc = NULL, *ver = NULL, *peer = NULL;
    const char *name = s->name;
    int64_t status = obs__xray_get_int(s, "http.response.status_code", "http.status_code", 0);
    if (segment) {
        svc = obs_attr_find(res, nres, "service.name");
        ver = obs_attr_find(res, nres, "service.version");
        if (svc && svc->type == OBS_ATTR_STRING && svc->n) name = svc->v.s;
    } else if (remote) {
        peer = obs__xray_get_str(s, "server.address", "net.peer.name");
        if (peer && peer->n) name = peer->v.s;
    }
    obs__buf_puts(b, "{\"name\":");
    obs__xray_name(b, name);
    obs__buf_puts(b, ",\"id\":\"");
    obs__hex_put(b, s->span_id, 8);
    obs__buf_puts(b, "\",\"trace_id\":\"1-");
    obs__hex_put(b, s->trace_id, 4);
    obs__buf_putc(b, '-');
    obs__hex_put(b, s->trace_id + 4, 12);
    obs__buf_puts(b, "\",\"start_time\":");
    obs__xray_time(b, s->start_time_ns);
    obs__buf_puts(b, ",\"end_time\":");
    obs__xray_time(b, s->end_time_ns);
    if (s->has_parent) {
        obs__buf_puts(b, ",\"parent_id\":\"");
        obs__hex_put(b, s->parent_span_id, 8);
        obs__buf_putc(b, '"');
    }
    if (!segment) obs__buf_puts(b, ",\"type\":\"subsegment\"");
    if (remote) obs__buf_puts(b, ",\"namespace\":\"remote\"");
    obs__xray_http(b, tmp, s, cap, status);
    if (status == 429) obs__buf_puts(b, ",\"error\":true,\"throttle\":true");
    else if (status >= 400 && status < 500) obs__buf_puts(b, ",\"error\":true");
    else if (status >= 500 || s->status == OBS_STATUS_ERROR) obs__buf_puts(b, ",\"fault\":true");
    obs__xray_cause(b, s, level < 2, cap);
    if (level < 2) obs__xray_annotations(b, s);
    if (level < 1) obs__xray_metadata(b, s, name != s->name ? s->name : NULL);
    if (segment) {
        if (ver && ver->type == OBS_ATTR_STRING) {
            obs__buf_puts(b, ",\"service\":{\"version\":");
            obs__xray_str(b, ver->v.s, ver->n, OBS__XRAY_SHORT);
            obs__buf_putc(b, '}');
        }
        obs__buf_puts(b,
                      ",\"aws\":{\"xray\":{\"sdk\":\"obs.h\",\"sdk_version\":\"" OBS_VERSION_STRING
                      "\"}}");
    }
    obs__buf_putc(b, '}');
}

/* The datagram of s in x->out, trimmed until it fits: returns the level used (0 = whole),
   or -1 when it cannot be built (out of memory). */
static int obs__xray_datagram(obs__xray *x, const obs_span_data *s) {
    int level;
    for (level = 0; level <= 3; level++) {
        obs__buf_reset(&x->out);
        obs__buf_puts(&x->out, OBS__XRAY_HEADER);
        obs__xray_segment(&x->out, &x->tmp, s, level);
        if (x->out.oom) return -1;
        if (x->out.len <= x->max_datagram) return level;
    }
    return -1;
}

static int obs__xray_send(obs__xray *x, int timeout_ms) {
    int tries;
    for (tries = 0; tries < 2; tries++) {
        ssize_t n =
            sendto(x->fd, x->out.p, x->out.len, 0, (const struct sockaddr *)&x->addr, x->addr_len);
        struct pollfd pfd;
        if (n == (ssize_t)x->out.len) return 1;
        if (n >= 0 ||
            (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS))
            return 0;
        pfd.fd = x->fd; /* the socket buffer is full: a short wait, once */
        pfd.events = POLLOUT;
        pfd.revents = 0;
        poll(&pfd, 1, timeout_ms > 0 && timeout_ms < 20 ? timeout_ms : 20);
    }
    return 0;
}

static obs_result obs__xray_export(void *ud, const obs_span_data *const *spans, size_t n,
                                   int timeout_ms) {
    obs__xray *x = (obs__xray *)ud;
    size_t i, failed = 0;
    for (i = 0; i < n; i++) {
        int level = obs__xray_datagram(x, spans[i]);
        if (level < 0 || !obs__xray_send(x, timeout_ms)) {
            failed++;
            OBS__ADD(&x->dropped, (uint64_t)1);
            continue;
        }
        OBS__ADD(&x->sent, (uint64_t)1);
        if (level > 0) {
            OBS__ADD(&x->trimmed, (uint64_t)1);
            if (!x->warned) {
                x->warned = 1;
                obs__diag(2, "xray: a segment over %lu bytes was sent trimmed (counted in "
                             "obs_xray_exporter_stats)", (unsigned long)x->max_datagram);
            }
        }
    }
    return failed ? OBS_ERR_NET : OBS_OK;
}

static void obs__xray_shutdown(void *ud) {
    obs__xray *x = (obs__xray *)ud;
    if (x->fd >= 0) close(x->fd);
    obs__buf_free(&x->out);
    obs__buf_free(&x->tmp);
    obs__free(x);
}

/* "host:port", "[v6]:port", or the SDK's "tcp:h:p udp:h:p" (the udp one). 1 ok. */
static int obs__xray_addr(const char *spec, char *host, size_t hcap, char *port, size_t pcap) {
    const char *tok = spec, *udp = strstr(spec, "udp:"), *end, *h, *colon = NULL, *q;
    size_t hn, pn;
    if (udp) tok = udp + 4;
    while (*tok == ' ' || *tok == '\t') tok++;
    end = tok + strcspn(tok, " \t");
    if (!udp && end[strspn(end, " \t")]) return 0; /* two addresses, neither udp: */
    if (end - tok >= 4 && memcmp(tok, "tcp:", 4) == 0) return 0;
    if (*tok == '[') {
        const char *close = (const char *)memchr(tok, ']', (size_t)(end - tok));
        if (!close || close + 1 >= end || close[1] != ':') return 0;
        h = tok + 1;
        hn = (size_t)(close - h);
        colon = close + 1;
    } else {
        for (q = tok; q < end; q++) {
            if (*q == ':') colon = q;
        }
        if (!colon) return 0;
        h = tok;
        hn = (size_t)(colon - tok);
    }
    pn = (size_t)(end - colon - 1);
    if (hn == 0 || hn >= hcap || pn == 0 || pn > 5 || pn >= pcap) return 0;
    for (q = colon + 1; q < end; q++) {
        if (*q < '0' || *q > '9') return 0;
    }
    memcpy(host, h, hn);
    host[hn] = 0;
    memcpy(port, colon + 1, pn);
    port[pn] = 0;
    return atoi(port) > 0 && atoi(port) < 65536;
}

OBSDEF obs_exporter *obs_xray_exporter_new(const char *daemon_address) {
    const char *env = getenv("AWS_XRAY_DAEMON_ADDRESS");
    const char *spec = daemon_address ? daemon_address : env && env[0] ? env : "127.0.0.1:2000";
    char host[256], port[8];
    struct addrinfo hints, *ai = NULL;
    obs__xray *x;
    int flags;
    if (!obs__xray_addr(spec, host, sizeof host, port, sizeof port)) {
        obs__diag(1, "xray: \"%.128s\" is not host:port (AWS_XRAY_DAEMON_ADDRESS); no X-Ray export",
                  spec);
        return NULL;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        obs__diag(1, "xray: cannot resolve %.128s; no X-Ray export", host);
        return NULL;
    }
    if (!(x = (obs__xray *)obs__calloc(sizeof *x)) || ai->ai_addrlen > sizeof x->addr ||
        (x->fd = socket(ai->ai_family, SOCK_DGRAM, 0)) < 0) {
        obs__diag(1, "xray: no UDP socket; no X-Ray export");
        obs__free(x);
        freeaddrinfo(ai);
        return NULL;
    }
    memcpy(&x->addr, ai->ai_addr, ai->ai_addrlen);
    x->addr_len = (socklen_t)ai->ai_addrlen;
    freeaddrinfo(ai);
    flags = fcntl(x->fd, F_GETFL, 0);
    fcntl(x->fd, F_SETFL, (flags < 0 ? 0 : flags) | O_NONBLOCK);
    fcntl(x->fd, F_SETFD, FD_CLOEXEC);
    x->max_datagram = OBS__XRAY_MAX_DATAGRAM;
    x->exp.name = "xray";
    x->exp.export_spans = obs__xray_export;
    x->exp.shutdown = obs__xray_shutdown;
    x->exp.user_data = x;
    return &x->exp;
}

OBSDEF obs_xray_stats obs_xray_exporter_stats(obs_exporter *e) {
    obs_xray_stats st;
    memset(&st, 0, sizeof st);
    if (e && e->export_spans == obs__xray_export) {
        obs__xray *x = (obs__xray *)e->user_data;
        st.segments_sent = OBS__LOAD(&x->sent);
        st.segments_trimmed = OBS__LOAD(&x->trimmed);
        st.segments_dropped = OBS__LOAD(&x->dropped);
    }
    return st;
}

// ============================================================================
// >>impl:http_spans -- HTTP server and client spans (semantic conventions), access log
// ============================================================================
/* Semantic conventions for HTTP spans (stable, v1.2x): a SERVER span is named
   "{method} {http.route}", or "{method}" without a route, a CLIENT span "{method}"; a
   method outside the known set is "_OTHER" with http.request.method_original, and "HTTP" in
   the name. Server spans: 5xx is an error (4xx is the client's); client spans: 4xx and 5xx.
   Attributes given at start go through obs_span_opts.attrs, so samplers see them. Nothing
   here allocates: names and URLs are built in stack buffers (cut on a UTF-8 boundary). */

static int obs__http_method_known(const char *m) {
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
                                        "OPTIONS", "TRACE", "PATCH", "QUERY"};
    size_t i;
    for (i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(m, known[i]) == 0) return 1;
    }
    return 0;
}

/* A string attribute over s[0..n) (not NUL-terminated: the span copies n bytes). */
static obs_attr obs__http_slice(const char *key, const char *s, size_t n) {
    obs_attr a = obs__attr_make(key, OBS_ATTR_STRING, n);
    a.v.s = s;
    return a;
}

/* Splits "name", "name:port" or "[v6]:port"; *port 0 when none. */
static void obs__http_hostport(const char *h, const char **name, size_t *nlen, int64_t *port) {
    const char *colon = strrchr(h, ':'), *end = h + strlen(h);
    *port = 0;
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        if (close) {
            *name = h + 1;
            *nlen = (size_t)(close - h - 1);
            if (close[1] == ':') *port = strtol(close + 2, NULL, 10);
            return;
        }
    }
    if (colon && strchr(h, ':') == colon &&
        strspn(colon + 1, "0123456789") == (size_t)(end - colon - 1)) {
        *port = strtol(colon + 1, NULL, 10);
        end = colon;
    }
    *name = h;
    *nlen = (size_t)(end - h);
}

/* The path of a request target: origin-form "/p?q", or absolute-form "http://h/p?q". */
static const char *obs__http_path(const char *target) {
    const char *p = target;
    if (p[0] != '/' && (p = strstr(target, "://")) != NULL) {
        p = strchr(p + 3, '/');
        return p ? p : "/";
    }
    return target;
}

OBSDEF obs_span *obs_http_server_start(obs_tracer *t, const obs_http_server_req *req) {
    OBS__ZERO(obs_http_server_req, none);
    obs_span_opts o;
    obs_attr a[12];
    size_t n = 0, plen, rlen, ml;
    char name[256];
    const char *method, *path, *q, *route;
    obs__ctx ctx;
    int known;
    if (!req) req = &none;
    method = req->method && req->method[0] ? req->method : "GET";
    path = obs__http_path(req->target && req->target[0] ? req->target : "/");
    q = strchr(path, '?');
    plen = q ? (size_t)(q - path) : strlen(path);
    known = obs__http_method_known(method);
    route = req->route && req->route[0] ? req->route : NULL;
    ml = strlen(known ? method : "HTTP"); /* "METHOD route", cut to fit */
    memcpy(name, known ? method : "HTTP", ml);
    name[ml] = 0;
    if (route) {
        rlen = obs__utf8_cut(route, strlen(route), sizeof name - ml - 2);
        name[ml] = ' ';
        memcpy(name + ml + 1, route, rlen);
        name[ml + 1 + rlen] = 0;
    }
    a[n++] = obs_attr_str("http.request.method", known ? method : "_OTHER");
    if (!known) a[n++] = obs_attr_str("http.request.method_original", method);
    a[n++] = obs__http_slice("url.path", path, plen);
    if (q && q[1]) a[n++] = obs_attr_str("url.query", q + 1);
    a[n++] = obs_attr_str("url.scheme", req->scheme ? req->scheme : "http");
    if (route) a[n++] = obs_attr_str("http.route", route);
    if (req->host && req->host[0]) {
        const char *h;
        size_t hl;
        int64_t port;
        obs__http_hostport(req->host, &h, &hl, &port);
        a[n++] = obs__http_slice("server.address", h, hl);
        if (port > 0) a[n++] = obs_attr_int("server.port", port);
    }
    if (req->client_address && req->client_address[0])
        a[n++] = obs_attr_str("client.address", req->client_address);
    if (req->user_agent && req->user_agent[0])
        a[n++] = obs_attr_str("user_agent.original", req->user_agent);
    memset(&o, 0, sizeof o);
    o.kind = OBS_SPAN_KIND_SERVER;
    o.root = 1; /* a server span's parent is remote or none, never this thread's current span */
    o.attrs = a;
    o.n_attrs = n;
    if (req->traceparent &&
        obs__traceparent_parse(req->traceparent, strlen(req->traceparent), &ctx)) {
        o.traceparent = req->traceparent;
        o.tracestate = req->tracestate;
    } else {
        o.xray_header = req->xray_header; /* an invalid traceparent counts as absent */
    }
    return obs_span_start_ex(t, name, &o);
}

OBSDEF void obs_http_server_end(obs_span *s, const obs_http_server_req *req, int status_code,
                                int64_t response_bytes) {
    obs_level level = status_code >= 500 ? OBS_LEVEL_ERROR : OBS_LEVEL_INFO;
    char code[16];
    snprintf(code, sizeof code, "%d", status_code);
    if (status_code > 0) obs_span_set_int(s, "http.response.status_code", status_code);
    if (response_bytes >= 0) obs_span_set_int(s, "http.response.body.size", response_bytes);
    if (status_code >= 500) {
        obs_span_set_str(s, "error.type", code);
        obs_span_set_status(s, OBS_STATUS_ERROR, NULL);
    }
    if (req && obs_log_enabled(level)) {
        const char *method = req->method && req->method[0] ? req->method : "GET";
        const char *target = req->target && req->target[0] ? req->target : "/";
        const char *path = obs__http_path(target), *q = strchr(path, '?');
        const char *client =
            req->client_address && req->client_address[0] ? req->client_address : "-";
        obs_attr a[5];
        size_t n = 0;
        a[n++] = obs_attr_str("http.request.method", method);
        a[n++] = obs__http_slice("url.path", path, q ? (size_t)(q - path) : strlen(path));
        a[n++] = obs_attr_int("http.response.status_code", status_code);
        if (req->client_address && req->client_address[0])
            a[n++] = obs_attr_str("client.address", client);
        if (response_bytes >= 0) a[n++] = obs_attr_int("http.response.body.size", response_bytes);
        obs_span_activate(s); /* the record joins s, whatever is current on this thread */
        obs_log_at(level, NULL, 0, NULL, a, n, "%s %s %s %s %d", client, method,
                   req->scheme ? req->scheme : "http", target, status_code);
        obs_span_deactivate(s);
    }
    obs_span_end(s);
}

OBSDEF void obs_http_inject(const obs_span *s, obs_http_headers *out) {
    const char *ts;
    if (!out) return;
    out->traceparent[0] = out->tracestate[0] = out->xray[0] = 0;
    if (!s || !obs_span_traceparent(s, out->traceparent, sizeof out->traceparent)) return;
    ts = obs_span_tracestate(s);
    if (strlen(ts) < sizeof out->tracestate) memcpy(out->tracestate, ts, strlen(ts) + 1);
    obs_span_xray_header(s, out->xray, sizeof out->xray);
}

OBSDEF obs_span *obs_http_client_start(obs_tracer *t, const char *method, const char *url,
                                       obs_http_headers *out) {
    obs_span_opts o;
    obs_attr a[6];
    size_t n = 0;
    char full[2048], hostport[300];
    const char *u = url ? url : "", *sep = strstr(u, "://"), *auth, *auth_end, *at;
    int known;
    obs_span *s;
    method = method && method[0] ? method : "GET";
    known = obs__http_method_known(method);
    a[n++] = obs_attr_str("http.request.method", known ? method : "_OTHER");
    if (!known) a[n++] = obs_attr_str("http.request.method_original", method);
    auth = sep ? sep + 3 : u;
    auth_end = auth + strcspn(auth, "/?#");
    at = (const char *)memchr(auth, '@', (size_t)(auth_end - auth));
    if (at && strlen(u) < sizeof full - 20) { /* url.full never carries credentials */
        snprintf(full, sizeof full, "%.*sREDACTED:REDACTED%s", (int)(auth - u), u, at);
        a[n++] = obs_attr_str("url.full", full);
        auth = at + 1;
    } else if (!at) {
        a[n++] = obs_attr_str("url.full", u);
    }
    if (sep && auth < auth_end) {
        const char *h;
        size_t hl;
        int64_t port;
        snprintf(hostport, sizeof hostport, "%.*s", (int)(auth_end - auth), auth);
        obs__http_hostport(hostport, &h, &hl, &port);
        if (port == 0) port = (sep - u == 5 && memcmp(u, "https", 5) == 0) ? 443 : 80;
        a[n++] = obs__http_slice("server.address", h, hl); /* copied when the span starts */
        a[n++] = obs_attr_int("server.port", port);
    }
    memset(&o, 0, sizeof o);
    o.kind = OBS_SPAN_KIND_CLIENT;
    o.attrs = a;
    o.n_attrs = n;
    s = obs_span_start_ex(t, known ? method : "HTTP", &o);
    obs_http_inject(s, out);
    return s;
}

OBSDEF void obs_http_client_end(obs_span *s, int status_code) {
    char code[16];
    if (status_code > 0) {
        obs_span_set_int(s, "http.response.status_code", status_code);
        if (status_code >= 400) {
            snprintf(code, sizeof code, "%d", status_code);
            obs_span_set_str(s, "error.type", code);
            obs_span_set_status(s, OBS_STATUS_ERROR, NULL);
        }
    } else {
        obs_span_set_str(s, "error.type", "_OTHER");
        obs_span_set_status(s, OBS_STATUS_ERROR, "no response");
    }
    obs_span_end(s);
}

// ============================================================================
// >>impl:rollbar -- Rollbar items from log records and span exceptions, rate-limited
// ============================================================================
#include <sys/utsname.h>

/* Names in the exporter lists (OTEL_TRACES_EXPORTER, OTEL_LOGS_EXPORTER). */
#define OBS__EXP_ROLLBAR 64
#define OBS__EXP_CLOUDWATCH 128

/* >>impl:env helpers (defined after this section). */
static const char *obs__env(const char *name);
static int obs__setting_int(int given, const char *name, int def, int min);
static obs_level obs__level_from(const char *v, const char *name, obs_level def);

/* ---- shared by both ---- */

/* A string resource attribute (NULL when absent or empty); valid while obs runs. */
static const char *obs__res_str(const char *key) {
    size_t n = 0;
    const obs_attr *res = obs_resource(&n);
    const obs_attr *a = res ? obs_attr_find(res, n, key) : NULL;
    return a && a->type == OBS_ATTR_STRING && a->n ? a->v.s : NULL;
}

/* The caller's setting when not empty, else the variable (NULL when unset). */
static const char *obs__given(const char *given, const char *var) {
    return given && *given ? given : obs__env(var);
}

/* The caller's setting, else the variable, else def; copied (NULL only when out of memory). */
static char *obs__setting_str(const char *given, const char *var, const char *def) {
    const char *v = given && *given ? given : var ? obs__env(var) : NULL;
    return v || def ? obs__strdup(v ? v : def) : NULL;
}

static void obs__json_bool(obs__buf *b, int v) { obs__buf_puts(b, v ? "true" : "false"); }

/* An attribute value as plain JSON (not OTLP's AnyValue): what Rollbar and Logs Insights read. */
static void obs__json_plain(obs__buf *b, const obs_attr *a) {
    size_t i;
    if (a->type == OBS_ATTR_STRING) obs__json_str(b, a->v.s, a->n);
    else if (a->type == OBS_ATTR_BOOL) obs__json_bool(b, a->v.b);
    else if (a->type == OBS_ATTR_INT) obs__json_i64(b, a->v.i);
    else if (a->type == OBS_ATTR_DOUBLE) obs__json_double(b, a->v.d);
    else {
        obs__buf_putc(b, '[');
        for (i = 0; i < a->n; i++) {
            if (i) obs__buf_putc(b, ',');
            if (a->type == OBS_ATTR_STRING_ARRAY) obs__json_cstr(b, a->v.sa[i]);
            else if (a->type == OBS_ATTR_BOOL_ARRAY) obs__json_bool(b, a->v.ba[i]);
            else if (a->type == OBS_ATTR_INT_ARRAY) obs__json_i64(b, a->v.ia[i]);
            else obs__json_double(b, a->v.da[i]);
        }
        obs__buf_putc(b, ']');
    }
}

/* `,"attributes":{...}` without the exception.* ones (the item's body has those); nothing
   when none is left. */
static void obs__json_plain_attrs(obs__buf *b, const obs_attr *a, size_t n) {
    size_t i, k = 0;
    for (i = 0; i < n; i++) {
        if (strncmp(a[i].key, "exception.", 10) == 0) continue;
        obs__buf_puts(b, k++ ? "," : ",\"attributes\":{");
        obs__json_cstr(b, a[i].key);
        obs__buf_putc(b, ':');
        obs__json_plain(b, &a[i]);
    }
    if (k) obs__buf_putc(b, '}');
}

static const char *obs__attr_s(const obs_attr *a, size_t n, const char *key) {
    const obs_attr *f = a ? obs_attr_find(a, n, key) : NULL;
    return f && f->type == OBS_ATTR_STRING ? f->v.s : NULL;
}

/* 5xx, 429 and failed connections are worth another try; other 4xx are final. */
static int obs__backend_policy(int status, const obs__http_resp *resp) {
    (void)resp;
    return status == 0 || status == 429 || status >= 500 ? OBS__RETRY : OBS__GIVE_UP;
}

/* The service's own words about a refusal ("message", else "__type"), for a diagnostic. */
static void obs__backend_why(const obs__http_resp *resp, char *out, size_t cap) {
    obs__json_find_str(resp->body.p, "\"message\"", out, cap);
    if (!out[0]) obs__json_find_str(resp->body.p, "\"__type\"", out, cap);
    if (!out[0]) snprintf(out, cap, "HTTP %d", resp->status);
}

/* ---- Rollbar ---- */
#define OBS__RB_FRAMES 64             /* frames kept of a stack trace */
#define OBS__RB_MAX_ITEM (500 * 1024) /* larger items are rebuilt without attributes */
#define OBS__RB_SEEN 64               /* recent (span, "type: message") pairs sent */

typedef struct obs__rollbar {
    obs_exporter exp;
    pthread_mutex_t lock; /* the span and the log pipeline may share one exporter */
    int refs;             /* pipelines holding it; the last shutdown frees it */
    int shared_ok;        /* made from the environment: the log pipeline may share it */
    char *endpoint;
    obs__url url;
    char *token_header;   /* "X-Rollbar-Access-Token: ..." (a secret) */
    char *environment;    /* NULL: from the resource, at export time */
    obs_level level;
    int max_per_minute;   /* <= 0: no limit */
    int timeout_ms;
    double tokens;        /* the rate limit's bucket: max_per_minute, refilled over a minute */
    int64_t refill_ms;
    uint64_t limited;     /* items dropped by the rate limit */
    int64_t limited_said_ms;
    uint64_t seen[OBS__RB_SEEN];
    unsigned seen_next;
    char platform[32];
    obs__http_conn conn;
    obs__http_resp resp;
    obs__buf body;
} obs__rollbar;

/* Rollbar's level names for a severity number. */
static const char *obs__rb_level(int sev) {
    static const char *const names[] = {"debug", "debug", "info", "warning", "error", "critical"};
    return names[sev <= 1 ? 0 : sev >= 21 ? 5 : (sev - 1) / 4]; /* TRACE and DEBUG: debug */
}

static const char *obs__rb_environment(const obs__rollbar *r) {
    const char *e = r->environment;
    if (!e) e = obs__res_str("deployment.environment.name");
    if (!e) e = obs__res_str("deployment.environment");
    return e ? e : "production";
}

/* One stack-trace frame, pointing into the trace text. */
typedef struct obs__rb_frame {
    const char *file, *method;
    size_t file_n, method_n;
    int64_t line; /* -1: unknown */
} obs__rb_frame;

static const char *obs__mem_find(const char *s, size_t n, const char *what) {
    size_t w = strlen(what), i;
    for (i = 0; i + w <= n; i++) {
        if (memcmp(s + i, what, w) == 0) return s + i;
    }
    return NULL;
}

/* A line of a stack trace as a frame: glibc's backtrace_symbols ("file(func+0x1d) [0x..]"),
   Python ('File "f.py", line 3, in g'), a bare address ("0x4011d6": in the executable), else
   the whole line as the file. 0 for a blank line. */
static int obs__rb_parse_frame(const char *s, size_t n, const char *exe, obs__rb_frame *f) {
    const char *p, *q, *end;
    memset(f, 0, sizeof *f);
    f->line = -1;
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    if (!n) return 0;
    end = s + n;
    q = n > 6 && memcmp(s, "File \"", 6) == 0 ? (const char *)memchr(s + 6, '"', n - 6) : NULL;
    if (q) { /* Python */
        f->file = s + 6;
        f->file_n = (size_t)(q - f->file);
        if ((p = obs__mem_find(q, (size_t)(end - q), ", line ")) != NULL) {
            const char *e;
            f->line = obs__num(p + 7, 10, &e);
        }
        if ((p = obs__mem_find(q, (size_t)(end - q), ", in ")) != NULL) {
            f->method = p + 5;
            f->method_n = (size_t)(end - f->method);
        }
        return 1;
    }
    if (n > 2 && s[0] == '0' && s[1] == 'x') {
        for (p = s + 2; p < end && strchr("0123456789abcdefABCDEF", *p); p++) {
        }
        if (p == end) {
            f->file = exe;
            f->file_n = strlen(exe);
            f->method = s;
            f->method_n = n;
            return 1;
        }
    }
    p = (const char *)memchr(s, '(', n);
    q = p ? (const char *)memchr(p, ')', (size_t)(end - p)) : NULL;
    if (p && q) { /* glibc */
        const char *plus = (const char *)memchr(p + 1, '+', (size_t)(q - p - 1));
        f->file = p > s ? s : exe;
        f->file_n = p > s ? (size_t)(p - s) : strlen(exe);
        f->method = p + 1;
        f->method_n = (size_t)((plus ? plus : q) - f->method);
        if (!f->method_n) { /* no symbol ("(+0x1136)"): the address in [...], else the offset */
            const char *b1 = (const char *)memchr(q, '[', (size_t)(end - q));
            const char *b2 = b1 ? (const char *)memchr(b1, ']', (size_t)(end - b1)) : NULL;
            f->method = b2 ? b1 + 1 : p + 1;
            f->method_n = (size_t)(b2 ? b2 - f->method : q - f->method);
        }
        return 1;
    }
    f->file = s;
    f->file_n = n;
    return 1;
}

static void obs__rb_put_frame(obs__buf *b, const obs__rb_frame *f) {
    OBS__PUTL(b, "{\"filename\":");
    obs__json_str(b, f->file_n ? f->file : "(unknown)", f->file_n ? f->file_n : 9);
    if (f->line >= 0) {
        OBS__PUTL(b, ",\"lineno\":");
        obs__json_i64(b, f->line);
    }
    if (f->method_n) {
        OBS__PUTL(b, ",\"method\":");
        obs__json_str(b, f->method, f->method_n);
    }
    obs__buf_putc(b, '}');
}

/* `"frames":[...]`, most recent call last (Rollbar's order). C, Java and JavaScript traces put
   the most recent call first; Python's ("Traceback ...") already last, and only its
   `File "..."` lines are frames. With no trace: one frame from `fallback`. */
static void obs__rb_frames(obs__buf *b, const char *st, const char *exe,
                           const obs__rb_frame *fallback) {
    const char *line[OBS__RB_FRAMES];
    size_t len[OBS__RB_FRAMES], k = 0, i, n;
    int python = st && strncmp(st + strspn(st, " \t\r\n"), "Traceback", 9) == 0;
    obs__rb_frame f;
    for (; st && *st && k < OBS__RB_FRAMES; st += n + (st[n] != 0)) {
        n = strcspn(st, "\n");
        if (python && !obs__mem_find(st, n, "File \"")) continue;
        if (!obs__rb_parse_frame(st, n, exe, &f)) continue;
        line[k] = st;
        len[k++] = n;
    }
    OBS__PUTL(b, "\"frames\":[");
    for (i = 0; i < k; i++) {
        size_t j = python ? i : k - 1 - i;
        if (i) obs__buf_putc(b, ',');
        obs__rb_parse_frame(line[j], len[j], exe, &f);
        obs__rb_put_frame(b, &f);
    }
    if (!k) obs__rb_put_frame(b, fallback);
    obs__buf_putc(b, ']');
}

/* A random (version 4) UUID: Rollbar drops a second item with the same one, so a request
   retried after a lost response does not count twice. */
static void obs__rb_uuid(obs__buf *b) {
    uint8_t u[16];
    uint64_t x = obs__os_random64(), y = obs__os_random64();
    char s[37];
    int i, k = 0;
    memcpy(u, &x, 8);
    memcpy(u + 8, &y, 8);
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s[k++] = '-';
        obs__hex_encode(u + i, 1, s + k);
        k += 2;
    }
    s[k] = 0;
    obs__buf_puts(b, s);
}

/* An item's text up to its body: {"data":{"environment":...,"notifier":{...}, */
static void obs__rb_head(const obs__rollbar *r, obs__buf *b, const char *level, int64_t time_ns,
                         const char *context) {
    const char *host = obs__res_str("host.name"), *version = obs__res_str("service.version");
    OBS__PUTL(b, "{\"data\":{\"environment\":");
    obs__json_cstr(b, obs__rb_environment(r));
    OBS__PUTL(b, ",\"level\":\"");
    obs__buf_puts(b, level);
    OBS__PUTL(b, "\",\"timestamp\":");
    obs__json_i64(b, time_ns / 1000000000);
    OBS__PUTL(b, ",\"platform\":");
    obs__json_cstr(b, r->platform);
    OBS__PUTL(b, ",\"language\":\"c\",\"uuid\":\"");
    obs__rb_uuid(b);
    OBS__PUTL(b, "\",\"server\":{\"host\":");
    obs__json_cstr(b, host ? host : "unknown");
    obs__buf_putc(b, '}');
    if (version) {
        OBS__PUTL(b, ",\"code_version\":");
        obs__json_cstr(b, version);
    }
    if (context) {
        OBS__PUTL(b, ",\"context\":");
        obs__json_cstr(b, context);
    }
    OBS__PUTL(b, ",\"notifier\":{\"name\":\"obs.h\",\"version\":\"" OBS_VERSION_STRING "\"},");
}

/* `"custom":{...}}}`: the ids that join the item to its trace, the service, the attributes. */
static void obs__rb_tail(obs__buf *b, const uint8_t *trace_id, const uint8_t *span_id,
                         const obs_attr *attrs, size_t n_attrs) {
    const char *svc = obs__res_str("service.name");
    OBS__PUTL(b, ",\"custom\":{\"service.name\":");
    obs__json_cstr(b, svc ? svc : "unknown_service");
    if (!obs__id_is_zero(trace_id, 16)) {
        OBS__PUTL(b, ",\"trace_id\":\"");
        obs__hex_put(b, trace_id, 16);
        OBS__PUTL(b, "\",\"span_id\":\"");
        obs__hex_put(b, span_id, 8);
        obs__buf_putc(b, '"');
    }
    obs__json_plain_attrs(b, attrs, n_attrs);
    OBS__PUTL(b, "}}}");
}

/* `"body":{"trace":{"frames":[...],"exception":{"class":...,"message":...}}}` */
static void obs__rb_trace(obs__buf *b, const char *cls, const char *msg, size_t msg_n,
                          const char *st, const char *exe, const obs__rb_frame *fallback) {
    OBS__PUTL(b, "\"body\":{\"trace\":{");
    obs__rb_frames(b, st, exe, fallback);
    OBS__PUTL(b, ",\"exception\":{\"class\":");
    obs__json_cstr(b, cls);
    OBS__PUTL(b, ",\"message\":");
    obs__json_str(b, msg, msg_n);
    OBS__PUTL(b, "}}}");
}

/* A frame from the code.* attributes, for an item without a stack trace. */
static void obs__rb_fallback(obs__rb_frame *f, const obs_attr *a, size_t n, const char *exe,
                             const char *method) {
    const obs_attr *line = a ? obs_attr_find(a, n, "code.line.number") : NULL;
    const char *file = obs__attr_s(a, n, "code.file.path");
    const char *fn = obs__attr_s(a, n, "code.function.name");
    memset(f, 0, sizeof *f);
    f->file = file ? file : exe;
    f->file_n = strlen(f->file);
    f->line = line && line->type == OBS_ATTR_INT ? line->v.i : -1;
    f->method = fn ? fn : method;
    f->method_n = f->method ? strlen(f->method) : 0;
}

/* FNV-1a over the span id and "type: message": obs_report_error makes an `exception` event and
   an ERROR record "type: message" in the same span; with both signals here, one item. The
   low bit says which signal sent it: only the other one's copy is skipped. */
static uint64_t obs__rb_key(int logs, const uint8_t *span_id, const char *a, const char *sep,
                            const char *c) {
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[3];
    int i;
    const char *s;
    for (i = 0; i < 8; i++) h = (h ^ span_id[i]) * 0x100000001b3ULL;
    parts[0] = a, parts[1] = sep, parts[2] = c;
    for (i = 0; i < 3; i++) {
        for (s = parts[i]; s && *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    }
    return (h & ~(uint64_t)1) | (uint64_t)(logs != 0);
}
/* 1 when the other signal sent the pair lately (skip it), else remembers it. Outside a span: 0. */
static int obs__rb_seen(obs__rollbar *r, const uint8_t *span_id, uint64_t key) {
    unsigned i;
    if (obs__id_is_zero(span_id, 8)) return 0;
    for (i = 0; i < OBS__RB_SEEN; i++) {
        if (r->seen[i] == (key ^ 1)) return 1;
    }
    r->seen[r->seen_next++ % OBS__RB_SEEN] = key;
    return 0;
}

/* The rate limit: a bucket of max_per_minute items, refilled evenly over a minute. */
static int obs__rb_allow(obs__rollbar *r) {
    int64_t now = obs__mono_ms();
    if (r->max_per_minute <= 0) return 1;
    r->tokens += (double)(now - r->refill_ms) * r->max_per_minute / 60000.0;
    if (r->tokens > r->max_per_minute) r->tokens = r->max_per_minute;
    r->refill_ms = now;
    if (r->tokens >= 1.0) {
        r->tokens -= 1.0;
        return 1;
    }
    r->limited++;
    if (!r->limited_said_ms || now - r->limited_said_ms >= 60000) {
        r->limited_said_ms = now;
        obs__diag(2, "rollbar: more than %d items a minute (OBS_ROLLBAR_MAX_PER_MINUTE); dropping "
                     "(%llu so far)", r->max_per_minute, (unsigned long long)r->limited);
    }
    return 0;
}

/* Sends r->body. 1 sent, 0 refused or dropped (go on with the next item), -1 stop the
   batch (timed out, network down, or the token refused: the next item would fare no better). */
static int obs__rb_send(obs__rollbar *r, int64_t deadline_ms, obs_result *worst) {
    obs__http_req req;
    const char *hdr[1];
    char why[160];
    obs_result rc;
    if (r->body.oom) return 0;
    memset(&req, 0, sizeof req);
    hdr[0] = r->token_header;
    req.url = &r->url;
    req.content_type = "application/json";
    req.headers = hdr;
    req.n_headers = 1;
    req.body = r->body.p;
    req.body_len = r->body.len;
    rc = obs__post_retry(&r->conn, &req, &r->resp, obs__backend_policy, "rollbar", 1, "item",
                         deadline_ms);
    if (rc == OBS_OK) return 1;
    if (r->resp.status >= 400) {
        obs__backend_why(&r->resp, why, sizeof why);
        obs__diag(1, "rollbar: item refused: %s", why);
    }
    if (rc == OBS_ERR_TIMEOUT || r->resp.status == 0 || r->resp.status == 401 ||
        r->resp.status == 403) {
        *worst = rc;
        return -1;
    }
    return 0;
}

/* Builds the item with `build`, lean (no attributes, message cut) when it is too big. */
typedef void (*obs__rb_build_fn)(const obs__rollbar *r, obs__buf *b, const void *item,
                                 const void *extra, int lean);
static void obs__rb_make(obs__rollbar *r, obs__rb_build_fn build, const void *item,
                         const void *extra) {
    obs__buf_reset(&r->body);
    build(r, &r->body, item, extra, 0);
    if (r->body.len > OBS__RB_MAX_ITEM) {
        obs__buf_reset(&r->body);
        build(r, &r->body, item, extra, 1);
    }
}

static size_t obs__rb_cut(const char *s, int lean) {
    size_t n = strlen(s);
    return lean ? obs__utf8_cut(s, n, 65536) : n;
}

static void obs__rb_build_log(const obs__rollbar *r, obs__buf *b, const void *item,
                              const void *extra, int lean) {
    const obs_log_data *d = (const obs_log_data *)item;
    const char *exe = obs__res_str("process.executable.name");
    const char *type = obs__attr_s(d->attrs, d->n_attrs, "exception.type");
    const char *st = obs__attr_s(d->attrs, d->n_attrs, "exception.stacktrace");
    const char *msg = obs__attr_s(d->attrs, d->n_attrs, "exception.message");
    (void)extra;
    exe = exe ? exe : "unknown";
    obs__rb_head(r, b, obs__rb_level((int)d->level), d->time_ns, NULL);
    if (type || st) {
        obs__rb_frame fb;
        obs__rb_fallback(&fb, d->attrs, d->n_attrs, exe, NULL);
        msg = msg ? msg : d->body;
        obs__rb_trace(b, type ? type : obs_level_name(d->level), msg, obs__rb_cut(msg, lean), st,
                      exe, &fb);
    } else {
        OBS__PUTL(b, "\"body\":{\"message\":{\"body\":");
        obs__json_str(b, d->body, obs__rb_cut(d->body, lean));
        OBS__PUTL(b, "}}");
    }
    obs__rb_tail(b, d->trace_id, d->span_id, d->attrs, lean ? 0 : d->n_attrs);
}

static void obs__rb_build_exception(const obs__rollbar *r, obs__buf *b, const void *item,
                                    const void *extra, int lean) {
    const obs_span_data *s = (const obs_span_data *)item;
    const obs_event *e = (const obs_event *)extra;
    const char *exe = obs__res_str("process.executable.name");
    const char *type = obs__attr_s(e->attrs, e->n_attrs, "exception.type");
    const char *msg = obs__attr_s(e->attrs, e->n_attrs, "exception.message");
    const char *st = obs__attr_s(e->attrs, e->n_attrs, "exception.stacktrace");
    obs__rb_frame fb;
    exe = exe ? exe : "unknown";
    obs__rb_fallback(&fb, s->attrs, s->n_attrs, exe, s->name);
    obs__rb_head(r, b, "error", e->time_ns, s->name);
    msg = msg ? msg : "";
    obs__rb_trace(b, type ? type : "error", msg, obs__rb_cut(msg, lean), st, exe, &fb);
    obs__rb_tail(b, s->trace_id, s->span_id, s->attrs, lean ? 0 : s->n_attrs);
}

static obs_result obs__rb_logs(void *ud, const obs_log_data *const *recs, size_t n,
                               int timeout_ms) {
    obs__rollbar *r = (obs__rollbar *)ud;
    int64_t deadline = obs__deadline(r->timeout_ms, timeout_ms);
    obs_result worst = OBS_OK;
    size_t i;
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < n; i++) {
        const obs_log_data *d = recs[i];
        if ((int)d->level < (int)r->level) continue;
        if (obs__rb_seen(r, d->span_id, obs__rb_key(1, d->span_id, d->body, "", ""))) continue;
        if (!obs__rb_allow(r)) {
            obs__count_global(OBS__C_LOG_REJECTED, 1);
            continue;
        }
        obs__rb_make(r, obs__rb_build_log, d, NULL);
        if (obs__rb_send(r, deadline, &worst) < 0) break;
    }
    pthread_mutex_unlock(&r->lock);
    return worst;
}

static obs_result obs__rb_spans(void *ud, const obs_span_data *const *spans, size_t n,
                                int timeout_ms) {
    obs__rollbar *r = (obs__rollbar *)ud;
    int64_t deadline = obs__deadline(r->timeout_ms, timeout_ms);
    obs_result worst = OBS_OK;
    size_t i, j;
    int stop = 0;
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < n && !stop; i++) {
        const obs_span_data *s = spans[i];
        int dropped = 0;
        for (j = 0; j < s->n_events && !stop; j++) {
            const obs_event *e = &s->events[j];
            const char *type, *msg;
            uint64_t key;
            if (!e->name || strcmp(e->name, "exception") != 0) continue;
            type = obs__attr_s(e->attrs, e->n_attrs, "exception.type");
            msg = obs__attr_s(e->attrs, e->n_attrs, "exception.message");
            key = obs__rb_key(0, s->span_id, type ? type : "error", ": ", msg ? msg : "");
            if (obs__rb_seen(r, s->span_id, key)) continue;
            if (!obs__rb_allow(r)) {
                dropped = 1;
                continue;
            }
            obs__rb_make(r, obs__rb_build_exception, s, e);
            stop = obs__rb_send(r, deadline, &worst) < 0;
        }
        if (dropped) obs__count_global(OBS__C_SPAN_REJECTED, 1);
    }
    pthread_mutex_unlock(&r->lock);
    return worst;
}

static void obs__rb_free(obs__rollbar *r) {
    if (r->limited) {
        obs__diag(2, "rollbar: %llu items dropped over the rate limit",
                  (unsigned long long)r->limited);
    }
    obs__http_conn_close(&r->conn);
    obs__http_resp_free(&r->resp);
    obs__buf_free(&r->body);
    obs__free(r->endpoint);
    obs__free(r->token_header);
    obs__free(r->environment);
    pthread_mutex_destroy(&r->lock);
    obs__free(r);
}

static void obs__rb_shutdown(void *ud) {
    obs__rollbar *r = (obs__rollbar *)ud;
    int left;
    pthread_mutex_lock(&r->lock);
    left = --r->refs;
    pthread_mutex_unlock(&r->lock);
    if (left <= 0) obs__rb_free(r);
}

OBSDEF obs_exporter *obs_rollbar_exporter_new(const obs_rollbar_config *c) {
    OBS__ZERO(obs_rollbar_config, none);
    obs__rollbar *r;
    const char *token, *env;
    struct utsname un;
    size_t i;
    if (!c) c = &none;
    token = obs__given(c->access_token, "ROLLBAR_ACCESS_TOKEN");
    if (!token || obs__has_ctl(token)) {
        obs__diag(1, "rollbar: %s; no Rollbar export",
                  token ? "the access token holds a control character"
                        : "no access token (ROLLBAR_ACCESS_TOKEN)");
        return NULL;
    }
    if (!(r = (obs__rollbar *)obs__calloc(sizeof *r))) return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->refs = 1;
    obs__http_conn_init(&r->conn);
    obs__http_resp_init(&r->resp);
    r->endpoint = obs__setting_str(c->endpoint, "OBS_ROLLBAR_ENDPOINT",
                                   "https://api.rollbar.com/api/1/item/");
    env = obs__given(c->environment, "OBS_ROLLBAR_ENVIRONMENT");
    r->environment = env ? obs__strdup(env) : NULL;
    i = strlen(token) + 25;
    if ((r->token_header = (char *)obs__alloc(i)) != NULL) {
        snprintf(r->token_header, i, "X-Rollbar-Access-Token: %s", token);
    }
    if (!r->endpoint || !r->token_header || (env && !r->environment)) {
        obs__rb_free(r);
        return NULL;
    }
    if (obs__url_parse(r->endpoint, &r->url) != 0) {
        char shown[256]; /* a URL's password is not shown */
        obs__diag(1, "rollbar: invalid endpoint \"%s\"; no Rollbar export",
                  obs__printable(r->endpoint, shown, sizeof shown));
        obs__rb_free(r);
        return NULL;
    }
    r->level = c->level ? c->level
                        : obs__level_from(obs__env("OBS_ROLLBAR_LEVEL"), "OBS_ROLLBAR_LEVEL",
                                          OBS_LEVEL_ERROR);
    r->max_per_minute = c->max_per_minute;
    if (!r->max_per_minute) {
        r->max_per_minute = obs__setting_int(0, "OBS_ROLLBAR_MAX_PER_MINUTE", 30, 0);
    }
    r->timeout_ms = obs__setting_int(c->timeout_ms, "OBS_ROLLBAR_TIMEOUT", 10000, 0);
    r->tokens = r->max_per_minute > 0 ? r->max_per_minute : 0;
    r->refill_ms = obs__mono_ms();
    snprintf(r->platform, sizeof r->platform, "%.31s", uname(&un) == 0 ? un.sysname : "unix");
    for (i = 0; r->platform[i]; i++) { /* "Linux" -> "linux" */
        char ch = r->platform[i];
        if (ch >= 'A' && ch <= 'Z') r->platform[i] = (char)(ch + 32);
    }
    r->exp.name = "rollbar";
    r->exp.export_spans = obs__rb_spans;
    r->exp.export_logs = obs__rb_logs;
    r->exp.shutdown = obs__rb_shutdown;
    r->exp.user_data = r;
    return &r->exp;
}

/* For `rollbar` in OTEL_LOGS_EXPORTER: the span pipeline's Rollbar exporter when it has one
   from the environment (one rate limit; obs_report_error's event and record one item), else
   a new one. Called by obs_init before any export runs. */
static obs_exporter *obs__rollbar_for_pipeline(int logs) {
    obs_exporter *e;
    int i;
    for (i = 0; logs && i < obs__g.nprocs[OBS__SPANS]; i++) {
        e = obs__g.procs[OBS__SPANS][i]->exp;
        if (e->shutdown == obs__rb_shutdown && ((obs__rollbar *)e->user_data)->shared_ok) {
            obs__rollbar *r = (obs__rollbar *)e->user_data;
            pthread_mutex_lock(&r->lock);
            r->refs++;
            pthread_mutex_unlock(&r->lock);
            return e;
        }
    }
    if ((e = obs_rollbar_exporter_new(NULL)) != NULL) ((obs__rollbar *)e->user_data)->shared_ok = 1;
    return e;
}

// ============================================================================
// >>impl:cloudwatch -- CloudWatch Logs PutLogEvents, signed by curl --aws-sigv4
// ============================================================================
#define OBS__CW_EVENTS 10000                   /* events a PutLogEvents call */
#define OBS__CW_BYTES 1048576                  /* bytes a call: messages + 26 each */
#define OBS__CW_OVERHEAD 26
#define OBS__CW_EVENT_MAX (262144 - OBS__CW_OVERHEAD) /* message bytes an event (AWS now
                                                         takes 1 MB; older limit kept) */
#define OBS__CW_SPAN_MS (24LL * 3600 * 1000)   /* a call's events span less than 24 h */

typedef struct obs__cw_event {
    int64_t ts_ms;
    size_t seq;      /* order of arrival: ties keep it */
    size_t off, len; /* the message, in msgs */
} obs__cw_event;

typedef struct obs__cloudwatch {
    obs_exporter exp;
    char *endpoint;
    obs__url url;
    char *group, *stream; /* NULL: from the resource at the first export */
    char *sigv4;          /* "aws:amz:<region>:logs" */
    char *user;           /* "<key id>:<secret>": curl's config pipe only */
    char *token_header;   /* "X-Amz-Security-Token: ..." or NULL */
    obs_level level;
    int timeout_ms;
    obs__http_conn conn;
    obs__http_resp resp;
    obs__buf msgs, body;
    obs__cw_event *ev;
    size_t ev_cap;
} obs__cloudwatch;

/* 5xx, 429 and ThrottlingException: retried; a missing stream or group, or one that exists
   already: the caller's business; the rest is final. */
static int obs__cw_policy(int status, const obs__http_resp *resp) {
    const char *b = resp->body.p ? resp->body.p : "";
    if (status == 0 || status == 429 || status >= 500) return OBS__RETRY;
    if (strstr(b, "ThrottlingException")) return OBS__RETRY; /* AWS throttles with a 400 */
    if (strstr(b, "ResourceNotFoundException")) return OBS__TO_CALLER;
    if (strstr(b, "ResourceAlreadyExistsException")) return OBS__TO_CALLER;
    return OBS__GIVE_UP;
}

/* One Logs API call (target "PutLogEvents", ...) with c->body, signed by curl. */
static obs_result obs__cw_call(obs__cloudwatch *c, const char *target, size_t n,
                               int64_t deadline_ms) {
    obs__http_req req;
    const char *hdr[2];
    char t[64], what[48];
    memset(&req, 0, sizeof req);
    snprintf(t, sizeof t, "X-Amz-Target: Logs_20140328.%s", target);
    hdr[0] = t;
    hdr[1] = c->token_header;
    req.url = &c->url;
    req.content_type = "application/x-amz-json-1.1";
    req.headers = hdr;
    req.n_headers = c->token_header ? 2 : 1;
    req.body = c->body.p;
    req.body_len = c->body.len;
    req.aws_sigv4 = c->sigv4;
    req.user = c->user;
    snprintf(what, sizeof what, "%s request", target); /* "dropping 1 CreateLogGroup request" */
    return obs__post_retry(&c->conn, &req, &c->resp, obs__cw_policy, "cloudwatch", n ? n : 1,
                           n ? "log records" : what, deadline_ms);
}

static int obs__cw_has(const obs__cloudwatch *c, const char *what) {
    return c->resp.status == 400 && c->resp.body.p && strstr(c->resp.body.p, what) != NULL;
}

/* CreateLogStream, and CreateLogGroup first when the group is missing too. */
static obs_result obs__cw_create(obs__cloudwatch *c, int64_t deadline_ms, int group) {
    obs_result r;
    obs__buf_reset(&c->body);
    OBS__PUTL(&c->body, "{\"logGroupName\":");
    obs__json_cstr(&c->body, c->group);
    if (!group) {
        OBS__PUTL(&c->body, ",\"logStreamName\":");
        obs__json_cstr(&c->body, c->stream);
    }
    obs__buf_putc(&c->body, '}');
    if (c->body.oom) return OBS_ERR_NOMEM;
    r = obs__cw_call(c, group ? "CreateLogGroup" : "CreateLogStream", 0, deadline_ms);
    if (r == OBS_OK) {
        obs__diag(3, "cloudwatch: made log %s \"%.200s\"", group ? "group" : "stream",
                  group ? c->group : c->stream);
    }
    if (r != OBS_OK && obs__cw_has(c, "ResourceAlreadyExistsException")) r = OBS_OK; /* a race */
    if (r != OBS_OK && !group && obs__cw_has(c, "ResourceNotFoundException")) {
        r = obs__cw_create(c, deadline_ms, 1);
        if (r == OBS_OK) r = obs__cw_create(c, deadline_ms, 0);
    }
    return r;
}

/* A number in a JSON response, -1 when absent. */
static int64_t obs__json_find_i64(const char *body, const char *key) {
    const char *p = body ? strstr(body, key) : NULL, *e;
    if (!p) return -1;
    p += strlen(key);
    p += strspn(p, "\": \t\r\n");
    return obs__num(p, 10, &e);
}

/* PutLogEvents' rejectedLogEventsInfo: events too old, expired or too new, counted. */
static void obs__cw_rejected(const obs__cloudwatch *c, size_t n) {
    const char *b = c->resp.body.p ? strstr(c->resp.body.p, "rejectedLogEventsInfo") : NULL;
    int64_t old, exp, nw;
    size_t lo = 0, hi = n, bad;
    if (!b) return;
    old = obs__json_find_i64(b, "\"tooOldLogEventEndIndex\"");
    exp = obs__json_find_i64(b, "\"expiredLogEventEndIndex\"");
    nw = obs__json_find_i64(b, "\"tooNewLogEventStartIndex\"");
    if (old >= 0) lo = (size_t)old + 1;
    if (exp >= 0 && (size_t)exp + 1 > lo) lo = (size_t)exp + 1;
    if (nw >= 0 && (size_t)nw < hi) hi = (size_t)nw;
    if (lo > n) lo = n;
    bad = lo + (n - (hi > lo ? hi : lo));
    if (!bad) return;
    obs__count_global(OBS__C_LOG_REJECTED, bad);
    obs__diag(2, "cloudwatch: %lu of %lu log events refused (older than the retention or 14 days, "
                 "or more than 2 hours ahead)", (unsigned long)bad, (unsigned long)n);
}

/* One PutLogEvents call for ev[0..n) (sorted, within the limits). */
static obs_result obs__cw_put(obs__cloudwatch *c, const obs__cw_event *ev, size_t n,
                              int64_t deadline_ms) {
    obs_result r;
    char why[160];
    size_t i;
    int made = 0;
    for (;;) {
        obs__buf_reset(&c->body);
        OBS__PUTL(&c->body, "{\"logGroupName\":");
        obs__json_cstr(&c->body, c->group);
        OBS__PUTL(&c->body, ",\"logStreamName\":");
        obs__json_cstr(&c->body, c->stream);
        OBS__PUTL(&c->body, ",\"logEvents\":[");
        for (i = 0; i < n; i++) {
            if (i) obs__buf_putc(&c->body, ',');
            OBS__PUTL(&c->body, "{\"timestamp\":");
            obs__json_i64(&c->body, ev[i].ts_ms);
            OBS__PUTL(&c->body, ",\"message\":");
            obs__json_str(&c->body, c->msgs.p + ev[i].off, ev[i].len);
            obs__buf_putc(&c->body, '}');
        }
        OBS__PUTL(&c->body, "]}");
        if (c->body.oom) return OBS_ERR_NOMEM;
        r = obs__cw_call(c, "PutLogEvents", n, deadline_ms);
        if (r == OBS_OK) {
            obs__cw_rejected(c, n);
            return OBS_OK;
        }
        if (made || !obs__cw_has(c, "ResourceNotFoundException")) break;
        made = 1; /* the stream (or group) is missing: make it, then once more */
        if (obs__cw_create(c, deadline_ms, 0) != OBS_OK) break;
    }
    if (c->resp.status >= 400) {
        obs__backend_why(&c->resp, why, sizeof why);
        obs__diag(1, "cloudwatch: %lu log records refused: %s", (unsigned long)n, why);
    }
    return r;
}

/* The end of the call that starts at ev[start]: at most 10,000 events and 1,048,576 bytes
   (26 an event), less than 24 hours from the first to the last. */
static size_t obs__cw_batch_end(const obs__cw_event *ev, size_t start, size_t k) {
    size_t end, bytes = 0;
    for (end = start; end < k; end++) {
        size_t cost = ev[end].len + OBS__CW_OVERHEAD;
        if (end - start == OBS__CW_EVENTS || bytes + cost > OBS__CW_BYTES ||
            ev[end].ts_ms - ev[start].ts_ms >= OBS__CW_SPAN_MS) break;
        bytes += cost;
    }
    return end;
}

static int obs__cw_order(const void *a, const void *b) {
    const obs__cw_event *x = (const obs__cw_event *)a, *y = (const obs__cw_event *)b;
    if (x->ts_ms != y->ts_ms) return x->ts_ms < y->ts_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A record as an event message: a JSON object Logs Insights splits into fields, with the
   field names of the Collector's awscloudwatchlogs exporter (body, severity_number,
   severity_text, trace_id, span_id, attributes, resource), so one query serves both ways
   there; xray_trace_id added. The body is cut to body_max bytes; attrs 0 leaves the
   attributes out. */
static void obs__cw_message(obs__buf *b, const obs_log_data *d, size_t body_max, int attrs) {
    const char *svc = obs__res_str("service.name");
    size_t body_n = obs__utf8_cut(d->body, strlen(d->body), body_max);
    OBS__PUTL(b, "{\"body\":");
    obs__json_str(b, d->body, body_n);
    OBS__PUTL(b, ",\"severity_number\":");
    obs__json_i64(b, (int64_t)d->level);
    OBS__PUTL(b, ",\"severity_text\":\"");
    obs__buf_puts(b, obs_level_name(d->level));
    obs__buf_putc(b, '"');
    if (!obs__id_is_zero(d->trace_id, 16)) {
        OBS__PUTL(b, ",\"trace_id\":\"");
        obs__hex_put(b, d->trace_id, 16);
        OBS__PUTL(b, "\",\"span_id\":\"");
        obs__hex_put(b, d->span_id, 8);
        OBS__PUTL(b, "\",\"xray_trace_id\":\"1-"); /* the X-Ray console's form of the same id */
        obs__hex_put(b, d->trace_id, 4);
        obs__buf_putc(b, '-');
        obs__hex_put(b, d->trace_id + 4, 12);
        obs__buf_putc(b, '"');
    }
    if (attrs) obs__json_plain_attrs(b, d->attrs, d->n_attrs);
    OBS__PUTL(b, ",\"resource\":{\"service.name\":");
    obs__json_cstr(b, svc ? svc : "unknown_service");
    OBS__PUTL(b, "}}");
}

/* Names made from the resource when not given: group service.name, stream
   host/executable/pid; characters the API refuses become '_'. */
static char *obs__cw_name(int stream) {
    const char *host = obs__res_str("host.name"), *exe = obs__res_str("process.executable.name");
    const char *svc = obs__res_str("service.name");
    obs__buf b;
    size_t i;
    memset(&b, 0, sizeof b);
    if (stream) {
        obs__buf_printf(&b, "%s/%s/%ld", host ? host : "host", exe ? exe : "process",
                        (long)getpid());
    } else {
        obs__buf_puts(&b, svc ? svc : "unknown_service");
    }
    for (i = 0; b.p && i < b.len; i++) {
        char ch = b.p[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 strchr("_-/.#", ch) != NULL;
        if (!ok || (stream && (ch == ':' || ch == '*'))) b.p[i] = '_';
    }
    if (b.p && b.len > 512) b.p[512] = 0;
    return b.oom ? (obs__buf_free(&b), (char *)NULL) : b.p;
}

static obs_result obs__cw_logs(void *ud, const obs_log_data *const *recs, size_t n,
                               int timeout_ms) {
    obs__cloudwatch *c = (obs__cloudwatch *)ud;
    int64_t deadline = obs__deadline(c->timeout_ms, timeout_ms);
    obs_result worst = OBS_OK, r;
    size_t i, k = 0, start, end;
    if (!c->group) c->group = obs__cw_name(0);
    if (!c->stream) c->stream = obs__cw_name(1);
    if (!c->group || !c->stream) return OBS_ERR_NOMEM;
    if (n > c->ev_cap) {
        obs__cw_event *ev = (obs__cw_event *)obs__realloc(c->ev, n * sizeof *ev);
        if (!ev) return OBS_ERR_NOMEM;
        c->ev = ev;
        c->ev_cap = n;
    }
    obs__buf_reset(&c->msgs);
    for (i = 0; i < n; i++) {
        const obs_log_data *d = recs[i];
        size_t off = c->msgs.len, body_max = (size_t)-1, len;
        int attrs = 1;
        if ((int)d->level < (int)c->level) continue;
        for (;;) { /* over the event limit: the attributes go first, then the body is cut */
            obs__cw_message(&c->msgs, d, body_max, attrs);
            len = c->msgs.len - off;
            if (len <= OBS__CW_EVENT_MAX || c->msgs.oom) break;
            c->msgs.len = off;
            if (attrs) {
                attrs = 0;
                continue;
            }
            if (body_max == (size_t)-1) body_max = strlen(d->body);
            len -= OBS__CW_EVENT_MAX; /* each byte cut shortens the message by one or more */
            body_max = body_max > len + 16 ? body_max - len - 16 : 0;
        }
        c->ev[k].ts_ms = d->time_ns / 1000000;
        c->ev[k].seq = k;
        c->ev[k].off = off;
        c->ev[k].len = c->msgs.len - off;
        k++;
    }
    if (c->msgs.oom) return OBS_ERR_NOMEM;
    qsort(c->ev, k, sizeof *c->ev, obs__cw_order); /* PutLogEvents wants time order */
    for (start = 0; start < k; start = end) {
        end = obs__cw_batch_end(c->ev, start, k);
        r = obs__cw_put(c, c->ev + start, end - start, deadline);
        if (r != OBS_OK) worst = r;
        if (r == OBS_ERR_TIMEOUT) break;
    }
    return worst;
}

static void obs__cw_shutdown(void *ud) {
    obs__cloudwatch *c = (obs__cloudwatch *)ud;
    obs__http_conn_close(&c->conn);
    obs__http_resp_free(&c->resp);
    obs__buf_free(&c->msgs);
    obs__buf_free(&c->body);
    obs__free(c->ev);
    obs__free(c->endpoint);
    obs__free(c->group);
    obs__free(c->stream);
    obs__free(c->sigv4);
    if (c->user) memset(c->user, 0, strlen(c->user)); /* secrets do not linger in freed memory */
    obs__free(c->user);
    if (c->token_header) memset(c->token_header, 0, strlen(c->token_header));
    obs__free(c->token_header);
    obs__free(c);
}

OBSDEF obs_exporter *obs_cloudwatch_exporter_new(const obs_cloudwatch_config *c_) {
    OBS__ZERO(obs_cloudwatch_config, none);
    const obs_cloudwatch_config *cfg = c_ ? c_ : &none;
    obs__cloudwatch *c;
    const char *region, *key, *secret, *token, *group, *stream, *v;
    char def[160];
    obs__buf b;
    region = obs__given(cfg->region, "AWS_REGION");
    if (!region) region = obs__env("AWS_DEFAULT_REGION");
    key = obs__given(cfg->access_key_id, "AWS_ACCESS_KEY_ID");
    secret = obs__given(cfg->secret_access_key, "AWS_SECRET_ACCESS_KEY");
    token = obs__given(cfg->session_token, "AWS_SESSION_TOKEN");
    if (!region || strlen(region) > 32 ||
        strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region)) {
        obs__diag(1, "cloudwatch: %s; no CloudWatch export",
                  region ? "AWS_REGION is not a region name"
                         : "no region (AWS_REGION or AWS_DEFAULT_REGION)");
        return NULL;
    }
    if (!key || !secret || strchr(key, ':') || obs__has_ctl(key) || obs__has_ctl(secret) ||
        (token && obs__has_ctl(token))) { /* a ':' in the key id would split curl's --user */
        obs__diag(1, "cloudwatch: %s; no CloudWatch export",
                  key && secret ? "malformed AWS credentials"
                                : "no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
        return NULL;
    }
    if (!(c = (obs__cloudwatch *)obs__calloc(sizeof *c))) return NULL;
    obs__http_conn_init(&c->conn);
    obs__http_resp_init(&c->resp);
    c->exp.user_data = c;
    snprintf(def, sizeof def, "https://logs.%s.amazonaws.com%s/", region,
             strncmp(region, "cn-", 3) ? "" : ".cn"); /* China's partition */
    c->endpoint = obs__setting_str(cfg->endpoint, "OBS_CLOUDWATCH_ENDPOINT", def);
    group = obs__given(cfg->log_group, "OBS_CLOUDWATCH_LOG_GROUP");
    stream = obs__given(cfg->log_stream, "OBS_CLOUDWATCH_LOG_STREAM");
    c->group = group ? obs__strdup(group) : NULL; /* NULL: named at the first export */
    c->stream = stream ? obs__strdup(stream) : NULL;
    memset(&b, 0, sizeof b);
    obs__buf_printf(&b, "aws:amz:%s:logs", region);
    c->sigv4 = b.p;
    memset(&b, 0, sizeof b);
    obs__buf_printf(&b, "%s:%s", key, secret);
    c->user = b.p;
    if (token) {
        memset(&b, 0, sizeof b);
        obs__buf_printf(&b, "X-Amz-Security-Token: %s", token);
        c->token_header = b.p;
    }
    if (!c->endpoint || !c->sigv4 || !c->user || (token && !c->token_header) ||
        (group && !c->group) || (stream && !c->stream)) {
        obs__cw_shutdown(c);
        return NULL;
    }
    if (obs__url_parse(c->endpoint, &c->url) != 0) {
        char shown[256]; /* a URL's password is not shown */
        obs__diag(1, "cloudwatch: invalid endpoint \"%s\"; no CloudWatch export",
                  obs__printable(c->endpoint, shown, sizeof shown));
        obs__cw_shutdown(c);
        return NULL;
    }
    v = obs__env("OBS_CLOUDWATCH_LEVEL");
    c->level = cfg->level ? cfg->level
                          : obs__level_from(v, "OBS_CLOUDWATCH_LEVEL", OBS_LEVEL_DEFAULT);
    c->timeout_ms = obs__setting_int(cfg->timeout_ms, "OBS_CLOUDWATCH_TIMEOUT", 10000, 0);
    c->exp.name = "cloudwatch";
    c->exp.export_logs = obs__cw_logs;
    c->exp.shutdown = obs__cw_shutdown;
    return &c->exp;
}

/* For `cloudwatch` in an exporter list: log records only. */
static obs_exporter *obs__cloudwatch_for_pipeline(int logs) {
    if (!logs) {
        obs__diag(2, "OTEL_TRACES_EXPORTER: cloudwatch exports log records only (spans: otlp to a "
                     "Collector, or xray)");
        return NULL;
    }
    return obs_cloudwatch_exporter_new(NULL);
}

// ============================================================================
// >>impl:env -- the OpenTelemetry environment: values, lists, k=v pairs
// ============================================================================
/* An empty variable counts as unset (spec). */
static const char *obs__env(const char *name) {
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

static int obs__streq_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

/* An integer setting: the caller's value when non-zero, else the variable, else def.
   A bad variable is reported once and ignored. */
static int obs__setting_int(int given, const char *name, int def, int min) {
    const char *v = obs__env(name);
    char *end;
    long x;
    if (given) return given < min ? def : given;
    if (!v) return def;
    errno = 0;
    x = strtol(v, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (errno || *end || x < min || x > 0x7fffffff) {
        obs__diag(2, "%s=\"%.64s\" is not a whole number >= %d; using %d", name, v, min, def);
        return def;
    }
    return (int)x;
}

static int obs__hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (NUL-terminated); trims spaces and tabs around it.
   Returns 0 on a bad %xx. */
static int obs__pct_decode(const char *s, size_t n, obs__buf *out) {
    size_t i;
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    obs__buf_reset(out);
    obs__buf_put(out, "", 0);
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n ? obs__hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? obs__hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) return 0;
            obs__buf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            obs__buf_putc(out, s[i]);
        }
    }
    return !out->oom;
}

/* Walks "k=v,k2=v2" (W3C Baggage style, values percent-decoded). Calls fn for each pair;
   returns 0 at the first malformed pair (after reporting it, without its value). */
static int obs__kv_each(const char *list, const char *what,
                        int (*fn)(void *ud, const char *k, const char *v), void *ud) {
    obs__buf k, v;
    const char *p = list;
    int ok = 1, entry = 0;
    memset(&k, 0, sizeof k);
    memset(&v, 0, sizeof v);
    for (; ok && p && *p; entry++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = (const char *)memchr(p, '=', len);
        int blank = 1;
        size_t i;
        for (i = 0; i < len; i++) blank &= p[i] == ' ' || p[i] == '\t';
        if (!blank) {
            char shown[64];
            if (!eq || !obs__pct_decode(p, (size_t)(eq - p), &k) || !k.len ||
                !obs__pct_decode(eq + 1, len - (size_t)(eq - p) - 1, &v)) {
                obs__diag(2, "%s: entry %d (from 1) is not key=value with %%-encoding; ignoring the "
                             "variable", what, entry + 1); /* the entry itself may hold a secret */
                ok = 0;
            } else if (strlen(k.p) != k.len || strlen(v.p) != v.len) { /* %00 would cut it short */
                obs__diag(2, "%s: \"%s\" holds a NUL byte (%%00); ignoring the variable", what,
                          obs__printable(k.p, shown, sizeof shown));
                ok = 0;
            } else if (!fn(ud, k.p, v.p)) {
                ok = 0;
            }
        }
        p = comma ? comma + 1 : NULL;
    }
    obs__buf_free(&k);
    obs__buf_free(&v);
    return ok;
}

/* Exporter lists: "otlp,console,summary,chrome,none". Bits: 1 otlp, 2 console, 8 summary,
   16 chrome (4: none).
   OBS__EXP_ROLLBAR (64), OBS__EXP_CLOUDWATCH (128): >>impl:rollbar. */
static int obs__exporter_list(const char *given, const char *name) {
    const char *v = given ? given : obs__env(name);
    int bits = 0, unknown = 0;
    char word[32];
    if (!v) return 1;
    while (*v) {
        size_t n = strcspn(v, ",");
        size_t a = 0, b = n;
        while (a < b && (v[a] == ' ' || v[a] == '\t')) a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) b--;
        if (b - a < sizeof word) {
            memcpy(word, v + a, b - a);
            word[b - a] = 0;
        } else {
            word[0] = '?';
            word[1] = 0;
        }
        if (obs__streq_nocase(word, "otlp")) bits |= 1;
        else if (obs__streq_nocase(word, "console")) bits |= 2;
        else if (obs__streq_nocase(word, "none")) bits |= 4;
        else if (obs__streq_nocase(word, "xray")) bits |= 32;
        else if (obs__streq_nocase(word, "summary")) bits |= 8;
        else if (obs__streq_nocase(word, "chrome")) bits |= 16;
        else if (obs__streq_nocase(word, "rollbar")) bits |= OBS__EXP_ROLLBAR;
        else if (obs__streq_nocase(word, "cloudwatch")) bits |= OBS__EXP_CLOUDWATCH;
        else if (word[0]) {
            unknown = 1;
            obs__diag(2, "%s: unknown exporter \"%s\" (obs.h has otlp, console, summary, chrome, xray, "
                         "rollbar, cloudwatch, none)",
                      name, word);
        }
        v += n + (v[n] == ',');
    }
    if (bits & 4) return 0; /* "none" wins, as the spec says */
    if (!bits && unknown) { /* nothing usable: the setting is ignored (spec), so the default */
        obs__diag(2, "%s: no known exporter named; using the default, otlp", name);
        return 1;
    }
    return bits;
}

static obs_sampler_kind obs__sampler_from_env(void) {
    static const char *const names[] = {"always_on", "always_off", "traceidratio",
                                        "parentbased_always_on", "parentbased_always_off",
                                        "parentbased_traceidratio", "xray",
                                        "parentbased_xray"};
    const char *v = obs__env("OTEL_TRACES_SAMPLER");
    int i;
    if (!v) return OBS_SAMPLER_PARENTBASED_ALWAYS_ON;
    for (i = 0; i < 8; i++) {
        if (obs__streq_nocase(v, names[i])) return (obs_sampler_kind)(OBS_SAMPLER_ALWAYS_ON + i);
    }
    obs__diag(2, "OTEL_TRACES_SAMPLER=\"%.64s\" is not a sampler obs.h knows; using "
                 "parentbased_always_on", v);
    return OBS_SAMPLER_PARENTBASED_ALWAYS_ON;
}

static double obs__sampler_ratio(double given) {
    const char *v = obs__env("OTEL_TRACES_SAMPLER_ARG");
    char *end;
    double r;
    if (given > 0) return given > 1 ? 1.0 : given;
    if (!v) return 1.0;
    r = strtod(v, &end);
    if (end == v || *end || !(r >= 0.0 && r <= 1.0)) {
        obs__diag(2, "OTEL_TRACES_SAMPLER_ARG=\"%.64s\" is not a ratio in [0, 1]; using 1.0", v);
        return 1.0;
    }
    return r;
}

static obs_level obs__level_from(const char *v, const char *name, obs_level def) {
    static const char *const names[] = {"trace", "debug", "info", "warn", "error", "fatal", "off", "none"};
    static const obs_level levels[] = {OBS_LEVEL_TRACE, OBS_LEVEL_DEBUG, OBS_LEVEL_INFO, OBS_LEVEL_WARN,
                                       OBS_LEVEL_ERROR, OBS_LEVEL_FATAL, OBS_LEVEL_OFF, OBS_LEVEL_OFF};
    int i;
    if (!v) return def;
    for (i = 0; i < 8; i++) {
        if (obs__streq_nocase(v, names[i])) return levels[i];
    }
    if (obs__streq_nocase(v, "warning")) return OBS_LEVEL_WARN;
    obs__diag(2, "%s=\"%.32s\" is not a level (trace, debug, info, warn, error, fatal, off)", name, v);
    return def;
}

// ============================================================================
// >>impl:crash -- opt-in crash capture: async-signal-safe record, best-effort export
// ============================================================================
static const int obs__crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static const char *const obs__crash_names[] = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT"};

static void obs__write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}
static void obs__write_str(int fd, const char *s) { obs__write_all(fd, s, strlen(s)); }

/* "0x..." for an address, without printf (not async-signal-safe). */
static size_t obs__fmt_addr(char *out, const void *p) {
    uintptr_t v = (uintptr_t)p;
    size_t n = 0, i;
    char tmp[2 * sizeof v];
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    out[0] = '0';
    out[1] = 'x';
    for (i = 0; i < n; i++) out[2 + i] = tmp[n - 1 - i];
    return n + 2;
}

/* A FATAL record for the crash, built by hand: only stores and lock-free queue pushes. */
static void obs__crash_record(obs__tls *t, const char *name, void *const *frames, int nframes) {
    obs__record *r;
    obs_attr a[2];
    char *st;
    int i;
    size_t len = 0;
    /* the thread's cache or the free ring: lock-free; growing the pool would lock */
    void *item = NULL;
    if (t->ncache[OBS__LOGS]) item = t->cache[OBS__LOGS][--t->ncache[OBS__LOGS]];
    else if (!obs__pool_take(&obs__g.pools[OBS__LOGS], t, &item, 1)) return;
    r = (obs__record *)item;
    obs__arena_reset(&r->arena);
    r->attrs.n = r->attrs.dropped = 0;
    r->d.body = "fatal signal";
    r->d.level = OBS_LEVEL_FATAL;
    r->d.scope = &obs__g.log_scope;
    r->d.time_ns = r->d.observed_time_ns = obs__now_ns();
    a[0] = obs_attr_str("exception.type", name);
    a[1] = obs_attr_str("exception.stacktrace", "");
    st = obs__arena_take(&r->arena, (size_t)nframes * 20 + 1, 0);
    for (i = 0; st && i < nframes; i++) {
        len += obs__fmt_addr(st + len, frames[i]);
        st[len++] = '\n';
    }
    if (st) {
        st[len ? len - 1 : 0] = 0;
        a[1].v.s = st;
        a[1].n = len ? len - 1 : 0;
    }
    obs__g.crash_attrs[0] = a[0]; /* not in r->attrs: growing it would allocate */
    obs__g.crash_attrs[1] = a[1];
    r->d.attrs = obs__g.crash_attrs;
    r->d.n_attrs = 2;
    r->d.dropped_attrs = 0;
    memset(r->d.trace_id, 0, 16);
    memset(r->d.span_id, 0, 8);
    r->d.trace_flags = 0;
    if (t->depth > 0 && obs__gen_of(t->stack[t->depth - 1].span) == t->stack[t->depth - 1].gen) {
        obs_span *cur = t->stack[t->depth - 1].span; /* still the span pushed (not ended) */
        obs__span_ids_get(cur, r->d.trace_id, r->d.span_id); /* computes only: signal-safe */
        r->d.trace_flags = cur->d.trace_flags;
    }
    r->h.ended = 1;
    obs__dispatch(OBS__LOGS, t, &r->h);
}

/* Ends the spans open on this thread with status ERROR, innermost first. */
static void obs__crash_spans(obs__tls *t, const char *name) {
    while (t->depth > 0) {
        obs__ref r = t->stack[t->depth - 1];
        if (obs__gen_of(r.span) == r.gen && obs__span_ok(r.span)) {
            r.span->d.status = OBS_STATUS_ERROR;
            r.span->d.status_message = name;
            obs_span_end(r.span);
        } else {
            t->depth--;
        }
    }
}

/* Asks the batch threads to export now and waits up to 3 s (nanosleep is safe here). */
static void obs__crash_flush(void) {
    int sig, i, tries;
    uint64_t marks[2][OBS__MAX_PROCS][OBS__LANES]; /* what was queued when the crash came */
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) {
            obs__queue_marks(&obs__g.procs[sig][i]->q, marks[sig][i]);
            OBS__STORE(&obs__g.procs[sig][i]->flush_req, 1);
        }
    }
    for (tries = 0; tries < 300; tries++) {
        int pending = 0;
        for (sig = 0; sig < 2; sig++) {
            for (i = 0; i < obs__g.nprocs[sig]; i++) {
                obs__proc *p = obs__g.procs[sig][i];
                pending |= p->batch && !obs__queue_done_up_to(&p->q, marks[sig][i]);
            }
        }
        if (!pending) return;
        obs__sleep_ms(10);
    }
}

static void obs__crash_handler(int sig) {
    const char *name = "signal";
    void *frames[64];
    int n = 0, i, saved = errno;
    obs__tls *t;
    for (i = 0; i < 5; i++) {
        if (obs__crash_signals[i] == sig) name = obs__crash_names[i];
    }
    obs__write_str(2, "obs: FATAL: caught ");
    obs__write_str(2, name);
    obs__write_str(2, "; backtrace:\n");
#ifdef OBS__HAVE_BACKTRACE
    n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
#endif
    if (OBS__LOAD(&obs__g.running) && !OBS__LOAD(&obs__g.crashing)) {
#ifdef OBS__THREAD_LOCAL
        obs__crash_here = 1;
#endif
        OBS__STORE(&obs__g.crashing, 1);
#ifdef OBS__THREAD_LOCAL
        t = obs__tls_cur.gen == obs__g.gen ? obs__tls_cur.block : NULL; /* no setup: it locks */
#else
        t = NULL;
#endif
        if (t) {
            obs__crash_record(t, name, frames, n);
            obs__crash_spans(t, name);
        }
        obs__crash_flush();
    }
    errno = saved;
    signal(sig, SIG_DFL); /* the default action once the handler returns: exit status, core */
    raise(sig);
}

OBSDEF obs_result obs_crash_capture(void) {
    struct sigaction sa;
    int i;
    if (!OBS__LOAD(&obs__g.running)) return OBS_ERR_STATE;
#ifdef OBS__HAVE_BACKTRACE
    {
        void *warm[2]; /* the first backtrace() loads libgcc: do it now, not in the handler */
        backtrace(warm, 2);
    }
#endif
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = obs__crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (i = 0; i < 5; i++) sigaction(obs__crash_signals[i], &sa, NULL);
    return OBS_OK;
}

// ============================================================================
// >>impl:setup -- obs_init, resource, pipelines, flush, shutdown, stats
// ============================================================================
static int obs__res_set(void *ud, const char *k, const char *v) {
    obs_attr a = obs_attr_str(k, v);
    (void)ud;
    obs__attrs_set(&obs__g.res, 0, obs__g.res_arena, 0xffffffffu, &a);
    return 1;
}
static void obs__res_int(const char *k, int64_t v) {
    obs_attr a = obs_attr_int(k, v);
    obs__attrs_set(&obs__g.res, 0, obs__g.res_arena, 0xffffffffu, &a);
}

/* The executable's name, for process.executable.name and unknown_service:<name>. */
static void obs__exe_name(char *out, size_t n) {
    char path[1024];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
    const char *base = "unknown";
    if (len > 0) {
        path[len] = 0;
        base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    }
    len = (ssize_t)strlen(base);
    if ((size_t)len >= n) len = (ssize_t)n - 1;
    memmove(out, base, (size_t)len);
    out[len] = 0;
}

/* A user's k=v list counts only when all of it decodes (spec: else discard it whole). */
static int obs__kv_check(void *ud, const char *k, const char *v) {
    (void)ud;
    (void)k;
    (void)v;
    return 1;
}
static void obs__res_list(const char *list, const char *what) {
    if (list && obs__kv_each(list, what, obs__kv_check, NULL)) obs__kv_each(list, what, obs__res_set, NULL);
}

static int obs__resource_build(const obs_config *cfg) {
    char exe[256], svc[300], host[256];
    const char *name = cfg->service_name ? cfg->service_name : obs__env("OTEL_SERVICE_NAME");
    if (!(obs__g.res_arena = (obs__arena *)obs__calloc(sizeof(obs__arena)))) return 0;
    obs__arena_reset(obs__g.res_arena);
    obs__exe_name(exe, sizeof exe);
    snprintf(svc, sizeof svc, "unknown_service:%s", exe);
    obs__res_set(NULL, "service.name", svc);
    obs__res_set(NULL, "telemetry.sdk.name", "obs.h");
    obs__res_set(NULL, "telemetry.sdk.language", "c");
    obs__res_set(NULL, "telemetry.sdk.version", OBS_VERSION_STRING);
    obs__res_int("process.pid", (int64_t)getpid());
    obs__res_set(NULL, "process.executable.name", exe);
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = 0;
        obs__res_set(NULL, "host.name", host);
    }
    obs__res_list(obs__env("OTEL_RESOURCE_ATTRIBUTES"), "OTEL_RESOURCE_ATTRIBUTES");
    obs__res_list(cfg->resource_attributes, "obs_config.resource_attributes");
    if (name) obs__res_set(NULL, "service.name", name); /* OTEL_SERVICE_NAME wins (spec) */
    obs__g.resource = obs__g.res.v;
    obs__g.n_resource = obs__g.res.n;
    return obs__g.res.n > 0;
}

OBSDEF const obs_attr *obs_resource(size_t *n) {
    if (n) *n = obs__g.n_resource;
    return obs__g.resource;
}

/* ---- OTLP settings per signal ---- */
typedef struct obs__hdrs {
    char **v;
    size_t n;
    int bad;
} obs__hdrs;

/* What the HTTP client writes in every request: the framing and its own name. */
static const char *const obs__own_headers[] = {"Host", "Content-Type", "Content-Length",
                                               "Transfer-Encoding", "Connection", "User-Agent"};

static int obs__hdr_add(void *ud, const char *k, const char *v) {
    obs__hdrs *h = (obs__hdrs *)ud;
    size_t kn = strlen(k), vn = strlen(v), i;
    char **nv, *line;
    for (i = 0; i < kn; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c)) break;
    }
    if (i < kn || obs__has_ctl(v)) { /* the value is a secret: never shown */
        char shown[64];
        obs__diag(1, "OTLP header \"%s\": a bad name, or a control byte (CR, LF...) in its value; "
                     "not sent", obs__printable(k, shown, sizeof shown));
        h->bad = 1;
        return 1;
    }
    for (i = 0; i < sizeof obs__own_headers / sizeof obs__own_headers[0]; i++) {
        if (obs__streq_nocase(k, obs__own_headers[i])) { /* twice in a request: refused, or worse */
            obs__diag(2, "OTLP header \"%s\" is written by obs.h itself; not sent twice", obs__own_headers[i]);
            return 1;
        }
    }
    nv = (char **)obs__realloc(h->v, (h->n + 1) * sizeof(char *));
    line = (char *)obs__alloc(kn + vn + 3);
    if (!nv || !line) {
        obs__free(line);
        if (nv) h->v = nv;
        return 0;
    }
    h->v = nv;
    memcpy(line, k, kn);
    memcpy(line + kn, ": ", 2);
    memcpy(line + kn + 2, v, vn + 1);
    h->v[h->n++] = line;
    return 1;
}

/* The signal's variable, e.g. OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else the general one. */
static const char *obs__otlp_env(const char *sig, const char *suffix, char *name, size_t n) {
    const char *v;
    snprintf(name, n, "OTEL_EXPORTER_OTLP_%s_%s", sig, suffix);
    if ((v = obs__env(name)) != NULL) return v;
    snprintf(name, n, "OTEL_EXPORTER_OTLP_%s", suffix);
    return obs__env(name);
}

static obs_exporter *obs__otlp_from_config(const obs_config *cfg, int logs) {
    const char *sig = logs ? "LOGS" : "TRACES", *path = logs ? "/v1/logs" : "/v1/traces";
    char name[64], url[2048], tname[64];
    const char *v, *proto, *hv;
    obs__hdrs h;
    size_t i;
    int timeout, protobuf = 1; /* the spec's default protocol */
    obs_exporter *e;
    memset(&h, 0, sizeof h);
    snprintf(name, sizeof name, "OTEL_EXPORTER_OTLP_%s_ENDPOINT", sig);
    if (cfg->otlp_endpoint || !(v = obs__env(name))) { /* a base URL: the signal path appended */
        const char *base = cfg->otlp_endpoint ? cfg->otlp_endpoint : obs__env("OTEL_EXPORTER_OTLP_ENDPOINT");
        size_t bl;
        base = base ? base : "http://localhost:4318";
        bl = strlen(base);
        while (bl && base[bl - 1] == '/') bl--;
        snprintf(url, sizeof url, "%.*s%s", (int)bl, base, path);
    } else {
        snprintf(url, sizeof url, "%s", v); /* a signal endpoint is used as given */
    }
    proto = cfg->otlp_protocol ? cfg->otlp_protocol : obs__otlp_env(sig, "PROTOCOL", name, sizeof name);
    if (proto && strcmp(proto, "http/json") == 0) {
        protobuf = 0;
    } else if (proto && strcmp(proto, "http/protobuf") != 0) {
        obs__diag(2, "%s=\"%.32s\": obs.h speaks http/protobuf and http/json%s; using http/protobuf",
                  cfg->otlp_protocol ? "obs_config.otlp_protocol" : name, proto,
                  strcmp(proto, "grpc") == 0 ? " (no gRPC: it needs HTTP/2)" : "");
    }
    timeout = cfg->otlp_timeout_ms;
    if (!timeout) {
        v = obs__otlp_env(sig, "TIMEOUT", tname, sizeof tname);
        timeout = v ? obs__setting_int(0, tname, 10000, 0) : 10000;
    }
    hv = cfg->otlp_headers ? cfg->otlp_headers : obs__otlp_env(sig, "HEADERS", name, sizeof name);
    if (hv && !obs__kv_each(hv, cfg->otlp_headers ? "obs_config.otlp_headers" : name, obs__hdr_add, &h)) {
        for (i = 0; i < h.n; i++) obs__free(h.v[i]);
        h.n = 0;
    }
    e = obs__otlp_new(logs, protobuf, url, h.v, h.n, timeout);
    if (!e) obs__diag(1, "no OTLP %s export", logs ? "log" : "span");
    return e;
}

/* ---- pipelines ---- */
static void obs__batch_settings(obs_batch_config *b, const obs_batch_config *given, int logs) {
    const char *pre = logs ? "OTEL_BLRP_" : "OTEL_BSP_";
    char name[64];
    snprintf(name, sizeof name, "%sSCHEDULE_DELAY", pre);
    b->schedule_delay_ms = obs__setting_int(given->schedule_delay_ms, name, logs ? 1000 : 5000, 1);
    snprintf(name, sizeof name, "%sEXPORT_TIMEOUT", pre);
    b->export_timeout_ms = obs__setting_int(given->export_timeout_ms, name, 30000, 0);
    snprintf(name, sizeof name, "%sMAX_QUEUE_SIZE", pre);
    b->max_queue_size = obs__setting_int(given->max_queue_size, name, 2048, 1);
    snprintf(name, sizeof name, "%sMAX_EXPORT_BATCH_SIZE", pre);
    b->max_export_batch_size = obs__setting_int(given->max_export_batch_size, name, 512, 1);
    if (b->max_export_batch_size > b->max_queue_size) {
        obs__diag(2, "%s (%d) is larger than the queue (%d); using %d", name,
                  b->max_export_batch_size, b->max_queue_size, b->max_queue_size);
        b->max_export_batch_size = b->max_queue_size;
    }
}

/* The processor of signal sig that was given exporter e, if any. */
static obs__proc *obs__proc_of(int sig, const obs_exporter *e) {
    int i;
    for (i = 0; i < obs__g.nprocs[sig]; i++) {
        if (obs__g.procs[sig][i]->exp == e) return obs__g.procs[sig][i];
    }
    return NULL;
}
static void obs__add_proc(int sig, obs_exporter *e, int batch, const obs_batch_config *b, int owned) {
    obs__proc *p, *first;
    if (!e) return;
    if (obs__proc_of(sig, e)) { /* twice in one list: every item would go out twice */
        obs__diag(2, "exporter \"%s\" given twice for %s: used once", e->name ? e->name : "",
                  sig == OBS__LOGS ? "logs" : "spans");
        return;
    }
    if (obs__g.nprocs[sig] == OBS__MAX_PROCS || !(p = obs__proc_new(sig, e, batch, b))) {
        if (owned && e->shutdown) e->shutdown(e->user_data);
        return;
    }
    /* One exporter for spans and logs: its calls stay one at a time (its contract), through
       the span processor's lock, and yours is shut down once (built-in ones count their
       references: one shutdown per processor). */
    if (sig == OBS__LOGS && (first = obs__proc_of(OBS__SPANS, e)) != NULL) {
        p->xl = first->xl;
        p->shared = first->shared = 1;
        p->twin = !owned;
    }
    obs__g.procs[sig][obs__g.nprocs[sig]++] = p;
}

static void obs__pipeline(const obs_config *cfg, int sig) {
    int logs = sig == OBS__LOGS;
    const char *list = logs ? cfg->logs_exporter : cfg->traces_exporter;
    int bits = obs__exporter_list(list, logs ? "OTEL_LOGS_EXPORTER" : "OTEL_TRACES_EXPORTER");
    obs_batch_config b;
    obs_exporter *const *mine = logs ? cfg->log_exporters : cfg->span_exporters;
    const char *style = obs__env("OBS_CONSOLE");
    int i;
    obs__batch_settings(&b, logs ? &cfg->logs : &cfg->spans, logs);
    if (bits & 1) {
        obs_exporter *e = obs__otlp_from_config(cfg, logs);
        obs_batch_config ob = b;
        if (e && ((obs__otlp *)e->user_data)->timeout_ms > 0 &&
            (ob.export_timeout_ms == 0 || ((obs__otlp *)e->user_data)->timeout_ms < ob.export_timeout_ms)) {
            ob.export_timeout_ms = ((obs__otlp *)e->user_data)->timeout_ms;
        }
        obs__add_proc(sig, e, !cfg->simple_processor, &ob, 1);
    }
    if (bits & 2) { /* the console is for people: synchronous, so output comes in order */
        int tree = !(style && obs__streq_nocase(style, "line"));
        obs__add_proc(sig, obs_console_exporter_new(logs ? stderr : stdout, tree), 0, &b, 1);
    }
    if ((bits & 24) && logs) obs__diag(2, "OTEL_LOGS_EXPORTER: summary and chrome are for spans only");
    if ((bits & 8) && !logs) { /* aggregates off the hot path: a batch processor */
        obs__add_proc(sig, obs_summary_exporter_new(NULL), !cfg->simple_processor, &b, 1);
    }
    if ((bits & 16) && !logs) {
        const char *path = cfg->trace_file ? cfg->trace_file : obs__env("OBS_TRACE_FILE");
        obs__add_proc(sig, obs_trace_file_exporter_new(path ? path : "obs-trace.json"), !cfg->simple_processor, &b, 1);
    }
    if (bits & 32) { /* the X-Ray daemon at AWS_XRAY_DAEMON_ADDRESS */
        if (logs) obs__diag(2, "OTEL_LOGS_EXPORTER: xray is for spans only");
        else obs__add_proc(sig, obs_xray_exporter_new(NULL), !cfg->simple_processor, &b, 1);
    }
    /* Rollbar and CloudWatch: always a batch processor, so the caller never waits for them */
    if (bits & OBS__EXP_ROLLBAR) obs__add_proc(sig, obs__rollbar_for_pipeline(logs), 1, &b, 1);
    if (bits & OBS__EXP_CLOUDWATCH) {
        obs__add_proc(sig, obs__cloudwatch_for_pipeline(logs), 1, &b, 1);
    }
    for (i = 0; i < 4 && mine[i]; i++) obs__add_proc(sig, mine[i], !cfg->simple_processor, &b, 0);
}

static void obs__limits_settings(const obs_config *cfg) {
    int general = obs__setting_int(cfg->attribute_count_limit, "OTEL_ATTRIBUTE_COUNT_LIMIT", 128, 0);
    int vlen = obs__setting_int(cfg->attribute_value_length_limit, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", -1, 0);
    obs__limits *l = &obs__g.limits;
    l->value_len = vlen < 0 ? (size_t)-1 : (size_t)vlen;
    l->attrs = (uint32_t)obs__setting_int(cfg->attribute_count_limit, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", general, 0);
    l->events = (uint32_t)obs__setting_int(cfg->event_count_limit, "OTEL_SPAN_EVENT_COUNT_LIMIT", 128, 0);
    l->links = (uint32_t)obs__setting_int(cfg->link_count_limit, "OTEL_SPAN_LINK_COUNT_LIMIT", 128, 0);
    l->event_attrs = (uint32_t)obs__setting_int(0, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", general, 0);
    l->link_attrs = (uint32_t)obs__setting_int(0, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", general, 0);
    l->log_attrs = (uint32_t)obs__setting_int(cfg->attribute_count_limit, "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", general, 0);
}

/* fork(): the child keeps tracing. Only the forking thread lives on there, so what other
   threads held is made fresh: locks, the queues (the parent's queued items are the parent's
   to export), the pools' free lists (items in flight elsewhere are let go), connections
   (a keep-alive socket shared with the parent would mix two streams); then the batch
   threads start again. The parent holds obs__g.lock and each processor's lock across the
   fork, so no half-done pool growth or thread wake-up is copied. */
static int obs__fork_held; /* prepare took the locks: parent and child act on this, not on
                              running, which a concurrent obs_init or obs_shutdown may flip */
static void obs__atfork_prepare(void) {
    int sig, i;
    obs__fork_held = OBS__LOAD(&obs__g.running);
    if (!obs__fork_held) return;
    pthread_mutex_lock(&obs__g.lock);
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) pthread_mutex_lock(&obs__g.procs[sig][i]->lock);
    }
}
static void obs__atfork_parent(void) {
    int sig, i;
    if (!obs__fork_held) return;
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) pthread_mutex_unlock(&obs__g.procs[sig][i]->lock);
    }
    pthread_mutex_unlock(&obs__g.lock);
}
/* The built-in exporters' own locks (another thread may have held them at the fork) and
   connections (shared with the parent's) start afresh in the child. Exporters of your own
   must not hold a lock across fork(), or must handle it themselves. */
static void obs__exporter_after_fork(obs_exporter *e) {
    void *u = e->user_data;
    if (e->export_spans == obs__otlp_spans) {
        obs__http_conn_close(&((obs__otlp *)u)->conn);
    } else if (e->export_spans == obs__rb_spans || e->export_logs == obs__rb_logs) {
        pthread_mutex_init(&((obs__rollbar *)u)->lock, NULL);
        obs__http_conn_close(&((obs__rollbar *)u)->conn);
    } else if (e->export_logs == obs__cw_logs) {
        obs__http_conn_close(&((obs__cloudwatch *)u)->conn);
    } else if (e->export_spans == obs__summary_export) {
        pthread_mutex_init(&((obs__summary *)u)->lock, NULL);
    } else if (e->export_spans == obs__memory_spans) {
        pthread_mutex_init(&((obs__memory *)u)->lock, NULL);
    }
}

/* Only this thread runs in the child: every item that is not the program's (ended: free,
   cached by a thread now gone, queued or being exported) is free again. */
static void obs__pool_after_fork(obs__pool *p) {
    uint32_t i;
    memset(p->free, 0, sizeof p->free);
    for (i = 1; i <= p->allocated; i++) {
        void *it = obs__pool_at(p, i);
        if (((obs__item *)it)->ended) obs__stack_push(p, 0, &it, 1);
    }
}
static void obs__atfork_child(void) {
    obs__tls *t;
    int sig, i;
    uint64_t r;
    if (!obs__fork_held) return;
    pthread_mutex_init(&obs__g.lock, NULL);
    pthread_mutex_init(&obs__init_lock, NULL);
    obs__g.clk_busy = 0;
    if (obs__g.clk_seq & 1) { /* a clock rewrite cut short: readers would wait for it forever */
        obs__g.clk_seq++;
        obs__g.clk_stale = 0; /* and its values may be half new: re-measure at the next read */
    }
    r = obs__os_random64() ^ ((uint64_t)getpid() << 20); /* open/read: async-signal-safe */
    /* The child counts its own work from zero: the parent's queued items are the parent's to
       export, so counts carried over would stay unbalanced here (ended, never exported or
       dropped). */
    memset(obs__g.counters, 0, sizeof obs__g.counters);
    for (t = obs__g.threads; t; t = t->next) {
        t->ncache[0] = t->ncache[1] = 0;
        t->rng ^= obs__rng_next(&r); /* a forked child must not repeat its parent's ids */
        memset(t->counters, 0, sizeof t->counters);
    }
    for (sig = 0; sig < 2; sig++) {
        obs__pool_after_fork(&obs__g.pools[sig]);
        for (i = 0; i < obs__g.nprocs[sig]; i++) {
            obs__proc *p = obs__g.procs[sig][i];
            pthread_mutex_init(&p->lock, NULL);
            pthread_mutex_init(&p->xlock, NULL);
            obs__cond_init(&p->wake);
            obs__cond_init(&p->done);
            p->sleeping = p->flush_req = 0;
            obs__exporter_after_fork(p->exp);
            if (!p->batch) continue;
            obs__queue_clear(&p->q);
            p->thread.started = 0;
            OBS__STORE(&p->restart, 1); /* not here: POSIX allows only async-signal-safe calls */
        }
    }
}

/* A boolean variable: true or false in any case (spec); anything else is reported. */
static int obs__env_true(const char *name) {
    const char *v = obs__env(name);
    if (!v || obs__streq_nocase(v, "false")) return 0;
    if (obs__streq_nocase(v, "true")) return 1;
    obs__diag(2, "%s=\"%.16s\" is neither true nor false; taken as false", name, v);
    return 0;
}

static int obs__setup(const obs_config *cfg) {
    const char *idgen;
    int64_t bound[2];
    int i, sig;
    size_t value_len;
    obs__limits_settings(cfg);
    value_len = obs__g.limits.value_len;
    obs__g.limits.value_len = (size_t)-1; /* the resource is not subject to span limits */
    if (!obs__resource_build(cfg)) return 0;
    obs__g.limits.value_len = value_len;
    obs__g.sampler.kind = cfg->sampler ? cfg->sampler : obs__sampler_from_env();
    if (obs__g.sampler.kind == OBS_SAMPLER_TRACEIDRATIO || obs__g.sampler.kind == OBS_SAMPLER_PARENTBASED_TRACEIDRATIO) {
        obs__g.sampler.threshold = obs__ratio_threshold(obs__sampler_ratio(cfg->sampler_ratio));
    }
    if (obs__g.sampler.kind == OBS_SAMPLER_XRAY || obs__g.sampler.kind == OBS_SAMPLER_PARENTBASED_XRAY) {
        obs__xray_sampler_setup(&obs__g.sampler.xray, cfg->sampler_reservoir, cfg->sampler_ratio,
                                obs__env("OTEL_TRACES_SAMPLER_ARG"));
    }
    obs__g.log_scope.name = "obs.h";
    obs__g.log_scope.version = OBS_VERSION_STRING;
    obs__pipeline(cfg, OBS__SPANS);
    obs__pipeline(cfg, OBS__LOGS);
    for (i = 0; i < obs__g.nprocs[OBS__SPANS]; i++) { /* X-Ray wants time-stamped trace ids */
        if (obs__g.procs[OBS__SPANS][i]->exp->export_spans == obs__xray_export) obs__g.xray_ids = 1;
    }
    idgen = obs__env("OBS_ID_GENERATOR"); /* e.g. for a Collector's awsxray exporter */
    if (cfg->xray_trace_ids || (idgen && obs__streq_nocase(idgen, "xray"))) obs__g.xray_ids = 1;
    else if (idgen && !obs__streq_nocase(idgen, "random")) {
        obs__diag(2, "OBS_ID_GENERATOR=\"%.16s\" is neither random nor xray; using random", idgen);
    }
    obs__g.lazy_roots = !obs__g.xray_ids && (obs__g.sampler.kind == OBS_SAMPLER_ALWAYS_OFF ||
                                             obs__g.sampler.kind == OBS_SAMPLER_PARENTBASED_ALWAYS_OFF);
    /* Items in use at once: open spans, queues, batches in flight; the bound keeps memory
       finite whatever the program does. */
    for (sig = 0; sig < 2; sig++) { /* 65,536 in the program's hands, whatever the queues hold */
        bound[sig] = 65536;
        for (i = 0; i < obs__g.nprocs[sig]; i++) bound[sig] += obs__proc_holds(obs__g.procs[sig][i]);
    }
    if (!obs__pool_init(&obs__g.pools[OBS__SPANS], sizeof(obs_span), (size_t)bound[OBS__SPANS], obs__span_release_mem) ||
        !obs__pool_init(&obs__g.pools[OBS__LOGS], sizeof(obs__record), (size_t)bound[OBS__LOGS], obs__record_release_mem)) {
        return 0;
    }
    return 1;
}

static void obs__teardown(void);
static void obs__procs_stop(int64_t deadline);

OBSDEF obs_result obs_init(const obs_config *given) {
    static int atfork_done = 0;
    OBS__ZERO(obs_config, none);
    const obs_config *cfg = given ? given : &none;
    uint32_t gen;
    pthread_mutex_lock(&obs__init_lock);
    if (OBS__LOAD(&obs__g.running)) {
        pthread_mutex_unlock(&obs__init_lock);
        return OBS_ERR_STATE;
    }
    gen = obs__g.gen + 1;
    memset(&obs__g, 0, sizeof obs__g);
    obs__g.gen = gen;
    obs__g.diag_level = 3;
    obs__g.diag_level = (int)obs__level_from(obs__env("OTEL_LOG_LEVEL"), "OTEL_LOG_LEVEL", OBS_LEVEL_INFO);
    obs__g.diag_level = obs__g.diag_level >= OBS_LEVEL_OFF ? 0 : obs__g.diag_level <= OBS_LEVEL_DEBUG ? 4
                      : obs__g.diag_level <= OBS_LEVEL_INFO ? 3 : obs__g.diag_level <= OBS_LEVEL_WARN ? 2 : 1;
    if (obs__env_true("OTEL_SDK_DISABLED")) {
        pthread_mutex_unlock(&obs__init_lock);
        return OBS_OK;
    }
    pthread_mutex_init(&obs__g.lock, NULL);
    obs__g.tls_key_ok = pthread_key_create(&obs__g.tls_key, obs__tls_exit) == 0;
    obs__g.seed = obs__os_random64();
    obs__clock_resync();
#ifdef OBS__HAVE_TSC
    obs__tsc_init();
#endif
    if (!atfork_done) {
        pthread_atfork(obs__atfork_prepare, obs__atfork_parent, obs__atfork_child);
        atfork_done = 1;
    }
    if (!obs__setup(cfg)) { /* the processors made so far stop (their threads run) */
        obs__procs_stop(obs__mono_ms());
        obs__teardown();
        pthread_mutex_unlock(&obs__init_lock);
        return OBS_ERR_NOMEM;
    }
    OBS__STORE(&obs__g.running, 1);
    if (cfg->crash_capture || obs__env_true("OBS_CRASH_CAPTURE")) obs_crash_capture();
    obs_log_set_level(cfg->log_level ? cfg->log_level
                                     : obs__level_from(obs__env("OBS_LOG_LEVEL"), "OBS_LOG_LEVEL", OBS_LEVEL_INFO));
    pthread_mutex_unlock(&obs__init_lock);
    return OBS_OK;
}

OBSDEF obs_result obs_flush(int timeout_ms) {
    int sig, i;
    obs_result worst = OBS_OK;
    if (!OBS__LOAD(&obs__g.running)) return OBS_ERR_STATE;
    int64_t deadline = timeout_ms > 0 ? obs__deadline(timeout_ms, 0) : 0;
    for (sig = 0; sig < 2; sig++) { /* one deadline for all: timeout_ms bounds the whole call */
        for (i = 0; i < obs__g.nprocs[sig]; i++) {
            obs__proc *p = obs__g.procs[sig][i];
            obs_result r = obs__proc_flush(p, deadline ? deadline : obs__deadline(p->cfg.export_timeout_ms, 0));
            if (r == OBS_ERR_TIMEOUT || worst == OBS_OK) worst = r;
        }
    }
    return worst;
}

static uint64_t obs__stat(int c) {
    uint64_t v = OBS__LOAD_RELAXED(&obs__g.counters[c]);
    obs__tls *t;
    if (c < OBS__C_THREAD && OBS__LOAD(&obs__g.running)) {
        for (t = obs__g.threads; t; t = t->next) v += OBS__LOAD_RELAXED(&t->counters[c]);
    }
    return v;
}

OBSDEF obs_stats obs_get_stats(void) {
    obs_stats s;
    int running = OBS__LOAD(&obs__g.running);
    if (running) pthread_mutex_lock(&obs__g.lock);
    s.spans_started = obs__stat(OBS__C_STARTED);
    s.spans_unsampled = obs__stat(OBS__C_UNSAMPLED);
    s.spans_ended = obs__stat(OBS__C_ENDED);
    s.spans_exported = obs__stat(OBS__C_SPAN_EXPORTED);
    s.spans_dropped_queue = obs__stat(OBS__C_SPAN_DROP_QUEUE);
    s.spans_dropped_export = obs__stat(OBS__C_SPAN_DROP_EXPORT);
    s.spans_rejected = obs__stat(OBS__C_SPAN_REJECTED);
    s.logs_emitted = obs__stat(OBS__C_LOGS);
    s.logs_exported = obs__stat(OBS__C_LOG_EXPORTED);
    s.logs_dropped_queue = obs__stat(OBS__C_LOG_DROP_QUEUE);
    s.logs_dropped_export = obs__stat(OBS__C_LOG_DROP_EXPORT);
    s.logs_rejected = obs__stat(OBS__C_LOG_REJECTED);
    s.attrs_dropped = obs__stat(OBS__C_ATTR_DROP);
    s.export_requests = obs__stat(OBS__C_REQUESTS);
    s.export_retries = obs__stat(OBS__C_RETRIES);
    if (running) pthread_mutex_unlock(&obs__g.lock);
    return s;
}

OBSDEF obs_tracer *obs_tracer_get(const char *scope_name, const char *scope_version) {
    obs_tracer *t;
    const char *name = scope_name ? scope_name : "", *version = scope_version ? scope_version : "";
    if (!OBS__LOAD(&obs__g.running)) return NULL;
    pthread_mutex_lock(&obs__g.lock);
    for (t = obs__g.tracers; t; t = t->next) {
        if (strcmp(t->scope.name, name) == 0 && strcmp(t->scope.version, version) == 0) break;
    }
    if (!t && (t = (obs_tracer *)obs__calloc(sizeof *t)) != NULL) {
        t->scope.name = obs__strdup(name);
        t->scope.version = obs__strdup(version);
        if (!t->scope.name || !t->scope.version) {
            obs__free((void *)t->scope.name);
            obs__free((void *)t->scope.version);
            obs__free(t);
            t = NULL;
        } else {
            t->next = obs__g.tracers;
            obs__g.tracers = t;
        }
    }
    pthread_mutex_unlock(&obs__g.lock);
    return t;
}

/* Frees everything obs_init made; threads are already stopped. */
static void obs__teardown(void) {
    int c, p;
    obs__tls *t;
    for (t = obs__g.threads; t;) { /* fold the threads' counters into the globals */
        obs__tls *next = t->next;
        for (c = 0; c < OBS__C_THREAD; c++) obs__g.counters[c] += t->counters[c];
        if (t->stack != t->stack_inline) obs__free(t->stack);
        obs__free(t);
        t = next;
    }
    obs__g.threads = NULL;
    while (obs__g.tracers) {
        obs_tracer *tr = obs__g.tracers;
        obs__g.tracers = tr->next;
        obs__free((void *)tr->scope.name);
        obs__free((void *)tr->scope.version);
        obs__free(tr);
    }
    for (p = 0; p < 2; p++) {
        if (obs__g.pools[p].slabs) obs__pool_free(&obs__g.pools[p]);
    }
    obs__free(obs__g.res.v);
    if (obs__g.res_arena) obs__arena_free(obs__g.res_arena);
    obs__free(obs__g.res_arena);
    obs__g.resource = NULL;
    obs__g.n_resource = 0;
    if (obs__g.tls_key_ok) pthread_key_delete(obs__g.tls_key);
    obs__g.tls_key_ok = 0;
    pthread_mutex_destroy(&obs__g.lock);
}

/* Stops every processor: all drain at once until the deadline, all are joined, then their
   exporters are shut down (an exporter serving both signals sees no call after that). */
static void obs__procs_stop(int64_t deadline) {
    int sig, i;
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) obs__proc_stop_begin(obs__g.procs[sig][i], deadline);
    }
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) obs__proc_stop_end(obs__g.procs[sig][i]);
    }
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) obs__proc_free(obs__g.procs[sig][i]);
        obs__g.nprocs[sig] = 0;
    }
}

OBSDEF void obs_shutdown(void) {
    int sig, i, timeout = 0;
    obs_stats st;
    pthread_mutex_lock(&obs__init_lock);
    if (!OBS__LOAD(&obs__g.running)) {
        pthread_mutex_unlock(&obs__init_lock);
        return;
    }
    OBS__STORE_RELAXED(&obs__log_threshold, (int)OBS_LEVEL_OFF);
    OBS__STORE(&obs__g.running, 0);
    for (sig = 0; sig < 2; sig++) {
        for (i = 0; i < obs__g.nprocs[sig]; i++) {
            int ms = obs__g.procs[sig][i]->cfg.export_timeout_ms;
            timeout = ms > timeout ? ms : timeout;
        }
    }
    obs__procs_stop(obs__deadline(timeout, 0));
    obs__teardown();
    st = obs_get_stats();
    if (st.spans_dropped_queue + st.spans_dropped_export + st.logs_dropped_queue + st.logs_dropped_export) {
        obs__diag(2, "dropped %llu spans (queue full %llu, export failed %llu) and %llu log records "
                     "(queue full %llu, export failed %llu)",
                  (unsigned long long)(st.spans_dropped_queue + st.spans_dropped_export),
                  (unsigned long long)st.spans_dropped_queue, (unsigned long long)st.spans_dropped_export,
                  (unsigned long long)(st.logs_dropped_queue + st.logs_dropped_export),
                  (unsigned long long)st.logs_dropped_queue, (unsigned long long)st.logs_dropped_export);
    }
    pthread_mutex_unlock(&obs__init_lock);
}

OBSDEF const char *obs_result_string(obs_result r) {
    switch (r) {
    case OBS_OK: return "ok";
    case OBS_ERR_INVALID_ARG: return "invalid argument or configuration";
    case OBS_ERR_NOMEM: return "out of memory";
    case OBS_ERR_QUEUE_FULL: return "queue full";
    case OBS_ERR_NET: return "network error or refused by the receiver";
    case OBS_ERR_TIMEOUT: return "timed out";
    case OBS_ERR_STATE: return "not running (obs_init not called, failed, or shut down)";
    }
    return "unknown result";
}

#endif /* OBS__IMPLEMENTATION_INCLUDED */
#endif /* OBS_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 the obs.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
*/

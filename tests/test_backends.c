/* tests/test_backends.c -- issue 9: the Rollbar and CloudWatch Logs exporters against local
   fake endpoints. A plain-HTTP fake of both APIs runs in this program: it emulates the Logs
   calls (groups, streams, ResourceNotFoundException), checks every AWS Signature V4 with its
   own SHA-256 (test code; obs.h has no crypto), and can script failures. The same fake is
   reached over TLS through a node TLS front with a certificate made here (skipped without
   node and openssl). A stand-in curl (OBS_CURL) records its command line before it runs the
   real one. Build: make build/test_backends */
#define OBS_IMPLEMENTATION
#include "../obs.h"
#include "test.h"
#include <sys/stat.h>
#include <sys/time.h>

#define KEY_ID "AKIDOBSTEST00001"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"
#define SESSION "FQoGZXIvYXdzSESSIONTOKENxyz"
#define RB_TOKEN "rb-server-token-5ecret"
#define T0_NS ((int64_t)1700000000123456789LL)

static char g_dir[64];

/* ---- SHA-256 and HMAC (FIPS 180-4, RFC 2104): to check curl's signatures ---- */
typedef struct sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
} sha256;
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static void sha_block(sha256 *c, const unsigned char *p) {
    uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
    int i;
    for (i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1, d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d, c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}
static void sha_init(sha256 *c) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->len = 0;
    c->n = 0;
}
static void sha_add(sha256 *c, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    c->len += n;
    while (n--) {
        c->buf[c->n++] = *p++;
        if (c->n == 64) {
            sha_block(c, c->buf);
            c->n = 0;
        }
    }
}
static void sha_end(sha256 *c, unsigned char out[32]) {
    uint64_t bits = c->len * 8;
    unsigned char pad = 0x80, z = 0, l[8];
    int i;
    sha_add(c, &pad, 1);
    while (c->n != 56) sha_add(c, &z, 1);
    for (i = 0; i < 8; i++) l[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_add(c, l, 8);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24), out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8), out[4 * i + 3] = (unsigned char)c->h[i];
    }
}
static void sha_hex(const void *data, size_t n, char out[65]) {
    sha256 c;
    unsigned char d[32];
    sha_init(&c);
    sha_add(&c, data, n);
    sha_end(&c, d);
    obs__hex_encode(d, 32, out);
    out[64] = 0;
}
static void hmac(const unsigned char *key, size_t kn, const char *msg, unsigned char out[32]) {
    unsigned char k[64], pad[64], inner[32];
    sha256 c;
    int i;
    memset(k, 0, sizeof k);
    if (kn > 64) {
        sha_init(&c);
        sha_add(&c, key, kn);
        sha_end(&c, k);
    } else {
        memcpy(k, key, kn);
    }
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
    sha_init(&c);
    sha_add(&c, pad, 64);
    sha_add(&c, msg, strlen(msg));
    sha_end(&c, inner);
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
    sha_init(&c);
    sha_add(&c, pad, 64);
    sha_add(&c, inner, 32);
    sha_end(&c, out);
}

/* ---- small text helpers ---- */
static void write_file(const char *path, const char *text, int mode) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(path, (mode_t)mode);
}
/* Value of header `name` in a request head (case-insensitive name, trimmed), into out. */
static int hget(const char *head, const char *name, char *out, size_t cap) {
    size_t n = strlen(name);
    const char *p = head;
    while ((p = strchr(p, '\n')) != NULL) {
        p++;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *e;
            while (*v == ' ' || *v == '\t') v++;
            e = v + strcspn(v, "\r\n");
            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) e--;
            if ((size_t)(e - v) >= cap) return 0;
            memcpy(out, v, (size_t)(e - v));
            out[e - v] = 0;
            return 1;
        }
    }
    return 0;
}
/* "key":"value" (no escapes) from a JSON text. */
static int jget(const char *body, const char *key, char *out, size_t cap) {
    char pat[64];
    const char *p, *e;
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    if (!body || !(p = strstr(body, pat))) return 0;
    p += strlen(pat);
    if (!(e = strchr(p, '"')) || (size_t)(e - p) >= cap) return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = 0;
    return 1;
}

/* ---- the fake: Rollbar's item API and the Logs API, one connection at a time ---- */
#define FAKE_MAX 512
typedef struct fake_req {
    char path[128], target[64];
    char *head, *body;
    size_t body_len;
    int sig;               /* AWS requests: 1 signature checks out, 0 not */
    int events;            /* PutLogEvents: events, their bytes as AWS counts them, order */
    long bytes;
    int ordered;
    int64_t first_ts, last_ts;
} fake_req;
static struct {
    int lfd, port, stop;
    pthread_t th;
    pthread_mutex_t mu;
    fake_req reqs[FAKE_MAX];
    int nreq;
    int script_status[16];
    char script_body[16][200], script_hdr[16][64];
    int nscript;
    int delay_ms;
    char groups[8][128];
    int ngroups;
    char streams[16][300];
    int nstreams;
    char put_reply[300];
} F;

static void fake_script(int status, const char *hdr, const char *body) {
    pthread_mutex_lock(&F.mu);
    F.script_status[F.nscript] = status;
    snprintf(F.script_hdr[F.nscript], sizeof F.script_hdr[0], "%s", hdr ? hdr : "");
    snprintf(F.script_body[F.nscript], sizeof F.script_body[0], "%s", body ? body : "{}");
    F.nscript++;
    pthread_mutex_unlock(&F.mu);
}
static void fake_delay(int ms) {
    pthread_mutex_lock(&F.mu);
    F.delay_ms = ms;
    pthread_mutex_unlock(&F.mu);
}
static void fake_reset(void) {
    int i;
    pthread_mutex_lock(&F.mu);
    for (i = 0; i < F.nreq; i++) {
        free(F.reqs[i].head);
        free(F.reqs[i].body);
    }
    F.nreq = F.nscript = F.delay_ms = F.ngroups = F.nstreams = 0;
    F.put_reply[0] = 0;
    pthread_mutex_unlock(&F.mu);
}
static int fake_count(const char *target) { /* requests; target NULL: all, "" Rollbar's */
    int i, n = 0;
    pthread_mutex_lock(&F.mu);
    for (i = 0; i < F.nreq; i++) {
        n += !target || (target[0] ? strcmp(F.reqs[i].target, target) == 0
                                   : !F.reqs[i].target[0] && !strcmp(F.reqs[i].path, "/api/1/item/"));
    }
    pthread_mutex_unlock(&F.mu);
    return n;
}
static void fake_add_stream(const char *group, const char *stream) {
    pthread_mutex_lock(&F.mu);
    snprintf(F.groups[F.ngroups++], sizeof F.groups[0], "%s", group);
    snprintf(F.streams[F.nstreams++], sizeof F.streams[0], "%s/%s", group, stream);
    pthread_mutex_unlock(&F.mu);
}

/* AWS Signature V4 as the service checks it: canonical request, string to sign, the key
   derived from the secret, HMAC. Every signed header must be in the request. */
static int sig_check(const char *path, const char *head, const char *body, size_t blen) {
    char auth[600], date[32], scope[128], signed_h[300], sig[80], name[64], val[512], hx[65], hx2[65];
    char canon[4096], sts[512], mine[65];
    unsigned char k[32], k2[32];
    char secret[100];
    const char *p, *cred;
    size_t cl = 0;
    if (!hget(head, "Authorization", auth, sizeof auth) || !hget(head, "X-Amz-Date", date, sizeof date)) return 0;
    if (strncmp(auth, "AWS4-HMAC-SHA256 Credential=", 28) != 0) return 0;
    cred = auth + 28;
    p = strchr(cred, '/');
    if (!p || strncmp(cred, KEY_ID, (size_t)(p - cred)) != 0) return 0;
    if (sscanf(p + 1, "%127[^,], SignedHeaders=%299[^,], Signature=%79s", scope, signed_h, sig) != 3) return 0;
    sha_hex(body, blen, hx);
    cl = (size_t)snprintf(canon, sizeof canon, "POST\n%s\n\n", path);
    for (p = signed_h; *p;) {
        size_t n = strcspn(p, ";");
        if (n >= sizeof name) return 0;
        memcpy(name, p, n);
        name[n] = 0;
        if (!hget(head, name, val, sizeof val)) return 0; /* signed but absent: AWS refuses */
        cl += (size_t)snprintf(canon + cl, sizeof canon - cl, "%s:%s\n", name, val);
        p += n + (p[n] == ';');
    }
    snprintf(canon + cl, sizeof canon - cl, "\n%s\n%s", signed_h, hx);
    sha_hex(canon, strlen(canon), hx2);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", date, scope, hx2);
    snprintf(secret, sizeof secret, "AWS4%s", SECRET);
    { /* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
        char part[64];
        const char *s = scope;
        int i;
        for (i = 0; i < 4; i++) {
            size_t n = strcspn(s, "/");
            if (n >= sizeof part) return 0;
            memcpy(part, s, n);
            part[n] = 0;
            if (i == 0) hmac((const unsigned char *)secret, strlen(secret), part, k2);
            else hmac(k, 32, part, k2);
            memcpy(k, k2, 32);
            s += n + (s[n] == '/');
        }
    }
    hmac(k, 32, sts, k2);
    obs__hex_encode(k2, 32, mine);
    mine[64] = 0;
    return strcmp(mine, sig) == 0;
}

/* strstr without the sanitizers' interceptor, which measures the whole haystack each call. */
static const char *find(const char *s, const char *w) {
    size_t n = strlen(w);
    for (; *s; s++) {
        if (*s == *w && strncmp(s, w, n) == 0) return s;
    }
    return NULL;
}

/* PutLogEvents: events, their bytes (decoded message + 26), and whether they are in order. */
static void put_stats(fake_req *rq) {
    const char *p = rq->body;
    int64_t prev = INT64_MIN;
    rq->ordered = 1;
    while (p && (p = find(p, "{\"timestamp\":")) != NULL) {
        int64_t ts = strtoll(p + 13, NULL, 10);
        const char *m = find(p, ",\"message\":\"");
        long len = 0;
        if (!m) break;
        for (m += 12; *m && *m != '"'; m++) {
            if (*m == '\\') {
                m++;
                if (*m == 'u') {
                    long u = strtol(m + 1, NULL, 16);
                    len += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
                    m += 4;
                } else {
                    len++;
                }
            } else {
                len++;
            }
        }
        if (rq->events == 0) rq->first_ts = ts;
        rq->last_ts = ts;
        rq->ordered &= ts >= prev;
        prev = ts;
        rq->events++;
        rq->bytes += len + 26;
        p = m;
    }
}

static int has_name(char (*list)[300], int n, const char *s) {
    int i;
    for (i = 0; i < n; i++) {
        if (!strcmp(list[i], s)) return 1;
    }
    return 0;
}

static int aws_error(char *body, size_t cap, const char *type, const char *msg) {
    snprintf(body, cap, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    return 400;
}

/* The reply to rq (under F.mu). */
static int fake_decide(fake_req *rq, char *body, size_t cap, char *hdr, size_t hcap) {
    char group[128] = "", stream[160] = "", gs[300];
    int i, have_group = 0;
    hdr[0] = 0;
    if (F.nscript) {
        int st = F.script_status[0];
        snprintf(body, cap, "%s", F.script_body[0]);
        snprintf(hdr, hcap, "%s", F.script_hdr[0]);
        for (i = 1; i < F.nscript; i++) {
            F.script_status[i - 1] = F.script_status[i];
            memcpy(F.script_body[i - 1], F.script_body[i], sizeof F.script_body[0]);
            memcpy(F.script_hdr[i - 1], F.script_hdr[i], sizeof F.script_hdr[0]);
        }
        F.nscript--;
        if (st < 300 && !strcmp(rq->target, "PutLogEvents")) put_stats(rq);
        return st;
    }
    if (!rq->target[0]) { /* Rollbar */
        char tok[100];
        if (strcmp(rq->path, "/api/1/item/") != 0) return snprintf(body, cap, "{\"err\":1}"), 404;
        if (!hget(rq->head, "X-Rollbar-Access-Token", tok, sizeof tok) || strcmp(tok, RB_TOKEN) != 0) {
            snprintf(body, cap, "{\"err\":1,\"message\":\"invalid access token\"}");
            return 403;
        }
        snprintf(body, cap, "{\"err\":0,\"result\":{\"id\":null,\"uuid\":\"x\"}}");
        return 200;
    }
    if (!rq->sig) {
        return aws_error(body, cap, "InvalidSignatureException",
                         "The request signature we calculated does not match");
    }
    jget(rq->body, "logGroupName", group, sizeof group);
    jget(rq->body, "logStreamName", stream, sizeof stream);
    snprintf(gs, sizeof gs, "%s/%s", group, stream);
    for (i = 0; i < F.ngroups; i++) have_group |= !strcmp(F.groups[i], group);
    if (!strcmp(rq->target, "CreateLogGroup")) {
        if (have_group) {
            return aws_error(body, cap, "ResourceAlreadyExistsException",
                             "The specified log group already exists");
        }
        snprintf(F.groups[F.ngroups++], sizeof F.groups[0], "%s", group);
        body[0] = 0;
        return 200;
    }
    if (!have_group) {
        return aws_error(body, cap, "ResourceNotFoundException",
                         "The specified log group does not exist.");
    }
    if (!strcmp(rq->target, "CreateLogStream")) {
        if (has_name(F.streams, F.nstreams, gs)) {
            return aws_error(body, cap, "ResourceAlreadyExistsException",
                             "The specified log stream already exists");
        }
        snprintf(F.streams[F.nstreams++], sizeof F.streams[0], "%s", gs);
        body[0] = 0;
        return 200;
    }
    if (!strcmp(rq->target, "PutLogEvents")) {
        if (!has_name(F.streams, F.nstreams, gs)) {
            return aws_error(body, cap, "ResourceNotFoundException",
                             "The specified log stream does not exist.");
        }
        put_stats(rq);
        snprintf(body, cap, "%s", F.put_reply[0] ? F.put_reply : "{\"nextSequenceToken\":\"4965001\"}");
        return 200;
    }
    snprintf(body, cap, "{\"__type\":\"UnknownOperationException\"}");
    return 400;
}

static void say(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        s += k, n -= (size_t)k;
    }
}

static void fake_conn(int fd) {
    size_t cap = 1 << 16, len = 0, hl, want;
    char *buf = (char *)malloc(cap), *eoh = NULL, cl[32], ex[64], method[8], body[400], hdr[80], out[700];
    fake_req rq;
    struct timeval tv;
    int st, delay;
    tv.tv_sec = 10;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    memset(&rq, 0, sizeof rq);
    while (!eoh) {
        ssize_t k;
        if (len + 1 >= cap) goto done;
        k = recv(fd, buf + len, cap - len - 1, 0);
        if (k <= 0) goto done;
        len += (size_t)k;
        buf[len] = 0;
        eoh = strstr(buf, "\r\n\r\n");
    }
    hl = (size_t)(eoh - buf) + 4;
    if (sscanf(buf, "%7s %127s", method, rq.path) != 2) goto done;
    want = hget(buf, "Content-Length", cl, sizeof cl) ? (size_t)atol(cl) : 0;
    if (hget(buf, "Expect", ex, sizeof ex) && strcasecmp(ex, "100-continue") == 0) {
        say(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    if (hl + want + 1 > cap) {
        cap = hl + want + 1;
        buf = (char *)realloc(buf, cap);
    }
    while (len < hl + want) {
        ssize_t k = recv(fd, buf + len, hl + want - len, 0);
        if (k <= 0) goto done;
        len += (size_t)k;
    }
    buf[hl + want] = 0;
    rq.head = (char *)malloc(hl + 1);
    memcpy(rq.head, buf, hl);
    rq.head[hl] = 0;
    rq.body = (char *)malloc(want + 1);
    memcpy(rq.body, buf + hl, want);
    rq.body[want] = 0;
    rq.body_len = want;
    if (hget(rq.head, "X-Amz-Target", ex, sizeof ex)) {
        snprintf(rq.target, sizeof rq.target, "%s", strchr(ex, '.') ? strchr(ex, '.') + 1 : ex);
        rq.sig = sig_check(rq.path, rq.head, rq.body, rq.body_len);
    }
    pthread_mutex_lock(&F.mu);
    st = fake_decide(&rq, body, sizeof body, hdr, sizeof hdr);
    delay = F.delay_ms;
    if (F.nreq < FAKE_MAX) F.reqs[F.nreq++] = rq;
    else free(rq.head), free(rq.body);
    pthread_mutex_unlock(&F.mu);
    if (delay) obs__sleep_ms(delay);
    snprintf(out, sizeof out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s%sContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s", st, hdr, hdr[0] ? "\r\n" : "", strlen(body), body);
    say(fd, out, strlen(out));
done:
    free(buf);
    close(fd);
}

static void *fake_main(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&F.stop, __ATOMIC_ACQUIRE)) {
        struct pollfd p;
        p.fd = F.lfd;
        p.events = POLLIN;
        if (poll(&p, 1, 100) == 1) {
            int fd = accept(F.lfd, NULL, NULL);
            if (fd >= 0) fake_conn(fd);
        }
    }
    return NULL;
}

static void fake_start(void) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    pthread_mutex_init(&F.mu, NULL);
    F.lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(F.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(F.lfd, (struct sockaddr *)&a, sizeof a) || listen(F.lfd, 64)) exit(2);
    getsockname(F.lfd, (struct sockaddr *)&a, &al);
    F.port = ntohs(a.sin_port);
    pthread_create(&F.th, NULL, fake_main, NULL);
}
static void fake_stop(void) {
    __atomic_store_n(&F.stop, 1, __ATOMIC_RELEASE);
    pthread_join(F.th, NULL);
    close(F.lfd);
    fake_reset();
    pthread_mutex_destroy(&F.mu);
}

/* ---- helpers for the tests ---- */
static void start_obs(const char *traces, const char *logs) {
    setenv("OTEL_SERVICE_NAME", "backend-flask", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "host.name=web-1,service.version=1.2.3,deployment.environment=prod", 1);
    setenv("OTEL_TRACES_EXPORTER", traces, 1);
    setenv("OTEL_LOGS_EXPORTER", logs, 1);
    CHECK(obs_init(NULL) == OBS_OK);
}
static obs_log_data mk_log(int64_t t_ns, obs_level lvl, const char *body, const obs_attr *a, size_t n) {
    obs_log_data d;
    int i;
    memset(&d, 0, sizeof d);
    d.time_ns = d.observed_time_ns = t_ns;
    d.level = lvl;
    d.body = body;
    d.attrs = a;
    d.n_attrs = n;
    for (i = 0; i < 16; i++) d.trace_id[i] = (uint8_t)(i + 1);
    for (i = 0; i < 8; i++) d.span_id[i] = (uint8_t)(0x11 + i);
    d.trace_flags = 1;
    return d;
}
static char *url(char *buf, size_t cap, const char *scheme, int port, const char *path) {
    snprintf(buf, cap, "%s://127.0.0.1:%d%s", scheme, port, path);
    return buf;
}

/* The item with its random uuid checked and replaced by UUID. */
static char *item_without_uuid(const char *body) {
    char *s = strdup(body), *u = strstr(s, "\"uuid\":\"");
    int i, ok = u != NULL;
    if (!u) return s;
    u += 8;
    for (i = 0; i < 36 && ok; i++) {
        ok = (i == 8 || i == 13 || i == 18 || i == 23) ? u[i] == '-' : strchr("0123456789abcdef", u[i]) != NULL;
    }
    ok = ok && u[14] == '4' && strchr("89ab", u[19]) && u[36] == '"';
    CHECK(ok);
    if (ok) memmove(u + 4, u + 36, strlen(u + 36) + 1), memcpy(u, "UUID", 4);
    return s;
}

/* stderr into a file while fn runs, its text returned. */
static int g_err_fd = -1;
static void err_begin(void) {
    char p[128];
    int fd;
    snprintf(p, sizeof p, "%s/stderr.txt", g_dir);
    fflush(stderr);
    g_err_fd = dup(2);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}
static char *err_end(void) {
    char p[128];
    fflush(stderr);
    dup2(g_err_fd, 2);
    close(g_err_fd);
    snprintf(p, sizeof p, "%s/stderr.txt", g_dir);
    return test_read_file(p, NULL);
}

/* ---- Rollbar ---- */

static obs_exporter *rollbar_new(const char *scheme, int port, int max_per_minute, int timeout_ms) {
    obs_rollbar_config c;
    char u[128];
    memset(&c, 0, sizeof c);
    c.access_token = RB_TOKEN;
    c.endpoint = url(u, sizeof u, scheme, port, "/api/1/item/");
    c.environment = "staging";
    c.max_per_minute = max_per_minute;
    c.timeout_ms = timeout_ms;
    return obs_rollbar_exporter_new(&c);
}

static void test_rollbar_log_item(void) {
    obs_attr a[3];
    obs_log_data d[3];
    const obs_log_data *p[3];
    obs_exporter *e;
    char *s;
    fake_reset();
    start_obs("none", "none");
    a[0] = obs_attr_str("code.file.path", "app.c");
    a[1] = obs_attr_int("code.line.number", 42);
    a[2] = obs_attr_bool("retry", 1);
    d[0] = mk_log(T0_NS, OBS_LEVEL_ERROR, "db \"down\"", a, 3);
    d[1] = mk_log(T0_NS, OBS_LEVEL_WARN, "below the level: no item", NULL, 0);
    d[2] = mk_log(T0_NS + 1000000000, OBS_LEVEL_FATAL, "out of memory", NULL, 0);
    memset(d[2].trace_id, 0, 16); /* outside a span: no ids */
    p[0] = &d[0], p[1] = &d[1], p[2] = &d[2];
    e = rollbar_new("http", F.port, 0, 5000);
    CHECK(e != NULL && e->export_logs != NULL && e->export_spans != NULL);
    if (!e) return;
    CHECK(e->export_logs(e->user_data, p, 3, 5000) == OBS_OK);
    CHECK(fake_count(NULL) == 2);
    pthread_mutex_lock(&F.mu);
    if (F.nreq == 2) {
        char v[100];
        s = item_without_uuid(F.reqs[0].body);
        CHECK_STR(s, "{\"data\":{\"environment\":\"staging\",\"level\":\"error\",\"timestamp\":1700000000,"
                     "\"platform\":\"linux\",\"language\":\"c\",\"uuid\":\"UUID\",\"server\":{\"host\":\"web-1\"},"
                     "\"code_version\":\"1.2.3\","
                     "\"notifier\":{\"name\":\"obs.h\",\"version\":\"" OBS_VERSION_STRING "\"},"
                     "\"body\":{\"message\":{\"body\":\"db \\\"down\\\"\"}},"
                     "\"custom\":{\"service.name\":\"backend-flask\","
                     "\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"span_id\":\"1112131415161718\","
                     "\"attributes\":{\"code.file.path\":\"app.c\",\"code.line.number\":42,\"retry\":true}}}}");
        free(s);
        s = item_without_uuid(F.reqs[1].body);
        CHECK_STR(s, "{\"data\":{\"environment\":\"staging\",\"level\":\"critical\",\"timestamp\":1700000001,"
                     "\"platform\":\"linux\",\"language\":\"c\",\"uuid\":\"UUID\",\"server\":{\"host\":\"web-1\"},"
                     "\"code_version\":\"1.2.3\","
                     "\"notifier\":{\"name\":\"obs.h\",\"version\":\"" OBS_VERSION_STRING "\"},"
                     "\"body\":{\"message\":{\"body\":\"out of memory\"}},"
                     "\"custom\":{\"service.name\":\"backend-flask\"}}}");
        free(s);
        CHECK(!strcmp(F.reqs[0].path, "/api/1/item/") && strncmp(F.reqs[0].head, "POST ", 5) == 0);
        CHECK(hget(F.reqs[0].head, "X-Rollbar-Access-Token", v, sizeof v) && !strcmp(v, RB_TOKEN));
        CHECK(hget(F.reqs[0].head, "Content-Type", v, sizeof v) && !strcmp(v, "application/json"));
        CHECK(strstr(F.reqs[0].body, "\"uuid\":\"") && strstr(F.reqs[1].body, "\"uuid\":\"") &&
              strncmp(strstr(F.reqs[0].body, "\"uuid\":\""), strstr(F.reqs[1].body, "\"uuid\":\""), 44) != 0);
    }
    pthread_mutex_unlock(&F.mu);
    e->shutdown(e->user_data);

    /* the level and the environment from the variables, the environment from the resource */
    fake_reset();
    setenv("OBS_ROLLBAR_LEVEL", "warn", 1);
    {
        obs_rollbar_config c;
        char u[128];
        memset(&c, 0, sizeof c);
        c.access_token = RB_TOKEN;
        c.endpoint = url(u, sizeof u, "http", F.port, "/api/1/item/");
        e = obs_rollbar_exporter_new(&c);
    }
    unsetenv("OBS_ROLLBAR_LEVEL");
    CHECK(e != NULL);
    if (e) {
        CHECK(e->export_logs(e->user_data, p, 2, 5000) == OBS_OK && fake_count(NULL) == 2);
        pthread_mutex_lock(&F.mu);
        CHECK(F.nreq == 2 && strstr(F.reqs[0].body, "{\"data\":{\"environment\":\"prod\",\"level\":\"error\"") &&
              strstr(F.reqs[1].body, "{\"data\":{\"environment\":\"prod\",\"level\":\"warning\""));
        pthread_mutex_unlock(&F.mu);
        e->shutdown(e->user_data);
    }
    obs_shutdown();
}

static void test_rollbar_span_exception(void) {
    obs_attr ea[3], sa[2];
    obs_event ev[2];
    obs_span_data sd;
    const obs_span_data *p[1];
    obs_exporter *e;
    char *s;
    int i;
    fake_reset();
    start_obs("none", "none");
    memset(&sd, 0, sizeof sd);
    sd.name = "GET /api/activities/home";
    for (i = 0; i < 16; i++) sd.trace_id[i] = (uint8_t)(0xa0 + i);
    for (i = 0; i < 8; i++) sd.span_id[i] = (uint8_t)(0xb0 + i);
    sd.start_time_ns = T0_NS;
    sd.end_time_ns = T0_NS + 5000000000LL;
    sd.status = OBS_STATUS_ERROR;
    sa[0] = obs_attr_str("http.route", "/api/activities/home");
    sa[1] = obs_attr_int("http.response.status_code", 500);
    sd.attrs = sa;
    sd.n_attrs = 2;
    ea[0] = obs_attr_str("exception.type", "DbError");
    ea[1] = obs_attr_str("exception.message", "connection refused");
    ea[2] = obs_attr_str("exception.stacktrace", "./app(handler+0x1d) [0x401136]\n./app(main+0x20) [0x401200]\n"
                                                  "/lib/libc.so.6(+0x271ca) [0x7f00aa]\n");
    ev[0].name = "log";
    ev[0].time_ns = T0_NS;
    ev[0].attrs = NULL;
    ev[0].n_attrs = 0;
    ev[0].dropped_attrs = 0;
    ev[1].name = "exception";
    ev[1].time_ns = T0_NS + 2000000000LL;
    ev[1].attrs = ea;
    ev[1].n_attrs = 3;
    ev[1].dropped_attrs = 0;
    sd.events = ev;
    sd.n_events = 2;
    p[0] = &sd;
    e = rollbar_new("http", F.port, 0, 5000);
    CHECK(e != NULL);
    if (!e) return;
    CHECK(e->export_spans(e->user_data, p, 1, 5000) == OBS_OK && fake_count(NULL) == 1);
    pthread_mutex_lock(&F.mu);
    if (F.nreq == 1) {
        s = item_without_uuid(F.reqs[0].body);
        CHECK_STR(s, "{\"data\":{\"environment\":\"staging\",\"level\":\"error\",\"timestamp\":1700000002,"
                     "\"platform\":\"linux\",\"language\":\"c\",\"uuid\":\"UUID\",\"server\":{\"host\":\"web-1\"},"
                     "\"code_version\":\"1.2.3\",\"context\":\"GET /api/activities/home\","
                     "\"notifier\":{\"name\":\"obs.h\",\"version\":\"" OBS_VERSION_STRING "\"},"
                     "\"body\":{\"trace\":{\"frames\":[{\"filename\":\"/lib/libc.so.6\",\"method\":\"0x7f00aa\"},"
                     "{\"filename\":\"./app\",\"method\":\"main\"},{\"filename\":\"./app\",\"method\":\"handler\"}],"
                     "\"exception\":{\"class\":\"DbError\",\"message\":\"connection refused\"}}},"
                     "\"custom\":{\"service.name\":\"backend-flask\",\"trace_id\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\","
                     "\"span_id\":\"b0b1b2b3b4b5b6b7\",\"attributes\":{\"http.route\":\"/api/activities/home\","
                     "\"http.response.status_code\":500}}}}");
        free(s);
    }
    pthread_mutex_unlock(&F.mu);

    /* no stack trace: one frame from the span's code.* attributes, else the executable */
    fake_reset();
    ea[2] = obs_attr_str("exception.escaped", "true");
    sa[0] = obs_attr_str("code.file.path", "app.py");
    sa[1] = obs_attr_int("code.line.number", 7);
    CHECK(e->export_spans(e->user_data, p, 1, 5000) == OBS_OK && fake_count(NULL) == 1);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 1 && strstr(F.reqs[0].body, "\"frames\":[{\"filename\":\"app.py\",\"lineno\":7,"
                                                 "\"method\":\"GET /api/activities/home\"}]"));
    pthread_mutex_unlock(&F.mu);
    e->shutdown(e->user_data);
    obs_shutdown();
}

static void frames_of(const char *st, char *out, size_t cap) {
    obs__buf b;
    obs__rb_frame fb;
    memset(&b, 0, sizeof b);
    memset(&fb, 0, sizeof fb);
    fb.file = "exe";
    fb.file_n = 3;
    fb.line = -1;
    obs__rb_frames(&b, st, "exe", &fb);
    snprintf(out, cap, "%s", b.p ? b.p : "");
    obs__buf_free(&b);
}

static void test_rollbar_frames(void) {
    char out[1024];
    frames_of("Traceback (most recent call last):\n  File \"app.py\", line 10, in <module>\n    main()\n"
              "  File \"lib/db.py\", line 3, in connect\n    raise DbError(x)\nDbError: refused\n", out, sizeof out);
    CHECK_STR(out, "\"frames\":[{\"filename\":\"app.py\",\"lineno\":10,\"method\":\"<module>\"},"
                   "{\"filename\":\"lib/db.py\",\"lineno\":3,\"method\":\"connect\"}]");
    frames_of("0x4011d6\n0x401300", out, sizeof out); /* the crash handler's frames */
    CHECK_STR(out, "\"frames\":[{\"filename\":\"exe\",\"method\":\"0x401300\"},"
                   "{\"filename\":\"exe\",\"method\":\"0x4011d6\"}]");
    frames_of("./a.out(+0x1136) [0x55d0]\n(weird line)\nplain text", out, sizeof out);
    CHECK_STR(out, "\"frames\":[{\"filename\":\"plain text\"},{\"filename\":\"exe\",\"method\":\"weird line\"},"
                   "{\"filename\":\"./a.out\",\"method\":\"0x55d0\"}]");
    frames_of("", out, sizeof out);
    CHECK_STR(out, "\"frames\":[{\"filename\":\"exe\"}]");
}

static void test_rollbar_retry(void) {
    obs_log_data d[2];
    const obs_log_data *p[2];
    obs_exporter *e;
    obs_stats st0, st1;
    int64_t t0;
    int i;
    start_obs("none", "none");
    d[0] = mk_log(T0_NS, OBS_LEVEL_ERROR, "first", NULL, 0);
    d[1] = mk_log(T0_NS, OBS_LEVEL_ERROR, "second", NULL, 0);
    p[0] = &d[0], p[1] = &d[1];
    e = rollbar_new("http", F.port, 0, 5000);
    if (!e) return;
    st0 = obs_get_stats();
    fake_reset(); /* 429 with Retry-After: again at once */
    fake_script(429, "Retry-After: 0", "{\"err\":1,\"message\":\"rate limited\"}");
    CHECK(e->export_logs(e->user_data, p, 1, 5000) == OBS_OK && fake_count(NULL) == 2);
    fake_reset(); /* 500: backoff, again */
    fake_script(500, NULL, NULL);
    t0 = obs__mono_ms();
    CHECK(e->export_logs(e->user_data, p, 1, 5000) == OBS_OK && fake_count(NULL) == 2);
    CHECK(obs__mono_ms() - t0 >= 200);
    st1 = obs_get_stats();
    CHECK(st1.export_retries - st0.export_retries == 2 && st1.export_requests - st0.export_requests == 4);
    fake_reset(); /* 422: refused, not again; the next item still goes */
    fake_script(422, NULL, "{\"err\":1,\"message\":\"Invalid format\"}");
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 2, 5000) == OBS_OK && fake_count(NULL) == 2);
    free(err_end());
    fake_reset(); /* 401: the token is refused: the rest of the batch is not tried */
    fake_script(401, NULL, "{\"err\":1,\"message\":\"invalid access token\"}");
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 2, 5000) == OBS_ERR_NET && fake_count(NULL) == 1);
    free(err_end());
    e->shutdown(e->user_data);
    e = rollbar_new("http", F.port, 0, 700); /* 503 every time: retried until the timeout */
    if (!e) return;
    fake_reset();
    for (i = 0; i < 16; i++) fake_script(503, NULL, NULL);
    t0 = obs__mono_ms();
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 2, 5000) != OBS_OK);
    free(err_end());
    CHECK(obs__mono_ms() - t0 < 1500 && fake_count(NULL) >= 2);
    e->shutdown(e->user_data);
    fake_reset();
    obs_shutdown();
}

static void test_rollbar_rate_limit(void) {
    obs_log_data d[10];
    const obs_log_data *p[10];
    obs_exporter *e;
    obs_stats st0, st1;
    char *err;
    int i;
    fake_reset();
    start_obs("none", "none");
    for (i = 0; i < 10; i++) {
        d[i] = mk_log(T0_NS, OBS_LEVEL_ERROR, "again", NULL, 0);
        p[i] = &d[i];
    }
    e = rollbar_new("http", F.port, 3, 5000);
    if (!e) return;
    st0 = obs_get_stats();
    obs__g.diag_level = 2;
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 10, 5000) == OBS_OK);
    err = err_end();
    CHECK(fake_count(NULL) == 3);
    st1 = obs_get_stats();
    CHECK(st1.logs_rejected - st0.logs_rejected == 7);
    CHECK(err && strstr(err, "more than 3 items a minute") && !strstr(err, RB_TOKEN));
    free(err);
    err_begin();
    e->shutdown(e->user_data);
    err = err_end();
    CHECK(err && strstr(err, "rollbar: 7 items dropped over the rate limit"));
    free(err);
    obs_shutdown();
}

/* Missing settings: NULL and a diagnostic that names the variable, never the secret. */
static void test_config_errors(void) {
    obs_rollbar_config rc;
    obs_cloudwatch_config cc;
    char *err;
    start_obs("none", "none");
    obs__g.diag_level = 2;
    memset(&rc, 0, sizeof rc);
    memset(&cc, 0, sizeof cc);
    unsetenv("ROLLBAR_ACCESS_TOKEN");
    err_begin();
    CHECK(obs_rollbar_exporter_new(&rc) == NULL);
    rc.access_token = RB_TOKEN;
    rc.endpoint = "ftp://nope/";
    CHECK(obs_rollbar_exporter_new(&rc) == NULL);
    rc.access_token = "bad\ntoken";
    rc.endpoint = NULL;
    CHECK(obs_rollbar_exporter_new(&rc) == NULL);
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    CHECK(obs_cloudwatch_exporter_new(NULL) == NULL);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK(obs_cloudwatch_exporter_new(NULL) == NULL);
    cc.secret_access_key = SECRET;
    cc.access_key_id = "AKID:x";
    CHECK(obs_cloudwatch_exporter_new(&cc) == NULL);
    cc.access_key_id = NULL;
    cc.region = "eu-west-1; rm -rf";
    CHECK(obs_cloudwatch_exporter_new(&cc) == NULL);
    err = err_end();
    CHECK(err && strstr(err, "no access token (ROLLBAR_ACCESS_TOKEN)") && strstr(err, "invalid endpoint") &&
          strstr(err, "no region (AWS_REGION or AWS_DEFAULT_REGION)") &&
          strstr(err, "no credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)") &&
          strstr(err, "malformed AWS credentials") && strstr(err, "not a region name"));
    CHECK(err && !strstr(err, SECRET) && !strstr(err, RB_TOKEN));
    free(err);
    /* the default endpoint from the region (China's partition too) */
    {
        obs_exporter *e;
        cc.region = "cn-north-1";
        e = obs_cloudwatch_exporter_new(&cc);
        CHECK(e && !strcmp(((obs__cloudwatch *)e->user_data)->endpoint, "https://logs.cn-north-1.amazonaws.com.cn/"));
        if (e) e->shutdown(e->user_data);
        cc.region = NULL;
        e = obs_cloudwatch_exporter_new(&cc);
        CHECK(e && !strcmp(((obs__cloudwatch *)e->user_data)->endpoint, "https://logs.eu-west-1.amazonaws.com/") &&
              !strcmp(((obs__cloudwatch *)e->user_data)->sigv4, "aws:amz:eu-west-1:logs"));
        if (e) e->shutdown(e->user_data);
        rc.access_token = NULL;
        setenv("ROLLBAR_ACCESS_TOKEN", RB_TOKEN, 1);
        e = obs_rollbar_exporter_new(NULL);
        CHECK(e && !strcmp(((obs__rollbar *)e->user_data)->endpoint, "https://api.rollbar.com/api/1/item/") &&
              ((obs__rollbar *)e->user_data)->max_per_minute == 30 &&
              ((obs__rollbar *)e->user_data)->level == OBS_LEVEL_ERROR);
        if (e) e->shutdown(e->user_data);
    }
    unsetenv("AWS_DEFAULT_REGION");
    obs_shutdown();
}

/* ---- CloudWatch ---- */

/* Environment for CloudWatch against the fake; a stand-in curl that records its argv. */
static void aws_env(const char *scheme, int port) {
    char u[128], path[160], script[512];
    setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", SESSION, 1);
    setenv("AWS_REGION", "us-west-2", 1);
    setenv("OBS_CLOUDWATCH_ENDPOINT", url(u, sizeof u, scheme, port, "/"), 1);
    setenv("OBS_CLOUDWATCH_LOG_GROUP", "cruddur", 1);
    setenv("OBS_CLOUDWATCH_LOG_STREAM", "web-1/backend", 1);
    snprintf(path, sizeof path, "%s/curl", g_dir);
    snprintf(script, sizeof script,
             "#!/bin/sh\nprintf '%%s\\n' \"$0\" \"$@\" >> '%s/argv.log'\nexec curl \"$@\"\n", g_dir);
    write_file(path, script, 0755);
    setenv("OBS_CURL", path, 1);
}

static void check_signed(const fake_req *rq, int token) {
    char v[600];
    CHECK(rq->sig == 1);
    CHECK(hget(rq->head, "Authorization", v, sizeof v) &&
          strncmp(v, "AWS4-HMAC-SHA256 Credential=" KEY_ID "/", 29 + strlen(KEY_ID)) == 0 &&
          strstr(v, "/us-west-2/logs/aws4_request, SignedHeaders=") && strstr(v, "x-amz-date") &&
          strstr(v, "x-amz-target") && !strstr(v, "expect") && strstr(v, ", Signature="));
    CHECK(hget(rq->head, "X-Amz-Date", v, sizeof v) && strlen(v) == 16 && v[8] == 'T' && v[15] == 'Z');
    CHECK(!token || (hget(rq->head, "X-Amz-Security-Token", v, sizeof v) && !strcmp(v, SESSION)));
    CHECK(hget(rq->head, "Content-Type", v, sizeof v) && !strcmp(v, "application/x-amz-json-1.1"));
    CHECK(!strstr(rq->head, SECRET) && !strstr(rq->body, SECRET));
}

static void test_cloudwatch_put(void) {
    obs_attr a[1];
    obs_log_data d[3];
    const obs_log_data *p[3];
    obs_exporter *e;
    char path[160], *s;
    static const char *const order[] = {"PutLogEvents", "CreateLogStream", "CreateLogGroup",
                                        "CreateLogStream", "PutLogEvents"};
    int i;
    fake_reset();
    aws_env("http", F.port);
    snprintf(path, sizeof path, "%s/argv.log", g_dir);
    unlink(path);
    start_obs("none", "none");
    a[0] = obs_attr_str("code.file.path", "app.c");
    d[0] = mk_log(T0_NS + 2000000, OBS_LEVEL_INFO, "second", NULL, 0);
    d[1] = mk_log(T0_NS, OBS_LEVEL_WARN, "first \"one\"", a, 1);
    d[2] = mk_log(T0_NS + 2000000, OBS_LEVEL_ERROR, "third", NULL, 0); /* same ms as "second": after it */
    memset(d[2].trace_id, 0, 16);
    memset(d[2].span_id, 0, 8);
    p[0] = &d[0], p[1] = &d[1], p[2] = &d[2];
    e = obs_cloudwatch_exporter_new(NULL);
    CHECK(e != NULL && e->export_logs != NULL && e->export_spans == NULL);
    if (!e) return;
    CHECK(e->export_logs(e->user_data, p, 3, 10000) == OBS_OK);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 5);
    for (i = 0; i < F.nreq && i < 5; i++) {
        CHECK_STR(F.reqs[i].target, order[i]);
        CHECK(!strcmp(F.reqs[i].path, "/"));
        check_signed(&F.reqs[i], 1);
    }
    if (F.nreq == 5) {
        CHECK_STR(F.reqs[1].body, "{\"logGroupName\":\"cruddur\",\"logStreamName\":\"web-1/backend\"}");
        CHECK_STR(F.reqs[2].body, "{\"logGroupName\":\"cruddur\"}");
        /* the messages, before the request's own JSON escaping */
        static const char *const msg[3] = {
            ("{\"body\":\"first \\\"one\\\"\",\"severity_number\":13,\"severity_text\":\"WARN\","
             "\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"span_id\":\"1112131415161718\","
             "\"xray_trace_id\":\"1-01020304-05060708090a0b0c0d0e0f10\","
             "\"attributes\":{\"code.file.path\":\"app.c\"},\"resource\":{\"service.name\":\"backend-flask\"}}"),
            ("{\"body\":\"second\",\"severity_number\":9,\"severity_text\":\"INFO\","
             "\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"span_id\":\"1112131415161718\","
             "\"xray_trace_id\":\"1-01020304-05060708090a0b0c0d0e0f10\","
             "\"resource\":{\"service.name\":\"backend-flask\"}}"),
            ("{\"body\":\"third\",\"severity_number\":17,\"severity_text\":\"ERROR\","
             "\"resource\":{\"service.name\":\"backend-flask\"}}")};
        static const char *const ts[3] = {"1700000000123", "1700000000125", "1700000000125"};
        obs__buf want;
        memset(&want, 0, sizeof want);
        obs__buf_puts(&want, "{\"logGroupName\":\"cruddur\",\"logStreamName\":\"web-1/backend\",\"logEvents\":[");
        for (i = 0; i < 3; i++) {
            obs__buf_printf(&want, "%s{\"timestamp\":%s,\"message\":", i ? "," : "", ts[i]);
            obs__json_cstr(&want, msg[i]);
            obs__buf_putc(&want, '}');
        }
        obs__buf_puts(&want, "]}");
        CHECK_STR(F.reqs[4].body, want.p);
        CHECK(strstr(F.reqs[4].body, "{\"timestamp\":1700000000123,\"message\":\"{\\\"body\\\":\\\"first \\\\\\\"one"));
        obs__buf_free(&want);
        CHECK(F.reqs[4].events == 3 && F.reqs[4].ordered);
    }
    pthread_mutex_unlock(&F.mu);
    /* the stream exists now: one call */
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    CHECK(e->export_logs(e->user_data, p, 3, 10000) == OBS_OK && fake_count(NULL) == 1 &&
          fake_count("PutLogEvents") == 1);
    e->shutdown(e->user_data);
    /* curl's command line: no secret, no session token, no credentials at all */
    s = test_read_file(path, NULL);
    CHECK(s && strstr(s, "--config") && !strstr(s, SECRET) && !strstr(s, SESSION) && !strstr(s, KEY_ID));
    free(s);
    /* and no file the test made holds the secret */
    {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "grep -rqF '%s' '%s'", SECRET, g_dir);
        CHECK(system(cmd) != 0);
    }
    obs_shutdown();
}

/* Without a session token there is no X-Amz-Security-Token; names from the resource. */
static void test_cloudwatch_defaults(void) {
    obs_log_data d = mk_log(T0_NS, OBS_LEVEL_DEBUG, "debug line", NULL, 0), d2 = d;
    const obs_log_data *p[2];
    obs_exporter *e;
    char v[300], want[300];
    fake_reset();
    aws_env("http", F.port);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("OBS_CLOUDWATCH_LOG_GROUP");
    unsetenv("OBS_CLOUDWATCH_LOG_STREAM");
    setenv("OBS_CLOUDWATCH_LEVEL", "info", 1);
    setenv("OTEL_SERVICE_NAME", "backend-flask", 1);
    start_obs("none", "none");
    snprintf(want, sizeof want, "web-1/%s/%ld", obs__res_str("process.executable.name"), (long)getpid());
    fake_add_stream("backend-flask", want);
    d2.level = OBS_LEVEL_INFO;
    d2.body = "kept";
    p[0] = &d, p[1] = &d2;
    e = obs_cloudwatch_exporter_new(NULL);
    unsetenv("OBS_CLOUDWATCH_LEVEL");
    CHECK(e != NULL);
    if (!e) return;
    CHECK(e->export_logs(e->user_data, p, 2, 10000) == OBS_OK && fake_count(NULL) == 1);
    pthread_mutex_lock(&F.mu);
    if (F.nreq == 1) {
        check_signed(&F.reqs[0], 0);
        CHECK(!hget(F.reqs[0].head, "X-Amz-Security-Token", v, sizeof v));
        CHECK(F.reqs[0].events == 1 && strstr(F.reqs[0].body, "kept") && !strstr(F.reqs[0].body, "debug line"));
    }
    pthread_mutex_unlock(&F.mu);
    e->shutdown(e->user_data);
    obs_shutdown();
    aws_env("http", F.port);
}

/* The per-call limits: 10,000 events, 1,048,576 bytes (+26 an event), 24 hours; events over
   256 KiB lose their attributes, then their end. */
static void test_cloudwatch_limits(void) {
    size_t n = 10050, i;
    obs_log_data *d = (obs_log_data *)calloc(n, sizeof *d);
    const obs_log_data **p = (const obs_log_data **)calloc(n, sizeof *p);
    char *big = (char *)malloc(300001), *body = (char *)malloc(200001);
    obs_attr a[1];
    obs_exporter *e;
    int k;
    fake_reset();
    aws_env("http", F.port);
    start_obs("none", "none");
    fake_add_stream("cruddur", "web-1/backend");
    e = obs_cloudwatch_exporter_new(NULL);
    if (!e || !d || !p || !big || !body) return;
    { /* where a call ends: 10,000 events, 1,048,576 bytes (+26 each), under 24 hours */
        obs__cw_event *ev = (obs__cw_event *)calloc(n, sizeof *ev);
        for (i = 0; ev && i < n; i++) ev[i].ts_ms = (int64_t)i, ev[i].len = 1;
        CHECK(ev && obs__cw_batch_end(ev, 0, n) == 10000 && obs__cw_batch_end(ev, 10000, n) == n);
        for (i = 0; ev && i < 25; i++) ev[i].len = 100000; /* 10 x 100,026 fit, 11 do not */
        CHECK(ev && obs__cw_batch_end(ev, 0, 25) == 10 && obs__cw_batch_end(ev, 20, 25) == 25);
        for (i = 0; ev && i < 4; i++) ev[i].len = 1;
        if (ev) ev[1].ts_ms = 3600000, ev[2].ts_ms = 24 * 3600000 - 1, ev[3].ts_ms = 24 * 3600000;
        CHECK(ev && obs__cw_batch_end(ev, 0, 4) == 3 && obs__cw_batch_end(ev, 3, 4) == 4);
        CHECK(ev && (ev[0].len = 1048576 - 26, obs__cw_batch_end(ev, 0, 4) == 1));
        free(ev);
    }
    for (i = 0; i < n; i++) { /* newest first: the exporter sorts */
        d[i] = mk_log(T0_NS + (int64_t)(n - i) * 1000000, OBS_LEVEL_INFO, "x", NULL, 0);
        p[i] = &d[i];
    }
    CHECK(e->export_logs(e->user_data, p, n, 20000) == OBS_OK);
    pthread_mutex_lock(&F.mu);
    {
        long total = 0;
        CHECK(F.nreq >= 2);
        for (k = 0; k < F.nreq; k++) {
            total += F.reqs[k].events;
            CHECK(F.reqs[k].ordered && F.reqs[k].sig && F.reqs[k].bytes <= 1048576 && F.reqs[k].events <= 10000);
            CHECK(k == 0 || F.reqs[k - 1].last_ts <= F.reqs[k].first_ts);
            /* all events cost the same: each call but the last has no room for one more */
            CHECK(k == F.nreq - 1 || F.reqs[k].bytes + F.reqs[k].bytes / F.reqs[k].events > 1048576);
        }
        CHECK(total == (long)n);
    }
    pthread_mutex_unlock(&F.mu);

    /* 25 events of ~100 KB: 10 + 10 + 5 (11 would pass 1,048,576) */
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    memset(body, 'b', 100000);
    body[100000] = 0;
    for (i = 0; i < 25; i++) d[i] = mk_log(T0_NS + (int64_t)i, OBS_LEVEL_INFO, body, NULL, 0);
    CHECK(e->export_logs(e->user_data, p, 25, 20000) == OBS_OK);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 3 && F.reqs[0].events == 10 && F.reqs[1].events == 10 && F.reqs[2].events == 5);
    for (k = 0; k < F.nreq; k++) CHECK(F.reqs[k].bytes <= 1048576 && F.reqs[k].sig);
    pthread_mutex_unlock(&F.mu);

    /* 24 hours: t0, t0 + 1 h, t0 + 25 h, t0 + 26 h -> two calls */
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    d[0] = mk_log(T0_NS, OBS_LEVEL_INFO, "a", NULL, 0);
    d[1] = mk_log(T0_NS + 3600LL * 1000000000, OBS_LEVEL_INFO, "b", NULL, 0);
    d[2] = mk_log(T0_NS + 25 * 3600LL * 1000000000, OBS_LEVEL_INFO, "c", NULL, 0);
    d[3] = mk_log(T0_NS + 24 * 3600LL * 1000000000, OBS_LEVEL_INFO, "exactly 24 h later", NULL, 0);
    CHECK(e->export_logs(e->user_data, p, 4, 20000) == OBS_OK);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 2 && F.reqs[0].events == 2 && F.reqs[1].events == 2 &&
          F.reqs[0].last_ts - F.reqs[0].first_ts < 24 * 3600000LL &&
          F.reqs[1].last_ts - F.reqs[1].first_ts < 24 * 3600000LL);
    pthread_mutex_unlock(&F.mu);

    /* one event over 256 KiB: the attributes go; a body over it is cut */
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    memset(big, 'a', 300000);
    big[300000] = 0;
    a[0] = obs_attr_str("payload", big);
    d[0] = mk_log(T0_NS, OBS_LEVEL_INFO, "with a huge attribute", a, 1);
    d[1] = mk_log(T0_NS, OBS_LEVEL_INFO, big, NULL, 0);
    CHECK(e->export_logs(e->user_data, p, 2, 20000) == OBS_OK);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 1 && F.reqs[0].events == 2 && F.reqs[0].bytes <= 2 * 262144 &&
          strstr(F.reqs[0].body, "with a huge attribute") && !strstr(F.reqs[0].body, "payload"));
    pthread_mutex_unlock(&F.mu);
    {
        obs__cloudwatch *c = (obs__cloudwatch *)e->user_data; /* each message within the limit */
        CHECK(c->ev[0].len <= 262144 - 26 && c->ev[1].len <= 262144 - 26 && c->ev[1].len > 262144 - 26 - 100);
    }
    e->shutdown(e->user_data);
    free(d);
    free(p);
    free(big);
    free(body);
    fake_reset();
    obs_shutdown();
}

static void test_cloudwatch_retry(void) {
    obs_log_data d[5];
    const obs_log_data *p[5];
    obs_exporter *e;
    obs_stats st0, st1;
    int64_t t0;
    int i;
    aws_env("http", F.port);
    start_obs("none", "none");
    for (i = 0; i < 5; i++) {
        d[i] = mk_log(T0_NS + i, OBS_LEVEL_INFO, "retry me", NULL, 0);
        p[i] = &d[i];
    }
    e = obs_cloudwatch_exporter_new(NULL);
    if (!e) return;
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    fake_script(429, "Retry-After: 0", "{\"__type\":\"ThrottlingException\"}");
    CHECK(e->export_logs(e->user_data, p, 1, 10000) == OBS_OK && fake_count("PutLogEvents") == 2);
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    fake_script(500, NULL, "{\"__type\":\"ServiceUnavailableException\"}");
    CHECK(e->export_logs(e->user_data, p, 1, 10000) == OBS_OK && fake_count("PutLogEvents") == 2);
    fake_reset(); /* AWS throttles with a 400 */
    fake_add_stream("cruddur", "web-1/backend");
    fake_script(400, NULL, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
    CHECK(e->export_logs(e->user_data, p, 1, 10000) == OBS_OK && fake_count("PutLogEvents") == 2);
    fake_reset(); /* any other 400: refused, not again */
    fake_add_stream("cruddur", "web-1/backend");
    fake_script(400, NULL, "{\"__type\":\"InvalidParameterException\",\"message\":\"Log event too large\"}");
    obs__g.diag_level = 2;
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 1, 10000) == OBS_ERR_NET && fake_count(NULL) == 1);
    {
        char *err = err_end();
        CHECK(err && strstr(err, "cloudwatch: 1 log records refused: Log event too large") && !strstr(err, SECRET));
        free(err);
    }
    fake_reset(); /* 503 every time: within the timeout, then dropped */
    fake_add_stream("cruddur", "web-1/backend");
    for (i = 0; i < 16; i++) fake_script(503, NULL, NULL);
    t0 = obs__mono_ms();
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 1, 1200) != OBS_OK);
    free(err_end());
    CHECK(obs__mono_ms() - t0 < 3000 && fake_count(NULL) >= 2);
    /* rejectedLogEventsInfo: counted as rejected */
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    pthread_mutex_lock(&F.mu);
    snprintf(F.put_reply, sizeof F.put_reply, "{\"nextSequenceToken\":\"1\",\"rejectedLogEventsInfo\":"
             "{\"tooOldLogEventEndIndex\":1,\"tooNewLogEventStartIndex\":4}}");
    pthread_mutex_unlock(&F.mu);
    st0 = obs_get_stats();
    err_begin();
    CHECK(e->export_logs(e->user_data, p, 5, 10000) == OBS_OK);
    free(err_end());
    st1 = obs_get_stats();
    CHECK(st1.logs_rejected - st0.logs_rejected == 3);
    e->shutdown(e->user_data);
    fake_reset();
    obs_shutdown();
}

/* ---- through obs_init: the names, the shared Rollbar exporter, the caller never waits ---- */

static void test_pipeline(void) {
    obs_tracer *t;
    obs_span *s;
    uint8_t tid[16];
    char hex[33], u[128], *err;
    int i;
    obs_config cfg;
    fake_reset();
    aws_env("http", F.port);
    fake_add_stream("cruddur", "web-1/backend");
    setenv("ROLLBAR_ACCESS_TOKEN", RB_TOKEN, 1);
    setenv("OBS_ROLLBAR_ENDPOINT", url(u, sizeof u, "http", F.port, "/api/1/item/"), 1);
    setenv("OTEL_TRACES_EXPORTER", "rollbar,cloudwatch", 1);
    setenv("OTEL_LOGS_EXPORTER", "otlp,console,rollbar,cloudwatch", 1);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url(u, sizeof u, "http", F.port, ""), 1);
    setenv("OTEL_LOG_LEVEL", "warn", 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.simple_processor = 1; /* still: Rollbar and CloudWatch on a batch thread */
    err_begin();
    CHECK(obs_init(&cfg) == OBS_OK);
    CHECK(obs__cloudwatch_for_pipeline(0) == NULL);
    err = err_end();
    CHECK(err && strstr(err, "OTEL_TRACES_EXPORTER: cloudwatch exports log records only"));
    free(err);
    CHECK(obs__g.nprocs[OBS__SPANS] == 1 && obs__g.nprocs[OBS__LOGS] == 4);
    if (obs__g.nprocs[OBS__SPANS] == 1 && obs__g.nprocs[OBS__LOGS] == 4) {
        CHECK(!strcmp(obs__g.procs[OBS__LOGS][0]->exp->name, "otlp") &&
              !strcmp(obs__g.procs[OBS__LOGS][2]->exp->name, "rollbar") &&
              !strcmp(obs__g.procs[OBS__LOGS][3]->exp->name, "cloudwatch"));
        CHECK(obs__g.procs[OBS__SPANS][0]->exp == obs__g.procs[OBS__LOGS][2]->exp); /* one exporter */
        CHECK(obs__g.procs[OBS__SPANS][0]->batch && obs__g.procs[OBS__LOGS][2]->batch &&
              obs__g.procs[OBS__LOGS][3]->batch && !obs__g.procs[OBS__LOGS][0]->batch);
        CHECK(obs__rollbar_for_pipeline(1) == obs__g.procs[OBS__SPANS][0]->exp); /* one more ref */
        obs__rb_shutdown(obs__g.procs[OBS__SPANS][0]->exp->user_data);
    }
    /* obs_report_error: an exception event and an ERROR record; one Rollbar item */
    t = obs_tracer_get("test", "1");
    err_begin(); /* the console exporter writes the records to stderr */
    s = obs_span_start(t, "GET /api/activities/home");
    obs_span_ids(s, tid, NULL);
    obs__hex_encode(tid, 16, hex);
    hex[32] = 0;
    obs_report_error("DbError", "connection refused");
    OBS_WARN("below Rollbar's level");
    obs_span_end(s);
    obs_flush(10000);
    obs_shutdown();
    free(err_end());
    CHECK(fake_count("") == 1 && fake_count("PutLogEvents") == 1);
    pthread_mutex_lock(&F.mu);
    for (i = 0; i < F.nreq; i++) {
        if (F.reqs[i].target[0]) {
            CHECK(F.reqs[i].events == 2 && strstr(F.reqs[i].body, hex) && F.reqs[i].sig);
        } else if (!strcmp(F.reqs[i].path, "/api/1/item/")) {
            CHECK(strstr(F.reqs[i].body, "\"body\":{\"trace\":{\"frames\":[{") &&
                  strstr(F.reqs[i].body, "\"exception\":{\"class\":\"DbError\",\"message\":\"connection refused\"}") &&
                  strstr(F.reqs[i].body, hex) && strstr(F.reqs[i].body, "\"context\":\"GET /api/activities/home\""));
        }
    }
    pthread_mutex_unlock(&F.mu);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");

    /* the caller never waits: a slow service, a burst of records and errored spans */
    fake_reset();
    fake_add_stream("cruddur", "web-1/backend");
    setenv("OTEL_TRACES_EXPORTER", "rollbar", 1);
    setenv("OTEL_LOGS_EXPORTER", "rollbar,cloudwatch", 1);
    setenv("OBS_ROLLBAR_MAX_PER_MINUTE", "2", 1);
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "3000", 1);
    setenv("OTEL_BLRP_EXPORT_TIMEOUT", "3000", 1);
    CHECK(obs_init(NULL) == OBS_OK);
    fake_delay(600);
    t = obs_tracer_get("test", "1");
    {
        int64_t t0 = obs__mono_ms(), spent;
        for (i = 0; i < 200; i++) {
            s = obs_span_start(t, "work");
            OBS_ERROR("failure %d", i);
            obs_span_record_error(s, "E", "boom");
            obs_span_end(s);
        }
        spent = obs__mono_ms() - t0;
        CHECK(spent < 150);
        if (spent >= 150) fprintf(stderr, "  200 records and spans took %lld ms\n", (long long)spent);
    }
    err_begin();
    obs_shutdown();
    free(err_end());
    CHECK(fake_count("") == 2); /* the rate limit: 2 a minute */
    fake_delay(0);
    setenv("OTEL_LOG_LEVEL", "error", 1);
    unsetenv("OBS_ROLLBAR_ENDPOINT");
    unsetenv("OBS_ROLLBAR_MAX_PER_MINUTE");
    unsetenv("OTEL_BSP_EXPORT_TIMEOUT");
    unsetenv("OTEL_BLRP_EXPORT_TIMEOUT");
    fake_reset();
}

/* ---- TLS: the same fake behind a node TLS front, a certificate made here ---- */
static void test_tls(void) {
    char cmd[1024], js[1024], line[64], path[160];
    obs_log_data d = mk_log(T0_NS, OBS_LEVEL_ERROR, "over tls", NULL, 0);
    const obs_log_data *p[1];
    obs_exporter *e;
    FILE *node;
    int port = 0, pid = 0;
    p[0] = &d;
    if (system("{ command -v openssl && command -v node && command -v curl; } >/dev/null 2>&1")) {
        printf("  skip: the TLS tests need openssl, node and curl\n");
        return;
    }
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout %s/key.pem "
             "-out %s/cert.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
             g_dir, g_dir);
    if (system(cmd)) {
        printf("  skip: openssl could not make a certificate\n");
        return;
    }
    snprintf(js, sizeof js,
             "const tls=require('tls'),net=require('net'),fs=require('fs');"
             "const s=tls.createServer({key:fs.readFileSync('%s/key.pem'),cert:fs.readFileSync('%s/cert.pem')},c=>{"
             "const u=net.connect(%d,'127.0.0.1');c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());"
             "u.on('error',()=>c.destroy());});"
             "s.listen(0,'127.0.0.1',()=>console.log(s.address().port+' '+process.pid));"
             "setTimeout(()=>process.exit(0),60000);", g_dir, g_dir, F.port);
    snprintf(path, sizeof path, "%s/tls.js", g_dir);
    write_file(path, js, 0644);
    snprintf(cmd, sizeof cmd, "exec node %s", path); /* exec: no shell to report the kill */
    node = popen(cmd, "r");
    if (!node || !fgets(line, sizeof line, node) || sscanf(line, "%d %d", &port, &pid) != 2 || port <= 0) {
        printf("  skip: the node TLS front did not start\n");
        if (node) pclose(node);
        return;
    }
    snprintf(path, sizeof path, "%s/cert.pem", g_dir);
    setenv("OBS_CURL_CACERT", path, 1);
    start_obs("none", "none");

    fake_reset(); /* Rollbar over https (curl) */
    e = rollbar_new("https", port, 0, 10000);
    CHECK(e && e->export_logs(e->user_data, p, 1, 10000) == OBS_OK && fake_count("") == 1);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 1 && strstr(F.reqs[0].body, "\"body\":{\"message\":{\"body\":\"over tls\"}}"));
    pthread_mutex_unlock(&F.mu);
    if (e) e->shutdown(e->user_data);

    fake_reset(); /* CloudWatch over https: signed, the stream made */
    aws_env("https", port);
    e = obs_cloudwatch_exporter_new(NULL);
    CHECK(e && e->export_logs(e->user_data, p, 1, 10000) == OBS_OK);
    pthread_mutex_lock(&F.mu);
    CHECK(F.nreq == 5 && F.reqs[4].events == 1);
    {
        int i;
        for (i = 0; i < F.nreq; i++) check_signed(&F.reqs[i], 1);
    }
    pthread_mutex_unlock(&F.mu);
    if (e) e->shutdown(e->user_data);

    fake_reset(); /* without the certificate curl refuses the server */
    unsetenv("OBS_CURL_CACERT");
    unsetenv("CURL_CA_BUNDLE");
    e = rollbar_new("https", port, 0, 1000);
    err_begin();
    CHECK(e && e->export_logs(e->user_data, p, 1, 1000) != OBS_OK && fake_count(NULL) == 0);
    free(err_end());
    if (e) e->shutdown(e->user_data);
    obs_shutdown();
    snprintf(path, sizeof path, "%s/argv.log", g_dir); /* curl ran for each; argv held no secret */
    {
        char *argv_log = test_read_file(path, NULL);
        CHECK(argv_log && strstr(argv_log, "--config") && !strstr(argv_log, RB_TOKEN) &&
              !strstr(argv_log, SECRET) && !strstr(argv_log, SESSION));
        free(argv_log);
    }
    aws_env("http", F.port);
    if (pid > 0) kill(pid, SIGTERM);
    pclose(node);
}

int main(void) {
    char out[65], cmd[128];
    snprintf(g_dir, sizeof g_dir, "/tmp/obs-backends-XXXXXX");
    if (!mkdtemp(g_dir)) return 1;
    sha_hex("abc", 3, out); /* the checker checks out */
    CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    setenv("OTEL_LOG_LEVEL", "error", 1); /* tests that read diagnostics raise it */
    unsetenv("OTEL_SDK_DISABLED");
    fake_start();
    RUN(test_rollbar_log_item);
    RUN(test_rollbar_span_exception);
    RUN(test_rollbar_frames);
    RUN(test_rollbar_retry);
    RUN(test_rollbar_rate_limit);
    RUN(test_config_errors);
    if (system("command -v curl >/dev/null 2>&1") == 0) {
        RUN(test_cloudwatch_put);
        RUN(test_cloudwatch_defaults);
        RUN(test_cloudwatch_limits);
        RUN(test_cloudwatch_retry);
        RUN(test_pipeline);
        RUN(test_tls);
    } else {
        printf("  skip: curl is not installed (CloudWatch signs through it)\n");
    }
    fake_stop();
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", g_dir);
    return TEST_EXIT_CODE();
}

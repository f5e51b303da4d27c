/* tests/fuzz/fuzz_http_response.c -- the HTTP/1.1 response parser of the socket transport
   (obs__read_response: status line, interim 1xx, headers, Content-Length, chunked, read-to-
   close, Retry-After), fed as a server's reply through a socketpair, plus the parsers that
   read what a receiver sends back: curl's header dump (obs__curl_head) and the partialSuccess
   readers (protobuf obs__pb_partial_rejected; JSON obs__json_find_u64/_str).
   Input: byte 0 picks the delivery: < 0x80 one stream; otherwise SOCK_SEQPACKET records of
   1..32 bytes (larger for long inputs), so lines, chunk sizes and bodies arrive split at
   every boundary the parser must handle. The rest is the reply.
   Properties: no memory error, no hang (the parser only ever sees EOF, never a wait: a
   1 s deadline would fail it); success means a final status 200..599 and a body no longer
   than the input (and OBS__RESP_MAX); failure leaves a reason; the readers of what came back
   stay within their buffers. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

static int feed(int seqpacket, size_t rec, const char *p, size_t n) {
    int sv[2], big = 4 << 20;
    if (socketpair(AF_UNIX, seqpacket ? SOCK_SEQPACKET : SOCK_STREAM, 0, sv) != 0) abort();
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    while (n > 0) {
        size_t k = seqpacket && rec < n ? rec : n;
        ssize_t w = send(sv[1], p, k, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0) { /* the buffer is full: too big an input for this harness, skip it */
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
        p += w, n -= (size_t)w;
    }
    shutdown(sv[1], SHUT_WR); /* EOF after the reply */
    close(sv[1]);
    return sv[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    obs__io *io;
    obs__http_resp resp;
    obs__head h;
    char *z, msg[200];
    int fd, rc, seq;
    size_t rec;
    int64_t t0;
    if (size < 1 || size > 65536) return 0;
    seq = data[0] >= 0x80;
    rec = (size_t)(data[0] & 31) + 1;
    if (rec < (size - 1) / 128) rec = (size - 1) / 128; /* at most ~128 records */
    if ((fd = feed(seq, rec, (const char *)data + 1, size - 1)) < 0) return 0;
    io = (obs__io *)calloc(1, sizeof *io);
    if (!io) abort();
    io->fd = fd;
    t0 = obs__mono_ms();
    io->deadline = t0 + 1000;
    obs__http_resp_init(&resp);
    memset(&h, 0, sizeof h);
    rc = obs__read_response(io, &resp, &h);
    FUZZ_ASSERT(!io->timed_out && obs__mono_ms() - t0 < 1000);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    if (rc == 0) {
        FUZZ_ASSERT(resp.status >= 200 && resp.status <= 599);
        FUZZ_ASSERT(resp.body.len <= OBS__RESP_MAX && resp.body.len <= size);
        FUZZ_ASSERT(resp.retry_after_s >= -1);
    } else {
        FUZZ_ASSERT(resp.err[0] != 0 && strlen(resp.err) < sizeof resp.err);
    }
    /* what a receiver said back, read the way the exporter reads it */
    msg[0] = 1;
    (void)obs__pb_partial_rejected(resp.body.p, resp.body.len, 0, msg, sizeof msg);
    FUZZ_ASSERT(strlen(msg) < sizeof msg);
    (void)obs__json_find_u64(resp.body.p, "\"rejectedSpans\"");
    obs__json_find_str(resp.body.p, "\"errorMessage\"", msg, sizeof msg);
    FUZZ_ASSERT(strlen(msg) < sizeof msg);
    close(fd);
    free(io);
    obs__http_resp_free(&resp);

    /* the same bytes as curl's --dump-header output */
    z = fuzz_cstr(data + 1, size - 1);
    obs__http_resp_init(&resp);
    obs__curl_head(z, &resp);
    FUZZ_ASSERT(resp.status == 0 || resp.status == -1 || (resp.status >= 100 && resp.status <= 599));
    FUZZ_ASSERT(resp.retry_after_s >= -1);
    obs__http_resp_free(&resp);
    free(z);
    return 0;
}

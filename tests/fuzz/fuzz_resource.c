/* tests/fuzz/fuzz_resource.c -- OTEL_RESOURCE_ATTRIBUTES: obs__res_list (kv_each twice: check,
   then set) into the resource, then the resource as OTLP/JSON, any bytes.
   Properties: no memory error; the list is taken whole or not at all, agreeing with the
   reference parser (fuzz.h); the resource then holds each distinct key once with its last
   value (byte for byte); and the encoded resource is valid JSON and valid UTF-8 whatever the
   bytes were. */
#define OBS_IMPLEMENTATION
#include "../../obs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int once;
    char *list = fuzz_cstr(data, size);
    fuzz_kvs ref;
    obs__buf b;
    size_t i, j, distinct = 0;
    if (!once) {
        once = 1;
        obs__g.res_arena = (obs__arena *)obs__calloc(sizeof(obs__arena));
        if (!obs__g.res_arena) abort();
    }
    obs__g.diag_level = 0;
    obs__g.limits.value_len = (size_t)-1; /* as obs__setup has it for the resource */
    obs__g.res.n = obs__g.res.dropped = 0;
    obs__arena_reset(obs__g.res_arena);
    ref = fuzz_kvs_parse(list);
    obs__res_list(list, "OTEL_RESOURCE_ATTRIBUTES");
    obs__g.resource = obs__g.res.v;
    obs__g.n_resource = obs__g.res.n;
    if (!ref.ok) {
        FUZZ_ASSERT(obs__g.res.n == 0);
    } else {
        for (i = 0; i < ref.n; i++) { /* the last value of each key */
            const obs_attr *a;
            for (j = i + 1; j < ref.n; j++) {
                if (ref.a[j].kn == ref.a[i].kn && memcmp(ref.a[j].k, ref.a[i].k, ref.a[i].kn) == 0) break;
            }
            if (j < ref.n) continue;
            distinct++;
            a = obs_attr_find(obs__g.resource, obs__g.n_resource, ref.a[i].k);
            FUZZ_ASSERT(a && a->type == OBS_ATTR_STRING && a->n == ref.a[i].vn &&
                        memcmp(a->v.s, ref.a[i].v, a->n) == 0);
        }
        FUZZ_ASSERT(obs__g.res.n == distinct);
    }
    memset(&b, 0, sizeof b);
    obs__otlp_resource(&b);
    obs__buf_putc(&b, '}');
    FUZZ_ASSERT(!b.oom && jc_valid(b.p, b.len));
    obs__buf_free(&b);
    fuzz_kvs_free(&ref);
    free(list);
    return 0;
}

/* tests/test.h -- the entire harness; include once per test program. */
#ifndef TEST_H
#define TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int test__checks, test__failures;
#define CHECK(cond) do { test__checks++; if (!(cond)) { test__failures++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) CHECK(test__streq((a), (b)))
#if defined(__GNUC__)
__attribute__((unused))
#endif
static int test__streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
#define RUN(test_fn) do { int before_ = test__failures; test_fn(); \
    printf("  %-52s %s\n", #test_fn, before_ == test__failures ? "ok" : "FAILED"); } while (0)
#define TEST_EXIT_CODE() \
    (printf("%d passed, %d failed\n", test__checks - test__failures, test__failures), test__failures ? 1 : 0)

/* A whole file as a NUL-ended string (free it), NULL when it cannot be opened; *len (when
   len is not NULL) is the bytes read. */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *p;
    long size;
    size_t n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (char *)malloc((size_t)(size > 0 ? size : 0) + 1);
    if (p) {
        n = size > 0 ? fread(p, 1, (size_t)size, f) : 0;
        p[n] = 0;
    }
    fclose(f);
    if (len) *len = n;
    return p;
}
#endif

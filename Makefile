# obs.h -- build, test, demo, bench. Needs only cc and make; c++ (C++ checks) and node
# (interop, peer) are optional.
CC      ?= cc
CXX     ?= c++
STD      = -std=c99
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror
CFLAGS  ?= -O1 -g
LDLIBS   = -lpthread
B        = build
# Builds run in parallel, one job per core (the tests themselves run one after another);
# not with `clean` among the goals, which must not race the builds after it.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

TESTS    = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
EXAMPLES = $(patsubst examples/%.c,%,$(wildcard examples/*.c))

.PHONY: fuzz valgrind demo-distributed examples-strict all demo test test-asan test-tsan cxx examples check-toc check-disable check-readme bench bench-smoke interop clean

all: examples

$(B):
	@mkdir -p $(B)

# Examples: warnings shown, not fatal (a newer compiler must not stop `make demo`); the
# tests build them with -Werror through the `examples-strict` check.
$(B)/%: examples/%.c obs.h | $(B)
	$(CC) $(STD) $(filter-out -Werror,$(WARN)) $(CFLAGS) $< -o $@ $(LDLIBS)

examples-strict: | $(B)
	@for f in examples/*.c; do $(CC) $(STD) $(WARN) -fsyntax-only $$f || exit 1; done; echo "examples-strict: ok"

examples: $(addprefix $(B)/,$(EXAMPLES))

# The main job: the course example with the console exporter; no server, no setup.
demo: $(B)/hello
	./$(B)/hello

# Two processes, one trace: the back end (stops after one request) and the front end calling it.
demo-distributed: $(B)/backend $(B)/frontend
	@./$(B)/backend $${BACKEND_PORT:-4567} 1 & pid=$$!; \
	./$(B)/frontend http://127.0.0.1:$${BACKEND_PORT:-4567}/api/activities/home; st=$$?; \
	[ $$st -eq 0 ] || kill $$pid 2>/dev/null; wait $$pid; exit $$st

# The end-to-end test runs the example programs next to it.
$(B)/test_distributed: | $(B)/backend $(B)/frontend

$(B)/test_%: tests/test_%.c obs.h tests/test.h tests/receiver.h | $(B)
	$(CC) $(STD) $(WARN) $(CFLAGS) $(TFLAGS) $< -o $@ $(LDLIBS)

$(B)/obs-receiver: tests/receiver_main.c tests/receiver.h | $(B)
	$(CC) $(STD) $(WARN) -O2 $< -o $@ $(LDLIBS)

# Every test program prints "N passed, N failed"; tests/run.sh adds them up.
test: $(addprefix $(B)/,$(TESTS)) $(B)/obs-receiver examples examples-strict cxx check-toc check-disable check-readme \
      $(B)/disable_compile $(B)/static_ab
	@sh tests/run.sh $(B) $(TESTS) disable_compile static_ab

# The same tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan:
	@$(MAKE) --no-print-directory B=build/asan CFLAGS="-O1 -g $(SAN) -DOBS_TEST_SANITIZED" test

# The concurrency tests under ThreadSanitizer.
test-tsan:
	@$(MAKE) --no-print-directory B=build/tsan CFLAGS="-O1 -g -fsanitize=thread -DOBS_TEST_SANITIZED -DTSAN" \
	    build/tsan/test_threads build/tsan/test_processor build/tsan/test_insight build/tsan/test_reliability
	@OBS_STRESS_N=20000 sh tests/run.sh build/tsan test_threads test_processor test_insight test_reliability

# obs.h compiles as C++ (declarations and implementation), included twice. Debian's cc comes
# without c++ (package g++): without it the C++ checks are skipped, with a message.
HAVE_CXX := $(shell command -v $(CXX) 2>/dev/null)
NO_CXX    = echo "cxx: skipped: no C++ compiler ($(CXX)); apt-get install g++ to check obs.h as C++"
cxx: | $(B)
	@if [ -n "$(HAVE_CXX)" ]; then set -x; $(CXX) -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -c tests/cpp_compile.cpp -o $(B)/cpp_compile.o; else $(NO_CXX); fi
	$(CC) $(STD) $(WARN) -O2 -c tests/o2_compile.c -o $(B)/o2_compile.o
	$(CC) $(STD) $(WARN) -O3 -c tests/o2_compile.c -o $(B)/o3_compile.o

# OBS_DISABLE: no implementation linked, nothing evaluated in the log macros.
$(B)/disable_compile: tests/disable_compile.c obs.h | $(B)
	$(CC) $(STD) $(WARN) $(CFLAGS) $< -o $@
	@if [ -n "$(HAVE_CXX)" ]; then set -x; $(CXX) -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only $<; else $(NO_CXX); fi

# Two private (OBS_STATIC) copies in one program.
$(B)/static_ab: tests/static_a.c tests/static_b.c obs.h | $(B)
	$(CC) $(STD) $(WARN) $(CFLAGS) tests/static_a.c tests/static_b.c -o $@ $(LDLIBS)

# Every public function has its OBS_DISABLE stub.
check-disable: | $(B)
	@sed -n '1,/^#ifdef OBS_DISABLE/p' obs.h | grep -o '^OBSDEF[^(]*(' | grep -o '[a-z_0-9]*($$' > $(B)/api.decl
	@sed -n '/^#ifdef OBS_DISABLE/,/OBS_DISABLE \*\//p' obs.h | grep -o '^OBSDEF[^(]*(' | grep -o '[a-z_0-9]*($$' > $(B)/api.stub
	@diff $(B)/api.decl $(B)/api.stub && echo "check-disable: ok"

# The C code blocks of README.md compile.
check-readme: | $(B)
	@awk '/^```c$$/{f=1; n++; next} /^```$$/{f=0} f{print > "$(B)/readme_" n ".c"}' README.md
	@for f in $(B)/readme_*.c; do $(CC) $(STD) $(WARN) -I. $$f -o $$f.out $(LDLIBS) || exit 1; done; echo "check-readme: ok"

# The CONTENTS list in obs.h matches its section markers.
check-toc: | $(B)
	@sed -n '/^   CONTENTS/,/^$$/p' obs.h | grep -o '>>[a-z][a-z:_]*' > $(B)/toc.doc
	@grep -o '^// >>[a-z:_]*' obs.h | cut -c4- > $(B)/toc.code
	@diff $(B)/toc.doc $(B)/toc.code && echo "check-toc: ok"

# Every kind of payload obs.h writes, checked against the official OTLP protobuf schema
# (OpenTelemetry JS packages, pinned in tests/interop; skipped with a message without node).
interop: $(B)/emit_payloads $(B)/test_protobuf $(B)/backend
	./$(B)/emit_payloads $(B)/traces.jsonl $(B)/logs.jsonl
	bash tests/interop/run.sh --kind traces $(B)/traces.jsonl
	bash tests/interop/run.sh --kind logs $(B)/logs.jsonl
	./$(B)/test_protobuf --emit $(B) > /dev/null
	bash tests/interop/run.sh --protobuf $(B)/pb_traces.bin --json $(B)/pb_traces.json
	bash tests/interop/run.sh --protobuf $(B)/pb_logs.bin --json $(B)/pb_logs.json
	@if command -v node >/dev/null 2>&1; then node tests/interop/js-client.js $(B)/backend; \
	else echo "interop: js-client skipped (node not found)"; fi

$(B)/emit_payloads: tests/emit_payloads.c obs.h tests/receiver.h | $(B)
	$(CC) $(STD) $(WARN) $(CFLAGS) $< -o $@ $(LDLIBS)

# The benchmark (-O2), then the OpenTelemetry JS SDK on the same cases, side by side.
$(B)/bench: bench/bench.c obs.h tests/receiver.h | $(B)
	$(CC) $(STD) -Wall -Wextra -Wpedantic -O2 $< -o $@ $(LDLIBS)

bench: $(B)/bench $(B)/obs-receiver
	@sh bench/compare.sh $(B)

# CI's smoke run: small counts; asserts it runs and loses no span end to end, never a timing.
bench-smoke: $(B)/bench $(B)/obs-receiver
	@sh bench/compare.sh $(B) --quick

# libFuzzer targets for every parser of outside input (clang): FUZZ_SECONDS each.
FUZZ_SECONDS ?= 10
fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# valgrind memcheck on the examples (skipped with a message without valgrind).
valgrind: $(B)/hello $(B)/tool
	@if ! command -v valgrind >/dev/null 2>&1; then echo "valgrind: skipped (not installed)"; echo "valgrind: 0 passed, 0 failed"; exit 0; fi; \
	p=0; f=0; for x in hello tool; do \
	  if OTEL_TRACES_EXPORTER=console OTEL_LOGS_EXPORTER=console valgrind -q --error-exitcode=99 --leak-check=full \
	     --errors-for-leak-kinds=definite ./$(B)/$$x > /dev/null 2>$(B)/valgrind-$$x.log; \
	  then p=$$((p+1)); else f=$$((f+1)); cat $(B)/valgrind-$$x.log; fi; done; \
	rm -f obs-trace.json; echo "valgrind: $$p passed, $$f failed"; [ $$f -eq 0 ]

clean:
	rm -rf build

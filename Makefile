# scrmd - build, run, test, benchmark and install.
#   make run      install what is missing, build, migrate, serve on 127.0.0.1:8080
#   make test     install what is missing, build, run every test (also under ASan/UBSan,
#                 and every fuzzer for a short while)
#   make fuzz     the libFuzzer harnesses of tests/fuzz/ for FUZZ_SECONDS each
#   make bench    benchmarks (figures, not pass/fail)
#   make soak     load and endurance: a mixed workload at 256 connections for minutes
#   make test-tsan      the API suite against the ThreadSanitizer build
#   make test-valgrind  a few API test files against the daemon under valgrind
#   make install  binary, web/, migrations/ and the systemd unit under $(PREFIX)
#   make web      the dashboard: npm ci from web/package-lock.json, then esbuild
#                 bundles web/src/ into web/assets/ (served by the daemon)

PREFIX   ?= /usr/local
DATADIR  ?= $(PREFIX)/share/scrmd
DESTDIR  ?=
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

PKGS     := libmicrohttpd sqlite3 jansson libcurl openssl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wvla -Wstrict-prototypes
CPPFLAGS := -Iinclude -D_GNU_SOURCE -DSCRM_VERSION='"$(VERSION)"' -DSCRM_DATADIR='"$(DATADIR)"'
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c17 $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS   = $(PKG_LIBS) -lpthread -lm
SAN      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TSAN     := -O1 -g -fsanitize=thread -fno-omit-frame-pointer

SRC      := $(sort $(shell find src -name '*.c'))
LIB_SRC  := $(filter-out src/main.c,$(SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

B        := build
OBJ      := $(SRC:%.c=$(B)/obj/%.o)
ASAN_OBJ := $(SRC:%.c=$(B)/asan/%.o)
TSAN_OBJ := $(SRC:%.c=$(B)/tsan/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_ASAN := $(LIB_SRC:%.c=$(B)/asan/%.o)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
UNITS_ASAN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit-asan/%)

# libFuzzer harnesses (clang): tests/fuzz/fuzz_*.c, each linked against an
# archive of the daemon's sources (all but main.c) built with ASan/UBSan and
# coverage, so that a harness takes in only the objects it reaches
FUZZ_CC      ?= clang
FUZZ_AR      ?= ar
FUZZ_SECONDS ?= 300
FUZZ_MAX_LEN ?= 16384
FUZZ_SAN     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_LIB_SRC := $(LIB_SRC)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZ_LIB     := $(B)/fuzz/libscrm-fuzz.a
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_HDR     := $(wildcard tests/fuzz/*.h)
FUZZERS      := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_LIBS    = $(PKG_LIBS) -lpthread -lm

.PHONY: all deps test-deps fuzz-deps bench-deps run test test-crash unit fuzz fuzz-build bench install \
	uninstall clean format check-format web e2e-deps test-tsan test-valgrind soak
.DEFAULT_GOAL := all

all: $(B)/scrmd

deps:
	@sh contrib/install-deps.sh build

# The dashboard: packages from the lockfile only, bundled into web/assets/.
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/build.mjs web/package.json

web: web/assets/main.js

web/node_modules/.package-lock.json: web/package-lock.json
	@echo "  NPM     web (npm ci)"
	@cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null

web/assets/main.js: $(WEB_SRC) web/node_modules/.package-lock.json
	@cd web && node build.mjs

# The browser tests' packages (playwright-core): from their lockfile only.
e2e-deps: tests/e2e/node_modules/.package-lock.json

tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	@echo "  NPM     tests/e2e (npm ci)"
	@cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null

test-deps:
	@sh contrib/install-deps.sh test
	@$(MAKE) --no-print-directory fuzz-deps

bench-deps:
	@sh contrib/install-deps.sh bench

# clang with libFuzzer (Debian: clang and libclang-rt-dev), installed when
# `clang -fsanitize=fuzzer` cannot link
fuzz-deps:
	@echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	  | $(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1 || { \
	  echo "installing: clang libclang-rt-dev (libFuzzer)"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    clang libclang-rt-dev >/dev/null; \
	  echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	    | $(FUZZ_CC) -x c -fsanitize=fuzzer,address,undefined -o /dev/null - || { \
	    echo "$(FUZZ_CC) -fsanitize=fuzzer does not work (set FUZZ_CC)" >&2; exit 1; }; }

$(B)/scrmd: $(OBJ)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/scrmd-asan: $(ASAN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(B)/scrmd-tsan: $(TSAN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(TSAN) -o $@ $^ $(LDLIBS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/SAN  $<"
	@$(CC) $(CPPFLAGS) -std=c17 $(WARN) $(SAN) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/TSAN $<"
	@$(CC) $(CPPFLAGS) -std=c17 $(WARN) $(TSAN) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# the OpenAPI document is built into the binary
$(B)/obj/src/api/openapi.o $(B)/asan/src/api/openapi.o $(B)/tsan/src/api/openapi.o: src/api/openapi.json

$(B)/unit/%: tests/unit/%.c tests/unit/harness.h tests/unit/db_tx.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS) -lcmocka

$(B)/unit-asan/%: tests/unit/%.c tests/unit/harness.h tests/unit/db_tx.h $(LIB_ASAN)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) -Itests/unit -std=c17 $(WARN) $(SAN) $(PKG_CFLAGS) -o $@ $< $(LIB_ASAN) $(LDLIBS) -lcmocka

unit: $(UNITS) $(UNITS_ASAN)

$(B)/fuzz/obj/%.o: %.c | fuzz-deps
	@mkdir -p $(dir $@)
	@echo "  CC/FUZZ $<"
	@$(FUZZ_CC) $(CPPFLAGS) -std=c17 $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) \
	  -MMD -MP -c -o $@ $<

# the OpenAPI document is built into the binary
$(B)/fuzz/obj/src/api/openapi.o: src/api/openapi.json

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	@echo "  AR/FUZZ $@"
	@$(FUZZ_AR) rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_HDR) $(FUZZ_LIB) | fuzz-deps
	@mkdir -p $(dir $@)
	@echo "  LD/FUZZ $@"
	@$(FUZZ_CC) $(CPPFLAGS) -DFUZZ_MIGRATIONS='"$(CURDIR)/migrations"' -std=c17 $(WARN) \
	  $(FUZZ_SAN) -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB) $(FUZZ_LIBS)

fuzz-build: $(FUZZERS)
.SECONDARY: $(FUZZ_LIB_OBJ)

# each harness for FUZZ_SECONDS; the corpus grows in build/fuzz/corpus/NAME,
# seeded from tests/fuzz/corpus/X/ and using tests/fuzz/X.dict for fuzz_X where
# they exist; crashes land in build/fuzz/artifacts/ (add them to the seeds)
fuzz: fuzz-build
	@mkdir -p $(B)/fuzz/artifacts
	@set -e; for f in $(FUZZERS); do \
	  n=$$(basename $$f); x=$${n#fuzz_}; mkdir -p $(B)/fuzz/corpus/$$n; \
	  seed=""; [ -d tests/fuzz/corpus/$$x ] && seed=tests/fuzz/corpus/$$x; \
	  dict=""; [ -f tests/fuzz/$$x.dict ] && dict=-dict=tests/fuzz/$$x.dict; \
	  echo "== $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -print_final_stats=1 $$dict \
	    -artifact_prefix=$(B)/fuzz/artifacts/$$n- $(B)/fuzz/corpus/$$n $$seed; \
	done

run: deps all web
	@mkdir -p data
	./$(B)/scrmd serve

test: test-deps all web e2e-deps $(B)/scrmd-asan $(B)/scrmd-tsan unit fuzz-build
	@sh tests/run.sh

# kill -9 under write load for CRASH_CYCLES (50) cycles, then the backup drill
# (tests/crash/); SCRM_BIN=build/scrmd-asan for the sanitizer build
test-crash: all
	@sh contrib/install-deps.sh test
	@CRASH_CYCLES=$${CRASH_CYCLES:-50} SCRM_BIN=$${SCRM_BIN:-build/scrmd} node --test tests/crash/

# the API suite against the ThreadSanitizer build alone (make test runs it
# too); a TSan warning in a daemon's log, or its exit status 66, fails a test
test-tsan: test-deps all web $(B)/scrmd-tsan
	SCRM_BIN=$(B)/scrmd-tsan node --test --test-concurrency=2 tests/api/

# a few API test files against the release daemon under valgrind memcheck:
# any memory error or definite leak makes a daemon exit 99, which fails its
# test; each daemon's report is kept in build/valgrind/PID.log and summed up
VALGRIND_TESTS ?= customers orders loyalty coupons rewards
VALGRIND := valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite \
	--log-file=$(CURDIR)/$(B)/valgrind/%p.log
test-valgrind: test-deps all web
	@rm -rf $(B)/valgrind && mkdir -p $(B)/valgrind
	SCRM_BIN=$(B)/scrmd SCRM_START_TIMEOUT_MS=120000 SCRM_WRAP="$(VALGRIND)" \
	  node --test --test-concurrency=2 --test-timeout=900000 $(VALGRIND_TESTS:%=tests/api/%.test.mjs)
	@sh tests/valgrind-summary.sh $(B)/valgrind

# load and endurance: a mixed workload at 256 connections for SOAK_SECONDS
# (300) on SOAK_CUSTOMERS (100000) demo customers; see tests/soak/run.sh
soak: bench-deps all
	@sh tests/soak/run.sh

bench: bench-deps all web e2e-deps
	@sh tests/bench/run.sh

install: all web
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR) $(DESTDIR)/etc/scrmd
	install -m 0755 $(B)/scrmd $(DESTDIR)$(PREFIX)/bin/scrmd
	rm -rf $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(DATADIR)/migrations
	install -d $(DESTDIR)$(DATADIR)/web/assets
	install -m 0644 web/index.html web/favicon.svg $(DESTDIR)$(DATADIR)/web/
	install -m 0644 web/assets/* $(DESTDIR)$(DATADIR)/web/assets/
	cp -R migrations $(DESTDIR)$(DATADIR)/
	install -m 0644 README.md config.example.ini $(DESTDIR)$(DATADIR)/
	install -D -m 0644 contrib/scrmd.service $(DESTDIR)/etc/systemd/system/scrmd.service
	sed -i 's|/usr/local|$(PREFIX)|g' $(DESTDIR)/etc/systemd/system/scrmd.service
	test -e $(DESTDIR)/etc/scrmd/scrmd.ini || \
	  sed -e 's|^;* *path = data/scrm.db|path = /var/lib/scrmd/scrm.db|' \
	      -e 's|^;* *web_root = web|web_root = $(DATADIR)/web|' \
	      -e 's|^;* *migrations_dir = migrations|migrations_dir = $(DATADIR)/migrations|' \
	      config.example.ini > $(DESTDIR)/etc/scrmd/scrmd.ini
	@echo "installed; next: systemctl daemon-reload && systemctl enable --now scrmd"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/scrmd $(DESTDIR)/etc/systemd/system/scrmd.service
	rm -rf $(DESTDIR)$(DATADIR)

format:
	clang-format -i $(SRC) $(shell find include tests/unit tests/fuzz -name '*.[ch]')

clean:
	rm -rf $(B) web/assets

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(TSAN_OBJ:.o=.d) $(FUZZ_LIB_OBJ:.o=.d)

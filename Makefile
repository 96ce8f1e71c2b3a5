# scrmd - build, run, test, benchmark and install.
#   make run      install what is missing, build, migrate, serve on 127.0.0.1:8080
#   make test     install what is missing, build, run every test (also under ASan/UBSan)
#   make bench    benchmarks (figures, not pass/fail)
#   make install  binary, web/, migrations/ and the systemd unit under $(PREFIX)

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

SRC      := $(sort $(shell find src -name '*.c'))
LIB_SRC  := $(filter-out src/main.c,$(SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

B        := build
OBJ      := $(SRC:%.c=$(B)/obj/%.o)
ASAN_OBJ := $(SRC:%.c=$(B)/asan/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
LIB_ASAN := $(LIB_SRC:%.c=$(B)/asan/%.o)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
UNITS_ASAN := $(UNIT_SRC:tests/unit/%.c=$(B)/unit-asan/%)

.PHONY: all deps test-deps bench-deps run test unit bench install uninstall clean format check-format
.DEFAULT_GOAL := all

all: $(B)/scrmd

deps:
	@sh contrib/install-deps.sh build

test-deps:
	@sh contrib/install-deps.sh test

bench-deps:
	@sh contrib/install-deps.sh bench

$(B)/scrmd: $(OBJ)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/scrmd-asan: $(ASAN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/SAN  $<"
	@$(CC) $(CPPFLAGS) -std=c17 $(WARN) $(SAN) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# the OpenAPI document is built into the binary
$(B)/obj/src/api/openapi.o $(B)/asan/src/api/openapi.o: src/api/openapi.json

$(B)/unit/%: tests/unit/%.c tests/unit/harness.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS) -lcmocka

$(B)/unit-asan/%: tests/unit/%.c tests/unit/harness.h $(LIB_ASAN)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CPPFLAGS) -Itests/unit -std=c17 $(WARN) $(SAN) $(PKG_CFLAGS) -o $@ $< $(LIB_ASAN) $(LDLIBS) -lcmocka

unit: $(UNITS) $(UNITS_ASAN)

run: deps all
	@mkdir -p data
	./$(B)/scrmd serve

test: test-deps all $(B)/scrmd-asan unit
	@sh tests/run.sh

bench: bench-deps all
	@sh tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR) $(DESTDIR)/etc/scrmd
	install -m 0755 $(B)/scrmd $(DESTDIR)$(PREFIX)/bin/scrmd
	rm -rf $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(DATADIR)/migrations
	cp -R web migrations $(DESTDIR)$(DATADIR)/
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
	clang-format -i $(SRC) $(shell find include tests/unit -name '*.[ch]')

clean:
	rm -rf $(B)

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d)

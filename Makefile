# quantd build. `make` builds ./build/quantd; `make check` runs every test; `make run` serves.
# MODE: release (default, -O2 -g) | debug | asan | tsan. Each mode has its own object tree;
# the release binary is ./build/quantd, other modes put theirs under ./build/<mode>/.
# (Keep comments off assignment lines: make keeps the spaces before a trailing '#'.)
MODE    ?= release
PREFIX  ?= /usr/local
DESTDIR ?=
PKGS    := libuv libmicrohttpd jansson libcurl libpq openssl
TESTPKG := check

ifeq ($(MODE),release)
  BUILD := build
else
  BUILD := build/$(MODE)
endif
OBJ := $(BUILD)/obj

# Debian packages needed to build, test and run (make deps installs the missing ones).
DEB_PKGS := gcc make pkg-config libuv1-dev libmicrohttpd-dev libjansson-dev \
            libcurl4-openssl-dev libpq-dev libssl-dev check postgresql nodejs:node npm:npm \
            curl procps util-linux chromium:chromium
BENCH_PKGS := wrk nginx-light

CSTD  := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN  := -Wall -Wextra -Wshadow -Wformat=2 -Wundef -Wstrict-prototypes \
         -Wmissing-prototypes -Wold-style-definition -Wwrite-strings -Wvla \
         -Wimplicit-fallthrough -Wno-missing-field-initializers $(if $(NOWERROR),,-Werror)
CPPFLAGS += -I. -I$(BUILD)/gen
CFLAGS   += $(CSTD) $(WARN) -g -fno-common -MMD -MP
LDLIBS   += -lm -pthread
# Bind every symbol at start (full RELRO): no lazy-binding cost on the first call of anything
# (bench: a first backtest paid it), and the GOT is read-only.
LDFLAGS  += -Wl,-z,relro,-z,now

ifeq ($(MODE),release)
  CFLAGS += -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
else ifeq ($(MODE),debug)
  CFLAGS += -O0
else ifeq ($(MODE),asan)
  SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
  CFLAGS += -O1 -fno-omit-frame-pointer $(SAN)
  LDFLAGS += $(SAN)
else ifeq ($(MODE),fuzz)
  # libFuzzer harnesses (tests/fuzz/): the library built by clang with coverage + sanitizers
  CC := clang
  SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
  CFLAGS += -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(SAN)
  LDFLAGS += $(SAN)
else ifeq ($(MODE),tsan)
  SAN := -fsanitize=thread
  CFLAGS += -O1 -fno-omit-frame-pointer $(SAN)
  LDFLAGS += $(SAN)
else
  $(error MODE must be release, debug, asan, tsan or fuzz)
endif

# pkg-config is asked only when building (not for deps/clean on a bare machine).
NEED_PKG := $(filter-out deps clean bench-deps,$(or $(MAKECMDGOALS),all))
ifneq ($(NEED_PKG),)
  CPPFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
  LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null)
  TEST_CFLAGS := $(shell pkg-config --cflags $(TESTPKG) 2>/dev/null)
  TEST_LIBS   := $(shell pkg-config --libs $(TESTPKG) 2>/dev/null)
endif

LIB_DIRS := common core features feeds engines risk tracking storage jobs api daemon
LIB_SRC  := $(filter-out daemon/main.c,$(wildcard $(addsuffix /*.c,$(LIB_DIRS))))
MIG_SQL  := $(sort $(wildcard storage/migrations/*.sql))
LIB_OBJ  := $(LIB_SRC:%.c=$(OBJ)/%.o) $(OBJ)/gen/migrations.o
BIN_OBJ  := $(OBJ)/daemon/main.o
UNIT_SRC := $(wildcard tests/unit/*.c tests/unit/*/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(OBJ)/%.o)
TLIB_SRC := $(wildcard tests/lib/*.c)
TLIB_OBJ := $(TLIB_SRC:%.c=$(OBJ)/%.o)
E2E_SRC  := $(wildcard tests/e2e/test_*.c)
E2E_BIN  := $(E2E_SRC:tests/e2e/%.c=$(BUILD)/e2e/%)
DEPS     := $(LIB_OBJ:.o=.d) $(BIN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(TLIB_OBJ:.o=.d) \
            $(E2E_SRC:%.c=$(OBJ)/%.d)

.PHONY: all check unit e2e contract lint asan tsan valgrind run install deps bench-deps clean \
        pg-start pg-stop bench bench-engine bench-feeds fmt fuzz fuzz-run
all: $(BUILD)/quantd

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/quantd: $(BIN_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJ)/tests/%.o: CPPFLAGS += $(TEST_CFLAGS)

# SQL migrations are compiled into the binary (storage/migrate.c reads this table).
$(BUILD)/gen/migrations.c: $(MIG_SQL) tools/embed-sql.sh
	@mkdir -p $(@D)
	sh tools/embed-sql.sh $@ $(MIG_SQL)
$(OBJ)/gen/%.o: CFLAGS += -Wno-overlength-strings
$(OBJ)/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The unit-test runner's suite list is generated from `suite_<name>(void)` definitions.
$(BUILD)/gen/suites.h: $(UNIT_SRC) tools/gen-suites.sh
	@mkdir -p $(@D)
	sh tools/gen-suites.sh $@ $(filter-out tests/unit/main.c,$(UNIT_SRC))
$(OBJ)/tests/unit/main.o: $(BUILD)/gen/suites.h

$(BUILD)/unit-tests: $(UNIT_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

$(BUILD)/e2e/%: $(OBJ)/tests/e2e/%.o $(TLIB_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

deps:
	@sh scripts/deps.sh $(DEB_PKGS)
bench-deps:
	@sh scripts/deps.sh $(BENCH_PKGS)

unit: $(BUILD)/unit-tests
	CK_TIMEOUT_MULTIPLIER=$(if $(SAN),4,1) $(BUILD)/unit-tests

# Fake data-source servers (tests/fakes/): libmicrohttpd, loopback only; the e2e suites start
# them ($(BUILD)/fakes/<name>, QUANTD_FAKES_DIR).
FAKE_SRC := $(wildcard tests/fakes/*.c)
FAKE_BIN := $(FAKE_SRC:tests/fakes/%.c=$(BUILD)/fakes/%)
$(BUILD)/fakes/%: tests/fakes/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CSTD) -D_DEFAULT_SOURCE $(WARN) -g -O1 $(filter -fsanitize=%,$(CFLAGS)) \
	    $(filter -fsanitize=%,$(LDFLAGS)) -o $@ $< \
	    $(shell pkg-config --cflags --libs libmicrohttpd 2>/dev/null) -pthread -lm

# End-to-end: the real daemon over HTTP against a private PostgreSQL (var/pg-test).
e2e: $(BUILD)/quantd $(E2E_BIN) $(FAKE_BIN)
	QUANTD_BIN=$(BUILD)/quantd QUANTD_FAKES_DIR=$(BUILD)/fakes MODE=$(MODE) \
	    sh tests/e2e/run.sh $(E2E_BIN)

# openapi.yaml: lint offline with a pinned npm linter, and compare with the route table.
lint: $(BUILD)/quantd
	sh tools/check-src.sh
	sh tools/lint-openapi.sh
	sh tests/contract/routes.sh $(BUILD)/quantd
	sh tests/contract/install.sh

check: deps
	$(MAKE) all unit lint e2e
	@echo "make check: all suites passed"

# Fuzzing: each harness runs FUZZ_SECONDS (default 60) from its seed corpus (kept in
# build/fuzz/corpus so the seeds in git stay small). Needs clang (Debian clang + libclang-rt).
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz:
	$(MAKE) MODE=fuzz fuzz-run
fuzz-run: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
	@for f in $^; do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz-corpus/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)/fuzz-corpus/$$n \
	        tests/fuzz/corpus/$${n#fuzz_} > $(BUILD)/fuzz-$$n.log 2>&1; st=$$?; \
	    grep -E "stat::number_of_executed_units|ERROR|SUMMARY|Done" $(BUILD)/fuzz-$$n.log; \
	    if [ $$st -ne 0 ]; then echo "$$n: crashed (exit $$st), see $(BUILD)/fuzz-$$n.log"; exit 1; fi; done
$(BUILD)/fuzz/%: $(OBJ)/tests/fuzz/%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The daemon under valgrind memcheck through the end-to-end suites (slow; not part of check).
valgrind: all $(E2E_BIN) $(FAKE_BIN)
	QUANTD_BIN=tests/e2e/valgrind-quantd.sh QUANTD_FAKES_DIR=$(BUILD)/fakes \
	    CK_TIMEOUT_MULTIPLIER=4 sh tests/e2e/run.sh $(E2E_BIN)
	CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 $(BUILD)/unit-tests

asan: deps
	$(MAKE) MODE=asan unit e2e

# ThreadSanitizer: the unit tests and the daemon through the e2e suites (a race report makes the
# daemon exit non-zero, which the suites' exit-status checks catch). Not part of check.
tsan: deps
	$(MAKE) MODE=tsan unit e2e

pg-start:
	@sh scripts/pg.sh start var/pg
pg-stop:
	@sh scripts/pg.sh stop var/pg

run: deps
	$(MAKE) all
	sh scripts/run.sh $(BUILD)/quantd

$(BUILD)/bench-engine: $(OBJ)/bench/engine.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-engine: $(BUILD)/bench-engine
	$(BUILD)/bench-engine

$(BUILD)/bench-feeds: $(OBJ)/bench/feeds.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-feeds: $(BUILD)/bench-feeds
	$(BUILD)/bench-feeds

bench: all bench-deps $(BUILD)/bench-engine $(BUILD)/bench-feeds
	$(BUILD)/bench-engine
	$(BUILD)/bench-feeds
	sh bench/backtest.sh
	sh bench/ingest.sh
	sh bench/csv.sh
	sh bench/http.sh
	sh bench/tracking.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/quantd $(DESTDIR)/lib/systemd/system
	install -m 0755 $(BUILD)/quantd $(DESTDIR)$(PREFIX)/bin/quantd
	sed 's|@PREFIX@|$(PREFIX)|g' systemd/quantd.service > $(DESTDIR)/lib/systemd/system/quantd.service
	chmod 0644 $(DESTDIR)/lib/systemd/system/quantd.service
	test -e $(DESTDIR)/etc/quantd/quantd.json || install -m 0640 systemd/quantd.json.example $(DESTDIR)/etc/quantd/quantd.json
	test -e $(DESTDIR)/etc/quantd/quantd.env || install -m 0600 systemd/quantd.env.example $(DESTDIR)/etc/quantd/quantd.env

fmt:
	clang-format -i $(LIB_SRC) daemon/main.c $(wildcard $(addsuffix /*.h,$(LIB_DIRS)))

clean:
	rm -rf build

-include $(DEPS)
.SECONDARY:

# tarmac — one Makefile, pkg-config for every library, objects in build/.
# `make` builds build/tarmac; `make test` runs everything with -Werror;
# `make asan` runs unit + integration tests under ASan/UBSan.

PKGS := ncursesw libcurl openssl libpq libmariadb libcjson expat zlib inih
CC ?= cc
BUILD ?= build
SAN ?=
WERROR ?=

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wpointer-arith -Wcast-qual \
	-Wformat=2 -Wundef -Wvla -Wimplicit-fallthrough -fno-common
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
override CPPFLAGS += -I. -D_GNU_SOURCE
CFLAGS ?= -O2 -g
override CFLAGS += $(WARN) $(WERROR) $(SAN) $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += $(SAN)
LDLIBS += $(PKG_LIBS) -lpthread -lm

AWS_SRC ?= $(wildcard aws/*.c)
LIB_SRC := $(wildcard base/*.c) $(wildcard engine/*.c) $(AWS_SRC) \
	$(filter-out tui/main.c,$(wildcard tui/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libtarmac.a
BIN := $(BUILD)/tarmac

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ITEST_SRC := $(wildcard tests/integration/itest_*.c)
UNIT_BIN += $(ITEST_SRC:tests/integration/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all test asan tsan unit fuzz lint check-deps demo install clean deps

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/tui/main.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags cmocka) $< $(LIB) \
		$(LDFLAGS) $(shell pkg-config --libs cmocka) $(LDLIBS) -o $@

$(BUILD)/tests/itest_%: tests/integration/itest_%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(shell pkg-config --cflags cmocka) $< $(LIB) \
		$(LDFLAGS) $(shell pkg-config --libs cmocka) $(LDLIBS) -o $@

unit: $(BIN) $(UNIT_BIN)

deps:
	@scripts/deps.sh

# The README's test command: deps, -Werror build, every suite, one summary line.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) -j$(JOBS) WERROR=-Werror unit
	$(MAKE) -j$(JOBS) fuzz-build
	tests/run.sh $(BUILD)

asan: deps
	$(MAKE) -j$(JOBS) BUILD=build-asan WERROR=-Werror CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		TARMAC_NO_FUZZ=1 tests/run.sh build-asan

tsan: deps
	$(MAKE) -j$(JOBS) BUILD=build-tsan WERROR=-Werror CFLAGS="-O1 -g" SAN="-fsanitize=thread" unit
	TARMAC_NO_FUZZ=1 tests/run.sh build-tsan

# libFuzzer targets, built with clang against the library sources.
FUZZ_BUILD := build-fuzz
fuzz-build:
	@if command -v clang >/dev/null; then \
		$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CFLAGS="-O1 -g" \
			SAN="-fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libtarmac.a && \
		for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
			clang $(CPPFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
				$$f $(FUZZ_BUILD)/libtarmac.a $(LDLIBS) -o $(FUZZ_BUILD)/$$n || exit 1; \
		done; \
	else echo "clang not found: run make deps" >&2; exit 1; fi

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) 60

check-deps:
	@scripts/check-deps.sh

lint: check-deps
	clang-tidy --quiet $(filter %.c,$(LIB_SRC)) tui/main.c -- $(CPPFLAGS) $(PKG_CFLAGS) -std=c11
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=missingIncludeSystem --inline-suppr -I. base engine tui $(wildcard aws)

demo: deps all
	scripts/demo.sh

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tarmac
	install -d $(DESTDIR)$(PREFIX)/share/tarmac/themes
	cp themes/*.theme $(DESTDIR)$(PREFIX)/share/tarmac/themes/ 2>/dev/null || true

clean:
	rm -rf build build-asan build-tsan build-fuzz

PREFIX ?= /usr/local

-include $(LIB_OBJ:.o=.d) $(BUILD)/tui/main.d

# footfall build: `make`, `make test`, `make asan`, `make demo`, `make bench`, `make clean`.
#
# The public targets first make sure the Debian packages are there
# (deploy/install-deps.sh), then run the real work in a sub-make so that
# pkg-config is only asked once the packages exist.

BUILD    ?= build
WERROR   ?=
SAN      ?=
V        ?=

CC       ?= cc
PKGS      = rdkafka hiredis jansson libmicrohttpd libcurl
TEST_PKGS = criterion avro-c

OPT      ?= -O2
# -Wno-format-truncation: error messages are cut to their buffers on purpose.
CFLAGS_BASE = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -g $(OPT) \
              -Wall -Wextra -Wstrict-prototypes -Wwrite-strings -Wshadow \
              -Wno-missing-field-initializers -MMD -MP \
              -Wno-format-truncation \
              -Icommon -Iprocessors -I$(BUILD)/gen
ifneq ($(WERROR),)
CFLAGS_BASE += -Werror
endif
ifneq ($(FUZZ),)
CFLAGS_BASE += -fsanitize=fuzzer-no-link,address,undefined -Wno-unknown-warning-option
endif
ifneq ($(SAN),)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN  = -fsanitize=address,undefined
endif

PKG_CFLAGS   = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS     = $(shell pkg-config --libs $(PKGS)) -lm -lpthread
TEST_CFLAGS  = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS    = $(shell pkg-config --libs $(TEST_PKGS))

ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)
ALL_LIBS   = $(LDFLAGS_SAN) $(LDFLAGS) $(PKG_LIBS)

ifeq ($(V),)
Q = @
else
Q =
endif

PROCESSORS = $(sort $(notdir $(patsubst %/main.c,%,$(wildcard processors/*/main.c))))

COMMON_SRC  = $(wildcard common/*.c)
PROC_LIBSRC = $(filter-out %/main.c,$(wildcard $(addprefix processors/,$(addsuffix /*.c,$(PROCESSORS)))))
TOOLS_SRC   = $(wildcard tools/*.c)
GEN_SRC     = $(BUILD)/gen/ff_embedded.c
EMBEDDED    = $(wildcard schemas/*.avsc) schemas/ids $(wildcard common/lua/*.lua)

TEST_SUPPORT_SRC = $(wildcard tests/support/*.c)
FUZZ_SRC    = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SECONDS ?= 30
TEST_SRC    = $(wildcard tests/common/test_*.c tests/processors/test_*.c tests/tools/test_*.c tests/integration/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON = $(BUILD)/lib/libfootfall.a
LIBPROC   = $(BUILD)/lib/libffproc.a
BINS      = $(BUILD)/bin/footfall $(addprefix $(BUILD)/bin/footfall-,$(PROCESSORS))
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

.PHONY: all deps build-all build-tests build-fuzz test asan valgrind demo bench bench-pinned fuzz fuzz-run style clean help

all: deps
	$(Q)$(MAKE) --no-print-directory build-all

help:
	@echo "make          build everything into $(BUILD)/"
	@echo "make test     build and run every test suite (unit and integration)"
	@echo "make asan     the same under AddressSanitizer and UBSan"
	@echo "make valgrind the unit suites, and the processors in the integration suites, under valgrind"
	@echo "make demo     run the whole pipeline on the embedded stack"
	@echo "make bench    measure every processor (bench/README.md); BENCH_ARGS passes options"
	@echo "make bench-pinned   the same with the processor alone on one CPU"
	@echo "make fuzz     build the libFuzzer targets (clang); make fuzz-run runs each FUZZ_SECONDS"
	@echo "make style    format the lines changed since the last commit (.clang-format)"
	@echo "make clean    remove $(BUILD)/"

deps:
	$(Q)sh deploy/install-deps.sh

build-all: $(BINS)

build-tests: $(BINS) $(TEST_BINS)

test: deps
	$(Q)$(MAKE) --no-print-directory build-tests
	$(Q)sh tests/run.sh $(BUILD)

asan: deps
	$(Q)$(MAKE) --no-print-directory build-tests BUILD=build/asan SAN=1 OPT=-O1
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:fast_unwind_on_malloc=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    FF_INTEGRATION_JOBS=1 sh tests/run.sh build/asan

# Memcheck over the unit suites and over the processors the customer
# journeys, shelf and bad-input suites start (tests/valgrind.sh).
valgrind: deps
	$(Q)sh deploy/install-deps.sh valgrind
	$(Q)$(MAKE) --no-print-directory build-tests BUILD=build/valgrind OPT=-O1
	$(Q)sh tests/valgrind.sh build/valgrind

demo: deps
	$(Q)$(MAKE) --no-print-directory build-all
	$(Q)$(BUILD)/bin/footfall demo

# Figures go to bench/results/<date>-<host>.json; the exit status says
# whether every target of bench/README.md was met.
bench: deps
	$(Q)$(MAKE) --no-print-directory build-all
	$(Q)$(BUILD)/bin/footfall bench --out bench/results $(BENCH_ARGS)

bench-pinned: deps
	$(Q)$(MAKE) --no-print-directory build-all
	$(Q)$(BUILD)/bin/footfall bench --pin --out bench/results $(BENCH_ARGS)

fuzz:
	$(Q)sh deploy/install-deps.sh fuzz
	$(Q)$(MAKE) --no-print-directory build-fuzz BUILD=build/fuzz CC=clang OPT=-O1 FUZZ=1

fuzz-run: fuzz
	$(Q)sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

build-fuzz: $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	$(Q)$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(ALL_LIBS)

# Formats the lines changed since the last commit (staged or not) in the
# project's style (.clang-format); the rest of the tree is left as it is.
# STYLE_BASE=origin/main formats everything changed since that commit.
STYLE_BASE ?= HEAD
style:
	$(Q)sh deploy/install-deps.sh style
	$(Q)git clang-format --binary clang-format --extensions c,h --force $(STYLE_BASE) -- \
	    common processors tools tests

clean:
	rm -rf $(BUILD) build/asan build/fuzz build/valgrind

# ---- generated sources ----------------------------------------------------

$(GEN_SRC): tools/embed.sh $(EMBEDDED)
	@mkdir -p $(dir $@)
	$(Q)sh tools/embed.sh $@ $(EMBEDDED)

# ---- objects ---------------------------------------------------------------

$(BUILD)/obj/%.o: %.c | $(GEN_SRC)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c | $(GEN_SRC)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -Itests/support -Iprocessors -Itools \
	    -DFF_BIN_DIR='"$(abspath $(BUILD))/bin"' -DFF_SRC_DIR='"$(CURDIR)"' -c -o $@ $<

$(LIBCOMMON): $(call obj,$(COMMON_SRC) $(GEN_SRC))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBPROC): $(call obj,$(PROC_LIBSRC))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- binaries --------------------------------------------------------------

$(BUILD)/bin/footfall-%: $(BUILD)/obj/processors/%/main.o $(LIBPROC) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	$(Q)$(CC) -o $@ $^ $(ALL_LIBS)

$(BUILD)/bin/footfall: $(call obj,$(TOOLS_SRC)) $(LIBPROC) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	$(Q)$(CC) -o $@ $^ $(ALL_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(call obj,$(TEST_SUPPORT_SRC)) $(filter-out $(BUILD)/obj/tools/footfall.o,$(call obj,$(TOOLS_SRC))) $(LIBPROC) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	$(Q)$(CC) -o $@ $^ $(ALL_LIBS) $(TEST_LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Objects are made through pattern rules; keep them between runs.
.SECONDARY:

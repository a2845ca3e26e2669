# A thin task runner over Meson: every target installs what is missing,
# configures once and lets Ninja do the building. See README.md.
BUILD   ?= build
SANBUILD ?= build-san
MESON   ?= meson

.PHONY: all deps deps-test build demo test test-unit test-sanitize bench \
	fuzz lint clean

all: build

deps:
	@scripts/install-deps.sh build

deps-demo:
	@scripts/install-deps.sh demo

deps-test:
	@scripts/install-deps.sh test

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

demo: deps-demo build
	@scripts/demo.sh $(BUILD)

# The whole suite: the release build and the same suite under
# AddressSanitizer and UndefinedBehaviorSanitizer, their jobs side by side in
# one queue (tests/run.sh; WN_TEST_JOBS=N, default the number of
# processors); one closing count.
# `make demo` may have configured $(BUILD) without the test packages
# (-Dtests=auto, no cmocka, no unit tests): tests-on turns the unit tests on
# in it (a missing cmocka is then an error, not a skipped suite).
test: deps-test build tests-on $(SANBUILD)/build.ninja
	@ninja -C $(SANBUILD) build.ninja >/dev/null
	@$(MESON) configure $(SANBUILD) | grep -Eq '^ *test_hooks +true' || \
	  $(MESON) configure $(SANBUILD) -Dtest_hooks=true
	@ninja -C $(SANBUILD) >/dev/null || ninja -C $(SANBUILD)
	@tests/run.sh $(BUILD) $(SANBUILD)

test-unit: deps-test build tests-on
	@tests/run.sh $(BUILD)

.PHONY: tests-on deps-demo
tests-on: $(BUILD)/build.ninja
	@ninja -C $(BUILD) build.ninja >/dev/null # take in new options first
	@$(MESON) configure $(BUILD) | grep -Eq '^ *tests +enabled' || \
	  $(MESON) configure $(BUILD) -Dtests=enabled
	@$(MESON) configure $(BUILD) | grep -Eq '^ *test_hooks +true' || \
	  $(MESON) configure $(BUILD) -Dtest_hooks=true
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

$(SANBUILD)/build.ninja:
	CC=clang $(MESON) setup $(SANBUILD) --buildtype=debug \
	  -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dc_args=-fno-sanitize-recover=all -Dtests=enabled -Dtest_hooks=true

test-sanitize: deps-test $(SANBUILD)/build.ninja
	@ninja -C $(SANBUILD) >/dev/null || ninja -C $(SANBUILD)
	@tests/run.sh $(SANBUILD)

bench: deps-test build
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SANBUILD)

# --- Reliability: fuzzing, static checks, valgrind (docs/RELIABILITY.md) ---
.PHONY: test-valgrind
FUZZBUILD    ?= build-fuzz
VGBUILD      ?= build-valgrind
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= jsonl stream text options eval
LINT_SRC      = $(wildcard lib/*/*.c cli/*.c)

$(FUZZBUILD)/build.ninja:
	CC=clang $(MESON) setup $(FUZZBUILD) --buildtype=debugoptimized \
	  -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dc_args=-fno-sanitize-recover=all

# Fuzz each target with libFuzzer for FUZZ_SECONDS, one after the other
# (ASan+UBSan, 10 s per input counts as a hang). fuzz/corpus/<target> seeds
# the run and is not written to; new inputs collect in
# $(FUZZBUILD)/corpus/<target>, and a finding is saved under
# $(FUZZBUILD)/findings/<target>/ and stops the run with status 1: fix it,
# then copy the input into fuzz/corpus/<target>/ as a regression input.
fuzz: deps-test $(FUZZBUILD)/build.ninja
	@ninja -C $(FUZZBUILD) >/dev/null || ninja -C $(FUZZBUILD)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZBUILD)/corpus/$$t $(FUZZBUILD)/findings/$$t || exit 1; \
	  quiet=; [ $$t = options ] && quiet=-close_fd_mask=3; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  $(FUZZBUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -print_final_stats=1 $$quiet \
	    -artifact_prefix=$(FUZZBUILD)/findings/$$t/ \
	    $(FUZZBUILD)/corpus/$$t fuzz/corpus/$$t 2>&1 | \
	    grep -E '^(stat::|Done|INFO: seed|==[0-9]+==|SUMMARY|.*check failed|artifact_prefix|Test unit written)'; \
	  ls $(FUZZBUILD)/findings/$$t | grep -q . && exit 1; \
	done; true

# clang-tidy (.clang-tidy) and cppcheck (.cppcheck-suppressions) over lib/
# and cli/, with the compile commands of the release build; any finding
# fails the target.
lint: build
	@scripts/install-deps.sh lint
	@command -v clang-tidy >/dev/null && command -v cppcheck >/dev/null || \
	  { echo "lint: apt-get install clang-tidy cppcheck" >&2; exit 1; }
	@st=0; \
	clang-tidy --quiet -p $(BUILD) $(LINT_SRC) 2>/dev/null || st=1; \
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --inline-suppr --suppressions-list=.cppcheck-suppressions \
	  --std=c11 -Iinclude -Ilib -D__GNUC__ -DWN_BUILDING_LIBRARY \
	  --library=posix lib cli || st=1; \
	[ $$st -eq 0 ] && echo "lint: clean" || echo "lint: findings above"; \
	exit $$st

# Every unit-test binary, and every CLI test script with winnow run under
# memcheck (tests/valgrind-winnow.sh), in a build without sanitizers; a
# failed check, a leak or a memcheck error fails the target.
$(VGBUILD)/build.ninja:
	$(MESON) setup $(VGBUILD) --buildtype=debugoptimized

VALGRIND = valgrind -q --leak-check=full --error-exitcode=1 \
	  --errors-for-leak-kinds=definite,indirect,possible

test-valgrind: deps-test $(VGBUILD)/build.ninja
	@scripts/install-deps.sh lint
	@command -v valgrind >/dev/null || \
	  { echo "test-valgrind: apt-get install valgrind" >&2; exit 1; }
	@ninja -C $(VGBUILD) >/dev/null || ninja -C $(VGBUILD)
	@fail=0; log=$(VGBUILD)/valgrind.log; \
	for t in $(VGBUILD)/tests/test_*; do \
	  [ -f "$$t" ] && [ -x "$$t" ] || continue; \
	  if CMOCKA_MESSAGE_OUTPUT=TAP WN_SWEEP_STEP=13 $(VALGRIND) "$$t" \
	      >/dev/null 2>$$log; then echo "ok - $$t"; \
	  else echo "not ok - $$t"; cat $$log; fail=1; fi; \
	done; \
	vg=$$(pwd)/$(VGBUILD)/vg-logs; rm -rf $$vg; mkdir -p $$vg; \
	for s in tests/cli/test_*.sh; do \
	  if WN_VG_LOGS=$$vg WN_VG_BIN=$$(pwd)/$(VGBUILD)/winnow \
	      WINNOW=$$(pwd)/tests/valgrind-winnow.sh BUILD=$(VGBUILD) \
	      sh "$$s" >$$log 2>&1 && ! grep -q '^not ok' $$log; \
	  then echo "ok - $$s"; \
	  else echo "not ok - $$s"; grep -v '^ok' $$log | head -40; fail=1; fi; \
	done; \
	for l in $$vg/vg.*.log; do \
	  [ -s "$$l" ] || continue; echo "not ok - memcheck: $$l"; \
	  head -40 "$$l"; fail=1; \
	done; \
	exit $$fail

# The Python package (make python, make test-python).
include python/python.mk

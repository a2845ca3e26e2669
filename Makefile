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

deps-test:
	@scripts/install-deps.sh test

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

# The whole suite: the release build, then the same suite under
# AddressSanitizer and UndefinedBehaviorSanitizer; one closing count.
test: deps-test build $(SANBUILD)/build.ninja
	@ninja -C $(SANBUILD) >/dev/null || ninja -C $(SANBUILD)
	@tests/run.sh $(BUILD) $(SANBUILD)

test-unit: deps-test build
	@tests/run.sh $(BUILD)

$(SANBUILD)/build.ninja:
	CC=clang $(MESON) setup $(SANBUILD) --buildtype=debug \
	  -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dc_args=-fno-sanitize-recover=all

test-sanitize: deps-test $(SANBUILD)/build.ninja
	@ninja -C $(SANBUILD) >/dev/null || ninja -C $(SANBUILD)
	@tests/run.sh $(SANBUILD)

bench: build
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SANBUILD)

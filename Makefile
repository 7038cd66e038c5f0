# mpickle: `make` builds build/libmpickle.a and build/mpickle; `make test` runs
# everything (unit, interop with CPython, the same under ASan+UBSan, MicroPython
# when MICROPYTHON=... is given).
CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS = $(WARN) $(CFLAGS) -Iinclude -Isrc

CORE_SRC := $(wildcard src/*.c)
CLI_SRC  := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HDRS     := $(wildcard include/*.h src/*.h cli/*.h tests/unit/*.h)

.PHONY: all test unit interop sanitize micropython demo clean bench qemu size-arm lenet5 iot
all: $(BUILD)/libmpickle.a $(BUILD)/mpickle

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libmpickle.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/mpickle: $(CLI_OBJ) $(BUILD)/libmpickle.a
	$(CC) $(ALL_CFLAGS) $(CLI_OBJ) $(BUILD)/libmpickle.a -o $@ $(LDFLAGS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmpickle.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(BUILD)/libmpickle.a -o $@ $(LDFLAGS) -lm

unit: $(UNIT_BIN)
	@tests/run_unit.sh $(UNIT_BIN)

INTEROP_SAMPLE ?= 1
interop: all
	python3 tests/interop/run_all.py --mpickle $(BUILD)/mpickle --sample $(INTEROP_SAMPLE)

# The unit and interop suites again with AddressSanitizer and UndefinedBehaviorSanitizer
# (the recode corpus and dis mutations sampled 1 in 4: each sanitized process
# starts ~20x slower, and the full corpus already ran on the normal build).
sanitize:
	$(MAKE) BUILD=build-san CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" INTEROP_SAMPLE=4 unit interop

micropython:
	@tests/micropython/run.sh

test:
	@python3 tests/run_all.py

demo: all
	@examples/demo/run.sh

# Speed and size against CPython, msgpack-c and cJSON (not part of `make test`):
# needs libmsgpack-dev, libcjson-dev, python3-matplotlib (see bench/RESULTS.md).
bench:
	$(MAKE) -C bench

# The unit tests on emulated Cortex-M0+ and Cortex-M4 (QEMU MPS2 boards), and
# the Cortex-M footprint table (tools/arm/README.md).
qemu:
	@tools/arm/run.sh

size-arm:
	@tools/arm/size.py

lenet5: all
	@examples/lenet5/run.sh

iot: all
	@python3 tests/interop/test_iot.py --mpickle $(BUILD)/mpickle

clean:
	rm -rf build build-san

# mpickle as a MicroPython user C module, for make-based ports (unix, stm32,
# esp8266, ...):  make USER_C_MODULES=/path/to/mpickle/micropython
# (the folder holding this mpickle/ folder, as MicroPython's docs lay it out)
#
# Feature switches (make variables, 1 or 0):
#   MPICKLE_DUMP=0   no dumps/dump/Pickler (reader only)
#   MPICKLE_LOAD=0   no loads/load/Unpickler (writer only)
#   MPICKLE_TEXT=0   no decimal text numbers (protocol 0/1 INT/LONG/FLOAT text,
#                    protocol 0 floats and protocol 0/1 big ints): saves flash
#   MPICKLE_MESSAGES=0  short error messages from the core
# numpy arrays <-> ulab arrays (mp_ulab.c, core_ndarray.c) are compiled in when ulab
# is in the same build (its micropython.mk defines MODULE_ULAB_ENABLED=1 for all
# files); CFLAGS_EXTRA=-DMICROPY_PY_MPICKLE_ULAB=0 leaves them out.
MPICKLE_MOD_DIR := $(USERMOD_DIR)
MPICKLE_DUMP ?= 1
MPICKLE_LOAD ?= 1
MPICKLE_TEXT ?= 1
MPICKLE_MESSAGES ?= 1

SRC_USERMOD_C += \
	$(MPICKLE_MOD_DIR)/modmpickle.c \
	$(MPICKLE_MOD_DIR)/mp_registry.c \
	$(MPICKLE_MOD_DIR)/mp_dump.c \
	$(MPICKLE_MOD_DIR)/mp_load.c \
	$(MPICKLE_MOD_DIR)/mp_aload.c \
	$(MPICKLE_MOD_DIR)/mp_ulab.c

# The core (../src) through one-line wrappers: not scanned for qstrs.
SRC_USERMOD_LIB_C += $(addprefix $(MPICKLE_MOD_DIR)/core_, \
	decoder.c writer.c numtext.c util.c compat_names.c error.c opcodes.c ndarray.c)

CFLAGS_USERMOD += -I$(MPICKLE_MOD_DIR)/../../include \
	-DMPK_WITH_LIBC_ALLOC=0 \
	-DMPK_WITH_WRITER=$(MPICKLE_DUMP) \
	-DMPK_WITH_DECODER=$(MPICKLE_LOAD) \
	-DMPK_WITH_TEXT_NUMBERS=$(MPICKLE_TEXT) \
	-DMPK_WITH_MESSAGES=$(MPICKLE_MESSAGES)

# Shared by mk/*.mk. FIRMWARE is the firmware/ directory, passed by the top-level Makefile.

BUILD := $(FIRMWARE)/build
CORE_SOURCES := $(sort $(wildcard $(FIRMWARE)/src/core/*.cpp))
BUILD_FILES := $(FIRMWARE)/Makefile $(wildcard $(FIRMWARE)/mk/*.mk)

comma := ,
empty :=
space := $(empty) $(empty)

.DELETE_ON_ERROR:
.SUFFIXES:

# $(call locked,DIR,TARGETS): builds TARGETS of this makefile in a second make that holds
# DIR/.lock, so two makes of the same directory take turns instead of writing the same files.
define locked
	@mkdir -p $(1)
	@command -v flock >/dev/null || { echo "firmware: flock is missing: apt-get install util-linux" >&2; exit 1; }
	+@flock $(1)/.lock $(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) $(2)
endef

# $(call track,FILE,WORDS): FILE holds WORDS and is rewritten only when they change. A link that
# lists FILE as a prerequisite is redone when a source file is added or removed, which mtimes
# alone miss for a removal. Called in the locked make only.
track = $(shell mkdir -p $(dir $(1)) && { printf '%s\n' '$(2)' | cmp -s - $(1) || printf '%s\n' '$(2)' > $(1); })

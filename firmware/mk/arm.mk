# The portable core for Cortex-M (the RP2040's M0+ and an M4), freestanding: no newlib here, so
# each object is compiled -ffreestanding, then linked with tools/core_probe.cpp against libgcc
# alone (-nostdlib) to prove the core needs no C or C++ library.

include $(FIRMWARE)/mk/common.mk

OUT := $(BUILD)/arm
CPUS := cortex-m0plus cortex-m4
ARM_CXX := arm-none-eabi-g++
ARM_SIZE := arm-none-eabi-size
ARM_FLAGS := -mthumb -Os -std=c++11 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics \
  -ffunction-sections -fdata-sections -Wall -Wextra -Werror -MMD -MP

CORE_NAMES := $(notdir $(CORE_SOURCES:.cpp=))
# $(call objects,CPU): the core's objects and the probe's for one CPU.
objects = $(foreach n,$(CORE_NAMES) core_probe,$(OUT)/$(1)/$(n).o)
PROBES := $(foreach cpu,$(CPUS),$(OUT)/$(cpu)/core-probe.elf)

.PHONY: arm-core built toolchain

arm-core:
	$(call locked,$(OUT),built)

ifeq ($(MAKECMDGOALS),built)
  $(call track,$(OUT)/objects.txt,$(foreach cpu,$(CPUS),$(call objects,$(cpu))))
endif

built: toolchain $(PROBES)
	@for cpu in $(CPUS); do \
	  echo "firmware: core for $$cpu: $(OUT)/$$cpu/*.o"; \
	  $(ARM_SIZE) $(OUT)/$$cpu/core-probe.elf | tail -n 1 | awk '{ print "  linked with libgcc only: text " $$1 " data " $$2 " bss " $$3 " bytes" }'; \
	done

toolchain:
	@command -v $(ARM_CXX) >/dev/null || { echo "firmware: $(ARM_CXX) is missing: apt-get install gcc-arm-none-eabi" >&2; exit 1; }

define cpu_rules
$(OUT)/$(1)/core-probe.elf: $(call objects,$(1)) $(OUT)/objects.txt
	$(ARM_CXX) -mcpu=$(1) -mthumb -nostdlib -Wl,--gc-sections -Wl,-e,shelfsenseCoreProbe \
	  -o $$@.tmp $(call objects,$(1)) -lgcc && mv -f $$@.tmp $$@

$(OUT)/$(1)/%.o: $(FIRMWARE)/src/core/%.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $$(@D)
	$(ARM_CXX) -mcpu=$(1) $(ARM_FLAGS) -c $$< -o $$@

$(OUT)/$(1)/core_probe.o: $(FIRMWARE)/tools/core_probe.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $$(@D)
	$(ARM_CXX) -mcpu=$(1) $(ARM_FLAGS) -c $$< -o $$@
endef
$(foreach cpu,$(CPUS),$(eval $(call cpu_rules,$(cpu))))

-include $(wildcard $(OUT)/*/*.d)

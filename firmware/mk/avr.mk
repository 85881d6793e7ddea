# AVR images with avr-gcc and the Arduino AVR core (Debian's arduino-core-avr). The core's
# .c/.cpp/.S go into a library, so only what the sketch uses is linked (HardwareSerial1–3 of the
# Mega stay out); everything is compiled -Os with LTO and linked with --gc-sections.
#
# BOARD is mega, uno or nano (set by the top-level Makefile).

include $(FIRMWARE)/mk/common.mk

ARDUINO_AVR ?= /usr/share/arduino/hardware/arduino/avr
ARDUINO_CORE := $(ARDUINO_AVR)/cores/arduino

ifeq ($(BOARD),mega)
  MCU := atmega2560
  VARIANT := mega
  ARDUINO_BOARD := AVR_MEGA2560
  BOARD_CHANNELS := 8
  BOARD_TEMPERATURE := none
  BOARD_PIN_SCK := 22
  BOARD_PIN_RATE := 23
  BOARD_PIN_DOUT := 24,25,26,27,28,29,30,31
  TX_BUFFER := 256
  # 256 KiB less the 8 KiB bootloader
  FLASH_BYTES := 253952
  RAM_BYTES := 8192
else ifneq ($(filter $(BOARD),uno nano),)
  MCU := atmega328p
  VARIANT := $(if $(filter $(BOARD),uno),standard,eightanaloginputs)
  ARDUINO_BOARD := $(if $(filter $(BOARD),uno),AVR_UNO,AVR_NANO)
  BOARD_CHANNELS := 4
  BOARD_TEMPERATURE := internal
  BOARD_PIN_SCK := 2
  BOARD_PIN_RATE := 3
  BOARD_PIN_DOUT := 4,5,6,7
  TX_BUFFER := 128
  # 32 KiB less Optiboot (Uno) or the old 2 KiB Nano bootloader
  FLASH_BYTES := $(if $(filter $(BOARD),uno),32256,30720)
  RAM_BYTES := 2048
else
  $(error firmware: BOARD=$(BOARD) is not one of mega, uno, nano)
endif

CHANNELS ?= $(BOARD_CHANNELS)
DEFAULT_RATE ?= 80
FIRMWARE_VERSION ?= 1.0.0
PIN_SCK ?= $(BOARD_PIN_SCK)
PIN_RATE ?= $(BOARD_PIN_RATE)
PIN_DOUT ?= $(BOARD_PIN_DOUT)
TEMPERATURE ?= $(BOARD_TEMPERATURE)

# --- settings, checked before anything is built (the sketch's static_asserts check them again)
DOUT_PINS := $(subst $(comma),$(space),$(PIN_DOUT))
MAX_CHANNELS := $(words $(wordlist 1,8,$(DOUT_PINS)))
ifeq ($(filter $(CHANNELS),$(wordlist 1,$(MAX_CHANNELS),1 2 3 4 5 6 7 8)),)
  $(error firmware: CHANNELS=$(CHANNELS) is not possible on $(BOARD): 1 to $(MAX_CHANNELS) channels, one HX711 DOUT pin each (PIN_DOUT=$(PIN_DOUT)))
endif
ifeq ($(filter $(DEFAULT_RATE),10 80),)
  $(error firmware: DEFAULT_RATE=$(DEFAULT_RATE) must be 10 or 80 (samples per second))
endif
ifneq ($(shell printf '%s' '$(subst ','\'',$(FIRMWARE_VERSION))' | grep -Eqx '[A-Za-z0-9.+_-]{1,24}' && echo ok),ok)
  $(error firmware: FIRMWARE_VERSION=$(FIRMWARE_VERSION) must be 1 to 24 of A-Z a-z 0-9 . + _ -)
endif

ifeq ($(filter $(TEMPERATURE),none internal),)
  $(error firmware: TEMPERATURE=$(TEMPERATURE) must be none or internal)
endif
ifeq ($(MCU) $(TEMPERATURE),atmega2560 internal)
  $(error firmware: TEMPERATURE=internal is not possible on mega: the ATmega2560 has no temperature sensor)
endif

# Settings other than the board's defaults name the build directory: build/mega-4ch/.
SUFFIX := $(if $(filter-out $(BOARD_CHANNELS),$(CHANNELS)),-$(CHANNELS)ch)
SUFFIX := $(SUFFIX)$(if $(filter-out 80,$(DEFAULT_RATE)),-$(DEFAULT_RATE)sps)
SUFFIX := $(SUFFIX)$(if $(filter-out 1.0.0,$(FIRMWARE_VERSION)),-v$(FIRMWARE_VERSION))
SUFFIX := $(SUFFIX)$(if $(filter-out $(BOARD_TEMPERATURE),$(TEMPERATURE)),-temp-$(TEMPERATURE))
ifneq ($(PIN_SCK) $(PIN_RATE) $(PIN_DOUT),$(BOARD_PIN_SCK) $(BOARD_PIN_RATE) $(BOARD_PIN_DOUT))
  SUFFIX := $(SUFFIX)-pins$(PIN_SCK)-$(PIN_RATE)-$(subst $(comma),-,$(PIN_DOUT))
endif
OUT := $(BUILD)/$(BOARD)$(SUFFIX)

# --- toolchain and flags
CC := avr-gcc
CXX := avr-g++
AR := avr-gcc-ar
OBJCOPY := avr-objcopy
SIZE := avr-size

TARGET_FLAGS := -mmcu=$(MCU) -DF_CPU=16000000L -DARDUINO=10807 -DARDUINO_$(ARDUINO_BOARD) \
  -DARDUINO_ARCH_AVR -DSERIAL_TX_BUFFER_SIZE=$(TX_BUFFER)
OPT := -Os -g -flto -ffunction-sections -fdata-sections -MMD -MP
# -I, not -isystem: avr-gcc wraps system headers in extern "C", which breaks Arduino.h's overloads.
INCLUDES := -I$(ARDUINO_CORE) -I$(ARDUINO_AVR)/variants/$(VARIANT)
SETTINGS := -DSHELF_CHANNELS=$(CHANNELS) -DSHELF_DEFAULT_RATE=$(DEFAULT_RATE) \
  '-DSHELF_FIRMWARE_VERSION="$(FIRMWARE_VERSION)"' -DSHELF_PIN_SCK=$(PIN_SCK) \
  -DSHELF_PIN_RATE=$(PIN_RATE) '-DSHELF_PIN_DOUT=$(PIN_DOUT)' \
  -DSHELF_TEMPERATURE=$(if $(filter internal,$(TEMPERATURE)),1,0)
# Our code: warnings are errors. The Arduino core: compiled as the Arduino IDE does (-w).
FIRMWARE_CXXFLAGS := -std=gnu++11 -fno-exceptions -fno-rtti -fno-threadsafe-statics \
  -Wall -Wextra -Werror $(TARGET_FLAGS) $(OPT) $(INCLUDES) $(SETTINGS)
CORE_CFLAGS := -std=gnu11 -w $(TARGET_FLAGS) $(OPT) $(INCLUDES)
# avr-gcc 5.4's <float.h> gives C++11 no DECIMAL_DIG, which the Arduino core's WString.cpp needs;
# GCC 6 and later define it from the same builtin.
CORE_CXXFLAGS := -std=gnu++11 -fpermissive -fno-exceptions -fno-threadsafe-statics -w \
  -DDECIMAL_DIG=__DECIMAL_DIG__ $(TARGET_FLAGS) $(OPT) $(INCLUDES)
CORE_ASFLAGS := -x assembler-with-cpp -flto $(TARGET_FLAGS) -MMD -MP $(INCLUDES)
LDFLAGS := -mmcu=$(MCU) -Os -g -flto -fuse-linker-plugin -Wl,--gc-sections

FIRMWARE_SOURCES := $(CORE_SOURCES) $(sort $(wildcard $(FIRMWARE)/src/hal/avr/*.cpp))
FIRMWARE_OBJECTS := $(patsubst $(FIRMWARE)/src/%.cpp,$(OUT)/src/%.o,$(FIRMWARE_SOURCES))
ARDUINO_SOURCES := $(sort $(wildcard $(ARDUINO_CORE)/*.c $(ARDUINO_CORE)/*.cpp $(ARDUINO_CORE)/*.S))
ARDUINO_OBJECTS := $(patsubst $(ARDUINO_CORE)/%,$(OUT)/arduino/%.o,$(ARDUINO_SOURCES))

ELF := $(OUT)/shelfsense.elf
HEX := $(OUT)/shelfsense.hex

.PHONY: image built toolchain

image:
	$(call locked,$(OUT),built)

ifeq ($(MAKECMDGOALS),built)
  $(call track,$(OUT)/objects.txt,$(FIRMWARE_OBJECTS) $(ARDUINO_OBJECTS))
endif

built: toolchain $(HEX)
	@echo "firmware: $(BOARD) ($(MCU)), $(CHANNELS) channels, $(DEFAULT_RATE) SPS, version $(FIRMWARE_VERSION), temperature $(TEMPERATURE): $(ELF)"
	@$(SIZE) --format=avr --mcu=$(MCU) $(ELF) | grep -E 'Program|Data'
	@echo "limits: flash $(FLASH_BYTES) bytes (less the bootloader), RAM $(RAM_BYTES) bytes"

toolchain:
	@command -v $(CXX) >/dev/null || { echo "firmware: $(CXX) is missing: apt-get install gcc-avr avr-libc" >&2; exit 1; }
	@test -d $(ARDUINO_CORE) || { echo "firmware: no Arduino AVR core at $(ARDUINO_AVR): apt-get install arduino-core-avr (or set ARDUINO_AVR)" >&2; exit 1; }

# Written under a temporary name and renamed: a reader (a simulator, avrdude) never sees half a file.
$(HEX): $(ELF)
	$(OBJCOPY) -O ihex -R .eeprom $< $@.tmp && mv -f $@.tmp $@

$(ELF): $(FIRMWARE_OBJECTS) $(OUT)/arduino-core.a $(OUT)/objects.txt
	$(CC) $(LDFLAGS) -o $@.tmp $(FIRMWARE_OBJECTS) $(OUT)/arduino-core.a -lm && mv -f $@.tmp $@

$(OUT)/arduino-core.a: $(ARDUINO_OBJECTS) $(OUT)/objects.txt
	rm -f $@.tmp && $(AR) rcs $@.tmp $(ARDUINO_OBJECTS) && mv -f $@.tmp $@

$(OUT)/src/%.o: $(FIRMWARE)/src/%.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CXX) $(FIRMWARE_CXXFLAGS) -c $< -o $@

$(OUT)/arduino/%.c.o: $(ARDUINO_CORE)/%.c $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

$(OUT)/arduino/%.cpp.o: $(ARDUINO_CORE)/%.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CXX) $(CORE_CXXFLAGS) -c $< -o $@

$(OUT)/arduino/%.S.o: $(ARDUINO_CORE)/%.S $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CC) $(CORE_ASFLAGS) -c $< -o $@

-include $(wildcard $(OUT)/src/*/*.d $(OUT)/src/*/*/*.d $(OUT)/arduino/*.d)

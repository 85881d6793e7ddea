# Host build: the portable core and its doctest unit tests, with AddressSanitizer and UBSan so a
# write past a fixed buffer fails a test instead of passing by luck.

include $(FIRMWARE)/mk/common.mk

OUT := $(BUILD)/host
CXX := g++
DOCTEST_HEADER := /usr/include/doctest/doctest.h

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wpedantic
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The core as the targets compile it: C++11, no exceptions, no RTTI (hence no UBSan vptr check).
CORE_FLAGS := -std=c++11 $(WARNINGS) -O1 -g $(SANITIZE) -fno-sanitize=vptr -fno-exceptions -fno-rtti -MMD -MP
TEST_FLAGS := -std=c++11 $(WARNINGS) -O1 -g $(SANITIZE) -MMD -MP

TEST_SOURCES := $(sort $(wildcard $(FIRMWARE)/test/*.cpp))
CORE_OBJECTS := $(patsubst $(FIRMWARE)/src/core/%.cpp,$(OUT)/core/%.o,$(CORE_SOURCES))
TEST_OBJECTS := $(patsubst $(FIRMWARE)/test/%.cpp,$(OUT)/test/%.o,$(TEST_SOURCES))
TESTS := $(OUT)/shelfsense-tests
FRAME_LINE := $(OUT)/frame-line

.PHONY: test test-bin frame-line built-tests built-frame-line toolchain

test: test-bin
	@$(TESTS)

test-bin:
	$(call locked,$(OUT),built-tests)

frame-line:
	@test -n '$(BODY)' || { echo "firmware: usage: make frame-line BODY='SERIAL,SHELF-0001'" >&2; exit 2; }
	$(call locked,$(OUT),built-frame-line)
	@$(FRAME_LINE) '$(subst ','\'',$(BODY))'

ifneq ($(filter built-%,$(MAKECMDGOALS)),)
  $(call track,$(OUT)/objects.txt,$(CORE_OBJECTS) $(TEST_OBJECTS))
endif

built-tests: toolchain $(TESTS)
built-frame-line: toolchain $(FRAME_LINE)

toolchain:
	@command -v $(CXX) >/dev/null || { echo "firmware: $(CXX) is missing: apt-get install g++" >&2; exit 1; }
	@test -f $(DOCTEST_HEADER) || { echo "firmware: $(DOCTEST_HEADER) is missing: apt-get install doctest-dev" >&2; exit 1; }

$(TESTS): $(CORE_OBJECTS) $(TEST_OBJECTS) $(OUT)/objects.txt
	$(CXX) $(SANITIZE) -o $@.tmp $(CORE_OBJECTS) $(TEST_OBJECTS) && mv -f $@.tmp $@

$(FRAME_LINE): $(OUT)/tools/frame_line.o $(CORE_OBJECTS) $(OUT)/objects.txt
	$(CXX) $(SANITIZE) -o $@.tmp $(OUT)/tools/frame_line.o $(CORE_OBJECTS) && mv -f $@.tmp $@

$(OUT)/core/%.o: $(FIRMWARE)/src/core/%.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CXX) $(CORE_FLAGS) -c $< -o $@

$(OUT)/test/%.o: $(FIRMWARE)/test/%.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -c $< -o $@

$(OUT)/tools/%.o: $(FIRMWARE)/tools/%.cpp $(BUILD_FILES) | toolchain
	@mkdir -p $(@D)
	$(CXX) $(CORE_FLAGS) -c $< -o $@

-include $(wildcard $(OUT)/*/*.d)

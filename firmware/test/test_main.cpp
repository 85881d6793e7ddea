// The doctest runner: `shelfsense-tests --reporters=junit` is what tests/integration/firmware
// reads, one vitest case per TEST_CASE here.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

// Shelfsense shelf firmware: the Arduino IDE / Arduino CLI entry of this sketch folder.
// setup() and loop() live in src/hal/<avr|rp2040|esp32>/main.cpp (the one for the board being
// built compiles; the others are empty for it), the portable core in src/core/.
// Building, flashing and the build flags the Arduino AVR core needs: docs/firmware.md.

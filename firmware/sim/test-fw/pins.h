/*
 * Pin maps for the harness test firmware (firmware/sim/test-fw). One map is chosen at build time:
 *   MAP_UNO   ATmega328P default map of the shelf firmware: SCK PD2, RATE PD3, DOUT PD4..PD7
 *   MAP_UNO8  ATmega328P, 8 channels on a custom map:   SCK PD2, RATE PD3, DOUT PD4..PD7, PB0..PB3
 *             (run the harness with --dout PD4,PD5,PD6,PD7,PB0,PB1,PB2,PB3)
 *   MAP_MEGA  ATmega2560 default map: SCK PA0, RATE PA1, DOUT PA2..PA7, PC7, PC6
 * CHANNELS takes the first N DOUT pins of the map.
 */
#ifndef TESTFW_PINS_H
#define TESTFW_PINS_H

#include <avr/io.h>

struct pin {
	volatile uint8_t *pin;
	volatile uint8_t *ddr;
	volatile uint8_t *port;
	uint8_t mask;
};

#define PIN_OF(L, b) { &PIN##L, &DDR##L, &PORT##L, (uint8_t)(1u << (b)) }

#if defined(MAP_UNO)
#define SCK_PIN PIN_OF(D, 2)
#define RATE_PIN PIN_OF(D, 3)
#define DOUT_PINS PIN_OF(D, 4), PIN_OF(D, 5), PIN_OF(D, 6), PIN_OF(D, 7)
#define MAP_NAME "uno"
#elif defined(MAP_UNO8)
#define SCK_PIN PIN_OF(D, 2)
#define RATE_PIN PIN_OF(D, 3)
#define DOUT_PINS PIN_OF(D, 4), PIN_OF(D, 5), PIN_OF(D, 6), PIN_OF(D, 7), \
	PIN_OF(B, 0), PIN_OF(B, 1), PIN_OF(B, 2), PIN_OF(B, 3)
#define MAP_NAME "uno8"
#elif defined(MAP_MEGA)
#define SCK_PIN PIN_OF(A, 0)
#define RATE_PIN PIN_OF(A, 1)
#define DOUT_PINS PIN_OF(A, 2), PIN_OF(A, 3), PIN_OF(A, 4), PIN_OF(A, 5), \
	PIN_OF(A, 6), PIN_OF(A, 7), PIN_OF(C, 7), PIN_OF(C, 6)
#define MAP_NAME "mega"
#else
#error "define MAP_UNO, MAP_UNO8 or MAP_MEGA"
#endif

#ifndef CHANNELS
#error "define CHANNELS"
#endif

#endif

/*
 * A bank of HX711 load-cell ADCs sharing one PD_SCK and one RATE line, one DOUT each, as the
 * chips answer (timing in simulated time):
 *  - DOUT high while converting; a conversion completes every 12.5 ms (RATE high) or 100 ms
 *    (RATE low) and DOUT goes low (ready). The RATE input reads LOW while the MCU leaves it
 *    floating (power-on, after an MCU reset); a RATE change restarts the conversion: the next
 *    one completes one new period after the change.
 *  - each SCK rising edge shifts out the next bit, MSB first, DOUT driven after the edge; the 25th
 *    rising edge drives DOUT high and selects A/128 for the next conversion; a 26th or 27th pulse
 *    (B/32, A/64) counts one gain error (a pulse that ends in a power-down does not: the reset
 *    selects A/128 again).
 *  - SCK high for >= 60 µs powers the chips down (DOUT high, no conversions); SCK low again
 *    resets them: the first conversion completes one period later.
 *  - a conversion that completes while the previous one was not read (fully) replaces it and
 *    counts as missed; one that completes in the middle of a read is lost (missed as well).
 *  - a dead channel (--dead) keeps DOUT high forever (a disconnected chip, DOUT pulled up).
 * The chips share SCK and RATE and start together, so they run in lockstep: the statistics count
 * bus events (a conversion of the live chips, a 25-pulse read, ...), each equal to what every live
 * chip saw.
 */
#ifndef SHELFSENSE_MCU_HX711_H
#define SHELFSENSE_MCU_HX711_H

#include <stddef.h>
#include <stdint.h>

#include <sim_avr.h>
#include <avr_ioport.h>

#define HX711_MAX_CHANNELS 16

typedef struct hx711_pin {
	char port;		/* 'A'.. */
	uint8_t bit;		/* 0..7 */
	avr_irq_t *irq;		/* the ioport pin IRQ */
	avr_ioport_t *ioport;	/* for the PIN register and the "external" drive of the port */
} hx711_pin_t;

typedef struct hx711_stats {
	uint64_t conversions, reads, missed, gain_errors, power_downs;
} hx711_stats_t;

/* Returns the raws at simulated time t_us (latched by a conversion completing then). */
typedef void (*hx711_sample_fn)(void *ctx, uint64_t t_us, int32_t *raw);

typedef struct hx711_bank {
	avr_t *avr;
	int channels;
	hx711_pin_t sck, rate, dout[HX711_MAX_CHANNELS];
	uint8_t dead[HX711_MAX_CHANNELS];
	int live;			/* channels not dead */
	hx711_sample_fn sample;
	void *sample_ctx;

	/* pin levels as the chips see them */
	int sck_level, rate_level;
	avr_cycle_count_t sck_rise;	/* cycle of the last SCK rising edge */
	int pd_pending;			/* power-down timer armed */

	enum { HX_CONVERTING, HX_READY, HX_SHIFTING, HX_READ_DONE } state;
	int powered_down;
	int pulses;			/* rising edges since the data became ready */
	int32_t data[HX711_MAX_CHANNELS];
	uint8_t dout_level[HX711_MAX_CHANNELS];
	avr_cycle_count_t next_conversion;	/* absolute cycle; 0 = none scheduled */

	avr_cycle_count_t period_fast, period_slow, pd_cycles;
	hx711_stats_t stats;
} hx711_bank_t;

/* Looks the pins up (returns -1 and a message if a port does not exist on this MCU), hooks the
 * SCK and RATE pins, drives every DOUT high and schedules the first conversion. */
int hx711_init(hx711_bank_t *b, avr_t *avr, const char *mcu, int channels, const hx711_pin_t *sck,
	const hx711_pin_t *rate, const hx711_pin_t *dout, const uint8_t *dead,
	hx711_sample_fn sample, void *ctx, char *err, size_t errlen);

/* Call from the MCU's reset hook, after simavr has cleared its cycle timers and I/O registers:
 * re-arms the chips' timers, re-drives DOUT, and lets SCK and RATE float (LOW) as the MCU's pins
 * turn into inputs. */
void hx711_after_mcu_reset(hx711_bank_t *b);

/* Finds the simavr ioport module of port `name`, or NULL. */
avr_ioport_t *hx711_find_ioport(avr_t *avr, char name);

#endif

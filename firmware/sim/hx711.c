#include "hx711.h"

#include <stdio.h>
#include <string.h>

#include <avr_extint.h>

static avr_cycle_count_t usec_cycles(avr_t *avr, uint64_t us)
{
	return (avr_cycle_count_t)((us * (uint64_t)avr->frequency + 500000) / 1000000);
}

static uint64_t cycles_to_us(avr_t *avr, avr_cycle_count_t c)
{
	uint64_t f = avr->frequency;
	return (c / f) * 1000000 + ((c % f) * 1000000) / f;
}

avr_ioport_t *hx711_find_ioport(avr_t *avr, char name)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next)
		if (io->kind && !strcmp(io->kind, "port") && ((avr_ioport_t *)io)->name == name)
			return (avr_ioport_t *)io;
	return NULL;
}

/*
 * Drives an input pin from outside, the way a push-pull output would: the pin IRQ (pin-change
 * interrupts, PIN bit), the port's "external" value (so that a PORT write that turns on the pull-up
 * does not override it) and the PIN register bit itself (simavr clears it on an MCU reset).
 */
static void drive(hx711_pin_t *p, int level)
{
	avr_t *avr = p->ioport->io.avr;
	uint8_t mask = (uint8_t)(1u << p->bit);
	avr_ioport_external_t ext = {
		.name = (unsigned long)p->port,
		.mask = p->ioport->external.pull_mask | mask,
		.value = level ? (p->ioport->external.pull_value | mask)
			       : (p->ioport->external.pull_value & (uint8_t)~mask),
	};
	avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(p->port), &ext);
	avr_raise_irq(p->irq, (uint32_t)level);
	if (level)
		avr->data[p->ioport->r_pin] |= mask;
	else
		avr->data[p->ioport->r_pin] &= (uint8_t)~mask;
}

static void set_dout(hx711_bank_t *b, int c, int level)
{
	if (b->dead[c])
		level = 1;
	b->dout_level[c] = (uint8_t)level;
	drive(&b->dout[c], level);
}

static void set_all_high(hx711_bank_t *b)
{
	for (int c = 0; c < b->channels; c++)
		if (!b->dout_level[c])
			set_dout(b, c, 1);
}

static avr_cycle_count_t period(hx711_bank_t *b)
{
	return b->rate_level ? b->period_fast : b->period_slow;
}

static avr_cycle_count_t conversion_done(avr_t *avr, avr_cycle_count_t when, void *param);

static void schedule_conversion(hx711_bank_t *b, avr_cycle_count_t at)
{
	b->next_conversion = at;
	avr_cycle_count_t now = b->avr->cycle;
	avr_cycle_timer_register(b->avr, at > now ? at - now : 1, conversion_done, b);
}

static avr_cycle_count_t conversion_done(avr_t *avr, avr_cycle_count_t when, void *param)
{
	hx711_bank_t *b = param;
	(void)avr;
	if (b->powered_down) {
		b->next_conversion = 0;
		return 0;
	}
	avr_cycle_count_t next = when + period(b);
	b->next_conversion = next;
	if (!b->live)
		return next;
	b->stats.conversions++;
	if (b->state == HX_SHIFTING) {
		/* The output register is being clocked out: this conversion is lost. */
		b->stats.missed++;
		return next;
	}
	if (b->state == HX_READY)
		b->stats.missed++;	/* the previous conversion was never read: replaced */
	int32_t raw[HX711_MAX_CHANNELS];
	b->sample(b->sample_ctx, cycles_to_us(b->avr, when), raw);
	for (int c = 0; c < b->channels; c++)
		b->data[c] = raw[c];
	b->state = HX_READY;
	b->pulses = 0;
	for (int c = 0; c < b->channels; c++)
		if (!b->dead[c] && b->dout_level[c])
			set_dout(b, c, 0);
	return next;
}

static avr_cycle_count_t power_down(avr_t *avr, avr_cycle_count_t when, void *param)
{
	hx711_bank_t *b = param;
	(void)avr;
	(void)when;
	b->pd_pending = 0;
	if (!b->sck_level || b->powered_down)
		return 0;
	b->powered_down = 1;
	if (b->live)
		b->stats.power_downs++;
	if (b->state == HX_READY || b->state == HX_SHIFTING)
		b->stats.missed += b->live ? 1 : 0;	/* its data is gone unread */
	b->state = HX_CONVERTING;
	b->pulses = 0;
	avr_cycle_timer_cancel(b->avr, conversion_done, b);
	b->next_conversion = 0;
	set_all_high(b);
	return 0;
}

static void sck_rising(hx711_bank_t *b)
{
	b->sck_rise = b->avr->cycle;
	b->pd_pending = 1;
	avr_cycle_timer_register(b->avr, b->pd_cycles, power_down, b);
	if (b->powered_down)
		return;
	switch (b->state) {
	case HX_READY:
	case HX_SHIFTING:
		b->pulses++;
		b->state = HX_SHIFTING;
		if (b->pulses <= 24) {
			int shift = 24 - b->pulses;
			for (int c = 0; c < b->channels; c++) {
				int bit = (int)(((uint32_t)b->data[c] >> shift) & 1u);
				if (bit != b->dout_level[c])
					set_dout(b, c, bit);
			}
		} else {	/* 25th: DOUT high, A/128 next */
			b->state = HX_READ_DONE;
			if (b->live)
				b->stats.reads++;
			set_all_high(b);
		}
		break;
	case HX_READ_DONE:
		b->pulses++;	/* a gain-select pulse, counted when it ends without a power-down */
		break;
	case HX_CONVERTING:
		break;	/* clocking a chip that has nothing to say: DOUT stays high */
	}
}

static void sck_falling(hx711_bank_t *b)
{
	if (b->pd_pending) {
		avr_cycle_timer_cancel(b->avr, power_down, b);
		b->pd_pending = 0;
	}
	if (!b->powered_down && b->state == HX_READ_DONE && b->pulses == 26 && b->live)
		b->stats.gain_errors++;	/* 26 or 27 pulses: B/32 or A/64 selected, not A/128 */
	if (b->powered_down) {	/* power-up reset */
		b->powered_down = 0;
		b->state = HX_CONVERTING;
		b->pulses = 0;
		schedule_conversion(b, b->avr->cycle + period(b));
	}
}

static void sck_notify(avr_irq_t *irq, uint32_t value, void *param)
{
	hx711_bank_t *b = param;
	(void)irq;
	int level = value ? 1 : 0;
	if (level == b->sck_level)
		return;
	b->sck_level = level;
	if (level)
		sck_rising(b);
	else
		sck_falling(b);
}

static void rate_notify(avr_irq_t *irq, uint32_t value, void *param)
{
	hx711_bank_t *b = param;
	(void)irq;
	int level = value ? 1 : 0;
	if (level == b->rate_level)
		return;
	b->rate_level = level;
	if (!b->powered_down)	/* the conversion restarts at the new rate */
		schedule_conversion(b, b->avr->cycle + period(b));
}

static int lookup(avr_t *avr, const char *mcu, hx711_pin_t *p, const char *what, char *err, size_t errlen)
{
	p->ioport = hx711_find_ioport(avr, p->port);
	p->irq = p->ioport ? avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(p->port), p->bit) : NULL;
	if (!p->ioport || !p->irq) {
		snprintf(err, errlen, "%s P%c%d: the %s has no port %c", what, p->port, p->bit, mcu, p->port);
		return -1;
	}
	return 0;
}

/*
 * simavr polls a level-triggered INTn pin every cycle while it is low (INT0/INT1 reset to the
 * "low level" mode), which halves the simulation speed when SCK or RATE sits on such a pin (PD2 and
 * PD3 on the ATmega328P). Both are outputs of the MCU, so a level interrupt on them makes no sense:
 * let those INTn act on the falling edge only.
 */
static void relax_level_interrupts(avr_t *avr, const hx711_pin_t *a, const hx711_pin_t *b)
{
	for (avr_io_t *io = avr->io_port; io; io = io->next) {
		if (!io->kind || strcmp(io->kind, "extint"))
			continue;
		avr_extint_t *x = (avr_extint_t *)io;
		for (uint8_t i = 0; i < EXTINT_COUNT; i++) {
			if (!x->eint[i].port_ioctl)
				continue;
			char port = (char)(x->eint[i].port_ioctl & 0xff);
			uint8_t pin = x->eint[i].port_pin;
			if ((port == a->port && pin == a->bit) || (port == b->port && pin == b->bit))
				avr_extint_set_strict_lvl_trig(avr, i, 0);
		}
	}
}

int hx711_init(hx711_bank_t *b, avr_t *avr, const char *mcu, int channels, const hx711_pin_t *sck,
	const hx711_pin_t *rate, const hx711_pin_t *dout, const uint8_t *dead,
	hx711_sample_fn sample, void *ctx, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	b->avr = avr;
	b->channels = channels;
	b->sample = sample;
	b->sample_ctx = ctx;
	b->sck = *sck;
	b->rate = *rate;
	if (lookup(avr, mcu, &b->sck, "--sck", err, errlen) < 0 ||
	    lookup(avr, mcu, &b->rate, "--rate", err, errlen) < 0)
		return -1;
	for (int c = 0; c < channels; c++) {
		b->dout[c] = dout[c];
		b->dead[c] = dead[c];
		if (lookup(avr, mcu, &b->dout[c], "--dout", err, errlen) < 0)
			return -1;
		if (!dead[c])
			b->live++;
	}
	b->period_fast = usec_cycles(avr, 12500);
	b->period_slow = usec_cycles(avr, 100000);
	b->pd_cycles = usec_cycles(avr, 60);

	relax_level_interrupts(avr, &b->sck, &b->rate);
	avr_irq_register_notify(b->sck.irq, sck_notify, b);
	avr_irq_register_notify(b->rate.irq, rate_notify, b);
	b->sck_level = b->sck.irq->value ? 1 : 0;
	b->rate_level = b->rate.irq->value ? 1 : 0;

	b->state = HX_CONVERTING;
	for (int c = 0; c < channels; c++)
		set_dout(b, c, 1);
	schedule_conversion(b, avr->cycle + period(b));
	return 0;
}

void hx711_after_mcu_reset(hx711_bank_t *b)
{
	/* simavr dropped every cycle timer: re-arm ours where they were. */
	if (b->next_conversion)
		schedule_conversion(b, b->next_conversion);
	if (b->pd_pending) {
		avr_cycle_count_t due = b->sck_rise + b->pd_cycles, now = b->avr->cycle;
		avr_cycle_timer_register(b->avr, due > now ? due - now : 1, power_down, b);
	}
	/* The PIN registers were cleared: drive the DOUT lines again. */
	for (int c = 0; c < b->channels; c++)
		drive(&b->dout[c], b->dout_level[c]);
	/* The MCU's SCK and RATE pins are inputs now: the chips see them LOW. */
	avr_raise_irq(b->sck.irq, 0);
	avr_raise_irq(b->rate.irq, 0);
	if (b->sck_level)
		sck_notify(b->sck.irq, 0, b);
	if (b->rate_level)
		rate_notify(b->rate.irq, 0, b);
}

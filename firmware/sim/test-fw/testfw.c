/*
 * Harness test firmware: proves firmware/sim/shelfsense-mcu without the real shelf firmware.
 * avr-gcc + avr-libc only. It bit-bangs the HX711s of pins.h (one shared SCK, one DOUT per
 * channel, 25 pulses per read, interrupts off while SCK is high) and prints over UART0 at 115200:
 *
 *   BOOT map=<map> ch=<N> boots=<n> ee=<first 16 EEPROM bytes, hex>   once per boot
 *   D <n> <t> <ready> <v0> ... <vN-1>   per read: n counts reads since boot, t = firmware clock
 *                                        (µs since boot, Timer1) when channel 0 was found ready,
 *                                        ready = hex mask of the DOUTs that were low, v = counts
 *
 * Commands, one per line (LF):
 *   F / S      RATE pin high (80 SPS) / low (10 SPS); replies "F <t>" / "S <t>". At boot the RATE
 *              pin is left an input (the HX711 sees LOW: 10 SPS).
 *   P / p      after the next read: hold SCK high 80 µs / 40 µs, then low; replies "P <t>" /
 *              "p <t>" with t = when SCK went low
 *   G / K      the next read clocks 26 / 27 pulses instead of 25; after it "X <n> <pulses>"
 *   H          after the next read, stop reading for 300 ms; replies "H <t>" when done
 *   W<text>    write text and a NUL to EEPROM address 0; replies "W ok"
 *   R          reboot through the watchdog (15 ms)
 *   Z          stop: cli; sleep (the harness reports the MCU stopped)
 *   anything else: echoed as "E <line>"
 */
#include <avr/eeprom.h>
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include <stdlib.h>
#include <string.h>
#include <util/delay.h>

#include "pins.h"

#if defined(USART0_RX_vect)
#define RX_VECT USART0_RX_vect
#define UDRE_VECT USART0_UDRE_vect
#else
#define RX_VECT USART_RX_vect
#define UDRE_VECT USART_UDRE_vect
#endif

static const struct pin sck = SCK_PIN;
static const struct pin rate = RATE_PIN;
static const struct pin dout_all[] = { DOUT_PINS };
#define DOUT_COUNT (sizeof dout_all / sizeof dout_all[0])
_Static_assert(CHANNELS >= 1 && CHANNELS <= DOUT_COUNT, "CHANNELS does not fit the pin map");

/* Survives a reset unless the harness clears RAM (it does on SIGUSR1). */
static uint16_t boots __attribute__((section(".noinit")));

/* ---- reset cause, watchdog off early (a watchdog reset leaves it running) ---- */
void early_init(void) __attribute__((naked, used, section(".init3")));
void early_init(void)
{
	MCUSR = 0;
	wdt_disable();
}

/* ---- clock: Timer1 at clk/8 (2 ticks per µs at 16 MHz), extended by its overflow ---- */
static volatile uint16_t t1_high;

ISR(TIMER1_OVF_vect)
{
	t1_high++;
}

static uint32_t micros(void)
{
	uint8_t s = SREG;
	cli();
	uint16_t lo = TCNT1;
	uint16_t hi = t1_high;
	if ((TIFR1 & _BV(TOV1)) && lo < 0x8000)
		hi++;
	SREG = s;
	uint32_t ticks = ((uint32_t)hi << 16) | lo;
	return ticks / (F_CPU / 1000000UL / 8);
}

/* ---- UART0, interrupt driven both ways ---- */
static volatile uint8_t rx_buf[128];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t tx_buf[256];
static volatile uint8_t tx_head, tx_tail;

ISR(RX_VECT)
{
	uint8_t c = UDR0;
	uint8_t next = (uint8_t)((rx_head + 1) & (sizeof rx_buf - 1));
	if (next != rx_tail) {
		rx_buf[rx_head] = c;
		rx_head = next;
	}
}

ISR(UDRE_VECT)
{
	if (tx_head == tx_tail) {
		UCSR0B &= (uint8_t)~_BV(UDRIE0);
		return;
	}
	UDR0 = tx_buf[tx_tail];
	tx_tail = (uint8_t)(tx_tail + 1);
}

static void uart_init(void)
{
	UCSR0A = _BV(U2X0);
	UBRR0 = (uint16_t)((F_CPU / 8UL / 115200UL) - 1);
	UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
	UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

static void put(char c)
{
	uint8_t next = (uint8_t)(tx_head + 1);
	while (next == tx_tail)
		;
	tx_buf[tx_head] = (uint8_t)c;
	tx_head = next;
	UCSR0B |= _BV(UDRIE0);
}

static void puts_(const char *s)
{
	while (*s)
		put(*s++);
}

static void put_dec(int32_t v)
{
	char b[12];
	ltoa(v, b, 10);
	puts_(b);
}

static void put_udec(uint32_t v)
{
	char b[12];
	ultoa(v, b, 10);
	puts_(b);
}

static void put_hex8(uint8_t v)
{
	static const char h[] = "0123456789abcdef";
	put(h[v >> 4]);
	put(h[v & 15]);
}

static int get(void)
{
	if (rx_head == rx_tail)
		return -1;
	uint8_t c = rx_buf[rx_tail];
	rx_tail = (uint8_t)((rx_tail + 1) & (sizeof rx_buf - 1));
	return c;
}

/* ---- pins ---- */
static void out_high(const struct pin *p) { *p->port |= p->mask; }
static void out_low(const struct pin *p) { *p->port &= (uint8_t)~p->mask; }
static void make_output(const struct pin *p) { *p->ddr |= p->mask; }

/* ---- HX711 reads ---- */
static uint8_t extra_pulses;	/* 1 or 2 for the next read: 26 or 27 pulses */
static char after_read;		/* 'P', 'p', 'H' or 0 */
static uint32_t reads;

static void pulse(void)
{
	cli();
	out_high(&sck);
	_delay_us(1);
	out_low(&sck);
	sei();
	_delay_us(1);
}

static void read_all(uint32_t t)
{
	uint32_t v[CHANNELS];
	uint16_t ready = 0;
	for (uint8_t c = 0; c < CHANNELS; c++) {
		v[c] = 0;
		if (!(*dout_all[c].pin & dout_all[c].mask))
			ready |= (uint16_t)(1u << c);
	}
	for (uint8_t i = 0; i < 24; i++) {
		cli();
		out_high(&sck);
		_delay_us(1);
		for (uint8_t c = 0; c < CHANNELS; c++)
			v[c] = (v[c] << 1) | ((*dout_all[c].pin & dout_all[c].mask) ? 1 : 0);
		out_low(&sck);
		sei();
		_delay_us(1);
	}
	pulse();	/* 25th: channel A, gain 128 */
	uint8_t extra = extra_pulses;
	extra_pulses = 0;
	for (uint8_t i = 0; i < extra; i++)
		pulse();

	puts_("D ");
	put_udec(++reads);
	put(' ');
	put_udec(t);
	put(' ');
	put_hex8((uint8_t)(ready >> 8));
	put_hex8((uint8_t)ready);
	for (uint8_t c = 0; c < CHANNELS; c++) {
		int32_t s = (int32_t)(v[c] << 8) >> 8;	/* sign-extend 24 bits */
		put(' ');
		put_dec(s);
	}
	put('\n');
	if (extra) {
		puts_("X ");
		put_udec(reads);
		put(' ');
		put_udec(25u + extra);
		put('\n');
	}
}

static void sck_hold(uint8_t long_hold)
{
	cli();
	out_high(&sck);
	if (long_hold)
		_delay_us(80);
	else
		_delay_us(40);
	out_low(&sck);
	sei();
	uint32_t t = micros();
	put(long_hold ? 'P' : 'p');
	put(' ');
	put_udec(t);
	put('\n');
}

/* ---- commands ---- */
static char line[72];
static uint8_t line_len;

static void command(void)
{
	line[line_len] = 0;
	switch (line[0]) {
	case 'F':
	case 'S':
		make_output(&rate);
		if (line[0] == 'F')
			out_high(&rate);
		else
			out_low(&rate);
		put(line[0]);
		put(' ');
		put_udec(micros());
		put('\n');
		return;
	case 'P':
	case 'p':
	case 'H':
		after_read = line[0];
		return;
	case 'G':
		extra_pulses = 1;
		return;
	case 'K':
		extra_pulses = 2;
		return;
	case 'W':
		eeprom_update_block(line + 1, (void *)0, line_len);	/* text and its NUL */
		eeprom_busy_wait();
		puts_("W ok\n");
		return;
	case 'R':
		wdt_enable(WDTO_15MS);
		for (;;)
			;
	case 'Z':
		while (tx_head != tx_tail)
			;
		_delay_ms(2);
		cli();
		set_sleep_mode(SLEEP_MODE_PWR_DOWN);
		sleep_enable();
		sleep_cpu();
		for (;;)
			;
	default:
		puts_("E ");
		puts_(line);
		put('\n');
	}
}

static void poll_rx(void)
{
	int c;
	while ((c = get()) >= 0) {
		if (c == '\n') {
			command();
			line_len = 0;
		} else if (line_len < sizeof line - 1) {
			line[line_len++] = (char)c;
		}
	}
}

int main(void)
{
	boots++;
	out_low(&sck);
	make_output(&sck);
	for (uint8_t c = 0; c < CHANNELS; c++) {
		*dout_all[c].ddr &= (uint8_t)~dout_all[c].mask;
		/* even channels with the pull-up on (INPUT_PULLUP): the chip's drive must win */
		if (!(c & 1))
			*dout_all[c].port |= dout_all[c].mask;
	}

	TCCR1A = 0;
	TCCR1B = _BV(CS11);
	TIMSK1 = _BV(TOIE1);
	uart_init();
	sei();

	puts_("BOOT map=" MAP_NAME " ch=");
	put_udec(CHANNELS);
	puts_(" boots=");
	put_udec(boots);
	puts_(" ee=");
	for (uint8_t i = 0; i < 16; i++)
		put_hex8(eeprom_read_byte((const uint8_t *)(uintptr_t)i));
	put('\n');

	for (;;) {
		poll_rx();
		if (!(*dout_all[0].pin & dout_all[0].mask)) {
			read_all(micros());
			char what = after_read;
			after_read = 0;
			if (what == 'P' || what == 'p') {
				sck_hold(what == 'P');
			} else if (what == 'H') {
				uint32_t start = micros();
				while (micros() - start < 300000UL)
					;
				puts_("H ");
				put_udec(micros());
				put('\n');
			}
		}
	}
}

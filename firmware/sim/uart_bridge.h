/*
 * UART0 <-> stdio. Bytes the MCU transmits are buffered and written to stdout (flushed at each
 * line end, when the buffer fills, after a short while, and before the harness waits). Bytes read
 * from stdin queue here and go to the UART's receiver while it signals XON (its FIFO has room:
 * simavr then hands them to the firmware no faster than the line rate); on XOFF they wait. Only when
 * this queue is full too (the MCU has stopped reading) are further bytes dropped, like an
 * overflowing UART, and counted; stdin is never left unread.
 */
#ifndef SHELFSENSE_MCU_UART_BRIDGE_H
#define SHELFSENSE_MCU_UART_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <sim_avr.h>

#define UART_BRIDGE_RXQ 4096
#define UART_BRIDGE_TXBUF 8192

typedef struct uart_bridge {
	avr_t *avr;
	avr_irq_t *irq;		/* the UART's IRQs, indexed by UART_IRQ_* */
	int rx_on;		/* XON seen and no XOFF since */
	uint8_t rxq[UART_BRIDGE_RXQ];
	size_t rxq_head, rxq_len;
	uint8_t tx[UART_BRIDGE_TXBUF];
	size_t tx_len;
	int tx_line;		/* a line end is buffered */
	uint64_t tx_since_ns;	/* monotonic time of the oldest buffered byte */
	int stdout_gone;	/* EPIPE: output is discarded */
	uint64_t tx_count, rx_count, rx_dropped;
} uart_bridge_t;

/* Hooks UART `name` ('0'). Returns -1 if the MCU has no such UART. */
int uart_bridge_init(uart_bridge_t *u, avr_t *avr, char name);
/* Bytes from stdin. */
void uart_bridge_input(uart_bridge_t *u, const uint8_t *buf, size_t n);
/* Moves queued bytes into the UART while it accepts them. */
void uart_bridge_push(uart_bridge_t *u);
/* The MCU was reset: its receiver is off until the firmware enables it (and XON comes). */
void uart_bridge_after_mcu_reset(uart_bridge_t *u);
/* Whether buffered output should be written now (line end, size, or age > max_age_ns). */
int uart_bridge_should_flush(const uart_bridge_t *u, uint64_t now_ns, uint64_t max_age_ns);
/* Writes buffered output to stdout. blocking: wait for the pipe (returns -1 if a signal
 * interrupted the wait: call again later); otherwise write only what fits now. */
int uart_bridge_flush(uart_bridge_t *u, int blocking);

#endif

#include "uart_bridge.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <avr_uart.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_output(avr_irq_t *irq, uint32_t value, void *param)
{
	uart_bridge_t *u = param;
	(void)irq;
	u->tx_count++;
	if (u->tx_len == sizeof u->tx)
		uart_bridge_flush(u, 1);
	if (u->tx_len == sizeof u->tx) {	/* interrupted by a signal: keep the newest */
		memmove(u->tx, u->tx + 1, u->tx_len - 1);
		u->tx_len--;
	}
	if (!u->tx_len)
		u->tx_since_ns = mono_ns();
	u->tx[u->tx_len++] = (uint8_t)value;
	if (value == '\n')
		u->tx_line = 1;
}

static void on_xon(avr_irq_t *irq, uint32_t value, void *param)
{
	uart_bridge_t *u = param;
	(void)irq;
	(void)value;
	u->rx_on = 1;
	if (u->rxq_len)
		uart_bridge_push(u);
}

static void on_xoff(avr_irq_t *irq, uint32_t value, void *param)
{
	uart_bridge_t *u = param;
	(void)irq;
	if (value)
		u->rx_on = 0;
}

int uart_bridge_init(uart_bridge_t *u, avr_t *avr, char name)
{
	memset(u, 0, sizeof *u);
	u->avr = avr;
	u->irq = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ(name), 0);
	if (!u->irq)
		return -1;
	/* No console echo of the UART's lines, no usleep() when the firmware polls its status. */
	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS(name), &flags);
	avr_irq_register_notify(u->irq + UART_IRQ_OUTPUT, on_output, u);
	avr_irq_register_notify(u->irq + UART_IRQ_OUT_XON, on_xon, u);
	avr_irq_register_notify(u->irq + UART_IRQ_OUT_XOFF, on_xoff, u);
	return 0;
}

void uart_bridge_input(uart_bridge_t *u, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (u->rxq_len == sizeof u->rxq) {
			u->rx_dropped += n - i;
			break;
		}
		u->rxq[(u->rxq_head + u->rxq_len) % sizeof u->rxq] = buf[i];
		u->rxq_len++;
	}
	uart_bridge_push(u);
}

void uart_bridge_push(uart_bridge_t *u)
{
	/* Raising INPUT can call on_xoff (FIFO now full) before it returns. */
	while (u->rx_on && u->rxq_len) {
		uint8_t c = u->rxq[u->rxq_head];
		u->rxq_head = (u->rxq_head + 1) % sizeof u->rxq;
		u->rxq_len--;
		u->rx_count++;
		avr_raise_irq(u->irq + UART_IRQ_INPUT, c);
	}
}

void uart_bridge_after_mcu_reset(uart_bridge_t *u)
{
	u->rx_on = 0;
}

int uart_bridge_should_flush(const uart_bridge_t *u, uint64_t now_ns, uint64_t max_age_ns)
{
	if (!u->tx_len)
		return 0;
	return u->tx_line || u->tx_len >= sizeof u->tx / 2 || now_ns - u->tx_since_ns >= max_age_ns;
}

int uart_bridge_flush(uart_bridge_t *u, int blocking)
{
	size_t off = 0;
	int rc = 0;
	while (off < u->tx_len && !u->stdout_gone) {
		if (!blocking) {
			struct pollfd p = { .fd = 1, .events = POLLOUT };
			if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
				break;
		}
		ssize_t w = write(1, u->tx + off, u->tx_len - off);
		if (w < 0) {
			if (errno == EINTR) {
				rc = -1;
				break;
			}
			if (errno == EAGAIN)
				break;
			u->stdout_gone = 1;	/* EPIPE and the like: nobody reads any more */
			break;
		}
		off += (size_t)w;
	}
	if (u->stdout_gone)
		off = u->tx_len;
	memmove(u->tx, u->tx + off, u->tx_len - off);
	u->tx_len -= off;
	u->tx_line = memchr(u->tx, '\n', u->tx_len) != NULL;
	if (u->tx_len)
		u->tx_since_ns = mono_ns();
	return rc;
}

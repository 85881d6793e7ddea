/*
 * The raw-counts feed on fd 3: text lines "<us> <raw0> ... <rawN-1> [T<centi-°C>]\n", us =
 * simulated µs since the harness started, non-decreasing; each raw a 24-bit two's-complement count
 * (-8388608 .. 8388607, decimal or 0x-hex); the optional last token T-5500 .. T12500 is the die
 * temperature in hundredths of a °C from then on. Blank lines and lines starting with '#' are
 * ignored.
 *
 * A conversion at sim time t uses the latest line with us <= t. The reader is polled without
 * blocking from the simulation loop (feed_poll); only when a conversion needs a value that is not
 * determined yet (no line with us > t read and no EOF) does the caller wait (feed_wait_needed).
 */
#ifndef SHELFSENSE_MCU_FEED_H
#define SHELFSENSE_MCU_FEED_H

#include <stddef.h>
#include <stdint.h>

#define FEED_MAX_CHANNELS 16

typedef struct feed_line {
	uint64_t us;
	int32_t raw[FEED_MAX_CHANNELS];
	int32_t temp_centi;	/* the die temperature, when has_temp */
	int has_temp;
} feed_line_t;

typedef struct feed {
	int fd;			/* -1: no feed (raws are 0) */
	int channels;
	int eof;
	unsigned long lineno;
	char buf[65536];	/* bytes read but not yet parsed */
	size_t len;
	feed_line_t cur;	/* latest line at or before the last horizon */
	int have_cur;
	feed_line_t *q;		/* lines not yet reached, in order (a ring) */
	size_t qhead, qlen, qcap;
	uint64_t last_us;
	int have_last;
	uint64_t lines;		/* lines accepted so far */
} feed_t;

/* fd < 0: no feed. Returns 0, or -1 with errno (out of memory). */
int feed_open(feed_t *f, int fd, int channels);
/* The fd to wait on, or -1 (no feed, or EOF seen). */
int feed_fd(const feed_t *f);
/* Whether feed_poll should read now: the lookahead is not full. */
int feed_wants_input(const feed_t *f);
/* Reads once (one read(2), which blocks only if nothing is readable) and parses whole lines.
 * Returns 0, or -1 and fills err on a malformed line (err names the line and what is wrong). */
int feed_read(feed_t *f, char *err, size_t errlen);
/* Lines with us <= horizon can be folded into the current value (no conversion before it). */
void feed_advance(feed_t *f, uint64_t horizon_us);
/* 1 if the value at t is known (a line with us > t is queued, or EOF, or no feed), else 0. */
int feed_determined(feed_t *f, uint64_t t_us);
/* The raws at t (call once feed_determined): the latest line with us <= t, zeros before any. */
void feed_values(feed_t *f, uint64_t t_us, int32_t *out);
/* The die temperature of the current line (after feed_values), centi-°C; 0 if it gives none. */
int feed_temperature(const feed_t *f, int32_t *centi);

#endif

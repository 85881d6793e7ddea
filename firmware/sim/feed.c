#include "feed.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEED_QUEUE_MAX 8192	/* lookahead lines held before the reader stops reading */

int feed_open(feed_t *f, int fd, int channels)
{
	memset(f, 0, sizeof *f);
	f->fd = fd;
	f->channels = channels;
	f->eof = fd < 0;
	f->qcap = 256;
	f->q = calloc(f->qcap, sizeof *f->q);
	return f->q ? 0 : -1;
}

int feed_fd(const feed_t *f)
{
	return f->eof ? -1 : f->fd;
}

int feed_wants_input(const feed_t *f)
{
	return !f->eof && f->qlen < FEED_QUEUE_MAX;
}

static int push(feed_t *f, const feed_line_t *l)
{
	if (f->qlen == f->qcap) {
		size_t ncap = f->qcap * 2;
		feed_line_t *nq = calloc(ncap, sizeof *nq);
		if (!nq)
			return -1;
		for (size_t i = 0; i < f->qlen; i++)
			nq[i] = f->q[(f->qhead + i) % f->qcap];
		free(f->q);
		f->q = nq;
		f->qcap = ncap;
		f->qhead = 0;
	}
	f->q[(f->qhead + f->qlen) % f->qcap] = *l;
	f->qlen++;
	return 0;
}

/* Parses one integer token: optional sign, then decimal digits or 0x and hex digits. */
static int parse_int(const char **p, long long *out, int allow_sign)
{
	const char *s = *p;
	int neg = 0;
	if (allow_sign && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
	}
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	long long v = 0;
	int digits = 0;
	for (;; s++, digits++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (0x7fffffffffffffffLL - d) / base)
			return -1;
		v = v * base + d;
	}
	if (!digits || (*s && !isspace((unsigned char)*s)))
		return -1;
	*out = neg ? -v : v;
	*p = s;
	return 0;
}

static int parse_line(feed_t *f, char *line, char *err, size_t errlen)
{
	const char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	feed_line_t l;
	memset(&l, 0, sizeof l);
	long long v;
	if (parse_int(&p, &v, 0) < 0) {
		snprintf(err, errlen, "feed (fd 3) line %lu: \"%.60s\" does not start with the time in µs "
			"(a non-negative integer); write \"<us> <raw0> ... <raw%d>\"",
			f->lineno, line, f->channels - 1);
		return -1;
	}
	l.us = (uint64_t)v;
	int n = 0;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (*p == 'T') {
			p++;
			if (parse_int(&p, &v, 1) < 0 || v < -5500 || v > 12500) {
				snprintf(err, errlen, "feed (fd 3) line %lu: the temperature is not T-5500 .. T12500 "
					"(hundredths of a °C)", f->lineno);
				return -1;
			}
			while (isspace((unsigned char)*p))
				p++;
			if (*p || n != f->channels) {
				snprintf(err, errlen, "feed (fd 3) line %lu: T<centi-°C> goes last, after the %d raw "
					"counts", f->lineno, f->channels);
				return -1;
			}
			l.temp_centi = (int32_t)v;
			l.has_temp = 1;
			break;
		}
		if (n == f->channels) {
			snprintf(err, errlen, "feed (fd 3) line %lu: more than %d raw counts (--channels is %d)",
				f->lineno, f->channels, f->channels);
			return -1;
		}
		if (parse_int(&p, &v, 1) < 0) {
			snprintf(err, errlen, "feed (fd 3) line %lu: raw count %d is not an integer", f->lineno, n);
			return -1;
		}
		if (v < -8388608LL || v > 8388607LL) {
			snprintf(err, errlen, "feed (fd 3) line %lu: raw count %d = %lld is outside the HX711's "
				"24-bit range -8388608..8388607", f->lineno, n, v);
			return -1;
		}
		l.raw[n++] = (int32_t)v;
	}
	if (n != f->channels) {
		snprintf(err, errlen, "feed (fd 3) line %lu: %d raw counts, expected %d (one per channel, "
			"--channels %d)", f->lineno, n, f->channels, f->channels);
		return -1;
	}
	if (f->have_last && l.us < f->last_us) {
		snprintf(err, errlen, "feed (fd 3) line %lu: time %llu µs is before the previous line's %llu; "
			"feed times must not decrease", f->lineno, (unsigned long long)l.us,
			(unsigned long long)f->last_us);
		return -1;
	}
	f->last_us = l.us;
	f->have_last = 1;
	f->lines++;
	if (push(f, &l) < 0) {
		snprintf(err, errlen, "feed (fd 3): out of memory");
		return -1;
	}
	return 0;
}

static int parse_buffer(feed_t *f, int final, char *err, size_t errlen)
{
	size_t start = 0;
	for (size_t i = 0; i < f->len; i++) {
		if (f->buf[i] != '\n')
			continue;
		f->buf[i] = 0;
		f->lineno++;
		if (parse_line(f, f->buf + start, err, errlen) < 0)
			return -1;
		start = i + 1;
	}
	if (final && start < f->len) {	/* a last line without its LF */
		f->buf[f->len] = 0;
		f->lineno++;
		if (parse_line(f, f->buf + start, err, errlen) < 0)
			return -1;
		start = f->len;
	}
	memmove(f->buf, f->buf + start, f->len - start);
	f->len -= start;
	return 0;
}

int feed_read(feed_t *f, char *err, size_t errlen)
{
	if (f->eof)
		return 0;
	if (f->len >= sizeof f->buf - 1) {
		snprintf(err, errlen, "feed (fd 3) line %lu: longer than %zu bytes", f->lineno + 1,
			sizeof f->buf - 1);
		return -1;
	}
	ssize_t n = read(f->fd, f->buf + f->len, sizeof f->buf - 1 - f->len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		snprintf(err, errlen, "feed (fd 3): read failed: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		f->eof = 1;
		return parse_buffer(f, 1, err, errlen);
	}
	f->len += (size_t)n;
	return parse_buffer(f, 0, err, errlen);
}

void feed_advance(feed_t *f, uint64_t horizon_us)
{
	while (f->qlen && f->q[f->qhead].us <= horizon_us) {
		f->cur = f->q[f->qhead];
		f->have_cur = 1;
		f->qhead = (f->qhead + 1) % f->qcap;
		f->qlen--;
	}
}

int feed_determined(feed_t *f, uint64_t t_us)
{
	feed_advance(f, t_us);
	return f->eof || f->qlen > 0;
}

void feed_values(feed_t *f, uint64_t t_us, int32_t *out)
{
	feed_advance(f, t_us);
	for (int c = 0; c < f->channels; c++)
		out[c] = f->have_cur ? f->cur.raw[c] : 0;
}

int feed_temperature(const feed_t *f, int32_t *centi)
{
	if (!f->have_cur || !f->cur.has_temp)
		return 0;
	*centi = f->cur.temp_centi;
	return 1;
}

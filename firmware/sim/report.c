#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void append(json_buf_t *b, const char *s, size_t n)
{
	/* Keep room for the closing brace, the newline and a NUL: truncate, never overflow. */
	size_t room = sizeof b->text - b->len;
	if (room <= 3)
		return;
	if (n > room - 3)
		n = room - 3;
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = 0;
}

static void append_quoted(json_buf_t *b, const char *s)
{
	append(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			append(b, esc, 2);
		} else if (*p == '\n') {
			append(b, "\\n", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			append(b, esc, 6);
		} else {
			append(b, (const char *)p, 1);
		}
	}
	append(b, "\"", 1);
}

static void key(json_buf_t *b, const char *k)
{
	append(b, b->len > 1 ? "," : "", b->len > 1 ? 1 : 0);
	append_quoted(b, k);
	append(b, ":", 1);
}

void jb_begin(json_buf_t *b, const char *event)
{
	b->len = 0;
	b->text[0] = 0;
	append(b, "{", 1);
	jb_str(b, "event", event);
}

void jb_str(json_buf_t *b, const char *k, const char *value)
{
	key(b, k);
	append_quoted(b, value);
}

void jb_int(json_buf_t *b, const char *k, long long value)
{
	char t[32];
	key(b, k);
	int n = snprintf(t, sizeof t, "%lld", value);
	append(b, t, (size_t)n);
}

void jb_uint(json_buf_t *b, const char *k, unsigned long long value)
{
	char t[32];
	key(b, k);
	int n = snprintf(t, sizeof t, "%llu", value);
	append(b, t, (size_t)n);
}

void jb_num(json_buf_t *b, const char *k, double value)
{
	char t[40];
	key(b, k);
	int n = isfinite(value) ? snprintf(t, sizeof t, "%.6g", value) : snprintf(t, sizeof t, "null");
	append(b, t, (size_t)n);
}

void jb_raw(json_buf_t *b, const char *k, const char *json)
{
	key(b, k);
	append(b, json, strlen(json));
}

void jb_emit(json_buf_t *b)
{
	b->text[b->len++] = '}';
	b->text[b->len++] = '\n';
	size_t off = 0;
	while (off < b->len) {
		ssize_t w = write(2, b->text + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static void message(const char *event, const char *field, const char *fieldval, const char *fmt, va_list ap)
{
	char msg[4096];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	json_buf_t b;
	jb_begin(&b, event);
	jb_str(&b, field, fieldval);
	jb_str(&b, "message", msg);
	jb_emit(&b);
}

void report_error(const char *kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	message("error", "kind", kind, fmt, ap);
	va_end(ap);
}

void report_log(const char *level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	message("log", "level", level, fmt, ap);
	va_end(ap);
}

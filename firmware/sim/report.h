/*
 * stderr is a stream of JSON lines (one object per line, each written with one write(2)).
 */
#ifndef SHELFSENSE_MCU_REPORT_H
#define SHELFSENSE_MCU_REPORT_H

#include <stddef.h>

/* A growing JSON object: jb_begin(&b, "event-name"), then fields, then jb_emit(&b). */
typedef struct json_buf {
	char text[8192];
	size_t len;
} json_buf_t;

void jb_begin(json_buf_t *b, const char *event);
void jb_str(json_buf_t *b, const char *key, const char *value);
void jb_int(json_buf_t *b, const char *key, long long value);
void jb_uint(json_buf_t *b, const char *key, unsigned long long value);
void jb_num(json_buf_t *b, const char *key, double value);
/* A raw JSON value (already valid JSON: an array, an object). */
void jb_raw(json_buf_t *b, const char *key, const char *json);
void jb_emit(json_buf_t *b);

/* {"event":"error","kind":KIND,"message":...}; KIND is "usage", "crash", "io" or "feed". */
void report_error(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* {"event":"log","level":LEVEL,"message":...} */
void report_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

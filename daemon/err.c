/*
 * err.c: filling and printing struct err.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
err_set(struct err *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->field[0] = '\0';
	e->msg[0] = '\0';
}

const char *
err_str(const struct err *e, char *buf, size_t len)
{
	if (e->field[0] != '\0')
		snprintf(buf, len, "%s: %s", e->field, e->msg);
	else
		snprintf(buf, len, "%s", e->msg);
	return buf;
}

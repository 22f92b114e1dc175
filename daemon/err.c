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

static struct err *
errs_slot(struct errs *l)
{
	return l->n++ < ERRS_MAX ? &l->v[l->n - 1] : NULL;
}

int
errs_add(struct errs *l, const char *field, const char *fmt, ...)
{
	struct err *e = errs_slot(l);
	va_list ap;

	if (e == NULL)
		return -1;
	snprintf(e->field, sizeof(e->field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
errs_first(const struct errs *l, struct err *e)
{
	if (l->n == 0)
		return 0;
	if (e != NULL)
		*e = l->v[0];
	return -1;
}

#include <stdarg.h>
#include <string.h>
#include "err.h"

void nk_err_clear(struct nk_err *e)
{
	e->code = 0;
	e->kind = NK_ERRK_NONE;
	e->subject[0] = '\0';
	e->want = 0;
	e->alt = NULL;
	e->msg[0] = '\0';
}

int nk_err_kind(struct nk_err *e, enum nk_errkind kind)
{
	if (e->code == 0)
		e->code = EINVAL;
	e->kind = kind;
	return -e->code;
}

int nk_err_no_subids(struct nk_err *e, const char *user)
{
	snprintf(e->subject, sizeof e->subject, "%s", user ? user : "");
	return nk_err_kind(e, NK_ERRK_NO_SUBIDS);
}

/* Set E to CODE (positive or negative; EINVAL when 0) and the message FMT. */
static int verr(struct nk_err *e, int code, const char *fmt, va_list ap)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = EINVAL;
	e->code = code;
	e->kind = NK_ERRK_NONE;
	e->subject[0] = '\0';
	e->want = 0;
	e->alt = NULL;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return -code;
}

int nk_errf(struct nk_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(e, code, fmt, ap);
	va_end(ap);
	return r;
}

int nk_syserr(struct nk_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	verr(e, code ? code : EIO, fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof e->msg - len, ": %s", strerror(e->code));
	return -e->code;
}

int nk_err_prefix(struct nk_err *e, const char *fmt, ...)
{
	char buf[NK_ERR_MAX];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	len = strlen(buf);
	if (len + 2 < sizeof buf) {
		buf[len++] = ':';
		buf[len++] = ' ';
		buf[len] = '\0';
		size_t m = strnlen(e->msg, sizeof e->msg);

		if (m > sizeof buf - len - 1)
			m = sizeof buf - len - 1;
		memcpy(buf + len, e->msg, m);
		buf[len + m] = '\0';
	}
	memcpy(e->msg, buf, sizeof buf);
	if (e->code == 0)
		e->code = EINVAL;
	return -e->code;
}

int nk_err_hint(struct nk_err *e, const char *fmt, ...)
{
	char hint[NK_ERR_MAX];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hint, sizeof hint, fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof e->msg - len, " (%s)", hint);
	if (e->code == 0)
		e->code = EINVAL;
	return -e->code;
}

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include "json.h"
#include "util.h"

void nk_json_file(struct nk_json *j, FILE *f, int style)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->style = style;
}

void nk_json_buf(struct nk_json *j, char *buf, size_t len, int style)
{
	memset(j, 0, sizeof *j);
	j->buf = buf;
	j->len = len;
	j->style = style;
	if (len)
		buf[0] = '\0';
	else
		j->err = -ENOSPC;
}

static void put(struct nk_json *j, const char *s, size_t n)
{
	if (j->err)
		return;
	if (j->f) {
		if (n && fwrite(s, 1, n, j->f) != n)
			j->err = -EIO;
		return;
	}
	if (j->pos + n >= j->len) {
		j->err = -ENOSPC;
		return;
	}
	memcpy(j->buf + j->pos, s, n);
	j->pos += n;
	j->buf[j->pos] = '\0';
}

static void puts_(struct nk_json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void NK_PRINTF(2, 3) putf(struct nk_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		if (!j->err)
			j->err = -EINVAL;
		return;
	}
	put(j, tmp, (size_t)n);
}

/* The length of the valid UTF-8 sequence at S (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string: '"', '\\' and control characters escaped; a byte that
 * is not part of valid UTF-8 (an owner name in Latin-1, say) becomes
 * U+FFFD, so the output is always valid JSON. */
static void escaped(struct nk_json *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	put(j, "\"", 1);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t u = utf8_len((const unsigned char *)s);
		char esc[7];

		if (u > 1 || (u == 1 && c >= 0x20 && c != '"' && c != '\\')) {
			s += u;
			continue;
		}
		put(j, run, (size_t)(s - run));
		if (u == 0) {
			put(j, "\\ufffd", 6);
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
		} else if (c == '\n') {
			put(j, "\\n", 2);
		} else if (c == '\t') {
			put(j, "\\t", 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(j, esc, 6);
		}
		run = ++s;
	}
	put(j, run, (size_t)(s - run));
	put(j, "\"", 1);
}

/* Is level D (1-based: the container opened D-th) the outermost array,
 * whose elements NK_JSON_LINES puts on lines of their own? */
static int lines_level(const struct nk_json *j, int d)
{
	return (j->style & NK_JSON_LINES) && d > 0 && j->close[d - 1] == ']' &&
	       (d == 1 || (d == 2 && j->close[0] == '}'));
}

/* The separator before a member, and its key. */
static void member(struct nk_json *j, const char *key)
{
	int d = j->depth;
	int spaced = j->style & (NK_JSON_SPACED | NK_JSON_LINES);

	if (d > 0) {
		if (lines_level(j, d))
			puts_(j, j->count[d - 1] ? ",\n  " : "\n  ");
		else if (j->count[d - 1])
			puts_(j, spaced ? ", " : ",");
		if (j->count[d - 1] < 255)
			j->count[d - 1]++;
	}
	if (key && d > 0 && j->close[d - 1] == '}') {
		escaped(j, key);
		puts_(j, spaced ? ": " : ":");
	}
}

static void open_(struct nk_json *j, const char *key, char open, char close)
{
	member(j, key);
	if (j->depth >= NK_JSON_DEPTH) {
		if (!j->err)
			j->err = -EINVAL;
		return;
	}
	put(j, &open, 1);
	j->close[j->depth] = close;
	j->count[j->depth] = 0;
	j->depth++;
}

void nk_json_obj(struct nk_json *j, const char *key)
{
	open_(j, key, '{', '}');
}

void nk_json_arr(struct nk_json *j, const char *key)
{
	open_(j, key, '[', ']');
}

void nk_json_end(struct nk_json *j)
{
	int d = j->depth;

	if (d == 0)
		return;
	if (lines_level(j, d) && j->count[d - 1])
		puts_(j, "\n");
	j->depth--;
	put(j, &j->close[d - 1], 1);
}

void nk_json_str(struct nk_json *j, const char *key, const char *val)
{
	member(j, key);
	if (val)
		escaped(j, val);
	else
		puts_(j, "null");
}

void nk_json_u64(struct nk_json *j, const char *key, uint64_t val)
{
	member(j, key);
	putf(j, "%" PRIu64, val);
}

void nk_json_i64(struct nk_json *j, const char *key, int64_t val)
{
	member(j, key);
	putf(j, "%" PRId64, val);
}

void nk_json_bool(struct nk_json *j, const char *key, int val)
{
	member(j, key);
	puts_(j, val ? "true" : "false");
}

void nk_json_double(struct nk_json *j, const char *key, double val, int digits)
{
	member(j, key);
	putf(j, "%.*f", digits, val);
}

int nk_json_finish(struct nk_json *j, const char *tail)
{
	while (j->depth > 0)
		nk_json_end(j);
	if (tail)
		puts_(j, tail);
	if (j->f && !j->err && ferror(j->f))
		j->err = -EIO;
	return j->err;
}

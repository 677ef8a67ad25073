#include <string.h>
#include <ctype.h>
#include <fcntl.h>
#include "logindefs.h"
#include "cfgfile.h"
#include "num.h"

void nk_logindefs_free(struct nk_logindefs *ld)
{
	for (size_t i = 0; i < ld->n; i++) {
		free(ld->items[i].name);
		free(ld->items[i].value);
	}
	free(ld->items);
	free(ld->path);
	memset(ld, 0, sizeof *ld);
}

static int add_item(struct nk_logindefs *ld, const char *name, size_t nlen,
		    const char *val, size_t vlen, unsigned lineno)
{
	struct nk_ld_item *it = realloc(ld->items, (ld->n + 1) * sizeof *it);

	if (!it)
		return -ENOMEM;
	ld->items = it;
	it = &ld->items[ld->n];
	it->name = strndup(name, nlen);
	it->value = strndup(val, vlen);
	it->lineno = lineno;
	if (!it->name || !it->value) {
		free(it->name);
		free(it->value);
		return -ENOMEM;
	}
	ld->n++;
	return 0;
}

int nk_logindefs_parse(struct nk_logindefs *ld, const char *path, const char *buf,
		       struct nk_err *e)
{
	unsigned lineno = 0;
	const char *p = buf;

	memset(ld, 0, sizeof *ld);
	ld->path = strdup(path);
	if (!ld->path)
		return nk_syserr(e, ENOMEM, "cannot read %s", path);
	while (*p) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *name, *val;
		size_t nlen, vlen;

		lineno++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p == end || *p == '#')
			goto next;
		name = p;
		while (p < end && !isspace((unsigned char)*p))
			p++;
		nlen = (size_t)(p - name);
		while (p < end && isspace((unsigned char)*p))
			p++;
		val = p;
		vlen = (size_t)(end - val);
		while (vlen > 0 && isspace((unsigned char)val[vlen - 1]))
			vlen--;
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val++;
			vlen -= 2;
		}
		if (add_item(ld, name, nlen, val, vlen, lineno) < 0) {
			nk_logindefs_free(ld);
			return nk_syserr(e, ENOMEM, "cannot read %s", path);
		}
next:
		p = eol ? eol + 1 : end;
	}
	return 0;
}

int nk_logindefs_load_at(struct nk_logindefs *ld, int dfd, const char *name, const char *path,
			 unsigned flags, struct nk_err *e)
{
	NK_AUTOFREE char *buf = NULL;
	size_t len;
	int r;

	memset(ld, 0, sizeof *ld);
	/* Parsed as a string: a NUL byte ends it, as it ends shadow's fgets(). */
	r = nk_cfg_read_at(dfd, name, path, flags, NK_CFG_MAX_SMALL, &buf, &len, NULL, e);
	if (r == -ENOENT) {
		nk_err_clear(e);
		ld->path = strdup(path);
		return ld->path ? 0 : nk_syserr(e, ENOMEM, "cannot read %s", path);
	}
	if (r < 0)
		return r;
	return nk_logindefs_parse(ld, path, buf, e);
}

int nk_logindefs_load(struct nk_logindefs *ld, const char *path, struct nk_err *e)
{
	NK_AUTOFREE char *name = NULL;
	NK_AUTOCLOSE int dfd = -1;

	memset(ld, 0, sizeof *ld);
	if (nk_cfg_open_parent(path, O_PATH, &dfd, &name, e) < 0)
		return -e->code;
	if (dfd < 0) {
		ld->path = strdup(path);
		return ld->path ? 0 : nk_syserr(e, ENOMEM, "cannot read %s", path);
	}
	return nk_logindefs_load_at(ld, dfd, name, path, NK_CFG_FOLLOW, e);
}

const char *nk_logindefs_get(const struct nk_logindefs *ld, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < ld->n; i++)
		if (strcmp(ld->items[i].name, name) == 0)
			v = ld->items[i].value;
	return v;
}

int nk_logindefs_u32(const struct nk_logindefs *ld, const char *name, uint32_t def,
		     uint32_t *out, struct nk_err *e)
{
	const struct nk_ld_item *it = NULL;
	uint32_t v;
	int r;

	for (size_t i = 0; i < ld->n; i++)
		if (strcmp(ld->items[i].name, name) == 0)
			it = &ld->items[i];
	if (!it) {
		*out = def;
		return 0;
	}
	r = nk_parse_u32(it->value, UINT32_MAX, &v);
	if (r < 0)
		return nk_errf(e, EINVAL, "invalid %s '%s' in %s line %u (use a decimal number)",
			       name, it->value, ld->path, it->lineno);
	*out = v;
	return 0;
}

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include "fields.h"
#include "num.h"

int nk_field_id(const char *v, void *dst)
{
	return nk_parse_id(v, dst) < 0 ? -EINVAL : 0;
}

int nk_field_count(const char *v, void *dst)
{
	uint64_t x;

	if (nk_parse_u64(v, UINT32_MAX, &x) < 0 || x == 0)
		return -EINVAL;
	*(uint32_t *)dst = (uint32_t)x;
	return 0;
}

int nk_field_u64(const char *v, void *dst)
{
	return nk_parse_u64(v, UINT64_MAX, dst) < 0 ? -EINVAL : 0;
}

int nk_field_i64(const char *v, void *dst)
{
	uint64_t x;

	if (nk_parse_u64(v, INT64_MAX, &x) < 0)
		return -EINVAL;
	*(int64_t *)dst = (int64_t)x;
	return 0;
}

int nk_field_pid(const char *v, void *dst)
{
	return nk_parse_pid(v, dst) < 0 ? -EINVAL : 0;
}

int nk_field_pid32(const char *v, void *dst)
{
	pid_t p;

	if (nk_parse_pid(v, &p) < 0)
		return -EINVAL;
	*(uint32_t *)dst = (uint32_t)p;
	return 0;
}

int nk_field_set(const struct nk_field *t, size_t n, void *rec, const char *key, const char *val,
		 unsigned *seen)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].key, key) != 0)
			continue;
		if (t[i].parse(val, (char *)rec + t[i].off) < 0)
			return -EINVAL;
		*seen |= t[i].flag;
		return 0;
	}
	return 1;
}

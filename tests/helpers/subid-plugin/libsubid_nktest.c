/* libsubid_nktest.so - a libsubid NSS module for the tests: what SSSD or
 * FreeIPA would be. With "subid: nktest" in /etc/nsswitch.conf, shadow's
 * libsubid (4.13: lib/nss.c) dlopen()s libsubid_nktest.so and calls these.
 * Every user owns uids and gids 500000+1000*(uid%100), count 1000. */
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <shadow/subid.h>

enum subid_status shadow_subid_has_any_range(const char *owner, enum subid_type t, bool *result);
enum subid_status shadow_subid_has_range(const char *owner, unsigned long start,
					 unsigned long count, enum subid_type t, bool *result);
enum subid_status shadow_subid_find_subid_owners(unsigned long id, enum subid_type t,
						 uid_t **uids, int *count);
enum subid_status shadow_subid_list_owner_ranges(const char *owner, enum subid_type t,
						 struct subid_range **ranges, int *count);
void shadow_subid_free(void *p);

static unsigned long base(const char *owner, bool *ok)
{
	struct passwd *pw = getpwnam(owner);

	*ok = pw != NULL;
	return pw ? 500000UL + 1000UL * (pw->pw_uid % 100) : 0;
}

enum subid_status shadow_subid_has_any_range(const char *owner, enum subid_type t, bool *result)
{
	(void)t;
	base(owner, result);
	return SUBID_STATUS_SUCCESS;
}

enum subid_status shadow_subid_has_range(const char *owner, unsigned long start,
					 unsigned long count, enum subid_type t, bool *result)
{
	bool ok;
	unsigned long b = base(owner, &ok);

	(void)t;
	*result = ok && start >= b && start + count <= b + 1000;
	return SUBID_STATUS_SUCCESS;
}

enum subid_status shadow_subid_find_subid_owners(unsigned long id, enum subid_type t,
						 uid_t **uids, int *count)
{
	(void)id;
	(void)t;
	*uids = NULL;
	*count = 0;
	return SUBID_STATUS_SUCCESS;
}

enum subid_status shadow_subid_list_owner_ranges(const char *owner, enum subid_type t,
						 struct subid_range **ranges, int *count)
{
	bool ok;
	unsigned long b = base(owner, &ok);

	(void)t;
	*count = 0;
	*ranges = NULL;
	if (!ok)
		return SUBID_STATUS_UNKNOWN_USER;
	*ranges = malloc(sizeof **ranges);
	if (!*ranges)
		return SUBID_STATUS_ERROR;
	(*ranges)[0].start = b;
	(*ranges)[0].count = 1000;
	*count = 1;
	return SUBID_STATUS_SUCCESS;
}

void shadow_subid_free(void *p)
{
	free(p);
}

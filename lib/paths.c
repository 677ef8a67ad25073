#include <stdlib.h>

#include "paths.h"

const char *nk_sysconfdir(void)
{
	const char *d = getenv("NSKIT_SYSCONFDIR");

	return d && d[0] == '/' ? d : "/etc";
}

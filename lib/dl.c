#include <dlfcn.h>
#include <errno.h>
#include "dl.h"

int nk_dl_load(const char *soname, const char *package, const struct nk_dl_sym *syms, size_t n,
	       struct nk_err *e)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return nk_errf(e, ENOENT, "cannot load %s (package %s): %s", soname, package, dlerror());
	for (size_t i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			dlclose(h);
			return nk_errf(e, ENOENT, "%s has no %s (package %s too old?)", soname, syms[i].name,
				       package);
		}
	}
	return 0;
}

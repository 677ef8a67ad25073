/* dl.h - loading a shared library on first use
 *
 * nskit dlopen()s the libraries that only some runs need: linking them
 * would make every run pay for loading them. This loads libcap-ng
 * (lib/caps.c) and libsmartcols in nsenter-user; libsubid, needed only for
 * a central "subid:" source, is loaded by lib/subid.c itself (it tries two
 * sonames and says which source wanted it), and no tool links it.
 * debian/control names all three, since the package's automatic
 * dependencies cannot see them.
 */
#ifndef NSKIT_DL_H
#define NSKIT_DL_H

#include <stddef.h>
#include "err.h"

/* One function to look up: NAME, stored through SLOT, which points at a
 * function pointer of the right type (POSIX's *(void **)&fp idiom). */
struct nk_dl_sym {
	const char *name;
	void **slot;
};

/* dlopen(SONAME) and fill every slot; PACKAGE names what to install in
 * the message. On error nothing is kept loaded and no slot is trusted. */
int nk_dl_load(const char *soname, const char *package, const struct nk_dl_sym *syms, size_t n,
	       struct nk_err *e);

#endif

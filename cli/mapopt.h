/* mapopt.h - the map options idmap-apply and nsenter-user share
 *
 * --auto, --map-root, --keep-id, uid/gid extents, a map file, --isolate
 * and --setgroups: parsing them, refusing two map choices at once, and
 * after the options the maps they chose, planned and checked before the
 * kernel is touched. Front-end helpers, as those of tool.h: bad input
 * prints its one-line message and exits 1. The tools spell some options
 * differently (--uid / --uid-map, --from / --map-file); the messages use
 * each tool's own spelling.
 */
#ifndef NSKIT_MAPOPT_H
#define NSKIT_MAPOPT_H

#include <stdint.h>
#include <sys/types.h>
#include "mapwrite.h"
#include "idmap.h"

enum nk_mapmode {
	NK_MAPMODE_NONE, NK_MAPMODE_AUTO, NK_MAPMODE_ROOT, NK_MAPMODE_KEEPID, NK_MAPMODE_EXPLICIT,
	NK_MAPMODE_FROM, NK_MAPMODE_NOMAP, NK_MAPMODE_ISOLATE
};

struct nk_mapopt_names {
	const char *uid, *gid;   /* the uid and gid extent options */
	const char *from;        /* the map file option */
	const char *nomap;       /* the option for no map, or NULL */
};

/* The map options' codes (getopt_long's val), one set for every tool:
 * the short options are their letters, the long-only ones lie above the
 * tools' own codes (which start at 256). */
enum {
	NK_MAPOPT_AUTO = 'a', NK_MAPOPT_ROOT = 'r', NK_MAPOPT_KEEPID = 'k',
	NK_MAPOPT_UID = 'u', NK_MAPOPT_GID = 'g', NK_MAPOPT_MAP = 'm',
	NK_MAPOPT_FROM = 0x1000, NK_MAPOPT_NOMAP, NK_MAPOPT_ISOLATE, NK_MAPOPT_SETGROUPS
};

/* The entries of a getopt_long table for the map options every tool
 * spells alike, with the tool's names of the uid and gid extent options
 * (without "--"). The map file, --no-map, --isolate and --setgroups a tool
 * lists itself, with the codes above, where its table has them. */
#define NK_MAPOPTS_LONGOPTS(uid, gid) \
	{ "auto", no_argument, NULL, NK_MAPOPT_AUTO }, \
	{ "map-root", no_argument, NULL, NK_MAPOPT_ROOT }, \
	{ "keep-id", no_argument, NULL, NK_MAPOPT_KEEPID }, \
	{ uid, required_argument, NULL, NK_MAPOPT_UID }, \
	{ gid, required_argument, NULL, NK_MAPOPT_GID }, \
	{ "map", required_argument, NULL, NK_MAPOPT_MAP }

struct nk_mapopts {
	const struct nk_mapopt_names *names;
	enum nk_mapmode mode;
	struct nk_maps maps;     /* the extents given; later the maps chosen */
	const char *from;        /* NK_MAPMODE_FROM: the map file */
	uint32_t slice_size;     /* NK_MAPMODE_ISOLATE */
	enum nk_setgroups sg;
};

void nk_mapopts_init(struct nk_mapopts *o, const struct nk_mapopt_names *names);

/* The getopt_long result C with its ARG, when C is a map option (a code
 * above): parsed into O, and 1; 0 when C is not one. Bad input prints its
 * message and exits 1. */
int nk_mapopts_option_or_err(struct nk_mapopts *o, int c, const char *arg);

/* Choose how the maps are made; a second, different choice is refused. */
void nk_mapopts_mode_or_err(struct nk_mapopts *o, enum nk_mapmode want);
/* The message for that refusal (ISOLATE: one of the two is --isolate). */
void nk_mapopts_conflict(const struct nk_mapopt_names *n, int isolate, char *buf, size_t len);

/* One extent option: WHICH 'u', 'g' or 'b' (both), ARG INNER:OUTER:COUNT. */
void nk_mapopts_extent_or_err(struct nk_mapopts *o, char which, const char *arg);
void nk_mapopts_from_or_err(struct nk_mapopts *o, const char *path);
/* --isolate[=SIZE] */
void nk_mapopts_isolate_or_err(struct nk_mapopts *o, const char *size);
/* --setgroups allow|deny */
void nk_mapopts_setgroups_or_err(struct nk_mapopts *o, const char *arg);

/* After the options (and, for --isolate, after the caller has filled the
 * maps with its slice): read the map file or build the maps from USER's
 * subordinate ranges, set setgroups "deny" for --map-root (as unshare -r:
 * no helper needed), refuse an empty map, plan the writes for this
 * process as the writer and check every outside range USER may map.
 * Returns 0, or -errno with E filled; the _or_err form prints it and
 * exits 1. */
int nk_mapopts_finish(struct nk_mapopts *o, const char *user, uid_t uid, gid_t gid,
		      struct nk_plan *plan, struct nk_err *e);
void nk_mapopts_finish_or_err(struct nk_mapopts *o, const char *user, uid_t uid, gid_t gid,
			      struct nk_plan *plan);

#endif

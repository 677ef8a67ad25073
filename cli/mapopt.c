#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "mapopt.h"
#include "num.h"
#include "slice.h"
#include "subid.h"
#include "tool.h"

void nk_mapopts_init(struct nk_mapopts *o, const struct nk_mapopt_names *names)
{
	memset(o, 0, sizeof *o);
	o->names = names;
	nk_map_init(&o->maps.map[NK_UID]);
	nk_map_init(&o->maps.map[NK_GID]);
	o->slice_size = NK_SLICE_DEFAULT;
	o->sg = NK_SETGROUPS_DEFAULT;
}

void nk_mapopts_conflict(const struct nk_mapopt_names *n, int isolate, char *buf, size_t len)
{
	/* "--auto, --map-root, --keep-id, U/G/--map, FROM[, NOMAP]", the last
	 * joined with "or" (after "--isolate makes its own maps: no") or "and". */
	char last[64], rest[256];

	if (n->nomap) {
		snprintf(rest, sizeof rest, "--auto, --map-root, --keep-id, %s/%s/--map, %s", n->uid, n->gid, n->from);
		snprintf(last, sizeof last, "%s", n->nomap);
	} else {
		snprintf(rest, sizeof rest, "--auto, --map-root, --keep-id, %s/%s/--map", n->uid, n->gid);
		snprintf(last, sizeof last, "%s", n->from);
	}
	if (isolate)
		snprintf(buf, len, "--isolate makes its own maps: no %s or %s", rest, last);
	else
		snprintf(buf, len, "%s and %s are mutually exclusive", rest, last);
}

void nk_mapopts_mode_or_err(struct nk_mapopts *o, enum nk_mapmode want)
{
	if (o->mode != NK_MAPMODE_NONE && o->mode != want) {
		char msg[512];

		nk_mapopts_conflict(o->names, o->mode == NK_MAPMODE_ISOLATE || want == NK_MAPMODE_ISOLATE,
				    msg, sizeof msg);
		nk_usage_errorx("%s", msg);
	}
	o->mode = want;
}

void nk_mapopts_extent_or_err(struct nk_mapopts *o, char which, const char *arg)
{
	struct nk_err e;

	nk_mapopts_mode_or_err(o, NK_MAPMODE_EXPLICIT);
	if (nk_maps_add_spec(&o->maps, which, arg, &e) < 0)
		nk_die_err(1, &e);
}

void nk_mapopts_from_or_err(struct nk_mapopts *o, const char *path)
{
	nk_mapopts_mode_or_err(o, NK_MAPMODE_FROM);
	o->from = path;
}

void nk_mapopts_isolate_or_err(struct nk_mapopts *o, const char *size)
{
	struct nk_err e;

	nk_mapopts_mode_or_err(o, NK_MAPMODE_ISOLATE);
	if (size && nk_parse_u32_e(size, UINT32_MAX, &o->slice_size, "--isolate size", &e) < 0)
		nk_die_err(1, &e);
	if (o->slice_size == 0)
		nk_die(1, "invalid --isolate size '0': a slice needs at least 1 id");
}

void nk_mapopts_setgroups_or_err(struct nk_mapopts *o, const char *arg)
{
	if (strcmp(arg, "allow") == 0)
		o->sg = NK_SETGROUPS_ALLOW;
	else if (strcmp(arg, "deny") == 0)
		o->sg = NK_SETGROUPS_DENY;
	else
		nk_usage_errorx("invalid --setgroups '%s': use allow or deny", arg);
}

void nk_mapopts_finish_or_err(struct nk_mapopts *o, const char *user, uid_t uid, gid_t gid,
		       struct nk_plan *plan)
{
	struct nk_maps *m = &o->maps;
	struct nk_err e;

	if (o->mode == NK_MAPMODE_FROM) {
		if (nk_mapstream_read(o->from, m, &e) < 0)
			nk_die_err(1, &e);
	} else if (o->mode == NK_MAPMODE_AUTO || o->mode == NK_MAPMODE_ROOT || o->mode == NK_MAPMODE_KEEPID) {
		if (nk_maps_build(o->mode == NK_MAPMODE_ROOT ? NK_MAPS_ROOT :
				  o->mode == NK_MAPMODE_KEEPID ? NK_MAPS_KEEPID : NK_MAPS_AUTO,
				  user, uid, gid, ", or use --map-root", m, &e) < 0)
			nk_die_err(1, &e);
		if (o->mode == NK_MAPMODE_ROOT && o->sg == NK_SETGROUPS_DEFAULT)
			o->sg = NK_SETGROUPS_DENY;     /* as unshare -r does: no helper needed */
	}
	if (m->map[NK_UID].n == 0 || m->map[NK_GID].n == 0) {
		const char *t = m->map[NK_UID].n == 0 ? "uid" : "gid";

		if (o->mode == NK_MAPMODE_FROM)
			nk_die(1, "the %s map is empty (give '%c' or 'b' lines)", t, *t);
		nk_die(1, "the %s map is empty (give %s or --map)", t,
		       m->map[NK_UID].n == 0 ? o->names->uid : o->names->gid);
	}
	if (nk_plan_write(m, o->sg, plan, &e) < 0)
		nk_die_err(1, &e);
	if (nk_maps_check_allowed(m, plan, user, uid, gid, &e) < 0)
		nk_die_err(1, &e);
}

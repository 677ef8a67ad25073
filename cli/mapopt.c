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

int nk_mapopts_option_or_err(struct nk_mapopts *o, int c, const char *arg)
{
	/* The options that only choose how the maps are made. */
	static const struct { int c; enum nk_mapmode mode; } modes[] = {
		{ NK_MAPOPT_AUTO, NK_MAPMODE_AUTO }, { NK_MAPOPT_ROOT, NK_MAPMODE_ROOT },
		{ NK_MAPOPT_KEEPID, NK_MAPMODE_KEEPID }, { NK_MAPOPT_NOMAP, NK_MAPMODE_NOMAP },
	};

	for (size_t k = 0; k < NK_ARRAY_SIZE(modes); k++)
		if (c == modes[k].c) {
			nk_mapopts_mode_or_err(o, modes[k].mode);
			return 1;
		}
	if (c == NK_MAPOPT_UID || c == NK_MAPOPT_GID || c == NK_MAPOPT_MAP)
		nk_mapopts_extent_or_err(o, c == NK_MAPOPT_MAP ? 'b' : (char)c, arg);
	else if (c == NK_MAPOPT_FROM)
		nk_mapopts_from_or_err(o, arg);
	else if (c == NK_MAPOPT_ISOLATE)
		nk_mapopts_isolate_or_err(o, arg);
	else if (c == NK_MAPOPT_SETGROUPS)
		nk_mapopts_setgroups_or_err(o, arg);
	else
		return 0;
	return 1;
}

/* The kind of map nk_maps_build makes for MODE (AUTO, ROOT or KEEPID). */
static enum nk_mapkind build_kind(enum nk_mapmode mode)
{
	switch (mode) {
	case NK_MAPMODE_ROOT:
		return NK_MAPS_ROOT;
	case NK_MAPMODE_KEEPID:
		return NK_MAPS_KEEPID;
	default:
		return NK_MAPS_AUTO;
	}
}

int nk_mapopts_finish(struct nk_mapopts *o, const char *user, uid_t uid, gid_t gid,
		      struct nk_plan *plan, struct nk_err *e)
{
	static const char *const letter[2] = { [NK_UID] = "u", [NK_GID] = "g" };
	const char *opt[2] = { [NK_UID] = o->names->uid, [NK_GID] = o->names->gid };
	struct nk_maps *m = &o->maps;

	if (o->mode == NK_MAPMODE_FROM) {
		if (nk_mapstream_read(o->from, m, e) < 0)
			return -e->code;
	} else if (o->mode == NK_MAPMODE_AUTO || o->mode == NK_MAPMODE_ROOT || o->mode == NK_MAPMODE_KEEPID) {
		if (nk_maps_build(build_kind(o->mode), user, uid, gid, ", or use --map-root", m, e) < 0)
			return -e->code;
		if (o->mode == NK_MAPMODE_ROOT && o->sg == NK_SETGROUPS_DEFAULT)
			o->sg = NK_SETGROUPS_DENY;     /* as unshare -r does: no helper needed */
	}
	for (enum nk_idtype t = NK_UID; t <= NK_GID; t++) {
		if (m->map[t].n > 0)
			continue;
		if (o->mode == NK_MAPMODE_FROM)
			return nk_errf(e, EINVAL, "the %s map is empty (give '%s' or 'b' lines)",
				       nk_idtype_name(t), letter[t]);
		return nk_errf(e, EINVAL, "the %s map is empty (give %s or --map)",
			       nk_idtype_name(t), opt[t]);
	}
	if (nk_plan_write(m, o->sg, plan, e) < 0)
		return -e->code;
	return nk_maps_check_allowed(m, plan, user, uid, gid, e);
}

void nk_mapopts_finish_or_err(struct nk_mapopts *o, const char *user, uid_t uid, gid_t gid,
			      struct nk_plan *plan)
{
	struct nk_err e;

	if (nk_mapopts_finish(o, user, uid, gid, plan, &e) < 0)
		nk_die_err(1, &e);
}

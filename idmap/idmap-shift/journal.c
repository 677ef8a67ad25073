#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "journal.h"
#include "num.h"
#include "walk.h"

int ish_ident_of(int fd, int handle, struct ish_ident *id)
{
	struct stat st;
	int r;

	memset(id, 0, sizeof *id);
	if ((r = nk_fd_stat(fd, &st, &id->btime, &id->has_btime, NULL)) < 0)
		return r;
	if (handle) {
		union {
			struct file_handle fh;
			unsigned char b[sizeof(struct file_handle) + ISH_HANDLE_MAX];
		} u;
		int mnt;

		u.fh.handle_bytes = ISH_HANDLE_MAX;
		if (name_to_handle_at(fd, "", &u.fh, &mnt, AT_EMPTY_PATH) == 0 && u.fh.handle_bytes <= ISH_HANDLE_MAX) {
			id->handle_type = u.fh.handle_type;
			id->handle_len = u.fh.handle_bytes;
			memcpy(id->handle, u.fh.f_handle, u.fh.handle_bytes);
		}
	}
	return 0;
}

int ish_ident_match(const struct ish_ident *a, const struct ish_ident *b)
{
	int common = 0;

	if (a->has_btime && b->has_btime) {
		if (a->btime.tv_sec != b->btime.tv_sec || a->btime.tv_nsec != b->btime.tv_nsec)
			return 0;
		common = 1;
	}
	if (a->handle_len && b->handle_len) {
		if (a->handle_type != b->handle_type || a->handle_len != b->handle_len ||
		    memcmp(a->handle, b->handle, a->handle_len) != 0)
			return 0;
		common = 1;
	}
	return common;
}

int ish_tree_of(int fd, struct ish_tree *t)
{
	struct stat st;
	struct statfs sfs;
	uint32_t fsid[2];
	int r;

	memset(t, 0, sizeof *t);
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0)
		return -errno;
	if ((r = ish_ident_of(fd, 1, &t->id)) < 0)
		return r;
	memcpy(fsid, &sfs.f_fsid, sizeof fsid);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->fsid = (uint64_t)fsid[0] << 32 | fsid[1];
	return 0;
}

int ish_tree_match(const struct ish_tree *a, const struct ish_tree *b)
{
	const struct ish_ident *x = &a->id, *y = &b->id;

	if (a->dev != b->dev || a->ino != b->ino || a->fsid != b->fsid)
		return 0;
	/* Where the file system keeps neither a birth time nor file handles,
	 * device, inode and file system id are all there is. */
	if (!(x->has_btime && y->has_btime) && !(x->handle_len && y->handle_len))
		return 1;
	return ish_ident_match(x, y);
}

/* The state directory. */

void ish_state_dir_default(int host_root, char *buf, size_t len)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	/* Root's state never comes from the environment: su and sudo -E keep
	 * another user's HOME and XDG_STATE_HOME. */
	if (host_root)
		snprintf(buf, len, "/var/lib/nskit/idmap-shift");
	else if (x && *x == '/')
		snprintf(buf, len, "%s/nskit/idmap-shift", x);
	else if (home && *home == '/')
		snprintf(buf, len, "%s/.local/state/nskit/idmap-shift", home);
	else
		snprintf(buf, len, "/var/lib/nskit/idmap-shift");
}

static int mkdir_p(const char *dir, struct nk_err *e)
{
	char p[4096];

	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return nk_errf(e, ENAMETOOLONG, "the state directory '%s' is too long a path", dir);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0700);
			*s = '/';
		}
	if (mkdir(p, 0700) < 0 && errno != EEXIST) {
		nk_syserr(e, errno, "cannot create the state directory '%s'", dir);
		return nk_err_hint(e, "give --state-dir");
	}
	return 0;
}

int ish_state_dir_open(const char *dir, int create, int *out, struct nk_err *e)
{
	struct stat st;
	int fd;

	if (create && mkdir_p(dir, e) < 0)
		return -e->code;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		nk_syserr(e, errno, "cannot open the state directory '%s'", dir);
		return nk_err_hint(e, "give --state-dir");
	}
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return nk_syserr(e, err, "cannot stat the state directory '%s'", dir);
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		return nk_errf(e, EPERM, "the state directory '%s' belongs to uid %u, not to you (give --state-dir a directory of your own)",
			       dir, (unsigned)st.st_uid);
	}
	if (st.st_mode & 022) {
		close(fd);
		return nk_errf(e, EPERM, "the state directory '%s' may be written by others (mode %04o): refused (chmod go-w it, or give --state-dir)",
			       dir, (unsigned)(st.st_mode & 07777));
	}
	*out = fd;
	return 0;
}

int ish_journal_open(int statefd, const char *statedir, const char *name, FILE **out, struct nk_err *e)
{
	struct stat st;
	FILE *f;
	int fd = openat(statefd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return nk_errf(e, EPERM, "the journal '%s/%s' is a symlink: refused (remove it)", statedir, name);
	if (fd < 0)
		return nk_syserr(e, errno, "cannot read the journal '%s/%s'", statedir, name);
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		return nk_syserr(e, err, "cannot read the journal '%s/%s'", statedir, name);
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return nk_errf(e, EPERM, "the journal '%s/%s' is not a regular file: refused (remove it)",
				       statedir, name);
		if (st.st_uid != geteuid())
			return nk_errf(e, EPERM, "the journal '%s/%s' belongs to uid %u, not to you: refused (remove it)",
				       statedir, name, (unsigned)st.st_uid);
		return nk_errf(e, EPERM, "the journal '%s/%s' may be written by others (mode %04o): refused (remove it)",
			       statedir, name, (unsigned)(st.st_mode & 07777));
	}
	if (!(f = fdopen(fd, "re"))) {
		close(fd);
		return nk_errf(e, ENOMEM, "out of memory");
	}
	*out = f;
	return 0;
}

/* Tokens of a line: split at single spaces, none empty. */
#define MAX_TOKENS 16
static int tokens(char *s, char *tok[], int max)
{
	int n = 0;

	for (;;) {
		char *sp = strchr(s, ' ');

		if (n == max || *s == '\0' || *s == ' ')
			return -1;
		tok[n++] = s;
		if (!sp)
			return n;
		*sp = '\0';
		s = sp + 1;
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "-" (-1) or lower-case hex of at most MAX bytes: their count, or -2. */
static ssize_t unhex(const char *s, unsigned char *p, size_t max)
{
	size_t n = strlen(s);

	if (strcmp(s, "-") == 0)
		return -1;
	if (n == 0 || n % 2 || n / 2 > max)
		return -2;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -2;
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	return (ssize_t)(n / 2);
}

static char *hex(char *out, const unsigned char *p, ssize_t n)
{
	static const char d[] = "0123456789abcdef";

	if (n < 0)
		return strcpy(out, "-") + 1;
	for (ssize_t i = 0; i < n; i++) {
		*out++ = d[p[i] >> 4];
		*out++ = d[p[i] & 15];
	}
	*out = '\0';
	return out;
}

static int parse_mode(const char *s, mode_t *m)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 5)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -1;
		v = v * 8 + (unsigned)(*s - '0');
	}
	if (v > 07777)
		return -1;
	*m = v;
	return 0;
}

static int parse_bool(const char *s, int *b)
{
	if (strcmp(s, "0") && strcmp(s, "1"))
		return -1;
	*b = *s == '1';
	return 0;
}

/* "SEC.NSEC" (nine digits) or "-". */
static int parse_btime(const char *s, struct ish_ident *id)
{
	char sec[32];
	const char *dot = strchr(s, '.');
	uint64_t a, b;

	id->has_btime = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (!dot || dot - s >= (long)sizeof sec || strlen(dot + 1) != 9)
		return -1;
	memcpy(sec, s, (size_t)(dot - s));
	sec[dot - s] = '\0';
	if (nk_parse_u64(sec, INT64_MAX, &a) < 0 || nk_parse_u64(dot + 1, 999999999, &b) < 0)
		return -1;
	id->has_btime = 1;
	id->btime = (struct timespec){ (time_t)a, (long)b };
	return 0;
}

/* "TYPE:HEX" or "-". */
static int parse_handle(const char *s, struct ish_ident *id)
{
	char type[16];
	const char *colon = strchr(s, ':');
	uint32_t t;
	ssize_t n;

	id->handle_len = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (!colon || colon - s >= (long)sizeof type)
		return -1;
	memcpy(type, s, (size_t)(colon - s));
	type[colon - s] = '\0';
	if (nk_parse_u32(type, INT32_MAX, &t) < 0 || (n = unhex(colon + 1, id->handle, ISH_HANDLE_MAX)) < 1)
		return -1;
	id->handle_type = (int)t;
	id->handle_len = (size_t)n;
	return 0;
}

static char *format_ident(char *o, const struct ish_ident *id)
{
	if (id->has_btime)
		o += sprintf(o, " %lld.%09ld", (long long)id->btime.tv_sec, id->btime.tv_nsec);
	else
		o += sprintf(o, " -");
	if (!id->handle_len)
		return o + sprintf(o, " -");
	o += sprintf(o, " %d:", id->handle_type);
	return hex(o, id->handle, (ssize_t)id->handle_len);
}

int ish_record_parse(const char *line, struct ish_record *r)
{
	char buf[ISH_LINE_MAX], *t[MAX_TOKENS];
	uint64_t ino;
	int n;

	if (strlen(line) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, line);
	memset(r, 0, offsetof(struct ish_record, acl));
	r->acl_len[0] = r->acl_len[1] = r->cap_len = -1;
	if ((n = tokens(buf, t, MAX_TOKENS)) < 0 || strlen(t[0]) != 1)
		return -EINVAL;
	r->kind = t[0][0];
	if ((r->kind == 'f' && n != 3) || (r->kind == 'p' && n != 16) || (r->kind != 'f' && r->kind != 'p'))
		return -EINVAL;
	if (nk_parse_u64(t[1], UINT64_MAX, &ino) < 0 || parse_btime(t[2], &r->id) < 0)
		return -EINVAL;
	r->ino = ino;
	if (r->kind == 'f')
		return 0;
	if (parse_handle(t[3], &r->id) < 0 || nk_parse_id(t[4], &r->ouid) < 0 || nk_parse_id(t[5], &r->ogid) < 0 ||
	    parse_mode(t[6], &r->omode) < 0 || nk_parse_id(t[7], &r->tuid) < 0 || nk_parse_id(t[8], &r->tgid) < 0 ||
	    parse_mode(t[9], &r->tmode) < 0 || parse_bool(t[10], &r->chown) < 0 || parse_bool(t[11], &r->chmod) < 0 ||
	    (r->acl_len[0] = unhex(t[12], r->acl[0], ISH_ACL_MAX)) < -1 ||
	    (r->acl_len[1] = unhex(t[13], r->acl[1], ISH_ACL_MAX)) < -1 ||
	    (r->cap_len = unhex(t[14], r->cap, ISH_CAP_MAX)) < -1)
		return -EINVAL;
	/* The 16th token ends the line: nothing after the capability. */
	return strcmp(t[15], "end") == 0 ? 0 : -EINVAL;
}

void ish_record_format(const struct ish_record *r, char *buf, size_t len)
{
	char *o = buf;

	if (len < ISH_LINE_MAX) {
		*buf = '\0';
		return;
	}
	o += sprintf(o, "%c %llu", r->kind, (unsigned long long)r->ino);
	if (r->kind == 'f') {
		if (r->id.has_btime)
			sprintf(o, " %lld.%09ld\n", (long long)r->id.btime.tv_sec, r->id.btime.tv_nsec);
		else
			strcpy(o, " -\n");
		return;
	}
	o = format_ident(o, &r->id);
	o += sprintf(o, " %u %u %o %u %u %o %d %d ", r->ouid, r->ogid, (unsigned)r->omode, r->tuid, r->tgid,
		     (unsigned)r->tmode, r->chown, r->chmod);
	o = hex(o, r->acl[0], r->acl_len[0]);
	*o++ = ' ';
	o = hex(o, r->acl[1], r->acl_len[1]);
	*o++ = ' ';
	o = hex(o, r->cap, r->cap_len);
	strcpy(o, " end\n");
}

void ish_head_format(const struct ish_head *h, char *buf, size_t len)
{
	char id[2 * ISH_HANDLE_MAX + 64];

	format_ident(id, &h->tree.id);
	snprintf(buf, len, "nskit-idmap-shift journal 2\nmaps %016llx\ntree %llu %llu%s %llx\nstart %llu %llu\n",
		 (unsigned long long)h->fp, (unsigned long long)h->tree.dev, (unsigned long long)h->tree.ino, id,
		 (unsigned long long)h->tree.fsid, (unsigned long long)h->start.tv_sec,
		 (unsigned long long)h->start.tv_nsec);
}

/* One line of F without its newline, into BUF: 0, or -1 at the end (or a
 * line cut short, or too long). */
static int line(FILE *f, char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, (int)len, f))
		return -1;
	n = strlen(buf);
	if (n == 0 || buf[n - 1] != '\n')
		return -1;
	buf[n - 1] = '\0';
	return 0;
}

static int parse_hex64(const char *s, size_t digits, uint64_t *v)
{
	uint64_t x = 0;

	if ((digits && strlen(s) != digits) || !*s || strlen(s) > 16)
		return -1;
	for (; *s; s++) {
		int d = hexval(*s);

		if (d < 0)
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 0;
}

static int parse_head(FILE *f, struct ish_head *h)
{
	char buf[512], *t[MAX_TOKENS];
	uint64_t a, b;

	memset(h, 0, sizeof *h);
	if (line(f, buf, sizeof buf) < 0 || tokens(buf, t, MAX_TOKENS) != 2 || strcmp(t[0], "maps") ||
	    parse_hex64(t[1], 16, &h->fp) < 0)
		return -1;
	if (line(f, buf, sizeof buf) < 0 || tokens(buf, t, MAX_TOKENS) != 6 || strcmp(t[0], "tree") ||
	    nk_parse_u64(t[1], UINT64_MAX, &h->tree.dev) < 0 || nk_parse_u64(t[2], UINT64_MAX, &h->tree.ino) < 0 ||
	    parse_btime(t[3], &h->tree.id) < 0 || parse_handle(t[4], &h->tree.id) < 0 ||
	    parse_hex64(t[5], 0, &h->tree.fsid) < 0)
		return -1;
	if (line(f, buf, sizeof buf) < 0 || tokens(buf, t, MAX_TOKENS) != 3 || strcmp(t[0], "start") ||
	    nk_parse_u64(t[1], INT64_MAX, &a) < 0 || nk_parse_u64(t[2], 999999999, &b) < 0)
		return -1;
	h->start = (struct timespec){ (time_t)a, (long)b };
	return 0;
}

int ish_journal_read_head(FILE *f, const char *jpath, struct ish_head *h, struct nk_err *e)
{
	char buf[64] = "";

	if (line(f, buf, sizeof buf) == 0 && strcmp(buf, "nskit-idmap-shift journal 1") == 0)
		return nk_errf(e, EINVAL, "the journal '%s' is of an older idmap-shift (format 1): finish that shift with it, or remove the journal if the tree is as it was",
			       jpath);
	if (strcmp(buf, "nskit-idmap-shift journal 2") != 0 || parse_head(f, h) < 0)
		return nk_errf(e, EINVAL, "the journal '%s' is not one of idmap-shift's (remove it if the tree is as it was)",
			       jpath);
	return 0;
}

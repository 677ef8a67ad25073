/* subidfile.h - /etc/subuid and /etc/subgid as files: parse, allocate, write
 *
 * The model keeps every line as it was read: lines nskit does not understand
 * (comments, junk) are written back verbatim and where they were, and the
 * file is never reordered. New lines are appended, released lines dropped.
 *
 * Writing follows shadow-utils, so that it is safe next to a running useradd
 * or usermod: the passwd lock (lckpwdf(), or ROOT/etc/.pwd.lock with the
 * same fcntl lock for another root), then the FILE.lock link protocol, then
 * FILE+ written, fsynced and renamed over FILE, the folder fsynced, and the
 * previous version kept as FILE-. Owner and mode are kept. Any failure
 * leaves FILE as it was; nk_sf_write2() replaces two files or neither.
 *
 * Every file is reached from an fd of its folder: nothing below the folder
 * is followed when it is a symbolic link, and every file nskit creates
 * (FILE+, FILE.PID, .pwd.lock) is created with O_EXCL|O_NOFOLLOW. With
 * --root, DIR/etc itself must not be a link either (nk_sf_opendir()).
 *
 * shadow-utils reads the numbers with strtoul(base 0): "0200000" is octal
 * 65536, "0x10" hex, leading blanks and a sign are accepted, and only the
 * first three fields count. Each line also carries shadow's reading
 * (sh_ok, sh_start, sh_count), and the allocator keeps clear of both.
 *
 * This is the one parser of the files: the ranges a user has through the
 * files source (lib/subid.h) are the lines nskit and shadow read alike
 * (nk_sf_line_agreed()). The allocator that works on what is read here is lib/subidalloc.h.
 */
#ifndef NSKIT_SUBIDFILE_H
#define NSKIT_SUBIDFILE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include "err.h"

enum nk_sf_kind {
	NK_SF_RANGE,    /* owner:start:count */
	NK_SF_COMMENT,  /* '#' ... */
	NK_SF_BLANK,
	NK_SF_BAD,      /* anything else; see why */
};

struct nk_sf_line {
	char *text;           /* as read, without the newline; NULL when added */
	char *owner;          /* the first field (may be empty on a bad line) */
	uint64_t start;
	uint64_t count;
	int has_range;        /* fields 2 and 3 are numbers (even on a bad line) */
	enum nk_sf_kind kind;
	const char *why;      /* for NK_SF_BAD */
	unsigned lineno;      /* 1-based as read; 0 when added */
	int removed;
	/* How shadow-utils reads the line (subordinate_parse()): sh_ok when it
	 * accepts it at all; then it grants the owner (the first field, as
	 * owner above) [sh_start, sh_start + sh_count - 1] unless that wraps. */
	int sh_ok;
	uint64_t sh_start, sh_count;
};

struct nk_sf {
	char *path;           /* for messages */
	char *name;           /* the file's name in its folder */
	int dfd;              /* the folder, when have_dfd */
	int have_dfd;
	unsigned cfg_flags;   /* for nk_cfg_read_at(): NK_CFG_FOLLOW for a file
	                       * only read in the real /etc; 0 (never follow) else */
	struct nk_sf_line *lines;
	size_t n, cap;
	int exists;
	int final_newline;    /* the file ended with '\n' (or was empty) */
	int changed;
	struct stat st;
	int locked;           /* FILE.lock is ours */
	int prepared;         /* FILE+ is written (nk_sf_write2 internals) */
	int replaced;         /* FILE was replaced, FILE- is the old one */
};

/* Parse one line (no newline) into L (text and owner are allocated). */
int nk_sf_parse_line(const char *text, struct nk_sf_line *l);
int nk_sf_parse(struct nk_sf *f, const char *path, const char *buf, size_t len,
		struct nk_err *e);
/* Read a number field (LEN bytes at S) as shadow's getulong() does
 * (strtoul base 0, whole field). 0 and *V set when shadow accepts it; HOW
 * (HOWLEN bytes) then says how it differs from a plain decimal number
 * ("octal", "hexadecimal", "leading blank", "plus sign", "minus sign"),
 * or is "" when it is one. -EINVAL when shadow rejects it. */
int nk_sf_shadow_num(const char *s, size_t len, uint64_t *v, char *how, size_t howlen);

/* The folder of /etc/subuid and /etc/subgid: /etc when ROOT is NULL, else
 * ROOT/etc, which must be a folder and not a symbolic link. */
int nk_sf_opendir(const char *root, int *fd, struct nk_err *e);
/* An empty, unread F for the file NAME in the folder DFD (duplicated);
 * PATH is what messages call it. */
int nk_sf_init_at(struct nk_sf *f, int dfd, const char *name, const char *path,
		  struct nk_err *e);
/* (Re)read F's file: a missing file is an empty one (exists = 0); a
 * symbolic link or anything but a regular file is an error. */
int nk_sf_read(struct nk_sf *f, struct nk_err *e);
/* nk_sf_init_at() on PATH's folder and nk_sf_read(); a missing folder is a
 * missing file. */
int nk_sf_load(struct nk_sf *f, const char *path, struct nk_err *e);
void nk_sf_free(struct nk_sf *f);

/* Is L a range that nskit and shadow read alike ("name:decimal:decimal",
 * the numbers plain decimal as shadow's strtoul(base 0) reads them too)?
 * Only such lines give a user ids through the files source. */
int nk_sf_line_agreed(const struct nk_sf_line *l);
/* Does the line belong to the user NAME with uid UID (owner by name or uid)? */
int nk_sf_line_is(const struct nk_sf_line *l, const char *name, uint32_t uid);
/* Make room for EXTRA more lines, so that pointers to lines stay valid
 * while that many are added. */
int nk_sf_reserve(struct nk_sf *f, size_t extra);
/* Append "owner:start:count". */
int nk_sf_add(struct nk_sf *f, const char *owner, uint64_t start, uint64_t count);
/* Mark every range line of the user removed; returns how many. */
size_t nk_sf_remove_user(struct nk_sf *f, const char *name, uint32_t uid);
/* The whole file as it would be written (malloc'd). */
char *nk_sf_render(const struct nk_sf *f, size_t *len);

/* --- writing ------------------------------------------------------------ */

/* System calls the writer makes, replaceable by unit tests to inject failures. */
struct nk_sf_io {
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*fsync)(int fd);
	int (*renameat)(int dfd, const char *from, int dfd2, const char *to);
	int (*linkat)(int dfd, const char *from, int dfd2, const char *to, int flags);
};
extern struct nk_sf_io nk_sf_io;

/* Write F to its file when it changed (nothing is done otherwise). */
int nk_sf_write(struct nk_sf *f, struct nk_err *e);
/* Write A and B (either may be NULL): both FILE+ first, then both renames;
 * when the second rename fails, the first file is put back from its FILE-,
 * so the two files never disagree. */
int nk_sf_write2(struct nk_sf *a, struct nk_sf *b, struct nk_err *e);

/* The passwd lock: lckpwdf() when ROOT is NULL, else an fcntl write lock on
 * .pwd.lock in the folder ETCFD (ROOT/etc), waiting up to 15 s as glibc
 * does. *FD is -1 for lckpwdf. */
int nk_pwlock(const char *root, int etcfd, int *fd, struct nk_err *e);
void nk_pwunlock(int fd);
/* shadow's FILE.lock protocol on F (nk_sf_init_at() done): FILE.PID linked
 * to FILE.lock; a lock left by a dead process is removed. Retries for about
 * TRIES x 100 ms. */
int nk_sf_lock(struct nk_sf *f, int tries, struct nk_err *e);
void nk_sf_unlock(struct nk_sf *f);

#endif

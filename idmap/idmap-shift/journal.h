/* journal.h - idmap-shift's state: where it is kept, whose it is, and the
 * journal of one tree
 *
 * A journal lets a run finish an interrupted shift of the same tree, and
 * nothing else. It names the tree by what tells it from another that took
 * its place: device, inode, birth time, file handle (with its generation)
 * and file system id. Its records name inodes the same way and hold the
 * state they had, so a record is only ever applied to the inode it was
 * written for. Journals are read only from a state directory that belongs
 * to the caller and that no one else may write, and only when they belong
 * to the caller and no one else may write them.
 *
 * Format (text, one item a line):
 *   nskit-idmap-shift journal 2
 *   maps FINGERPRINT                  (16 hex digits)
 *   tree DEV INO BTIME HANDLE FSID    (BTIME SEC.NSEC or -, HANDLE TYPE:HEX or -, FSID hex)
 *   start SEC NSEC
 *   p INO BTIME HANDLE OUID OGID OMODE TUID TGID TMODE CHOWN CHMOD ACL ACL CAP
 *   f INO BTIME
 *   done
 * A "p" record: an inode that takes several changes, its state before
 * (OUID OGID OMODE, octal) and after (the blobs in hex, or -), written
 * before its first change. An "f" record: an inode whose change failed.
 * "done": the shift is complete (kept only where a second run would shift
 * some files twice). A last line without its newline was cut by a kill.
 */
#ifndef ISH_JOURNAL_H
#define ISH_JOURNAL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>
#include "err.h"

#define ISH_HANDLE_MAX 128

/* What tells an inode from another that took its number. */
struct ish_ident {
	int has_btime;
	struct timespec btime;
	int handle_type;
	size_t handle_len;              /* 0: no file handle here */
	unsigned char handle[ISH_HANDLE_MAX];
};

struct ish_tree {
	uint64_t dev, ino, fsid;
	struct ish_ident id;
};

struct ish_head {
	uint64_t fp;
	struct ish_tree tree;
	struct timespec start;
};

/* Max sizes of the blobs a record holds (an ACL xattr, a v3 capability). */
#define ISH_ACL_MAX 4100
#define ISH_CAP_MAX 24

struct ish_record {
	char kind;                      /* 'p' or 'f' */
	uint64_t ino;
	struct ish_ident id;
	uint32_t ouid, ogid, tuid, tgid;
	mode_t omode, tmode;
	int chown, chmod;
	unsigned char acl[2][ISH_ACL_MAX], cap[ISH_CAP_MAX];
	ssize_t acl_len[2], cap_len;    /* -1: nothing to write */
};

/* The identity of the inode behind FD: its birth time (statx) and file
 * handle (name_to_handle_at(2)), those the file system has. HANDLE 0:
 * only the birth time (one syscall less; for every file of a tree). */
int ish_ident_of(int fd, int handle, struct ish_ident *id);
/* A matches B: every part that both have is equal, and they have some part
 * in common (two identities with nothing to compare never match). */
int ish_ident_match(const struct ish_ident *a, const struct ish_ident *b);
/* The tree whose top is FD. */
int ish_tree_of(int fd, struct ish_tree *t);
int ish_tree_match(const struct ish_tree *a, const struct ish_tree *b);

/* Open (creating with CREATE, mode 0700) the state directory DIR: its fd
 * in *FD, once it is found to belong to the caller (euid) and be writable
 * by no one else; else refused by name. */
int ish_state_dir_open(const char *dir, int create, int *fd, struct nk_err *e);
/* The default: as root of the initial user namespace
 * /var/lib/nskit/idmap-shift, whatever the environment says; else
 * $XDG_STATE_HOME/nskit/idmap-shift, ~/.local/state/nskit/idmap-shift,
 * /var/lib/nskit/idmap-shift. */
void ish_state_dir_default(int host_root, char *buf, size_t len);

/* Open the journal NAME in STATEFD (STATEDIR for messages) for reading:
 * 0 with *F NULL when there is none; refused (-EPERM) when it is not a
 * regular file of the caller's that no one else may write. */
int ish_journal_open(int statefd, const char *statedir, const char *name, FILE **f, struct nk_err *e);

/* The header of F (JPATH for messages): 0, or -EINVAL "not one of
 * idmap-shift's". */
int ish_journal_read_head(FILE *f, const char *jpath, struct ish_head *h, struct nk_err *e);
/* One record line (without its newline): 0, or -EINVAL. */
int ish_record_parse(const char *line, struct ish_record *r);
/* The header and a record as lines, into BUF (at least ISH_LINE_MAX). */
#define ISH_LINE_MAX (64 + 2 * (2 * ISH_ACL_MAX + ISH_CAP_MAX + ISH_HANDLE_MAX) + 256)
void ish_head_format(const struct ish_head *h, char *buf, size_t len);
void ish_record_format(const struct ish_record *r, char *buf, size_t len);

#endif

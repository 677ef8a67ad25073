#!/bin/bash
# Root runs idmap-shift over trees a user fills. What the user (alice, no
# privilege) does to the tree, to her state folder and to the links in it
# must never make root change, mount or read anything outside the tree
# (issue 22 part 0; each case is a reproducer of the review):
#   1. --mount: PATH (and DEST) swapped for a symlink after the tool
#      checked it: the mount is of the folder that was checked, or none;
#   2. a journal she wrote (her XDG_STATE_HOME or HOME, which su and
#      sudo -E keep, or a --state-dir of hers): never read by root;
#   3. records of an interrupted run, then the tree (or its files) replaced
#      by others that took their inode numbers: the new files are shifted
#      as never seen, no record is applied to them;
#   4. a hardlink to a file outside the tree: left as it is, and said.
# The moments of the races are held with killat.so (common.sh.inc's held:
# the process waits on a FIFO at its first fork, right after it opened
# PATH), not hoped for.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

mkuser alice || exit 1
au=$(id -u alice) ag=$(id -g alice)
A=$NSKIT_SANDBOX/home/alice

# A folder only root may read, with a secret in it.
secret=$NSKIT_SANDBOX/secret
mkdir -m 0700 "$secret"
echo "root only" > "$secret/key"
chmod 0600 "$secret/key"

# --- 1. --mount: PATH swapped for a symlink after the check -----------------
mkdir -p "$A/w/rootfs" "$NSKIT_SANDBOX/mnt"
echo mine > "$A/w/rootfs/marker"
chown -R alice: "$A/w"
held fork idmap-shift --mount "$NSKIT_SANDBOX/mnt" -m "0:$B:65536" "$A/w/rootfs"
as alice sh -c "mv '$A/w/rootfs' '$A/w/rootfs.real' && ln -s '$secret' '$A/w/rootfs'"
resume
is "$rc|$err" "0|" "--mount, PATH swapped for a symlink to a root-only folder mid-run: the mount is made"
is "$(ls "$NSKIT_SANDBOX/mnt" | paste -sd,)|$(stat -c %u "$NSKIT_SANDBOX/mnt/marker" 2>&1)" "marker|$((B + au))" \
	"... of the folder that was checked (its file, shifted), never of the symlink's target"
run setpriv --reuid="$B" --regid="$B" --clear-groups cat "$NSKIT_SANDBOX/mnt/key"
is "$rc|$(cat "$secret/key")" "1|root only" "... so the subordinate root reads no root-only file through it"
umount "$NSKIT_SANDBOX/mnt"

# DEST swapped for a symlink to a root-only folder: refused, nothing mounted there.
mkdir -p "$NSKIT_SANDBOX/src2" "$A/w/dest"
chown alice: "$A/w/dest"
held fork idmap-shift --mount "$A/w/dest" -m "0:$B:65536" "$NSKIT_SANDBOX/src2"
as alice sh -c "rmdir '$A/w/dest' && ln -s '$secret' '$A/w/dest'"
resume
is "$rc|$err" "1|idmap-shift: cannot mount on '$A/w/dest': a symlink is on the way (give the path without it)" \
	"--mount, DEST swapped for a symlink mid-run: refused in one line"
is "$(findmnt -n -o TARGET "$secret")|$(ls "$secret")" "|key" "... and nothing is mounted over the folder it pointed to"

# PATH a symlink from the start: refused, never followed.
expect_fail 1 "idmap-shift: '$A/w/rootfs' is a symlink (give the directory itself)" \
	"PATH a symlink to a root-only folder: refused, never followed" \
	idmap-shift --state-dir "$NSKIT_SANDBOX/st0" -m "0:$B:65536" "$A/w/rootfs"
is "$(stat -c %u:%g "$secret" "$secret/key" | paste -sd,)" "0:0,0:0" "... the folder and its file untouched"

# --- 2. journals alice wrote ------------------------------------------------
# Her tree, with a program of hers; a journal with a true header (the one a
# killed run of root's leaves, killed at its first chown: nothing changed)
# and a record she wrote: "this program, half way: make it 6755 with
# cap_setuid" (its identity and state as they are, so that only the
# journal's owner can tell it from a real one).
T=$A/tree
mkdir -p "$T/bin"
cp /bin/true "$T/bin/evil"
echo x > "$T/file"
chmod 0755 "$T/bin/evil"
chown -R alice: "$T"
env NSKIT_KILLAT=fchownat LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan:detect_leaks=0" \
	idmap-shift --state-dir "$NSKIT_SANDBOX/gen" -j 1 -m "0:$B:65536" "$T" >/dev/null 2>&1
is "$?|$(stat -c %u "$T/bin/evil")" "137|$au" "a root run killed at its first chown leaves a journal and the tree as it was"
jname=$(ls "$NSKIT_SANDBOX/gen")
cp /bin/true "$NSKIT_SANDBOX/capfile"
setcap cap_setuid+ep "$NSKIT_SANDBOX/capfile"
cap=$(getfattr -n security.capability -e hex --only-values "$NSKIT_SANDBOX/capfile" 2>/dev/null)
[ -n "$cap" ] || cap=$(getfattr -n security.capability -e hex "$NSKIT_SANDBOX/capfile" | sed -n 's/^security.capability=0x//p')
w=$(stat -c %w "$T/bin/evil")
bt="$(stat -c %W "$T/bin/evil").$(sed 's/^[^.]*\.\([0-9]*\).*/\1/' <<<"$w")"
forged="p $(stat -c %i "$T/bin/evil") $bt - $au $ag 755 $au $ag 6755 0 1 - - ${cap#0x} end"
plant() { # DIR: alice's journal in DIR (hers)
	as alice mkdir -p "$1"
	head -n 4 "$NSKIT_SANDBOX/gen/$jname" > "$NSKIT_SANDBOX/forged"
	echo "$forged" >> "$NSKIT_SANDBOX/forged"
	install -m 0600 -o alice -g alice "$NSKIT_SANDBOX/forged" "$1/$jname"
}
plant "$A/.local/state/nskit/idmap-shift"
planted=$(cat "$A/.local/state/nskit/idmap-shift/$jname")
like "$planted" "^nskit-idmap-shift journal 2" "alice's journal, in her ~/.local/state, holds a true header and her record"

# Root with her HOME and XDG_STATE_HOME (su, sudo -E): root's own state,
# /var/lib/nskit/idmap-shift, in an overlay of this file's own over /var/lib.
mkdir -p "$NSKIT_SANDBOX/varlib/up" "$NSKIT_SANDBOX/varlib/work"
if mount -t overlay nskit-varlib -o "lowerdir=/var/lib,upperdir=$NSKIT_SANDBOX/varlib/up,workdir=$NSKIT_SANDBOX/varlib/work" /var/lib; then
	run env HOME="$A" XDG_STATE_HOME="$A/.local/state" idmap-shift --no-progress -m "0:$B:65536" "$T"
	is "$rc|$err" "0|" "root with alice's HOME and XDG_STATE_HOME: a fresh shift, no 'resuming'"
	is "$(stat -c '%a %u' "$T/bin/evil")|$(getcap "$T/bin/evil")" "755 $((B + au))|" \
		"... her program is shifted, not made setuid, no capability"
	is "$(cat "$A/.local/state/nskit/idmap-shift/$jname")" "$planted" "... her journal neither read nor changed"
	is "$(stat -c '%U %a' /var/lib/nskit/idmap-shift)|$(ls -A /var/lib/nskit/idmap-shift)" "root 700|" \
		"... root's state is /var/lib/nskit/idmap-shift (0700, and empty once the shift is complete)"
	umount /var/lib
	run idmap-shift --no-progress --state-dir "$NSKIT_SANDBOX/st1" -r -m "0:$B:65536" "$T"
else
	status_is 1 "an overlay over /var/lib for root's default state directory (this kernel or file system refuses it)"
fi

# Her folder named by --state-dir: refused by name, nothing changed.
sd=$A/.local/state/nskit/idmap-shift
expect_fail 1 "idmap-shift: the state directory '$sd' belongs to uid $au, not to you (give --state-dir a directory of your own)" \
	"--state-dir a folder of alice's: refused by name" idmap-shift --state-dir "$sd" -m "0:$B:65536" "$T"
# Her journal in a folder of root's; the same folder writable by others.
rm -rf "$NSKIT_SANDBOX/gen"
rs=$NSKIT_SANDBOX/rootstate
mkdir -m 0700 "$rs"
install -m 0600 -o alice -g alice "$sd/$jname" "$rs/$jname"
expect_fail 1 "idmap-shift: the journal '$rs/$jname' belongs to uid $au, not to you: refused (remove it)" \
	"a journal of alice's in root's state folder: refused by name" idmap-shift --state-dir "$rs" -m "0:$B:65536" "$T"
chown root:root "$rs/$jname"
chmod 0666 "$rs/$jname"
expect_fail 1 "idmap-shift: the journal '$rs/$jname' may be written by others (mode 0666): refused (remove it)" \
	"a journal others may write: refused" idmap-shift --state-dir "$rs" -m "0:$B:65536" "$T"
rm "$rs/$jname"
ln -s "$sd/$jname" "$rs/$jname"
expect_fail 1 "idmap-shift: the journal '$rs/$jname' is a symlink: refused (remove it)" \
	"a journal that is a symlink (to hers): refused, never followed" idmap-shift --state-dir "$rs" -m "0:$B:65536" "$T"
rm "$rs/$jname"
chmod 0770 "$rs"
expect_fail 1 "idmap-shift: the state directory '$rs' may be written by others (mode 0770): refused (chmod go-w it, or give --state-dir)" \
	"a state folder others may write: refused" idmap-shift --state-dir "$rs" -m "0:$B:65536" "$T"
is "$(stat -c '%a %u' "$T/bin/evil")|$(getcap "$T/bin/evil")" "755 $au|" "after all of it: her program as it was"
# Alice's own runs use her own state, as before.
run as alice nsenter-user idmap-shift --no-progress -m "0:1000:1000" "$T/bin"
is "$rc|$(ls -A "$sd" | grep -vc "^$jname\$")" "0|0" "alice's own run uses her ~/.local/state and leaves nothing there"

# --- 3. records of an interrupted run, then the tree replaced ---------------
# 300 setuid files, a run killed half way (its records written), then the
# tree replaced by plain files that take the same inode numbers.
private_fs "$NSKIT_SANDBOX/fs3"
R=$NSKIT_SANDBOX/fs3/r3
st3=$NSKIT_SANDBOX/st3
mkr() { # DIR MODE OWNER: DIR with 300 files of MODE, all OWNER
	mkdir "$1"
	for i in $(seq 1 300); do echo "$i" > "$1/f$i"; done
	chown -R "$3" "$1"
	chmod "$2" "$1"/f*      # after the chown, which clears setuid bits
}
# same_inos DIR MODE OWNER OLD-INODES: DIR made anew until its top takes
# the old top's number (ext4 gives a freed number back at once).
remake() {
	local i
	for i in $(seq 1 50); do
		rm -rf "$1"
		mkr "$1" "$2" "$3"
		[ "$(stat -c %i "$1")" = "$4" ] && return 0
	done
	return 1
}
mkr "$R" 4755 0:0
ino=$(stat -c %i "$R")
env NSKIT_KILLAT=fchownat NSKIT_KILLAT_AFTER=200 LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan:detect_leaks=0" \
	idmap-shift --state-dir "$st3" -j 1 --no-progress -m "0:$B:65536" "$R" >/dev/null 2>&1
is "$?|$(grep -c '^p ' "$st3"/*.journal | sed 's/^[1-9][0-9]*$/some/')" "137|some" \
	"a shift of 300 setuid files killed half way: its journal holds their records"
remake "$R" 0644 0:0 "$ino"
status_is $? "the tree removed, and 300 plain files unpacked where it was, its top at the same inode number"
run idmap-shift --state-dir "$st3" -j 1 --no-progress -m "0:$B:65536" "$R"
is "$rc|$err" "0|" "the same command: a fresh shift of the new tree (no 'resuming')"
is "$(find "$R" -type f -perm /6000 | wc -l)|$(find "$R" ! -uid "$B" | wc -l)" "0|0" \
	"... no new file became setuid, every one is shifted"

# The same, with the files replaced under the same top folder (the
# journal's tree is this one: each record must match its own inode).
rm -rf "$R" "$st3"
mkr "$R" 4755 0:0
env NSKIT_KILLAT=fchownat NSKIT_KILLAT_AFTER=200 LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan:detect_leaks=0" \
	idmap-shift --state-dir "$st3" -j 1 --no-progress -m "0:$B:65536" "$R" >/dev/null 2>&1
rm -f "$R"/f*
for i in $(seq 1 300); do echo "$i" > "$R/f$i"; done
chown -R 0:0 "$R"
chmod 0644 "$R"/f*
run idmap-shift --state-dir "$st3" -j 1 --no-progress -m "0:$B:65536" "$R"
like "$rc|$err" "^0\|idmap-shift: resuming the interrupted shift of '$R'" "new files in the same top folder: the interrupted shift is resumed"
is "$(find "$R" -type f -perm /6000 | wc -l)|$(find "$R" ! -uid "$B" | wc -l)" "0|0" \
	"... and no record is applied to a file that took a recorded inode number: none setuid, all shifted"

# A killed --reverse: records that would make files setuid root.
rm -rf "$R" "$st3"
mkr "$R" 4755 "$B:$B"
ino=$(stat -c %i "$R")
env NSKIT_KILLAT=fchownat NSKIT_KILLAT_AFTER=200 LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan:detect_leaks=0" \
	idmap-shift --state-dir "$st3" -j 1 --no-progress -r -m "0:$B:65536" "$R" >/dev/null 2>&1
remake "$R" 0644 "$B:$B" "$ino"
status_is $? "a killed --reverse of setuid files, then plain files unpacked at the same inode numbers"
run idmap-shift --state-dir "$st3" -j 1 --no-progress -r -m "0:$B:65536" "$R"
is "$rc|$(find "$R" -type f -perm /6000 | wc -l)|$(find "$R" ! -uid 0 | wc -l)" "0|0|0" \
	"... the same --reverse: every file back to 0, none made setuid root"

# --- 4. a hardlink to a file outside the tree -------------------------------
od=$NSKIT_SANDBOX/outside
mkdir -m 0755 "$od"
echo "root's" > "$od/f"
chmod 0666 "$od/f"
L=$A/links
mkdir "$L"
chown alice: "$L"
as alice ln "$od/f" "$L/link"
as alice sh -c "echo a > '$L/a' && ln '$L/a' '$L/b'"
echo "root's too" > "$od/g"
chmod 0666 "$od/g"
L2=$A/links2
mkdir "$L2"
chown alice: "$L2"
as alice ln "$od/g" "$L2/link"
is "$(stat -c %h "$od/f")" 2 "alice links root's 0666 file into her tree (protected_hardlinks allows it)"
run idmap-shift --state-dir "$NSKIT_SANDBOX/st4" --no-progress -m "0:$B:65536" "$L"
is "$rc|$err" "0|idmap-shift: '$L/link': 1 of its 2 names are outside the tree: left as it is (--outside-links shift shifts it)" \
	"the shift leaves it as it is, and says so"
is "$(stat -c '%u:%g %a' "$od/f")|$(stat -c %u:%g "$L/a")|$(stat -c %u "$L")" "0:0 666|$((B + au)):$((B + ag))|$((B + au))" \
	"... root's file keeps its owner; the tree and its own hardlinks are shifted"
run idmap-shift --state-dir "$NSKIT_SANDBOX/st4" --no-progress --outside-links shift -m "0:$B:65536" "$L2"
is "$rc|$err|$(stat -c %u:%g "$od/g")" "0||$B:$B" "--outside-links shift: shifted, as asked"

done_testing

#!/bin/bash
# idmap-shift changes the plain files of a directory only the caller may
# write (root's, no write bit for group or others) by name, unopened: none
# but root can swap or link a name there while the walk is in it. Every
# other directory's entries are opened and changed through their
# descriptor. Each case below holds the run at its first chown of a file
# (killat.so NSKIT_PAUSEAT=fchownat-file, by name or by descriptor alike)
# and lets alice put a link to a file outside the tree where that file was:
#   - a folder she may write to (group write, her own, an ACL entry of
#     hers): the outside file is never changed;
#   - a folder only root may write to: her swap is refused, and the folder
#     is still root's while its files are changed (it is changed after
#     them; its subfolders are opened from its descriptor later, as any
#     folder's are);
#   - a file bind-mounted over a name is another mount's: left alone.
# And the plain files of such a folder are really not opened (strace),
# while a file with an ACL or a setuid bit is.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

mkuser alice || exit 1
T=$NSKIT_SANDBOX/tree
O=$NSKIT_SANDBOX/outside
st=$NSKIT_SANDBOX/state
mkdir -p "$O"
chmod 0755 "$NSKIT_SANDBOX" "$O"

# fresh: T/d/f, root's, T 0755; the outside file 0666 root's (alice may
# link it: protected_hardlinks lets a user link a file she may read and
# write).
fresh() {
	rm -rf "$T"
	mkdir -p "$T/d"
	echo inside > "$T/d/f"
	chown -R 0:0 "$T"
	chmod 0755 "$T" "$T/d"
	echo outside > "$O/shared"
	chown 0:0 "$O/shared"
	chmod 0666 "$O/shared"
}
# swap: alice puts a link to the outside file where T/d/f is, as herself
# or as the ids the shift gives her (what her user namespace makes her).
au=$(id -u alice) ag=$(id -g alice)
swap() {
	local c="ln '$O/shared' '$T/d/.f' && mv -f '$T/d/.f' '$T/d/f'"
	as alice sh -c "$c" 2> "$NSKIT_SANDBOX/swap.err" ||
		setpriv --reuid=$((B + au)) --regid=$((B + ag)) --clear-groups sh -c "$c" 2>> "$NSKIT_SANDBOX/swap.err"
}

for how in group own acl; do
	fresh
	case $how in
	group) chgrp alice "$T/d"; chmod 0775 "$T/d"; what="a root folder of group alice, mode 0775" ;;
	own) chown alice: "$T/d"; what="alice's own folder" ;;
	acl) setfacl -m u:alice:rwx "$T/d"; what="a root folder 0755 with an ACL entry u:alice:rwx" ;;
	esac
	held fchownat-file idmap-shift --state-dir "$st" -j 1 -m "0:$B:65536" "$T"
	swap
	is "$?|$(own "$T/d/f")" "0|0:0" "$what: alice links an outside file at the name while the run is at that file's chown"
	resume
	is "$rc|$(own "$O/shared")|$(cat "$O/shared")" "0|0:0|outside" "... the outside file is left as it was (the file was changed through its descriptor)"
done

# A folder only root may write to: names cannot change under the walk.
fresh
held fchownat-file idmap-shift --state-dir "$st" -j 1 -m "0:$B:65536" "$T"
is "$(own "$T/d")" "0:0" "a folder only root may write to: still root's while its files are changed"
swap
is "$?|$(own "$T/d/f")" "1|0:0" "... alice cannot swap a name in it"
resume
is "$rc|$(own "$T/d/f")|$(own "$T/d")|$(own "$T")|$(own "$O/shared")" "0|$B:$B|$B:$B|$B:$B|0:0" \
	"... its file, then the folder and the top are shifted"

# A file bind-mounted over a name of such a folder is another mount's.
fresh
echo other > "$O/bound"
touch "$T/d/m"
mount --bind "$O/bound" "$T/d/m"
run idmap-shift --state-dir "$st" -m "0:$B:65536" "$T"
is "$rc|$(own "$O/bound")|$(own "$T/d/f")" "0|0:0|$B:$B" "a file bind-mounted over a name is left alone"
umount "$T/d/m"

# What is opened: nothing for plain files of a folder only root may write
# to; a file with an ACL, a setuid or a capability file, through its
# descriptor.
fresh
touch "$T/d/p1" "$T/d/p2"
ln -s p1 "$T/d/sl"
mkfifo "$T/d/fifo"
cp /bin/true "$T/d/suid"
chmod 4755 "$T/d/suid"
cp /bin/true "$T/d/cap"
setcap cap_net_raw+ep "$T/d/cap"
touch "$T/d/acl"
setfacl -m u:7:r "$T/d/acl"
touch "$T/d/two"
ln "$T/d/two" "$T/d/two2"
ASAN_OPTIONS="$asan:detect_leaks=0" strace -f -qq -e trace=openat,open -o "$NSKIT_SANDBOX/trace" \
	idmap-shift --state-dir "$st" -m "0:$B:65536" "$T" > /dev/null 2>&1
is "$?" 0 "the shift under strace"
opened() { grep -oE "openat\([^,]*, \"[^\"]*\"" "$NSKIT_SANDBOX/trace" | sed -E 's/.*"(.*)"/\1/' | grep -xE "$1" | sort -u | paste -sd,; }
is "$(opened 'p1|p2|sl|fifo|f')" "" "plain files, a symlink and a fifo of a root-only folder are not opened"
is "$(opened 'suid|cap|acl|two|two2')" "acl,cap,suid,two,two2" "a setuid, a capability, an ACL and a hardlinked file are"
is "$(own "$T/d/p1")|$(stat -c %u:%g "$T/d/sl")|$(own "$T/d/fifo")|$(stat -c %a "$T/d/suid")|$(getcap "$T/d/cap")" \
	"$B:$B|$B:$B|$B:$B|4755|$T/d/cap cap_net_raw=ep" "... and all are shifted as before"
is "$(getfacl -cn "$T/d/acl" 2>/dev/null | grep -E '^user:[0-9]')|$(own "$T/d/two")" "user:$((B + 7)):r--|$B:$B" \
	"... the ACL's ids too"

done_testing

#!/bin/bash
# What a run does follows from the owners on disk, never from the record of
# an earlier run (issue 22 part 1). A tree shifted, then replaced or reset
# while a record of it could stay, is shifted again by the same command:
#   - a new tree at the inode number of the old (ext4 gives it back at once),
#   - the tree chowned back (chown -R),
#   - another tree renamed over the path,
#   - a tree on another file system that takes the old one's device number
#     (a file system made anew on the same loop device), its top at the
#     same inode number.
# With maps that do not overlap, a finished shift keeps no journal. With
# maps that overlap (ids both moved and made: a second run would move them
# again), the finished journal stays and refuses the same command on the
# same tree, and only there: a tree that took its place is shifted.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

max=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)
B=$(( ${max:-600100000} + 65536 ))
private_fs "$NSKIT_SANDBOX/fs"
S=$NSKIT_SANDBOX/fs
st=$NSKIT_SANDBOX/state
T=$S/t

# mk DIR: a tree of root's, as an unpacked archive would be.
mk() { mkdir "$1" && echo a > "$1/a" && mkdir "$1/d" && echo b > "$1/d/b"; }
# anew DIR INO: DIR made anew until its top takes inode number INO.
anew() {
	local i
	for i in $(seq 1 50); do
		rm -rf "$1"
		mk "$1"
		[ "$(stat -c %i "$1")" = "$2" ] && return 0
	done
	return 1
}
owners() { stat -c %u "$1" "$1/a" "$1/d/b" | paste -sd,; }

for kind in apart overlapping; do
	if [ $kind = apart ]; then
		m=(-m "0:$B:65536") want="$B,$B,$B"
	else
		m=(-m 0:10:65536) want="10,10,10"
	fi
	sh=(idmap-shift --state-dir "$st" --no-progress "${m[@]}")
	rm -rf "$T" "$st"
	mk "$T"
	run "${sh[@]}" "$T"
	is "$rc|$err|$(owners "$T")" "0||$want" "$kind maps: the tree is shifted"
	if [ $kind = apart ]; then
		is "$(ls -A "$st" | wc -l)" 0 "... and no journal is kept: no second run could shift a file twice"
	else
		is "$(tail -n 1 "$st"/*.journal)" done "... and the finished journal stays (a second run would move ids 10-65535 again)"
	fi

	# A new tree at the old inode number.
	ino=$(stat -c %i "$T")
	anew "$T" "$ino"
	status_is $? "$kind maps: the tree removed, a new one made, its top at the same inode number ($ino)"
	run "${sh[@]}" "$T"
	is "$rc|$err|$(owners "$T")" "0||$want" "... the same command shifts the new tree"

	# chown -R back.
	chown -R 0:0 "$T"
	run "${sh[@]}" "$T"
	if [ $kind = apart ]; then
		is "$rc|$err|$(owners "$T")" "0||$want" "$kind maps: the tree chowned back: shifted again"
	else
		is "$rc|$err|$(owners "$T")" "1|idmap-shift: '$T' was shifted with these maps already (journal '$(ls "$st"/*.journal)'): a second run would move uids 10-65535 again (remove the journal to shift it once more)|0,0,0" \
			"$kind maps: the tree chowned back: refused, exit 1 (the same tree, and no owner tells a second run from a first)"
		rm "$st"/*.journal
		run "${sh[@]}" "$T"
		is "$rc|$err|$(owners "$T")" "0||$want" "... the journal removed, as the message says: shifted"
	fi

	# Another tree renamed over the path.
	mk "$S/t2"
	mv "$T" "$S/t.old"
	mv "$S/t2" "$T"
	run "${sh[@]}" "$T"
	is "$rc|$err|$(owners "$T")" "0||$want" "$kind maps: another tree renamed over the path: shifted"
	rm -rf "$S/t.old"

	# Another file system on the same block device: a loop device of this
	# file's own, made anew with mkfs (the same device number, the top at
	# inode 2 again). A loop device, not a tmpfs: the anonymous device
	# number of a tmpfs mounted anew goes to whichever mount comes first,
	# another test's included.
	M=$S/m
	mkdir -p "$M"
	truncate -s 16M "$S/fs.img"
	loop=$(losetup --find --show "$S/fs.img")
	trap '_tap_cleanup; umount "$M" 2>/dev/null; losetup -d "$loop"' EXIT
	newfs() {
		mkfs.ext4 -q -F -I 256 "$loop" && mount "$loop" "$M" && rmdir "$M/lost+found" &&
			echo a > "$M/a" && mkdir "$M/d" && echo b > "$M/d/b"
	}
	newfs
	run "${sh[@]}" "$M"
	is "$rc|$err|$(owners "$M")" "0||$want" "$kind maps: a file system of its own is shifted"
	was=$(stat -c %d:%i "$M")
	umount "$M"
	newfs
	is "$(stat -c %d:%i "$M")" "$was" "... unmounted, and a new one made on the same device: the same device and inode numbers"
	run "${sh[@]}" "$M"
	is "$rc|$err|$(owners "$M")" "0||$want" "... the same command shifts the new one"
	umount "$M"
	losetup -d "$loop"
	trap _tap_cleanup EXIT
	rm -f "$S/fs.img"
done

# A file recorded as failed (an immutable file: its chown fails, the run
# stops with a journal), then replaced by another that takes its inode
# number: the record is of the old inode (its birth time), the new one is
# as never seen. With these overlapping maps, a file made after the run
# began with an id the shift makes is taken as done: left as it is, not
# shifted again by the record.
T=$S/f
rm -rf "$T" "$st"
mk "$T"
if chattr +i "$T/d/b" 2>/dev/null; then
	run idmap-shift --state-dir "$st" --no-progress --unmapped keep -m 0:10:65536 "$T"
	like "$rc|$err" "^1\|idmap-shift: cannot chown '$T/d/b' to 10:10: Operation not permitted" "an immutable file: the shift stops short of it"
	is "$(grep -c '^f ' "$st"/*.journal)" 1 "... recorded as failed"
	chattr -i "$T/d/b"
	ino=$(stat -c %i "$T/d/b")
	for i in $(seq 1 50); do
		rm -f "$T/d/b"
		echo new > "$T/d/b"
		[ "$(stat -c %i "$T/d/b")" = "$ino" ] && break
	done
	chown 10:10 "$T/d/b"
	is "$(stat -c %i "$T/d/b")" "$ino" "... replaced by a file of ids 10 that took its inode number"
	run idmap-shift --state-dir "$st" --no-progress --unmapped keep -m 0:10:65536 "$T"
	is "$rc|$(stat -c %u:%g "$T/d/b")|$(owners "$T")" "0|10:10|10,10,10" "... the record is not applied to it: not shifted a second time"
else
	bail "no chattr +i on the private ext4 (scripts/install-deps installs e2fsprogs)"
fi

done_testing

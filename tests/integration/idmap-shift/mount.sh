#!/bin/bash
# --mount: no chown; DEST becomes an idmapped bind mount of PATH with the
# shift as its map, on ext4 (or whatever the sandbox is on) and tmpfs.
# Files show shifted through DEST; writes through DEST land unshifted.
. "$NSKIT_TOP/tests/integration/lib.sh"

max=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)
B=$(( ${max:-600100000} + 65536 ))
fs=$(stat -f -c %T "$NSKIT_SANDBOX")
mkdir -p "$NSKIT_SANDBOX/tmpfs"
mount -t tmpfs nskit-idmap "$NSKIT_SANDBOX/tmpfs"
for top in "$NSKIT_SANDBOX/disk" "$NSKIT_SANDBOX/tmpfs"; do
	name=$([ "$top" = "$NSKIT_SANDBOX/tmpfs" ] && echo tmpfs || echo "$fs")
	src=$top/src dest=$top/dest
	mkdir -p "$src/w" "$dest"
	echo x > "$src/f"
	chown 5:6 "$src/w"
	run idmap-shift --mount "$dest" -m "0:$B:65536" "$src"
	is "$rc|$err" "0|" "$name: idmap-shift --mount DEST"
	is "$(stat -c %u:%g "$dest/f")|$(stat -c %u:%g "$dest/w")" "$B:$B|$((B + 5)):$((B + 6))" "$name: owners show shifted through DEST"
	is "$(stat -c %u:%g "$src/f")" "0:0" "$name: PATH itself is not chowned"
	run setpriv --reuid=$((B + 5)) --regid=$((B + 6)) --clear-groups touch "$dest/w/new"
	is "$rc|$(stat -c %u:%g "$src/w/new")|$(stat -c %u:%g "$dest/w/new")" "0|5:6|$((B + 5)):$((B + 6))" \
		"$name: a write through DEST as $((B + 5)) lands on PATH as 5"
	umount "$dest"
done
umount "$NSKIT_SANDBOX/tmpfs"

# Where the kernel refuses: one line that says why, pointing to chown mode.
# An overlay mount (EINVAL: overlayfs cannot be idmapped).
ov=$NSKIT_SANDBOX/ov
mkdir -p "$ov/lower/etc" "$ov/upper" "$ov/work" "$ov/merged" "$ov/dest"
echo x > "$ov/lower/etc/f"
mount -t overlay nskit-ov -o "lowerdir=$ov/lower,upperdir=$ov/upper,workdir=$ov/work" "$ov/merged"
expect_fail 1 "idmap-shift: cannot make an idmapped mount of '$ov/merged': Invalid argument (overlay mounts cannot be idmapped; shift the layer directories in chown mode, without --mount)" \
	"an overlay mount: refused (EINVAL) in one line, pointing to chown mode of the layers" \
	idmap-shift --mount "$ov/dest" -m "0:$B:65536" "$ov/merged"
is "$(findmnt -n -o FSTYPE "$ov/dest")|$(stat -c %u:%g "$ov/merged/etc/f")" "|0:0" "... nothing mounted on DEST, nothing chowned"
umount "$ov/merged"

mkuser mnu
mkdir -p "$NSKIT_SANDBOX/home/mnu/src" "$NSKIT_SANDBOX/home/mnu/dest"
chown -R mnu: "$NSKIT_SANDBOX/home/mnu"
expect_fail 1 "idmap-shift: cannot write the maps of the mount's user namespace: Operation not permitted (--mount needs root; use chown mode, without --mount)" \
	"unprivileged: refused in one line, pointing to chown mode" \
	as mnu idmap-shift --mount "$NSKIT_SANDBOX/home/mnu/dest" -m 0:1:1 "$NSKIT_SANDBOX/home/mnu/src"
# Its own ids only (a map it may write): the clone of a host mount needs root.
mu=$(id -u mnu) mg=$(id -g mnu)
expect_fail 1 "idmap-shift: cannot clone the mount of '$NSKIT_SANDBOX/home/mnu/src': Operation not permitted (--mount needs root; use chown mode, without --mount)" \
	"unprivileged, a map of its own ids: refused (EPERM) in one line, pointing to chown mode" \
	as mnu idmap-shift --mount "$NSKIT_SANDBOX/home/mnu/dest" -u "0:$mu:1" -g "0:$mg:1" "$NSKIT_SANDBOX/home/mnu/src"
# Root of its own namespace (nsenter-user): the mount of a host file system
# is still not its own (EPERM from mount_setattr).
expect_fail 1 "idmap-shift: cannot make an idmapped mount of '$NSKIT_SANDBOX/home/mnu/src': Operation not permitted (it needs root over the file system's mount; use chown mode, without --mount)" \
	"unprivileged inside nsenter-user, a host file system: refused (EPERM) in one line, pointing to chown mode" \
	as mnu nsenter-user idmap-shift --mount "$NSKIT_SANDBOX/home/mnu/dest" -m 0:1:1 "$NSKIT_SANDBOX/home/mnu/src"
is "$(findmnt -n -o FSTYPE "$NSKIT_SANDBOX/home/mnu/dest")" "" "... nothing mounted on DEST"

done_testing

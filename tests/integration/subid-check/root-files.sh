#!/bin/bash
# subid-check --root DIR runs as root on files whoever owns DIR planted: each
# file it reads (passwd, group, subuid, subgid) is refused with one line and
# exit 2 when it is a symbolic link (to a root-only file, to /dev/zero), a
# FIFO (no hang), a device, or larger than 64 MiB; DIR/etc a link is refused
# too. Nothing in DIR/etc changes.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser mallory
chmod 755 "$NSKIT_SANDBOX"
root=$NSKIT_SANDBOX/img
etc=$root/etc
mkdir -p "$etc"
printf 'root:x:0:0::/root:/bin/sh\nother:x:1001:1001::/:/bin/sh\n' > "$etc/passwd"
printf 'root:x:0:\nother:x:1001:\n' > "$etc/group"
printf 'other:100000:65536\n' > "$etc/subuid"
printf 'other:100000:65536\n' > "$etc/subgid"
chown -R mallory "$root"
secret=$NSKIT_SANDBOX/secret
printf 'ghost:1:1\nSECRET-TOKEN\n' > "$secret"
chmod 600 "$secret"

state() { (cd "$etc" && ls -A | sort | paste -sd, && find . -maxdepth 1 -type f -size -2M -exec sha256sum {} + | sort); }

run subid-check --root "$root"
is "$rc:$out:$err" "0::" "plain files: clean"
for f in passwd group subuid subgid; do
	mv "$etc/$f" "$NSKIT_SANDBOX/saved"
	for kind in secret-link zero-link fifo device huge; do
		case $kind in
		secret-link) as mallory ln -s "$secret" "$etc/$f" ;;
		zero-link) as mallory ln -s /dev/zero "$etc/$f" ;;
		fifo) as mallory mkfifo "$etc/$f" ;;
		device) mknod "$etc/$f" c 1 5 ;;
		huge) as mallory truncate -s $((64 * 1048576 + 1)) "$etc/$f" ;;
		esac
		case $kind in
		*-link) why="it is a symbolic link (replace it with the file)" ;;
		fifo|device) why="not a regular file" ;;
		huge) why="larger than 64 MiB, the limit for this file" ;;
		esac
		before=$(state)
		expect_fail 2 "subid-check: cannot read $etc/$f: $why" "$f a $kind: refused, exit 2" \
			timeout 20 subid-check --root "$root"
		is "$out" "" "$f a $kind: no finding printed"
		is "$(state)" "$before" "$f a $kind: DIR/etc unchanged"
		rm -f "$etc/$f"
	done
	mv "$NSKIT_SANDBOX/saved" "$etc/$f"
done

mkdir "$NSKIT_SANDBOX/img2"
ln -s "$etc" "$NSKIT_SANDBOX/img2/etc"
expect_fail 2 "subid-check: cannot use $NSKIT_SANDBOX/img2/etc: it is a symbolic link (--root follows no links below DIR)" \
	"DIR/etc a link: refused, exit 2" subid-check --root "$NSKIT_SANDBOX/img2"

run subid-check --root "$root"
is "$rc:$out:$err" "0::" "plain files again: clean"

done_testing

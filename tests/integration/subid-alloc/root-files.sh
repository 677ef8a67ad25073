#!/bin/bash
# subid-alloc --root DIR runs as root on files whoever owns DIR planted: each
# file it only reads (nsswitch.conf, login.defs, passwd, group) and the two
# it writes (subuid, subgid) is refused with one line, exit 1 and nothing
# written when it is a symbolic link (to a root-only file, to /dev/zero), a
# FIFO (no hang), a device, or larger than its cap (1 MiB for login.defs and
# nsswitch.conf, 64 MiB for the others). DIR/etc a link is refused too.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser mallory
chmod 755 "$NSKIT_SANDBOX"
root=$NSKIT_SANDBOX/img
etc=$root/etc
mkdir -p "$etc"
printf 'root:x:0:0::/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\nother:x:1001:1001::/:/bin/sh\n' > "$etc/passwd"
printf 'root:x:0:\ndev:x:1000:\nother:x:1001:\n' > "$etc/group"
printf 'SUB_UID_COUNT 65536\n' > "$etc/login.defs"
printf 'passwd: files\nsubid: files\n' > "$etc/nsswitch.conf"
printf 'other:100000:65536\n' > "$etc/subuid"
printf 'other:100000:65536\n' > "$etc/subgid"
chown -R mallory "$root"
# A root-only file with a login.defs that would change the allocation.
secret=$NSKIT_SANDBOX/secret
printf 'SUB_UID_MIN 7000000\nSUB_GID_MIN 7000000\nSECRET-TOKEN x\n' > "$secret"
chmod 600 "$secret"

# The folder's listing and every regular file's checksum (a FIFO is not
# read). The empty .pwd.lock that the passwd lock creates, as lckpwdf does,
# is left out: once the passwd lock was taken it stays.
state() { (cd "$etc" && ls -A | grep -vx '.pwd.lock' | sort | paste -sd, &&
	find . -maxdepth 1 -type f ! -name .pwd.lock -size -2M -exec sha256sum {} + | sort); }
cap_of() { case $1 in login.defs|nsswitch.conf) echo 1 ;; *) echo 64 ;; esac; }

for f in nsswitch.conf login.defs passwd group subuid subgid; do
	mv "$etc/$f" "$NSKIT_SANDBOX/saved"
	for kind in secret-link zero-link fifo device huge; do
		case $kind in
		secret-link) as mallory ln -s "$secret" "$etc/$f" ;;
		zero-link) as mallory ln -s /dev/zero "$etc/$f" ;;
		fifo) as mallory mkfifo "$etc/$f" ;;
		device) mknod "$etc/$f" c 1 5 ;;      # /dev/zero, as an image tarball may hold
		huge) as mallory truncate -s $(( $(cap_of "$f") * 1048576 + 1 )) "$etc/$f" ;;
		esac
		case $kind in
		*-link) why="it is a symbolic link (replace it with the file)" ;;
		fifo|device) why="not a regular file" ;;
		huge) why="larger than $(cap_of "$f") MiB, the limit for this file" ;;
		esac
		before=$(state)
		expect_fail 1 "subid-alloc: cannot read $etc/$f: $why" "$f a $kind: refused" \
			timeout 20 subid-alloc --root "$root" dev
		is "$(state)" "$before" "$f a $kind: nothing written, no lock left"
		rm -f "$etc/$f"
	done
	mv "$NSKIT_SANDBOX/saved" "$etc/$f"
done
unlike "$out$err" "SECRET" "the root-only file's text is never shown"

# --list reads the files the same way.
mv "$etc/subuid" "$NSKIT_SANDBOX/saved"
as mallory ln -s "$secret" "$etc/subuid"
expect_fail 1 "subid-alloc: cannot read $etc/subuid: it is a symbolic link (replace it with the file)" \
	"--list: subuid a link: refused" subid-alloc --root "$root" --list
rm "$etc/subuid"
mv "$NSKIT_SANDBOX/saved" "$etc/subuid"

# DIR/etc itself a link (to a copy with a good passwd): refused before any read.
mkdir "$NSKIT_SANDBOX/img2"
cp -a "$etc" "$NSKIT_SANDBOX/etc-copy"
ln -s "$NSKIT_SANDBOX/etc-copy" "$NSKIT_SANDBOX/img2/etc"
copy_before=$(cd "$NSKIT_SANDBOX/etc-copy" && ls -A | sort | paste -sd, && sha256sum subuid subgid)
expect_fail 1 "subid-alloc: cannot use $NSKIT_SANDBOX/img2/etc: it is a symbolic link (--root follows no links below DIR)" \
	"DIR/etc a link: refused" subid-alloc --root "$NSKIT_SANDBOX/img2" dev
is "$(cd "$NSKIT_SANDBOX/etc-copy" && ls -A | sort | paste -sd, && sha256sum subuid subgid)" "$copy_before" \
	"DIR/etc a link: nothing written through it"

# And with every file a plain one again, the same run works.
run subid-alloc --root "$root" dev
is "$rc:$err:$(cat "$etc/subuid")" "0::other:100000:65536
dev:165536:65536" "plain files: allocates"

done_testing

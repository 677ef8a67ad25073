#!/bin/bash
# A full disk: subid-alloc fails cleanly and /etc/subuid and /etc/subgid stay
# exactly as they were (no partial file, no lost line, no stray temporary).
. "$NSKIT_TOP/tests/integration/lib.sh"

root=$NSKIT_SANDBOX/img
mkdir -p "$root/etc"
mount -t tmpfs -o size=64k nskit-full "$root/etc"
{
	echo 'root:x:0:0::/root:/bin/sh'
	for i in $(seq 1000 1199); do echo "user$i:x:$i:$i::/home/user$i:/bin/sh"; done
} > "$root/etc/passwd"
{
	echo 'root:x:0:'
	for i in $(seq 1000 1199); do echo "user$i:x:$i:"; done
} > "$root/etc/group"
printf 'user1000:100000:65536\n' > "$root/etc/subuid"
printf 'user1000:100000:65536\n' > "$root/etc/subgid"
before=$(cd "$root/etc" && sha256sum subuid subgid)
listing() { ls -A "$root/etc" | grep -v -e '^filler$' -e '^spare$' -e '^\.pwd\.lock$'; }
files_before=$(listing)
# Fill the file system to the last block, keeping two blocks in reserve.
dd if=/dev/zero of="$root/etc/spare" bs=4k count=2 2>/dev/null
dd if=/dev/zero of="$root/etc/filler" bs=4k 2>/dev/null

run subid-alloc --root "$root" --all
is "$rc|$err" "1|subid-alloc: cannot lock $root/etc/subuid: No space left on device" \
	"no room even for the lock file: one clear line, exit 1"
is "$(cd "$root/etc" && sha256sum subuid subgid)" "$before" "subuid and subgid unchanged"
is "$(listing)" "$files_before" "no temporary or lock file left"

# Room for the lock files, not for the new subuid (200 lines, 2 blocks).
rm "$root/etc/spare"
run subid-alloc --root "$root" --all
is "$rc" 1 "no room for the new file: exit 1"
like "$err" "^subid-alloc: cannot write $root/etc/sub[ug]id[^ ]*: No space left on device$" \
	"no room for the new file: one clear line"
is "$(cd "$root/etc" && sha256sum subuid subgid)" "$before" "subuid and subgid unchanged"
is "$(listing)" "$files_before" "no temporary or lock file left"

# With room again, the same command works.
rm "$root/etc/filler"
run subid-alloc --root "$root" --all
is "$rc" 0 "with room again: exit 0"
is "$(wc -l < "$root/etc/subuid")" 200 "every user has a uid range"

done_testing

#!/bin/bash
# Bad input: one line (or the listed offenders, then one line), exit 1,
# nothing changed. --unmapped keep and overflow. (The setuid-copy refusal
# is security/setuid.sh, which runs every tool.)
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

max=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)
B=$(( ${max:-600100000} + 65536 ))
t=$NSKIT_SANDBOX/tree
st=$NSKIT_SANDBOX/state
mktree "$t"
before=$(manifest "$t")
S=(--state-dir "$st")
try="Try 'idmap-shift --help' for more information."

expect_fail 1 "idmap-shift: invalid map '0:1:x': invalid count 'x'" "a bad extent" idmap-shift "${S[@]}" -m 0:1:x "$t"
expect_fail 1 "idmap-shift: invalid --to map: uid extents 1 (0:100:10) and 2 (5:200:10) overlap inside (ids 5-9)" \
	"overlapping extents" idmap-shift "${S[@]}" -m 0:100:10 -m 5:200:10 "$t"
expect_fail 1 "idmap-shift: invalid --from map: gid extents 1 (0:0:10) and 2 (20:5:10) overlap outside (ids 5-9)" \
	"overlapping --from" idmap-shift "${S[@]}" -f - -m 0:100:10 "$t" <<<"b 0 0 10
g 20 5 10"
expect_fail 1 "idmap-shift: cannot open map file '$NSKIT_SANDBOX/none': No such file or directory" \
	"a missing map file" idmap-shift "${S[@]}" -t "$NSKIT_SANDBOX/none" "$t"
expect_fail 1 "idmap-shift: '$t/home/u/file' is not a directory (give the top directory of a tree)" \
	"PATH is a file" idmap-shift "${S[@]}" -m "0:$B:65536" "$t/home/u/file"
expect_fail 1 "idmap-shift: '$t/usr/home-link' is a symlink (give the directory itself)" \
	"PATH is a symlink" idmap-shift "${S[@]}" -m "0:$B:65536" "$t/usr/home-link"
expect_fail 1 "idmap-shift: no --to map given (--to, -u/-g/-m, --to-pid or --auto)
$try" "no map" idmap-shift "${S[@]}" "$t"
expect_fail 1 "idmap-shift: -u/-g/-m and --to are mutually exclusive (one --to map)
$try" "two --to maps" idmap-shift "${S[@]}" -m 0:1:1 -t - "$t"
expect_fail 1 "idmap-shift: invalid --unmapped 'drop': use fail, keep or overflow
$try" "a bad --unmapped" idmap-shift "${S[@]}" --unmapped drop -m 0:1:1 "$t"
expect_fail 1 "idmap-shift: invalid --jobs '0': at least 1 thread" "--jobs 0" idmap-shift "${S[@]}" -j 0 -m 0:1:1 "$t"
expect_fail 1 "idmap-shift: the gid map of --to is empty (give -g or -m)" "only uids" idmap-shift "${S[@]}" -u 0:1:1 "$t"
# One PATH is bad: the good one before it is not changed either.
expect_fail 1 "idmap-shift: cannot open '$NSKIT_SANDBOX/none': No such file or directory" \
	"a second PATH missing" idmap-shift "${S[@]}" -m "0:$B:65536" "$t" "$NSKIT_SANDBOX/none"
is "$(manifest "$t")" "$before" "nothing changed by any of them"

# Ids outside --from: fail (the default) lists them and changes nothing.
chown 70000:70001 "$t/var/fifo"
before=$(manifest "$t")
expect_fail 1 "idmap-shift: '$t/var/fifo': owner uid 70000 is outside --from
idmap-shift: '$t/var/fifo': group gid 70001 is outside --from
idmap-shift: nothing changed: 2 ids in '$t' outside --from (use --unmapped keep or overflow, or a --from that maps them)" \
	"--unmapped fail: the offenders, nothing changed" idmap-shift "${S[@]}" -m "0:$B:65536" "$t"
is "$(manifest "$t")" "$before" "... the tree is as it was"
run idmap-shift "${S[@]}" --json --unmapped keep -m "0:$B:65536" "$t"
is "$rc|$(own "$t/var/fifo")|$(own "$t/var")" "0|70000:70001|$B:$B" "--unmapped keep: left as it was, the rest shifted"
like "$out" '"unmapped":2,' "... and counted"
run idmap-shift "${S[@]}" -r --unmapped overflow -m "0:$B:65536" "$t"
is "$rc|$(own "$t/var/fifo")|$(own "$t/var")" "0|$(cat /proc/sys/kernel/overflowuid):$(cat /proc/sys/kernel/overflowgid)|0:0" \
	"--unmapped overflow: the overflow ids"

# File systems it must not shift.
mkdir -p "$NSKIT_SANDBOX/ov/"{l,u,w,m}
touch "$NSKIT_SANDBOX/ov/l/f"
mount -t overlay -o "lowerdir=$NSKIT_SANDBOX/ov/l,upperdir=$NSKIT_SANDBOX/ov/u,workdir=$NSKIT_SANDBOX/ov/w" nskit-ov "$NSKIT_SANDBOX/ov/m"
expect_fail 1 "idmap-shift: '$NSKIT_SANDBOX/ov/m' is an overlay mount: chown through the merged view copies every file up (shift the layer directories instead)" \
	"an overlay merged view is refused" idmap-shift "${S[@]}" -m "0:$B:65536" "$NSKIT_SANDBOX/ov/m"
is "$(ls "$NSKIT_SANDBOX/ov/u" | wc -l)" 0 "... nothing copied up"
umount "$NSKIT_SANDBOX/ov/m"
mkdir "$NSKIT_SANDBOX/ro"
mount -t tmpfs nskit-ro "$NSKIT_SANDBOX/ro"
touch "$NSKIT_SANDBOX/ro/f"
mount -o remount,ro "$NSKIT_SANDBOX/ro"
expect_fail 1 "idmap-shift: cannot shift '$NSKIT_SANDBOX/ro': read-only file system" \
	"a read-only file system" idmap-shift "${S[@]}" -m "0:$B:65536" "$NSKIT_SANDBOX/ro"
run idmap-shift "${S[@]}" --dry-run -m "0:$B:65536" "$NSKIT_SANDBOX/ro"
is "$rc|$out" "0|would change 2 of 2 files (0 ACLs, 0 capabilities)" "... --dry-run there is fine"
umount "$NSKIT_SANDBOX/ro"

# A mount inside the tree is left alone (-x, always).
mkdir "$t/mnt"
mount -t tmpfs nskit-inner "$t/mnt"
touch "$t/mnt/f"
run idmap-shift "${S[@]}" --json -m "0:$B:65536" "$t"
is "$rc|$(own "$t/mnt")|$(own "$t/mnt/f")" "0|0:0|0:0" "a mount inside the tree: not crossed"
like "$out" '"skipped":1,' "... and counted as skipped"
umount "$t/mnt"

done_testing

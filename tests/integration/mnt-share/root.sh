# mnt-share as root in a private mount namespace: every propagation type on
# / and on a bind-mounted folder, recursive and not; --bind-self; --check.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/mnt-share/common.sh.inc"
install -m 0755 "$NSKIT_TOP/tests/integration/mnt-share/scenario" "$NSKIT_SANDBOX/scenario"

# The sandbox starts us in a namespace where every mount is private.
is "$(all_fields | awk '$2 != ""' | wc -l)" 0 "the sandbox starts with every mount private"

matrix root unshare -m --propagation private

# --- the default, in this namespace ------------------------------------------
run mnt-share
is "$rc|$out|$err" "0||" "mnt-share: exit 0, silent"
is "$(all_fields | awk '$2 !~ /^shared:[0-9]+$/' | wc -l)" 0 "mnt-share: every mount is shared"
is "$(findmnt -n -l -o PROPAGATION | sort -u)" shared "mnt-share: findmnt says shared on every mount"
run mnt-share
is "$rc|$(all_fields | awk '$2 !~ /^shared:[0-9]+$/' | wc -l)" "0|0" "mnt-share again: no change, exit 0"

run mnt-share --private
is "$rc|$(all_fields | awk '$2 != ""' | wc -l)" "0|0" "--private: every mount private"
run mnt-share --no-recursive
is "$rc|$(fields /)|$(fields /proc)" "0|$(fields /)|" "--no-recursive: / only"
like "$(fields /)" '^shared:[0-9]+$' "--no-recursive: / is shared"

# --- --bind-self ---------------------------------------------------------------
d=$NSKIT_SANDBOX/tmp/bs
mkdir -p "$d/sub" "$NSKIT_SANDBOX/tmp/plain"
mount -t tmpfs subfs "$d/sub"
run mnt-share --bind-self "$d"
is "$rc|$err" "0|" "--bind-self: exit 0"
is "$(nmounts "$d")" 1 "--bind-self: '$d' is now a mount point"
like "$(fields "$d")" '^shared:[0-9]+$' "--bind-self: and shared"
like "$(fields "$d/sub")" '^shared:[0-9]+$' "--bind-self: its submount is still there, shared (recursive bind)"
is "$(findmnt -n -o SOURCE --mountpoint "$d")" "$(bind_source "$d")" "--bind-self: bound onto itself"
run mnt-share --bind-self --private "$d"
is "$rc|$(nmounts "$d")|$(fields "$d")" "0|1|" "--bind-self on a mount point: no second bind"
# (the mount the folder is on is shared: / here, or a /tmp of its own)
mnt-share --no-recursive "$(mount_of "$NSKIT_SANDBOX/tmp/plain")"
run mnt-share --bind-self --slave --no-recursive "$NSKIT_SANDBOX/tmp/plain"
is "$rc|$(nmounts "$NSKIT_SANDBOX/tmp/plain")" "0|1" "--bind-self --slave --no-recursive: bound"
# a bind of a shared mount is a peer of it; as a slave it gets that peer as master
like "$(fields "$NSKIT_SANDBOX/tmp/plain")" '^master:[0-9]+$' "--bind-self --slave: a slave of the mount it was bound from"
is "$(fprop "$NSKIT_SANDBOX/tmp/plain")" private,slave "--bind-self --slave: findmnt agrees"
umount "$NSKIT_SANDBOX/tmp/plain"

# --- --check --------------------------------------------------------------------
mnt-share --private
run mnt-share --check
is "$rc|$out" "1|" "--check on private /: exit 1"
is "$err" "mnt-share: '/' is not a shared mount: it is private (make it shared: 'mnt-share /')" "--check: says which and why"
run mnt-share -c "$NSKIT_SANDBOX/tmp/plain"
pm=$(mount_of "$NSKIT_SANDBOX/tmp/plain")
is "$rc|$err" "1|mnt-share: '$NSKIT_SANDBOX/tmp/plain' is not on a shared mount: its mount '$pm' is private (make it shared: 'mnt-share $pm')" "--check on a folder: names its mount"
mnt-share
peer=$(fields /)
run mnt-share --check
is "$rc|$out|$err" "0|'/' is a shared mount (peer group ${peer#shared:})|" "--check on shared /: exit 0"
run mnt-share -c / /proc "$d/sub/"
is "$rc|$err" "0|" "--check on several shared targets: exit 0"
is "$(printf '%s\n' "$out" | wc -l)" 3 "--check: one line per target"
like "$out" "'$d/sub/' is a shared mount" "--check: a target is named as given"
run mnt-share -c "$NSKIT_SANDBOX/tmp/plain"
is "$rc|$out" "0|'$NSKIT_SANDBOX/tmp/plain' is on a shared mount: '$pm' (peer group $(fields "$pm" | sed 's/^shared://'))" "--check on a folder on a shared mount"
mnt-share --private --no-recursive /proc
run mnt-share -c / /proc
is "$rc|$out|$err" "1|'/' is a shared mount (peer group ${peer#shared:})|mnt-share: '/proc' is not a shared mount: it is private (make it shared: 'mnt-share /proc')" "--check: one shared, one not: exit 1, each said"
mnt-share --unbindable --no-recursive /proc
run mnt-share -c /proc
is "$rc|$err" "1|mnt-share: '/proc' is not a shared mount: it is private and unbindable (make it shared: 'mnt-share /proc')" "--check on an unbindable mount"
mnt-share /proc
# a slave: in a child namespace whose / is a peer of ours
run unshare -m --propagation unchanged sh -c 'mnt-share --slave --no-recursive / && mnt-share --check'
is "$rc|$err" "1|mnt-share: '/' is not a shared mount: it is a slave of peer group ${peer#shared:}, which receives mounts but sends none (make it shared: 'mnt-share /')" "--check on a slave"
run unshare -m --propagation unchanged sh -c 'mnt-share --slave --no-recursive / && mnt-share --no-recursive && mnt-share --check && awk -v m="master:'"${peer#shared:}"'" '\''$5 == "/" { s = 0; k = 0; for (i = 7; $i != "-"; i++) { if ($i ~ /^shared:[0-9]+$/) s = 1; if ($i == m) k = 1 } n += s && k } END { print n + 0 }'\'' /proc/self/mountinfo'
is "$rc|$(printf '%s\n' "$out" | tail -n1)" "0|1" "--check on a shared slave (shared:N master:M): exit 0"

done_testing

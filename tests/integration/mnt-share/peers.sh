# Propagation between peer namespaces: a mount made under a shared mount in
# one namespace appears in its peer; after --slave only one way; after
# --private neither.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/mnt-share/common.sh.inc"

d=$NSKIT_SANDBOX/tmp/peers
mkdir -p "$d"/a "$d"/b "$d"/c "$d"/e "$d"/f "$d"/g
chmod -R 0777 "$d"
ready=$NSKIT_SANDBOX/tmp/peer.ready

run mnt-share
is "$rc" 0 "root: / shared"
# B: a namespace whose mounts are copies, and peers, of ours
bg B unshare -m --propagation unchanged sh -c "touch '$ready'; exec sleep 1000"
wait_for "$ready"
is "$(fields / "$B")" "$(fields /)" "the new namespace's / is in the same peer group"

mount -t tmpfs fromA "$d/a"
is "$(nmounts "$d/a" "$B")" 1 "a mount made in A appears in its peer B"
nsenter -t "$B" -m mount -t tmpfs fromB "$d/b"
is "$(nmounts "$d/b")" 1 "a mount made in B appears in its peer A"

nsenter -t "$B" -m mnt-share --slave
like "$(fields / "$B")" '^master:[0-9]+$' "B made a slave"
mount -t tmpfs fromA2 "$d/c"
is "$(nmounts "$d/c" "$B")" 1 "slave: a mount made in A still appears in B"
nsenter -t "$B" -m mount -t tmpfs fromB2 "$d/e"
is "$(nmounts "$d/e")" 0 "slave: a mount made in B does not appear in A"

nsenter -t "$B" -m mnt-share --private
mount -t tmpfs fromA3 "$d/f"
is "$(nmounts "$d/f" "$B")" 0 "private: a mount made in A does not appear in B"
nsenter -t "$B" -m mnt-share
mount -t tmpfs fromA4 "$d/g"
is "$(nmounts "$d/g" "$B")" 0 "shared again, but in a new peer group: A's mounts do not reach B"
isnt "$(fields / "$B")" "$(fields /)" "B's new peer group differs from A's"

# The same as an unprivileged user inside unshare -Urm: a mount made in a
# child namespace appears in the parent once the parent made / shared.
mkuser peeruser || exit 1
run as peeruser unshare -Urm sh -c "
	mnt-share || exit 1
	unshare -m --propagation unchanged mount -t tmpfs child '$d/a' || exit 1
	awk -v p='$d/a' '\$5 == p' /proc/self/mountinfo | wc -l"
is "$rc|$out|$err" "0|2|" "user: after mnt-share, a child namespace's mount appears in the parent"
run as peeruser unshare -Urm sh -c "
	unshare -m --propagation unchanged mount -t tmpfs child '$d/a' || exit 1
	awk -v p='$d/a' '\$5 == p' /proc/self/mountinfo | wc -l"
is "$rc|$out|$err" "0|1|" "user: without mnt-share (private /), it does not"
run as peeruser unshare -Urm sh -c "
	mnt-share || exit 1
	unshare -m --propagation unchanged sh -c 'mnt-share --slave && mount -t tmpfs child \"$d/a\"' || exit 1
	awk -v p='$d/a' '\$5 == p' /proc/self/mountinfo | wc -l"
is "$rc|$out|$err" "0|1|" "user: a slave child's mount does not reach the parent"

done_testing

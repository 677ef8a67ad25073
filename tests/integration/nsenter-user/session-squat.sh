#!/bin/bash
# Sessions when /tmp/nskit-UID was made first by another user and there is
# no XDG_RUNTIME_DIR (nor a /run/user/UID): the squatted folder is never
# used, nothing is written into it, and --keep, --list, --join and --stop
# all find the session in the user's own ~/.cache/nskit, as the slice
# records do.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nsq || exit 1
mkuser nsz || exit 1
uid=$(id -u nsq) zuid=$(id -u nsz)
sq=/tmp/nskit-$uid
home=$NSKIT_SANDBOX/home/nsq
dir=$home/.cache/nskit
n() { as nsq env -u XDG_RUNTIME_DIR nsenter-user "$@"; }

[ ! -e "/run/user/$uid" ] || bail "/run/user/$uid exists: this file needs it absent"
as nsz mkdir -m 700 "$sq"
is "$(stat -c '%u %a' "$sq")" "$zuid 700" "(nsz has made /tmp/nskit-$uid first)"

run n --keep k
is "$rc:$out:$err" "0::" "--keep k: works all the same, says nothing"
h=$(sed -n 's/^pid=//p' "$dir/k" 2>/dev/null)
is "$(cat "/proc/$h/comm" 2>/dev/null):$(stat -c '%U %a' "$dir")" "nskit-holder:nsq 700" \
	"the record is in nsq's ~/.cache/nskit (private), its holder runs"
run n --list
like "$(echo "$out" | sed 1d)" "^k +$h +0:$uid:1,1:[0-9]+:65536 .* running\$" "--list finds it there"
run n --join k cat /proc/self/uid_map
is "$rc:$(echo "$out" | tr -s ' ' | sed 's/^ //' | paste -sd'|')" "0:$(kmap "$h" uid)" \
	"--join k: the uid map inside is the kept namespace's"
run n --keep k
like "$rc:$err" "^1:nsenter-user: session 'k' already exists \\(process $h;" "a second --keep k finds the first"
run n --stop k
is "$rc:$err" "0:" "--stop k"
wait_until "the holder of k has ended" test ! -e "/proc/$h"
is "$(ls -A "$dir" | grep -v '^\.slices')" "" "... and its record is gone (the slice records share the folder)"
is "$(stat -c '%u %a' "$sq"):$(ls -A "$sq")" "$zuid 700:" "nothing was written into the squatted /tmp/nskit-$uid"

# No home of nsq's either: a clear error, nothing made.
chown root "$home"
run n --keep k
is "$rc:$err" "1:nsenter-user: '$sq' belongs to uid $zuid, not to you (uid $uid), and there is no other place for your sessions (no /run/user/$uid, no home folder of yours) (set XDG_RUNTIME_DIR to your own runtime folder, or ask root to remove '$sq')" \
	"no other private folder: --keep says why and what to do"
chown nsq "$home"
rm -rf "$sq"

done_testing

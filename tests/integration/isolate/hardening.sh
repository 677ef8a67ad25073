#!/bin/bash
# --isolate hardening (issue 13): one set of slice records per uid whatever
# XDG_RUNTIME_DIR says; a slice held while any process is left in its
# namespace; a --keep killed mid-way leaves nothing behind; a FIFO as the
# records is an error, never a hang.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser ish || exit 1
uid=$(id -u ish)
sub=$(awk -F: '$1 == "ish" {print $2; exit}' /etc/subuid)
subg=$(awk -F: '$1 == "ish" {print $2; exit}' /etc/subgid)
dir=$NSKIT_SANDBOX/run/$uid/nskit
sdir=/tmp/nskit-$uid
H=$NSKIT_SANDBOX/helpers
shared=$NSKIT_SANDBOX/shared
install -d -m 1777 "$shared"
holder() { sed -n 's/^pid=//p' "$1/$2"; }
until_ok() { local i=0; until "$@"; do i=$((i + 1)); [ $i -gt 500 ] && return 1; sleep 0.01; done; }
gone() { until_ok test ! -e "/proc/$1"; }
umap() { kmap "$1" uid; }

# --- 2: XDG_RUNTIME_DIR unset, then set: never the same slice ------------------------------------
run as ish env -u XDG_RUNTIME_DIR nsenter-user --keep a --isolate=4096
ha=$(holder "$sdir" a)
is "$rc:$(umap "$ha")" "0:0 $sub 4096" "--keep a --isolate=4096 with XDG_RUNTIME_DIR unset: the first slice"
run as ish nsenter-user --keep b --isolate=4096
hb=$(holder "$dir" b)
is "$rc:$(umap "$hb")" "0:0 $((sub + 4096)) 4096" "--keep b --isolate=4096 with it set: the next slice, not a's"
is "$(stat -c '%U %a' "$sdir"):$(stat -c %a "$sdir/.slices")" "ish 700:600" "the records are in /tmp/nskit-UID, private"
is "$([ -e "$dir/.slices" ]; echo $?)" 1 "... and not under XDG_RUNTIME_DIR"
userns_proc p ish
run as ish env -u XDG_RUNTIME_DIR XDG_RUNTIME_DIR="$shared" idmap-apply --isolate=4096 "$p"
is "$rc:$(umap "$p")" "0:0 $((sub + 8192)) 4096" "idmap-apply --isolate with yet another XDG_RUNTIME_DIR: the next slice again"
kill -KILL "$p"
gone "$p"
run as ish env -u XDG_RUNTIME_DIR nsenter-user --stop a
run as ish nsenter-user --stop b

# --- 3: a slice is free only when no process is left in its namespace --------------------------
run as ish nsenter-user --keep web --isolate=4096
hw=$(holder "$dir" web)
is "$rc:$(umap "$hw")" "0:0 $sub 4096" "--keep web --isolate: the first slice"
rm -f "$shared/j-ready"
bg j as ish nsenter-user --join web sh -c "touch $shared/j-ready; exec sleep 600"
until_ok test -e "$shared/j-ready"
is "$(readlink /proc/$j/ns/user)" "$(readlink /proc/$hw/ns/user)" "a --join of web runs in its namespace"
run as ish nsenter-user --stop web
is "$rc:$err" "0:nsenter-user: session 'web' is stopped, but process $j is still in its namespace: its slice stays taken until no process is left there" \
	"--stop web: stopped, and says who still holds the slice"
gone "$hw"
run as ish nsenter-user --keep db --isolate=4096
hd=$(holder "$dir" db)
is "$rc:$(umap "$hd")" "0:0 $((sub + 4096)) 4096" "--keep db --isolate: not web's slice while the join lives in it"
kill -KILL "$j"
gone "$j"
run as ish nsenter-user --keep db2 --isolate=4096
is "$rc:$(umap "$(holder "$dir" db2)")" "0:0 $sub 4096" "once the last process of web's namespace has ended, its slice is free"
as ish nsenter-user --stop db
as ish nsenter-user --stop db2

# A one-off command that leaves a child behind: the child holds the slice.
run as ish nsenter-user --isolate=4096 sh -c "sleep 600 >/dev/null 2>&1 & echo \$!"
left=$out
is "$rc:$(umap "$left")" "0:0 $sub 4096" "a one-off --isolate command ends, leaving its child in the namespace"
run as ish nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $((sub + 4096)) 4096" "... the next --isolate does not get the child's slice"
# In a namespace made inside it, too.
run as ish nsenter-user --isolate=4096 sh -c "unshare --user --map-root-user sleep 600 >/dev/null 2>&1 & echo \$!"
nested=$out
until_ok test "$(cat "/proc/$nested/comm" 2>/dev/null)" = sleep
kill -KILL "$left"
gone "$left"
run as ish nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $sub 4096" "the first slice is free once that child is gone"
run as ish nsenter-user --isolate=4096 --keep n2
is "$rc:$(umap "$(holder "$dir" n2)")" "0:0 $sub 4096" "(the same slice, kept this time)"
as ish nsenter-user --stop n2
run as ish nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $sub 4096" "a slice whose only process is in a nested namespace stays taken"
kill -KILL "$nested"
gone "$nested"

# --- 4: a --keep killed mid-way leaves nothing behind ---------------------------------------------
asan=${ASAN_OPTIONS:-}
for at in linkat unlinkat; do
	# linkat: killed just before its record is written; unlinkat: just after.
	run as ish env NSKIT_KILLAT=$at LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan:verify_asan_link_order=0" \
		nsenter-user --keep k --isolate=4096
	is "$rc" 137 "--keep killed by SIGKILL at $at"
	until_ok test -z "$(pgrep -x nskit-holder -U "$uid")"
	is "$(pgrep -x nskit-holder -U "$uid")" "" "... no holder is left (killed at $at)"
	is "$([ -e "$dir/k" ]; echo $?)" 1 "... no record either (killed at $at)"
	run as ish nsenter-user --list
	is "$rc:$(echo "$out" | sed 1d)" "0:" "... --list shows nothing (killed at $at)"
	run as ish nsenter-user --keep k --isolate=4096
	is "$rc:$(umap "$(holder "$dir" k)")" "0:0 $sub 4096" "... and the name and the slice are free again (killed at $at)"
	as ish nsenter-user --stop k
done

# --- 9: the records as a FIFO: an error, never a hang --------------------------------------------
as ish nsenter-user --keep f1
rm -f "$sdir/.slices"
mkfifo -m 600 "$sdir/.slices"
chown ish "$sdir/.slices"
as_argv ish
msg="nsenter-user: the slice records '$sdir/.slices' are not a regular file (remove it)"
expect_fail 1 "$msg" "--isolate with .slices a FIFO: a clear error" timeout 20 "${AS[@]}" nsenter-user --isolate true
expect_fail 1 "$msg" "--list with .slices a FIFO: a clear error" timeout 20 "${AS[@]}" nsenter-user --list
run timeout 20 "${AS[@]}" idmap-show "$(holder "$dir" f1)"
is "$rc" 0 "idmap-show, which only names slices, does not hang either"
rm -f "$sdir/.slices"
ln -s /dev/zero "$sdir/.slices"
expect_fail 1 "$msg" "--isolate with .slices a symlink: not followed" timeout 20 "${AS[@]}" nsenter-user --isolate true
rm -f "$sdir/.slices" "$sdir/.slices.lock"
mkfifo -m 600 "$sdir/.slices.lock"
chown ish "$sdir/.slices.lock"
expect_fail 1 "nsenter-user: the slice lock '$sdir/.slices.lock' is not a regular file (remove it)" \
	"--isolate with .slices.lock a FIFO: a clear error" timeout 20 "${AS[@]}" nsenter-user --isolate true
rm -f "$sdir/.slices.lock"
as ish nsenter-user --stop f1

done_testing

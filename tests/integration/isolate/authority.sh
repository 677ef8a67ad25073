#!/bin/bash
# --isolate: the kernel, not the records, says which ids are in use (issue
# 13, second review). A second set of records (another /tmp, records
# removed) never gets a slice a live namespace maps; a /tmp/nskit-UID made
# by another user denies nothing; a thread left running in a zombie, or a
# process in an unmapped namespace made inside, holds the slice; a record
# made in another pid namespace is found there; --stop decides under the
# lock; the records live under /run/user/UID when logind made it; tmpfiles
# never cleans /tmp/nskit-*.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser ika || exit 1
mkuser ikb || exit 1
uid=$(id -u ika)
sub=$(awk -F: '$1 == "ika" {print $2; exit}' /etc/subuid)
dir=$NSKIT_SANDBOX/run/$uid/nskit
sdir=/tmp/nskit-$uid
H=$NSKIT_SANDBOX/helpers
w=$NSKIT_SANDBOX/w
install -d -m 1777 "$w"
holder() { sed -n 's/^pid=//p' "$dir/$1"; }
umap() { kmap "$1" uid; }
gone() { wait_until "process $1 has ended" test ! -e "/proc/$1"; }
first() { echo "0 $sub 4096"; }
second() { echo "0 $((sub + 4096)) 4096"; }

# --- 1: a second set of records never gets a slice in use -----------------------------------------
run as ika nsenter-user --keep a --isolate=4096
ha=$(holder a)
is "$rc:$(umap "$ha")" "0:$(first)" "--keep a --isolate=4096: the first slice"
rm -f "$sdir/.slices"
run as ika nsenter-user --keep b --isolate=4096
hb=$(holder b)
is "$rc:$(umap "$hb")" "0:$(second)" "with the records removed, --keep b still does not get a's slice (its namespace maps it)"
# Another /tmp (systemd PrivateTmp, bwrap --tmpfs /tmp): an empty record folder of its own.
as_argv ika
run unshare -m sh -c "mount -t tmpfs -o mode=700,uid=$uid tmpfs $sdir && exec \"\$@\"" sh \
	"${AS[@]}" nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $((sub + 8192)) 4096" "with a private /tmp/nskit-UID, --isolate gets neither a's nor b's slice"
run as ika nsenter-user --isolate=65536 true
is "$rc:$err" "1:nsenter-user: no free slice of 65536 ids: 57344 of 65536 subordinate uids free, 8192 in use (session 'b': 4096, pid $ha, no record: 4096) (run 'subid-alloc --count 131072 ika' as root, or use a smaller --isolate=SIZE)" \
	"exhaustion names the namespace that has no record"
as ika nsenter-user --stop a
as ika nsenter-user --stop b
gone "$ha"
gone "$hb"
# The only process left is in a namespace made inside and never mapped.
run as ika nsenter-user --isolate=4096 sh -c "unshare --user sleep 600 >/dev/null 2>&1 & echo \$!"
un=$out
wait_until "the nested process runs sleep" test "$(cat "/proc/$un/comm" 2>/dev/null)" = sleep
is "$(umap "$un")" "" "(its namespace has no uid map)"
rm -f "$sdir/.slices"
run as ika nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(second)" "records removed: a process in an unmapped namespace inside the slice still holds it"
kill -KILL "$un"
gone "$un"
run as ika nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(first)" "once it has ended, the slice is free"

# --- 3: a zombie whose other thread runs on is still in the namespace ------------------------------
run as ika nsenter-user --keep z --isolate=4096
hz=$(holder z)
is "$rc:$(umap "$hz")" "0:$(first)" "--keep z --isolate: the first slice"
bg tl as ika nsenter-user --join z "$H/thread-leader"
wait_until "the main thread of thread-leader has ended" grep -q '^State:.Z' "/proc/$tl/status"
is "$(sed -n 's/^Threads:\t//p' "/proc/$tl/status"):$(readlink "/proc/$tl/ns/user")" "2:$(readlink "/proc/$hz/ns/user")" \
	"thread-leader: a zombie with 2 threads, in z's namespace"
run as ika nsenter-user --stop z
is "$rc:$err" "0:nsenter-user: session 'z' is stopped, but process $tl is still in its namespace: its slice stays taken until no process is left there" \
	"--stop z: the zombie with a live thread holds the slice"
gone "$hz"
run as ika nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(second)" "... and the next --isolate does not get it"
kill -KILL "$tl"
gone "$tl"
run as ika nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(first)" "once the thread has ended too, the slice is free"

# --- 4: a process in an unmapped namespace inside a session's slice ---------------------------------
run as ika nsenter-user --keep u --isolate=4096
hu=$(holder u)
rm -f "$w/u-ready"
bg uj as ika nsenter-user --join u unshare --user sh -c "touch $w/u-ready; exec sleep 600"
wait_until "the join is in its nested namespace" test -e "$w/u-ready"
is "$(umap "$uj")" "" "(the join's nested namespace has no uid map)"
run as ika nsenter-user --stop u
is "$rc:$err" "0:nsenter-user: session 'u' is stopped, but process $uj is still in its namespace: its slice stays taken until no process is left there" \
	"--stop u: a process in an unmapped namespace made inside holds the slice"
gone "$hu"
kill -KILL "$uj"
gone "$uj"

# --- 5: a record made in another pid namespace --------------------------------------------------
# The reservation of an --isolate started in a new pid namespace, while its
# newuidmap waits at a gate: its pid there (1) names another process here.
real=$(command -v newuidmap)
mkfifo "$w/gate"
chown ika "$w/gate"
cat > "$w/newuidmap" <<EOF
#!/bin/sh
if [ \$# -eq 0 ]; then exec $real; fi
touch $w/started
read go < $w/gate
exec $real "\$@"
EOF
chmod 755 "$w/newuidmap"
as_argv ika
bg inner unshare --pid --fork --mount-proc "${AS[@]}" NEWUIDMAP="$w/newuidmap" \
	sh -c "exec nsenter-user --isolate=4096 cat /proc/self/uid_map > $w/inner.out"
wait_until "the inner newuidmap waits at the gate" test -e "$w/started"
rec=$(grep ' pid=1 ' "$sdir/.slices")
like "$rec" "^uid=$((sub + 4096)) .* pid=1 start=[0-9]+ pidns=[0-9]+ nspid=1\$" \
	"the record names pid 1 of its pid namespace (the second slice: u's record, whose holder it cannot see, is kept there)"
isnt "$(echo "$rec" | sed 's/.*pidns=\([0-9]*\).*/\1/')" "$(stat -L -c %i /proc/self/ns/pid)" "... which is not ours"
run as ika nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(first)" "here, its reservation holds: pid 1 here is another process, the owner is found by its pid namespace (u's, seen gone from here, is free)"
echo go > "$w/gate"
wait "$inner"
is "$(echo $(cat "$w/inner.out"))" "$(second)" "the inner --isolate got the second slice"

# --- 6: --stop decides under the lock --------------------------------------------------------
run as ika nsenter-user --keep s --isolate=4096
hs=$(holder s)
rm -f "$w/s-ready"
bg sj as ika nsenter-user --join s sh -c "touch $w/s-ready; exec sleep 600"
wait_until "the join of s runs" test -e "$w/s-ready"
mkfifo "$w/unlock"
bg locker flock "$sdir/.slices.lock" sh -c "touch $w/locked; read x < $w/unlock"
wait_until "the test holds the slice lock" test -e "$w/locked"
bg stopper as ika sh -c "exec nsenter-user --stop s 2>$w/stop.err"
wait_until "--stop s waits for the slice lock" grep -Eq "^[0-9]+: -> FLOCK +ADVISORY +WRITE +$stopper " /proc/locks
# While it waits, the join ends: what it decides must be what is true once it has the lock.
kill -KILL "$sj"
gone "$sj"
echo go > "$w/unlock"
wait "$stopper"
is "$?:$(cat "$w/stop.err")" "0:" "--stop s: exit 0, and no word of a process left: it looked once it had the lock"
is "$(grep -c 'session=s' "$sdir/.slices")" 0 "--stop s looked at the namespace under the lock: the join had ended, the slice is free"
run as ika nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(first)" "... and given again"

# --- 2: /tmp/nskit-UID made first by another user ------------------------------------------------
ubid=$(id -u ikb)
bsub=$(awk -F: '$1 == "ikb" {print $2; exit}' /etc/subuid)
as ika mkdir -m 700 "/tmp/nskit-$ubid"
run as ikb nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $bsub 4096" "ikb's /tmp/nskit-UID made by ika first: --isolate still works"
run as ikb nsenter-user --keep k --isolate=4096
is "$rc:$(umap "$(sed -n 's/^pid=//p' "$NSKIT_SANDBOX/run/$ubid/nskit/k")")" "0:0 $bsub 4096" "(a session too)"
bhome=$NSKIT_SANDBOX/home/ikb
like "$(cat "$bhome/.cache/nskit/.slices")" "^uid=$bsub .* session=k" "the records are in ikb's home, ~/.cache/nskit"
is "$(stat -c '%U %a' "$bhome/.cache/nskit")" "ikb 700" "... private"
run as ikb nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $((bsub + 4096)) 4096" "... and they are used: the next slice"
as ikb nsenter-user --stop k
chown root "$bhome"
run as ikb nsenter-user --isolate=4096 true
is "$rc:$err" "1:nsenter-user: '/tmp/nskit-$ubid' belongs to uid $uid, not to you (uid $ubid), and there is no other place for your slice records (no /run/user/$ubid, no home folder of yours) (ask root to remove '/tmp/nskit-$ubid')" \
	"no home of its own either: a clear error"
chown ikb "$bhome"
rm -rf "/tmp/nskit-$ubid"

# --- 1: /run/user/UID, made by root, holds the records where it exists --------------------------------
# (Inside a mount namespace of the test's own, with a /run/user of its own.)
as_argv ika
run unshare -m sh -c "mount -t tmpfs -o mode=755 tmpfs /run/user && install -d -o $uid -m 700 /run/user/$uid &&
	\"\$@\" nsenter-user --isolate=4096 cat /proc/self/uid_map && cat /run/user/$uid/nskit/.slices &&
	stat -c '%U %a' /run/user/$uid/nskit" sh "${AS[@]}"
like "$(echo $out)" "^0 $sub 4096 nskit-slices 1 uid=$sub gid=[0-9]+ count=4096 pid=[0-9]+ .* ika 700\$" \
	"/run/user/UID made by root: the records are in /run/user/UID/nskit"
run unshare -m sh -c "mount -t tmpfs -o mode=777 tmpfs /run/user && install -d -o $uid -m 700 /run/user/$uid &&
	\"\$@\" nsenter-user --isolate=4096 true && ls -A /run/user/$uid" sh "${AS[@]}"
is "$rc:$out" "0:" "/run/user open to all (not what logind makes): not used"
run unshare -m sh -c "mount -t tmpfs -o mode=755 tmpfs /run/user && install -d -o $uid -m 755 /run/user/$uid &&
	\"\$@\" nsenter-user --isolate=4096 true && ls -A /run/user/$uid" sh "${AS[@]}"
is "$rc:$out" "0:" "/run/user/UID open to others: not used"

# --- tmpfiles.d: /tmp/nskit-* is never cleaned --------------------------------------------------------
d=$w/dest
run make -s -C "$NSKIT_TOP" install-tmpfiles DESTDIR="$d" PREFIX=/usr
conf=$d/usr/lib/tmpfiles.d/nskit.conf
is "$rc:$(stat -c %a "$conf" 2>&1):$(grep -v '^#' "$conf")" "0:644:x /tmp/nskit-*" "make install-tmpfiles (part of make install) installs PREFIX/lib/tmpfiles.d/nskit.conf: x /tmp/nskit-*"
if command -v systemd-tmpfiles >/dev/null; then
	# Its line at work on a folder of the test: a clean by age spares what it names.
	t=$w/tmpclean
	mkdir -p "$t/nskit-1000" "$t/other"
	touch -d '2 days ago' "$t/nskit-1000/.slices" "$t/other/f" "$t/nskit-1000" "$t/other"
	{ echo "d $t - - - mM:1h"; sed "s|/tmp/|$t/|" "$conf"; } > "$w/clean.conf"
	run systemd-tmpfiles --clean "$w/clean.conf"
	is "$rc:$([ -e "$t/nskit-1000/.slices" ]; echo $?):$([ -e "$t/other/f" ]; echo $?)" "0:0:1" \
		"systemd-tmpfiles --clean: an old file in nskit-* stays, one elsewhere goes"
else
	skip "systemd-tmpfiles --clean spares nskit-*" "no systemd-tmpfiles"
fi

done_testing

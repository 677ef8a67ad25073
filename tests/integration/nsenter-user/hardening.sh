#!/bin/bash
# nsenter-user hardening (issue 13): supplementary groups with -U/-G,
# zombie holders, --stop of a record naming another user's process, FIFOs
# in the session folder, signal deaths through --fork, --kill-child, and a
# command line that ps shows as it was given.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nhu || exit 1
mkuser nho || exit 1
uid=$(id -u nhu) gid=$(id -g nhu)
dir=$NSKIT_SANDBOX/run/$uid/nskit
H=$NSKIT_SANDBOX/helpers
shared=$NSKIT_SANDBOX/shared
install -d -m 1777 "$shared"
holder() { sed -n 's/^pid=//p' "$dir/$1"; }
# until CMD... succeeds (5 s at most)
until_ok() { local i=0; until "$@"; do i=$((i + 1)); [ $i -gt 500 ] && return 1; sleep 0.01; done; }
gone() { until_ok test ! -e "/proc/$1"; }
zombie() { [ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# --- 6: -U/-G drop the caller's supplementary groups ------------------------------------
groupadd nhgrp || exit 1
grp=$(getent group nhgrp | cut -d: -f3)
echo secret > "$shared/grpfile"
chown root:nhgrp "$shared/grpfile"
chmod 0640 "$shared/grpfile"
# shellcheck disable=SC2046
NHU=(setpriv --reuid=nhu --regid="$gid" --groups="$grp" -- env -i $(user_env nhu))
run "${NHU[@]}" sh -c 'id -G; cat '"$shared/grpfile"
is "$rc:$out" "0:$gid $grp
secret" "the caller is in group nhgrp and reads the group's 0640 file"
run "${NHU[@]}" nsenter-user -U 5 -G 5 id -G
is "$rc:$out" "0:5" "-U 5 -G 5: no supplementary group left (as unshare --setuid --setgid)"
run "${NHU[@]}" nsenter-user -U 5 -G 5 cat "$shared/grpfile"
like "$rc:$err" "^1:cat: .*Permission denied" "... so the group's file is not readable any more"
run "${NHU[@]}" nsenter-user --keep g1
run "${NHU[@]}" nsenter-user --join g1 -U 5 -G 5 id -G
is "$rc:$out" "0:5" "--join with -U/-G drops them too"
run "${NHU[@]}" nsenter-user --stop g1
run "${NHU[@]}" nsenter-user --setgroups deny -U 5 -G 5 sh -c 'id -G; cat /proc/self/setgroups'
is "$rc:$(echo $out)" "0:5 $(cat /proc/sys/kernel/overflowgid) deny" \
	"--setgroups deny: the kernel keeps them, shown as the overflow gid (as the man page says)"
run "${NHU[@]}" nsenter-user id -G
is "$rc:$out" "0:0 $(cat /proc/sys/kernel/overflowgid)" "without -U/-G (root inside): kept, as unshare --map-root-user does"

# --- 7: a zombie holder is stale -----------------------------------------------------------
bg sr as nhu "$H/subreaper" nsenter-user --keep z
until_ok test -s "$dir/z"
hz=$(holder z)
until_ok grep -q '^PPid:[[:space:]]*'"$sr"'$' "/proc/$hz/status"
kill -KILL "$hz"
until_ok zombie "$hz"
is "$(zombie "$hz" && echo zombie)" zombie "the holder is a zombie its parent (a subreaper that never reaps) keeps"
run as nhu nsenter-user --list
is "$(echo "$out" | awk '$1 == "z" {print $2, $3, $6}')" "$hz - stale" "--list: a zombie holder is stale"
expect_fail 1 "nsenter-user: session 'z' has ended (its holder, process $hz, is a zombie its parent has not reaped) (run 'nsenter-user --stop z' to remove it, then '--keep z' again)" \
	"--join of it explains and names --stop" as nhu nsenter-user --join z true
run as nhu nsenter-user --keep z
is "$rc:$err" "0:" "--keep of the same name replaces it"
isnt "$(holder z)" "$hz" "... with a new holder"
is "$(cat "/proc/$(holder z)/comm")" nskit-holder "... that runs"
run as nhu nsenter-user --stop z
is "$rc" 0 "--stop of the new one"

# --- 8: --stop of a record naming another user's process ---------------------------------
bg other as nho sleep 600
until_ok test "$(cat /proc/$other/comm 2>/dev/null)" = sleep
start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$other/stat")
as nhu nsenter-user --keep f
hf=$(holder f)
# The record of f, its pid and start time now those of nho's process.
sed -i -e "s/^pid=.*/pid=$other/" -e "s/^start=.*/start=$start/" "$dir/f"
run as nhu nsenter-user --stop f
is "$rc:$err" "0:nsenter-user: session 'f' belongs to uid $(id -u nho), not to you (uid $uid): only its record is removed, the process is left alone" \
	"--stop of a record naming another user's process: exit 0, says so"
is "$([ -e "$dir/f" ]; echo $?):$(cat /proc/$other/comm)" "1:sleep" "the record is gone, the other user's process untouched"
is "$(cat /proc/$hf/comm)" nskit-holder "the holder the record named before still runs: nothing was signalled"
kill -KILL "$hf"

# --- 9: a FIFO in the session folder never hangs ---------------------------------------------
as nhu nsenter-user --keep ok1
mkfifo "$dir/fifo"
chown nhu "$dir/fifo"
as_argv nhu
run timeout 20 "${AS[@]}" nsenter-user --list
is "$rc:$(echo "$out" | awk 'NR > 1 {print $1}')" "0:ok1" "--list with a FIFO among the records: no hang, the FIFO is not a session"
expect_fail 1 "nsenter-user: the record of session 'fifo' is not a regular file (remove it)" \
	"--join of a FIFO record: a clear error, no hang" timeout 20 "${AS[@]}" nsenter-user --join fifo true
ln -s /dev/zero "$dir/zero"
expect_fail 1 "nsenter-user: the record of session 'zero' is not a regular file (remove it)" \
	"--join of a symlink record: not followed" timeout 20 "${AS[@]}" nsenter-user --join zero true
rm -f "$dir/fifo" "$dir/zero"
as nhu nsenter-user --stop ok1

# --- 10: --fork passes a death by signal on; --kill-child ----------------------------------
as_argv nhu
run python3 -c 'import subprocess, sys; print(subprocess.run(sys.argv[1:]).returncode)' \
	"${AS[@]}" nsenter-user --fork sh -c 'kill -TERM $$'
is "$rc:$out" "0:-15" "--fork: a child killed by SIGTERM, and the caller (Python) sees death by SIGTERM"
run python3 -c 'import subprocess, sys; print(subprocess.run(sys.argv[1:]).returncode)' \
	"${AS[@]}" nsenter-user --fork sh -c 'kill -KILL $$'
is "$rc:$out" "0:-9" "... and by SIGKILL"
run bash -c '"$@"; echo $?' - "${AS[@]}" nsenter-user --fork sh -c 'exit 7'
is "$out" 7 "--fork: an exit status is passed on as it is"
run bash -c '"$@"; echo $?' - "${AS[@]}" nsenter-user --fork sh -c 'kill -HUP $$'
is "$out" 129 "a shell sees 128+N"

# SIGKILL nsenter-user --fork: the child gets the --kill-child signal.
rm -f "$shared/term"
bg kc as nhu nsenter-user --kill-child=TERM sh -c "trap 'echo got TERM > $shared/term; exit 0' TERM; touch $shared/kc-ready; while :; do sleep 0.05; done"
until_ok test -e "$shared/kc-ready"
kill -KILL "$kc"
until_ok test -s "$shared/term"
is "$(cat "$shared/term" 2>/dev/null)" "got TERM" "--kill-child=TERM: SIGKILL nsenter-user, the child gets SIGTERM"
for opt in --kill-child --fork; do
	rm -f "$shared/kc-ready"
	bg kc as nhu nsenter-user $opt sh -c "touch $shared/kc-ready; exec sleep 600"
	until_ok test -e "$shared/kc-ready"
	until_ok test "$(cat "/proc/$(pgrep -P "$kc" | head -1)/comm" 2>/dev/null)" = sleep
	child=$(pgrep -P "$kc" | head -1)
	kill -KILL "$kc"
	gone "$child"
	is "$([ -e "/proc/$child" ]; echo $?)" 1 "$opt: SIGKILL nsenter-user and its child is gone (SIGKILL)"
done
# Killed before the child set PR_SET_PDEATHSIG (killat: the parent dies
# right after its fork, the child goes on once it has): the command is not
# run, with or without a new pid namespace (where getppid() tells nothing).
asan=${ASAN_OPTIONS:-}
mkuser nhk || exit 1
kuid=$(id -u nhk)
for opt in --fork --pid; do
	rm -f "$shared/ran"
	run as nhk env NSKIT_KILLAT=fork LD_PRELOAD="$H/killat.so" ASAN_OPTIONS="$asan:verify_asan_link_order=0" \
		nsenter-user $opt env -u LD_PRELOAD touch "$shared/ran"
	is "$rc" 137 "$opt: nsenter-user killed just after its fork"
	until_ok test -z "$(pgrep -U "$kuid")"
	is "$(pgrep -U "$kuid"):$([ -e "$shared/ran" ]; echo $?)" ":1" "$opt: the child, whose parent died before it was set up, does not run the command"
done
expect_fail 1 "nsenter-user: invalid --kill-child signal 'NOPE': use a name (TERM, SIGKILL) or a number
Try 'nsenter-user --help' for more information." "--kill-child with no such signal" as nhu nsenter-user --kill-child=NOPE true

# --- 11: argv is never written: /proc/PID/cmdline is the command line given ------------------
rm -f "$shared/c-ready"
bg cp as nhu "$NSKIT_BIN/nsenter-user" --fork sh -c "touch $shared/c-ready; exec sleep 600"
until_ok test -e "$shared/c-ready"
is "$(tr '\0' '|' < "/proc/$cp/cmdline")" "$NSKIT_BIN/nsenter-user|--fork|sh|-c|touch $shared/c-ready; exec sleep 600|" \
	"cmdline of a running nsenter-user --fork (run by path) is exactly its argv"
mkfifo "$shared/maps"
chmod 666 "$shared/maps"
userns_proc up nhu
bg ap as nhu "$NSKIT_BIN/idmap-apply" --from "$shared/maps" "$up"
until_ok test "$(cat "/proc/$ap/comm" 2>/dev/null)" = idmap-apply
is "$(tr '\0' '|' < "/proc/$ap/cmdline")" "$NSKIT_BIN/idmap-apply|--from|$shared/maps|$up|" \
	"cmdline of a running idmap-apply (run by path) is exactly its argv"
echo "b 0 $uid 1" > "$shared/maps"
for t in nsenter-user idmap-apply idmap-show subid-alloc subid-check mnt-share nskit-doctor; do
	# (nskit-doctor's usage errors exit 2: 1 says rootless does not work)
	want=1
	[ $t = nskit-doctor ] && want=2
	expect_fail $want "$t: unrecognized option '--no-such-option'
Try '$t --help' for more information." "$t run by path: getopt's message still names the tool" \
		"$NSKIT_BIN/$t" --no-such-option
done

done_testing

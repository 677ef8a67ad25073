#!/bin/bash
# The target ends and its pid is reused between idmap-apply's last check and
# newuidmap's own open of /proc/PID. Helper wrappers ($NEWUIDMAP) stop at a
# FIFO until the test has killed the target and started another process of
# the same user under the same pid (ns_last_pid of the sandbox's own PID
# namespace). A helper that takes "fd:N" (shadow 4.14+, here a stand-in:
# Debian 12 ships 4.13, and Debian 13's 4.17.4 is built without it, see
# helper-target.sh) writes through /proc/PID opened by idmap-apply and so
# reaches no other process; one that takes only a pid may write the new
# process, and idmap-apply then fails and says so. With the machine's own
# helper the window is therefore open on both releases: the last part
# says which form the release's helper is expected to offer.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-apply/gated.sh.inc"

mkuser alice
a=$(id -u alice) ag=$(id -g alice)
asub=$(awk -F: '$1=="alice"{print $2; exit}' /etc/subuid)
real=$(command -v newuidmap)
w=$NSKIT_SANDBOX/w
install -d -o alice -m 755 "$w"

# --- a helper that takes only a pid (the real 4.13): the race is seen -------
gated nu-pid "$real" pid
userns_proc t alice
exec 7>"$NSKIT_SANDBOX/apply.err"
bg ap as alice env NEWUIDMAP="$w/nu-pid" idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t" 2>&7
exec 7>&-
wait_for "$w/nu-pid.args"
is "$(cat "$w/nu-pid.args")" "$t 0 $a 1 1 $asub 100" "a helper whose usage offers no fd: is given the pid"
reuse "$t" q
if [ "$q" != "$t" ]; then
	status_is 1 "pid $t reused (got $q instead)"
else
	status_is 0 "pid $t now names another process of alice"
	echo go > "$w/nu-pid.gate"
	wait "$ap"
	rc=$?
	is "$rc:$(cat "$NSKIT_SANDBOX/apply.err")" "1:idmap-apply: cannot apply the maps to process $t: process $t ended while newuidmap ran: its pid may name another process now, which may have been given the maps (see /proc/$t/uid_map; a helper that takes fd:N closes this window)" \
		"the ended target is found after the helper ran: exit 1, and why"
	# What is left of the window (idmap-apply(1)): 4.13 wrote the process
	# that took the pid; idmap-apply could only say so.
	is "$(kmap "$q" uid)" "0 $a 1|1 $asub 100" "(the window left with a pid-only helper: the new process got the uid map)"
fi
kill -KILL "$q" 2>/dev/null

# --- a helper that takes fd:N: the process that took the pid is not written --
gated nu-fd "$real" fd
userns_proc t alice
exec 7>"$NSKIT_SANDBOX/apply.err"
bg ap as alice env NEWUIDMAP="$w/nu-fd" idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t" 2>&7
exec 7>&-
wait_for "$w/nu-fd.args"
like "$(cat "$w/nu-fd.args")" "^fd:[0-9]+ 0 $a 1 1 $asub 100\$" "a helper whose usage offers fd:<pidfd> is given fd:N"
reuse "$t" q
if [ "$q" != "$t" ]; then
	status_is 1 "pid $t reused (got $q instead)"
else
	status_is 0 "pid $t now names another process of alice"
	echo go > "$w/nu-fd.gate"
	wait "$ap"
	rc=$?
	is "$rc:$(cat "$NSKIT_SANDBOX/apply.err")" "1:idmap-apply: cannot apply the maps to process $t: process $t ended before newuidmap wrote its map (given the process as fd:N, it wrote no other)" \
		"fd:N of the ended target: the helper fails, exit 1"
	is "$(kmap "$q" uid)" "" "the process that took the pid got no uid map"
fi
kill -KILL "$q" 2>/dev/null

# --- fd:N when nothing races: N is the target's folder, the maps are written --
rm -f "$w/nu-fd.args"
userns_proc t alice
bg ap as alice env NEWUIDMAP="$w/nu-fd" idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t"
wait_for "$w/nu-fd.args"
echo go > "$w/nu-fd.gate"
wait "$ap"
is "$?:$(kmap "$t" uid)|$(kmap "$t" gid)" "0:0 $a 1|1 $asub 100|0 $ag 1" "fd:N names the target: its maps are written"

# --- the real helper, no wrapper: asked, not assumed ------------------------
if "$real" 2>&1 | grep -q 'fd:<pidfd>'; then want=1; else want=0; fi
case "$NSKIT_RELEASE" in
bookworm | trixie)
	# bookworm: 4.13's usage; trixie: 1:4.17.4-2+deb13u1 prints the same
	is "$want" 0 "$NSKIT_RELEASE's $real offers no fd: (its window is the pid-only one above)" ;;
esac
userns_proc t2 alice
run as alice idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t2"
is "$rc:$err:$(kmap "$t2" uid)" "0::0 $a 1|1 $asub 100" "the real $real (fd: offered: $want) writes the map"

done_testing

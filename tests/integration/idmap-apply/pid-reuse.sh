#!/bin/bash
# The target ends and its pid is reused between idmap-apply's last check and
# newuidmap's own open of /proc/PID. Helper wrappers ($NEWUIDMAP) stop at a
# FIFO until the test has killed the target and started another process of
# the same user under the same pid (ns_last_pid of the sandbox's own PID
# namespace). A helper that takes "fd:N" (shadow 4.14+, here a stand-in:
# Debian 12 ships 4.13) writes through /proc/PID opened by idmap-apply and
# so reaches no other process; one that takes only a pid may write the new
# process, and idmap-apply then fails and says so.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice) ag=$(id -g alice)
asub=$(awk -F: '$1=="alice"{print $2; exit}' /etc/subuid)
real=$(command -v newuidmap)
w=$NSKIT_SANDBOX/w
install -d -o alice -m 755 "$w"

# slow_helper NAME MODE: $w/NAME, a wrapper of the real newuidmap that
# records its arguments, then waits for a line on the FIFO $w/NAME.gate.
# MODE pid: run without arguments it shows the real helper's usage (4.13:
# no fd:). MODE fd: it offers fd:<pidfd> and, given fd:N, finds the target
# through the inherited folder fd N, as shadow 4.14 does (a folder of an
# ended process can no longer be read, whoever took the pid).
slow_helper() {
	local name=$1 mode=$2
	mkfifo "$w/$name.gate"
	chown alice "$w/$name.gate"
	{
		echo '#!/bin/sh'
		if [ "$mode" = fd ]; then
			echo 'if [ $# -eq 0 ]; then echo "usage: newuidmap [<pid>|fd:<pidfd>] <uid> <loweruid> <count> [ <uid> <loweruid> <count> ] ... " >&2; exit 1; fi'
		else
			echo "if [ \$# -eq 0 ]; then exec $real; fi"
		fi
		echo "echo \"\$*\" > $w/$name.args"
		echo "read go < $w/$name.gate"
		if [ "$mode" = fd ]; then
			echo 'case $1 in fd:*) n=${1#fd:} ;; *) echo "newuidmap: not given fd:N" >&2; exit 1 ;; esac'
			echo 'stat=$(cat /proc/self/fd/$n/stat 2>/dev/null) || { echo "newuidmap: Could not open proc directory for target process" >&2; exit 1; }'
			echo 'shift'
			echo "exec $real \"\${stat%% *}\" \"\$@\""
		else
			echo "exec $real \"\$@\""
		fi
	} > "$w/$name"
	chmod 755 "$w/$name"
}

# wait_file FILE: until FILE exists (the wrapper has started), 10 s at most
wait_file() {
	local i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt 1000 ] && { echo "# timeout waiting for $1"; return 1; }
		sleep 0.01
	done
}

# reuse PID VAR: kill and reap PID, start another process of alice in a user
# namespace of its own under the same pid; $VAR is its pid.
reuse() {
	local old=$1 new i=0
	as_argv alice                   # its command substitutions fork: before
	kill -KILL "$old"
	wait "$old" 2>/dev/null
	# No fork between the write and the start of the new process.
	echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
	"${AS[@]}" unshare --user sleep 600 &
	new=$!
	_tap_bg_pids="$_tap_bg_pids $new"
	while [ "$(readlink "/proc/$new/ns/user" 2>/dev/null)" = "$(readlink /proc/self/ns/user)" ] ||
		[ "$(cat "/proc/$new/comm" 2>/dev/null)" != sleep ]; do
		i=$((i + 1))
		[ $i -gt 1000 ] && { echo "# timeout waiting for $new"; break; }
		sleep 0.01
	done
	eval "$2=$new"
}

# --- a helper that takes only a pid (the real 4.13): the race is seen -------
slow_helper nu-pid pid
userns_proc t alice
exec 7>"$NSKIT_SANDBOX/apply.err"
bg ap as alice env NEWUIDMAP="$w/nu-pid" idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t" 2>&7
exec 7>&-
wait_file "$w/nu-pid.args"
is "$(cat "$w/nu-pid.args")" "$t 0 $a 1 1 $asub 100" "a helper whose usage offers no fd: is given the pid"
reuse "$t" q
if [ "$q" != "$t" ]; then
	ok 1 "pid $t reused (got $q instead)"
else
	ok 0 "pid $t now names another process of alice"
	echo go > "$w/nu-pid.gate"
	wait "$ap"
	rc=$?
	is "$rc:$(cat "$NSKIT_SANDBOX/apply.err")" "1:idmap-apply: cannot apply the maps to process $t: process $t ended while newuidmap ran: its pid may name another process now, which may have been given the maps (see /proc/$t/uid_map; a helper that takes fd:N, shadow 4.14 or later, closes this window)" \
		"the ended target is found after the helper ran: exit 1, and why"
	# What is left of the window (idmap-apply(1)): 4.13 wrote the process
	# that took the pid; idmap-apply could only say so.
	is "$(kmap "$q" uid)" "0 $a 1|1 $asub 100" "(the window left with a pid-only helper: the new process got the uid map)"
fi
kill -KILL "$q" 2>/dev/null

# --- a helper that takes fd:N: the process that took the pid is not written --
slow_helper nu-fd fd
userns_proc t alice
exec 7>"$NSKIT_SANDBOX/apply.err"
bg ap as alice env NEWUIDMAP="$w/nu-fd" idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t" 2>&7
exec 7>&-
wait_file "$w/nu-fd.args"
like "$(cat "$w/nu-fd.args")" "^fd:[0-9]+ 0 $a 1 1 $asub 100\$" "a helper whose usage offers fd:<pidfd> is given fd:N"
reuse "$t" q
if [ "$q" != "$t" ]; then
	ok 1 "pid $t reused (got $q instead)"
else
	ok 0 "pid $t now names another process of alice"
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
wait_file "$w/nu-fd.args"
echo go > "$w/nu-fd.gate"
wait "$ap"
is "$?:$(kmap "$t" uid)|$(kmap "$t" gid)" "0:0 $a 1|1 $asub 100|0 $ag 1" "fd:N names the target: its maps are written"

# --- the real helper, no wrapper: asked, not assumed ------------------------
if "$real" 2>&1 | grep -q 'fd:<pidfd>'; then want=1; else want=0; fi
userns_proc t2 alice
run as alice idmap-apply -u 0:"$a":1 -u 1:"$asub":100 -g 0:"$ag":1 "$t2"
is "$rc:$err:$(kmap "$t2" uid)" "0::0 $a 1|1 $asub 100" "the real $real (fd: offered: $want) writes the map"

done_testing

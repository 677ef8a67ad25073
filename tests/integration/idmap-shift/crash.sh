#!/bin/bash
# Killed at any point (SIGKILL, 50 times at random moments), the same
# command run again completes the shift with every file shifted exactly
# once, setuid bits and capabilities included, with --from and --to
# overlapping (ids 0.. to 10..: a file shifted twice would show it).
# Compared against a manifest of the same tree shifted in one run.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

# Under ASan a run ends in the leak check, which takes longer than the
# shift of this small tree: the kills would land there. Leaks are checked
# by every other file; here the runs exit as soon as they are done.
# (big enough that a run on an idle machine still lasts past the kill)
nfiles=40
if [ -n "${NSKIT_ASAN:-}" ]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi
seed=${NSKIT_SEED:-$$}
RANDOM=$seed
diag "seed $seed (NSKIT_SEED=$seed to repeat)"
src=$NSKIT_SANDBOX/src
st=$NSKIT_SANDBOX/state
mktree "$src"
for d in $(seq 1 8); do
	mkdir -p "$src/many/d$d"
	for f in $(seq 1 $nfiles); do echo "$f" > "$src/many/d$d/f$f"; done
	chown -R "$d:$((d + 1))" "$src/many/d$d"
	setfacl -m "u:$((d + 2)):r" "$src/many/d$d/f1"
	cp /bin/true "$src/many/d$d/s" && chmod 4755 "$src/many/d$d/s" && setcap -n "$d" cap_net_raw+ep "$src/many/d$d/s"
done
cmd=(idmap-shift --state-dir "$st" --no-progress -m 0:10:65536)
t=$NSKIT_SANDBOX/t
mv "$src" "$t"
orig=$(manifest "$t")
# How long one run takes here ($EPOCHREALTIME: no process to time it).
now_us() { local x=${EPOCHREALTIME/[.,]/}; echo $((10#$x)); }
t0=$(now_us)
"${cmd[@]}" "$t" >/dev/null 2>&1
rc=$?
ms=$(( ($(now_us) - t0) / 1000 + 1 ))
is "$rc" 0 "the reference: shifted in one run (${ms} ms)"
fwd=$(manifest "$t")
isnt "$fwd" "$orig" "... which changed the tree"
t0=$(now_us)
"${cmd[@]}" -r "$t" >/dev/null 2>&1
rc=$?
ms2=$(( ($(now_us) - t0) / 1000 + 1 ))
[ $ms2 -lt $ms ] && ms=$ms2
is "$rc|$(manifest "$t")" "0|$orig" "... and back (${ms2} ms)"

# A delay without a process: read(1) with a timeout on a fifo nobody writes.
mkfifo "$NSKIT_SANDBOX/never"
exec 9<>"$NSKIT_SANDBOX/never"
pause() { read -r -t "$1" -u 9; }

# Every third kill waits for the run to be under way (its journal begun,
# no process to look: a loop of shell builtins, up to 20 s or the end of
# the run), then 0 to 8 ms at random: anywhere in the run, between its
# chowns and its xattr writes too. The others die at a chown picked at
# random (below).
J=$(ls "$st"/*.journal)
journal_begun() { # PID: 1 when PID ended first
	local end=$((SECONDS + 20)) L
	while [ $SECONDS -lt $end ] && kill -0 "$1" 2>/dev/null; do
		if [ -e "$J" ]; then
			mapfile -t L < "$J"
			[ ${#L[@]} -gt 0 ] && [ "${L[-1]}" != done ] && return 0
		fi
	done
	return 1
}

# The runs to kill share one CPU with this shell at the lowest priority:
# this machine's load then cannot make them finish before the kill.
taskset -pc 0 $$ >/dev/null
slow=(taskset -c 0 nice -n 19)

# Episodes alternate forward and back; in each, up to 12 runs are killed at
# random moments, then the command runs to its end. A run that ends before
# its kill ends its episode (the tree is done): on a fast machine that is
# nearly half the tries (48 kills in 40 episodes seen), so episodes go on
# until the 50 kills, up to 200 of them (each is a few runs of this small
# tree).
kills=0 interrupted=0 episodes=0 bad=0
while [ $kills -lt 50 ] && [ $episodes -lt 200 ]; do
	episodes=$((episodes + 1))
	if [ $((episodes % 2)) = 1 ]; then dir=(); want=$fwd; else dir=(-r); want=$orig; fi
	for try in $(seq 1 13); do
		if [ $try -lt 13 ] && [ $((try % 3)) != 0 ]; then
			# Two tries in three die at a chown picked at random, the
			# Nth (killat.so): a kill that always lands in the shift,
			# however fast this machine runs it.
			env NSKIT_KILLAT=fchownat NSKIT_KILLAT_AFTER=$((1 + RANDOM % 60)) LD_PRELOAD="$H/killat.so" \
				ASAN_OPTIONS="$asan:detect_leaks=0" \
				"${cmd[@]}" "${dir[@]}" "$t" >/dev/null 2>"$NSKIT_SANDBOX/err" &
		elif [ $try -lt 13 ]; then
			"${slow[@]}" "${cmd[@]}" "${dir[@]}" "$t" >/dev/null 2>"$NSKIT_SANDBOX/err" &
		else
			"${cmd[@]}" "${dir[@]}" "$t" >/dev/null 2>"$NSKIT_SANDBOX/err" &
		fi
		pid=$!
		if [ $try -lt 13 ] && [ $((try % 3)) = 0 ]; then
			journal_begun $pid
			# The kill lands at a random moment of the run (not a wait for anything).
			pause "$(printf '0.%04d' $((RANDOM % 80)))"
			kill -KILL $pid 2>/dev/null
		fi
		wait $pid 2>/dev/null
		r=$?
		[ $r = 0 ] && break    # finished before the kill
		if [ $r != 137 ]; then
			bad=$((bad + 1))
			diag "run $try of episode $episodes: exit $r" "$(cat "$NSKIT_SANDBOX/err")"
			break
		fi
		kills=$((kills + 1))
		# Killed after its last change: the journal is done, and these
		# maps overlap, so the same command would be refused (shift.sh
		# shows it): the tree is done.
		[ -n "$(ls "$st")" ] && [ "$(tail -n 1 "$st"/*.journal)" = done ] && break
		[ -n "$(ls "$st")" ] && interrupted=$((interrupted + 1))
	done
	got=$(manifest "$t")
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1))
		diag "episode $episodes differs:" "$(diff <(echo "$want") <(echo "$got") | head -20)"
		break
	fi
done
status_is $(( kills >= 50 ? 0 : 1 )) "50 SIGKILLs at random points ($kills in $episodes episodes)"
status_is $(( interrupted > 0 ? 0 : 1 )) "... $interrupted of them in the middle of a shift (a journal left)"
is "$bad" 0 "after every episode, the command run again gave exactly the one-run result"
is "$(tail -n 1 "$st"/*.journal)" done "the journal says done once complete"
want=$([ $((episodes % 2)) = 1 ] && echo "$orig" || echo "$fwd")

# A shift that stops half way (an immutable file: chown fails) keeps its
# journal: other maps are refused, the same command finishes it.
if [ $((episodes % 2)) = 1 ]; then dir=(-r); want=$orig; else dir=(); want=$fwd; fi
if chattr +i "$t/many/d3/f2" 2>/dev/null; then
	run "${cmd[@]}" "${dir[@]}" --unmapped keep "$t"
	like "$rc|$err" "^1\|idmap-shift: cannot chown '$t/many/d3/f2' to [0-9:]+: Operation not permitted" "an immutable file: the shift stops short of it"
	chattr -i "$t/many/d3/f2"
	j=$(ls "$st"/*.journal)
	is "$(grep -c '^f ' "$j")|$(grep -c '^done' "$j")" "1|0" "... and its journal is not done: the file is recorded as failed"
	expect_fail 1 "idmap-shift: an interrupted shift of '$t' with other maps is pending (run that command again to finish it, or remove '$j' if the tree was restored)" \
		"an interrupted shift and other maps: refused" idmap-shift --state-dir "$st" -m 0:20:65536 "$t"
	run "${cmd[@]}" "${dir[@]}" --unmapped keep "$t"
	is "$rc|$err" "0|idmap-shift: resuming the interrupted shift of '$t' (journal '$j')" "the same command resumes it, and says so"
	is "$(manifest "$t")" "$want" "... to the one-run result"
elif ! command -v chattr >/dev/null; then
	# A Debian 13 minbase has no e2fsprogs (Priority: important; required in 12).
	skip "an interrupted shift and other maps: refused" "chattr is not installed (scripts/install-deps installs e2fsprogs)"
else
	skip "an interrupted shift and other maps: refused" "no chattr +i on this file system"
fi

done_testing

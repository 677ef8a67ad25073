#!/bin/bash
# subid-alloc: 32 concurrent runs and a concurrent useradd leave no overlap
# and no lost line (shadow's lckpwdf + FILE.lock protocol on both sides).
. "$NSKIT_TOP/tests/integration/lib.sh"

: > /etc/subuid
: > /etc/subgid
# 32 x 4 users without ranges, appended the way vipw would
for i in $(seq 1 32); do
	for j in 1 2 3 4; do
		echo "c${i}_$j:x:$((20000 + i * 10 + j)):100::/nonexistent:/bin/sh"
	done
done >> /etc/passwd
pids=""
for i in $(seq 1 32); do
	subid-alloc "c${i}_1" "c${i}_2" "c${i}_3" "c${i}_4" > "$TMPDIR/out.$i" 2>&1 &
	pids="$pids $!"
	[ "$i" = 16 ] && { useradd -M racer > "$TMPDIR/useradd.out" 2>&1 & upid=$!; }
done
st=0
for p in $pids; do
	wait "$p" || st=1
done
wait "$upid"
ust=$?
is "$st" 0 "32 concurrent subid-alloc runs succeed"
is "$ust" 0 "the concurrent useradd succeeds"
is "$(grep -c '^c' /etc/subuid):$(grep -c '^c' /etc/subgid)" "128:128" "no lost line: 128 users in both files"
is "$(grep -c '^racer:' /etc/subuid):$(grep -c '^racer:' /etc/subgid)" "1:1" "useradd's ranges are there too"
run subid-check
is "$rc:$out" "0:" "subid-check: no overlap, nothing wrong"
check "no lock files left" test -z "$(ls /etc/subuid.lock /etc/subgid.lock /etc/subuid.[0-9]* 2>/dev/null)"
# every run got distinct, contiguous-from-100000 ranges
is "$(cut -d: -f2 /etc/subuid | sort -n | awk 'NR>1 && $1!=p+65536{bad=1} {p=$1} END{print bad+0}')" 0 "the ranges are packed with no gap and no overlap"

done_testing

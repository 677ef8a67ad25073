#!/bin/bash
# subid-alloc killed with SIGKILL at random points leaves each file either
# as it was or as a complete run writes it: never a partial file.
. "$NSKIT_TOP/tests/integration/lib.sh"

# 20000 users without ranges (1000 ids each: 65536 would not fit 20000 times)
# make a run long enough to be hit while writing
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "k%d:x:%d:100::/nonexistent:/bin/sh\n", i, 30000 + i }' >> /etc/passwd
printf '# seeded\nold:100000:65536\njunk line\n' > /etc/subuid
cp /etc/subuid /etc/subgid
cp /etc/subuid "$TMPDIR/old"
run subid-alloc -c 1000 -A
is "$rc" 0 "a complete run for 20000 users"
cp /etc/subuid "$TMPDIR/newu"
cp /etc/subgid "$TMPDIR/newg"
isnt "$(cat "$TMPDIR/newu")" "$(cat "$TMPDIR/old")" "the new file differs from the old one"

bad=0 seen_old=0 seen_new=0
for i in $(seq 1 60); do
	cp "$TMPDIR/old" /etc/subuid
	cp "$TMPDIR/old" /etc/subgid
	subid-alloc -c 1000 -A > /dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for f in u g; do
		if cmp -s "/etc/sub${f}id" "$TMPDIR/old"; then
			seen_old=$((seen_old + 1))
		elif cmp -s "/etc/sub${f}id" "$TMPDIR/new$f"; then
			seen_new=$((seen_new + 1))
		else
			bad=$((bad + 1))
			diag "run $i: /etc/sub${f}id is neither old nor new ($(wc -l < "/etc/sub${f}id") lines)"
		fi
	done
done
is "$bad" 0 "60 runs killed at random points: every file old or new"
diag "old $seen_old, new $seen_new"
# the stale locks of the killed runs do not block the next run
cp "$TMPDIR/old" /etc/subuid
cp "$TMPDIR/old" /etc/subgid
run subid-alloc -c 1000 -A
is "$rc" 0 "a run after the kills succeeds (stale locks removed)"
check "and writes the same file" cmp /etc/subuid "$TMPDIR/newu"

done_testing

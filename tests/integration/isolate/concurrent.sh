#!/bin/bash
# nsenter-user --isolate: 16 starts at the same time get 16 disjoint slices
# (the records are locked); the 17th finds none; all are free again after.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser isc || exit 1
uid=$(id -u isc)
sub=$(sed -n "s/^isc:\([0-9]*\):.*/\1/p" /etc/subuid)
subg=$(sed -n "s/^isc:\([0-9]*\):.*/\1/p" /etc/subgid)
dir=$NSKIT_SANDBOX/run/$uid/nskit
sdir=/tmp/nskit-$uid    # the slice records: one place per uid, whatever XDG_RUNTIME_DIR says
D=$NSKIT_SANDBOX/conc
install -d -m 1777 "$D"

pids=()
for i in $(seq 1 16); do
	bg p as isc nsenter-user --isolate=4096 sh -c \
		"cat /proc/self/uid_map /proc/self/gid_map > $D/m.$i.tmp && mv $D/m.$i.tmp $D/m.$i; exec sleep 600"
	pids[i]=$p
done
for i in $(seq 1 16); do wait_for "$D/m.$i"; done
all_ok=0
for i in $(seq 1 16); do [ -e "/proc/${pids[i]}" ] || all_ok=1; done
status_is $all_ok "16 concurrent nsenter-user --isolate=4096 all run"
got=$(for i in $(seq 1 16); do echo $(cat "$D/m.$i"); done | sort -n -k2 | paste -sd'|')
want=$(for i in $(seq 0 15); do echo "0 $((sub + i * 4096)) 4096 0 $((subg + i * 4096)) 4096"; done | paste -sd'|')
is "$got" "$want" "16 disjoint slices that fill the range (uid_map and gid_map)"
is "$(for i in $(seq 1 16); do kmap "${pids[i]}" uid; done | sort -u | wc -l)" 16 "... as the kernel shows them"
is "$(grep -c "^uid=" "$sdir/.slices")" 16 "16 records"

# The 17th: none left; the message names the 16 owners in order of their slices.
owners=$(for i in $(seq 1 16); do echo "$(kmap "${pids[i]}" uid | cut -d' ' -f2) ${pids[i]}"; done | sort -n |
	awk '{printf "%spid %s: 4096", (NR > 1 ? ", " : ""), $2}')
expect_fail 1 "nsenter-user: no free slice of 4096 ids: 0 of 65536 subordinate uids free, 65536 in use ($owners) (run 'subid-alloc --count 131072 isc' as root, or use a smaller --isolate=SIZE)" \
	"the 17th gets no slice: one line naming every owner" as isc nsenter-user --isolate=4096 true

# One ends: its slice, and only it, is free.
kill -KILL "${pids[5]}"
i=0; while [ -e "/proc/${pids[5]}" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
run as isc nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(cat "$D/m.5" | head -1 | tr -s ' ' | sed 's/^ //')" "the slice of the one that ended is reused"

for i in $(seq 1 16); do kill -KILL "${pids[i]}" 2>/dev/null; done
for i in $(seq 1 16); do j=0; while [ -e "/proc/${pids[i]}" ] && [ $j -lt 500 ]; do sleep 0.01; j=$((j + 1)); done; done
run as isc nsenter-user --isolate cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:0 $sub 65536" "after all ended, the whole range is one free slice again"

done_testing

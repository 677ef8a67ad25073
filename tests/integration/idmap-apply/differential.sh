#!/bin/bash
# Differential: for the same extents, the kernel's maps after idmap-apply
# equal those after util-linux 'unshare --map-user(s)/--map-group(s)'.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice)
ag=$(id -g alice)
s=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
sg=$(awk -F: '$1=="alice"{print $2}' /etc/subgid)

# Each case: unshare's options | idmap-apply's options (same extents).
cases=(
	"--map-users=$s,0,65536 --map-groups=$sg,0,65536|-u 0:$s:65536 -g 0:$sg:65536"
	"--map-user=0 --map-group=0 --map-users=$s,1,65536 --map-groups=$sg,1,65536|-u 0:$a:1 -u 1:$s:65536 -g 0:$ag:1 -g 1:$sg:65536"
	"--map-user=0 --map-group=0 --map-users=$((s + 10)),5,100 --map-groups=$((sg + 500)),7,30|-u 0:$a:1 -u 5:$((s + 10)):100 -g 0:$ag:1 -g 7:$((sg + 500)):30"
	"--map-user=$a --map-group=$ag --map-users=$s,0,$((a - 1)) --map-groups=$sg,0,$((ag - 1))|-u $a:$a:1 -u 0:$s:$((a - 1)) -g $ag:$ag:1 -g 0:$sg:$((ag - 1))"
	"--map-user=1000000 --map-group=0 --map-users=$s,0,1|-u 1000000:$a:1 -u 0:$s:1 -g 0:$ag:1"
	"--map-users=$((s + 65535)),4294967294,1 --map-groups=$sg,4294967000,294|-u 4294967294:$((s + 65535)):1 -g 4294967000:$sg:294"
)

sorted() { tr '|' '\n' | sort -n | paste -sd'|'; }

for c in "${cases[@]}"; do
	ul=${c%%|*}
	nk=${c#*|}
	# shellcheck disable=SC2086
	run as alice unshare $ul cat /proc/self/uid_map /proc/self/gid_map
	want=$(tr -s ' ' <<<"$out" | sed 's/^ //')
	if [ "$rc" != 0 ]; then
		status_is 1 "unshare $ul failed: $err"
		continue
	fi
	userns_proc p alice
	# shellcheck disable=SC2086
	run as alice idmap-apply $nk "$p"
	is "$rc" 0 "idmap-apply $nk exits 0"
	got_u=$(kmap "$p" uid | sorted)
	got_g=$(kmap "$p" gid | sorted)
	nu=$(wc -l < "/proc/$p/uid_map")
	want_u=$(head -n "$nu" <<<"$want" | paste -sd'|' | sorted)
	want_g=$(tail -n +"$((nu + 1))" <<<"$want" | paste -sd'|' | sorted)
	is "$got_u" "$want_u" "uid_map equals unshare's for: $ul"
	is "$got_g" "$want_g" "gid_map equals unshare's for: $ul"

done

done_testing

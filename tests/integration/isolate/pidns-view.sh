#!/bin/bash
# --isolate run from inside a pid namespace with a /proc of its own (a
# toolbox-like container: unshare --pid --fork --mount-proc): the owners of
# records made outside are out of its sight, and so are their namespaces.
# Their records are not known to be gone: they are kept, and their slices
# never given again from in there. A record whose owner was seen alive
# below is still reclaimed once it has ended.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser ipv || exit 1
uid=$(id -u ipv)
sub=$(awk -F: '$1 == "ipv" {print $2; exit}' /etc/subuid)
dir=$NSKIT_SANDBOX/run/$uid/nskit
sdir=/tmp/nskit-$uid
w=$NSKIT_SANDBOX/w
install -d -m 1777 "$w"
umap() { kmap "$1" uid; }
gone() { wait_until "process $1 has ended" test ! -e "/proc/$1"; }
slice() { echo "0 $((sub + $1 * 4096)) 4096"; }
# inside CMD...: CMD as ipv in a new pid namespace with its own /proc.
inside() { as_argv ipv; unshare --pid --fork --mount-proc "${AS[@]}" "$@"; }

# --- a slice held from outside; --isolate from inside -----------------------------------------
run as ipv nsenter-user --keep a --isolate=4096
ha=$(sed -n 's/^pid=//p' "$dir/a")
is "$rc:$(umap "$ha")" "0:$(slice 0)" "outside: --keep a --isolate=4096 holds the first slice"
rec_a=$(grep 'session=a$' "$sdir/.slices")
run inside sh -c 'grep -lx nskit-holder /proc/[0-9]*/comm'
is "$out" "" "(inside, the holder of a is out of sight)"
rm -f "$w/in.map"
bg in inside sh -c "nsenter-user --isolate=4096 sh -c 'cat /proc/self/uid_map > $w/in.map.tmp; mv $w/in.map.tmp $w/in.map; exec sleep 600'"
wait_until "the --isolate inside has its map" test -e "$w/in.map"
is "$(tr -s ' ' < "$w/in.map" | sed 's/^ //')" "$(slice 1)" "inside: --isolate gets the next slice, not a's"
is "$(grep -c 'session=a$' "$sdir/.slices"):$(grep 'session=a$' "$sdir/.slices")" "1:$rec_a" \
	"... and a's record, whose owner it cannot see, is still there as it was"
ip=$(pgrep -x sleep -U "$((sub + 4096))")     # root inside: the slice's first uid
is "$(umap "$ip")" "$(slice 1)" "(the kernel's uid map of the inside one, seen from outside)"
echo "$(umap "$ha")|$(umap "$ip")" | awk -F'[ |]' '$2 + $3 <= $5 || $5 + $6 <= $2 { ok = 1 } END { exit !ok }'
status_is $? "the kernel's uid maps of the two namespaces do not overlap"
run inside nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(slice 2)" "a second --isolate inside: neither a's slice nor the first inside one's"
is "$(grep -c 'session=a$' "$sdir/.slices")" 1 "every reclaim from inside keeps a's record"

# --- from outside, the inside ones are below: the live one is seen, and reclaimed once it has ended
run as ipv nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(slice 3)" \
	"outside: neither the live inside one's slice, nor the ended one's, whose pid namespace this /proc never saw (not known to be gone)"
like "$(grep "uid=$((sub + 4096)) " "$sdir/.slices")" " seen=$(stat -L -c %i /proc/self/ns/pid)\$" \
	"the live inside one's record notes that this /proc found its owner, below"
# Its pid namespace ends with its pid 1, and every process in it.
cns=$(readlink "/proc/$ip/ns/pid")
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$cns" ] && [ "$(awk '/^NSpid/ {print $NF}' "$p/status" 2>/dev/null)" = 1 ] &&
		kill -KILL "${p#/proc/}"
done
wait "$in" 2>/dev/null
gone "$ip"
run as ipv nsenter-user --isolate=4096 cat /proc/self/uid_map
is "$rc:$(echo $out)" "0:$(slice 1)" "once its pid namespace has ended, its slice is free again"
is "$(grep -c 'session=a$' "$sdir/.slices")" 1 "a's record stays all along"
as ipv nsenter-user --stop a
gone "$ha"

done_testing

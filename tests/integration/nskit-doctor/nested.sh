#!/bin/bash
# parent-map: alice runs nskit-doctor inside a user namespace whose map
# (made by root) does or does not contain her subordinate ranges.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }
# The finding's row and its continuation lines (wrapped text, the fix), as one line.
line() { printf '%s\n' "$out" | awk -v id="$1" '/^[^ ]/{p=($1==id)} p{printf "%s ", $0} END{print ""}' | tr -s ' ' | sed 's/ $//'; }

mkuser alice
sub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)

bg N unshare --user sleep 600
i=0; while [ "$(readlink /proc/$N/ns/user)" = "$(readlink /proc/self/ns/user)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
run idmap-apply -m 0:0:65536 "$N"
is "$rc" 0 "a narrow namespace: host ids 0-65535 only"
as_argv alice
run nsenter --user --target "$N" "${AS[@]}" nskit-doctor
is "$rc" 1 "inside the narrow namespace: exit 1"
is "$(line parent-map)" "parent-map fail nested user namespace: subordinate uid range $sub-$((sub + 65535)) of 'alice' is not inside one extent of this namespace's uid map fix: map $sub-$((sub + 65535)) into this namespace when it is created, or give 'alice' ranges inside its map (/proc/self/uid_map)" \
	"parent-map fails and says which range"
is "$(finding userns-map)" fail "the full map cannot be written there"

bg W unshare --user sleep 600
i=0; while [ "$(readlink /proc/$W/ns/user)" = "$(readlink /proc/self/ns/user)" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
run idmap-apply -m 0:0:1000000 "$W"
run nsenter --user --target "$W" "${AS[@]}" nskit-doctor
is "$(finding parent-map)" ok "a namespace mapping host ids 0-999999: parent-map ok"
like "$(line parent-map)" "nested user namespace: its map contains every subordinate range of 'alice'" "it says it is nested"
is "$(finding userns-map)" ok "and newuidmap writes the full map inside it"

run as alice nskit-doctor
is "$(line parent-map)" "parent-map ok not in a nested user namespace" "on the host: not nested"

done_testing

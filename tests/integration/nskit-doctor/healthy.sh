#!/bin/bash
# A healthy user: exit 0, every finding ok or warn, stable ids, --json, --quiet.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }

mkuser alice
run as alice nskit-doctor
is "$rc" 0 "a healthy user: exit 0"
is "$(printf '%s\n' "$out" | awk 'NR>1 && /^[^ ]/ && $2=="fail"' )" "" "no finding fails"
ids="userns-max userns-clone userns-apparmor userns-seccomp userns-create userns-nesting userns-map
subuid-file subuid-range subuid-stale subuid-self subuid-overlap subuid-realid subuid-size subuid-extents
subgid-file subgid-range subgid-stale subgid-self subgid-overlap subgid-realid subgid-size subgid-extents
newuidmap newuidmap-nosuid newgidmap newgidmap-nosuid no-new-privs cap-bounding parent-map
xdg-runtime-dir user-env root-shared ping-group-range overflow-ids"
is "$(printf '%s\n' "$out" | awk 'NR>1 && /^[^ ]/{print $1}' | paste -sd' ')" "$(echo $ids)" "every finding id, in order, one line each"
is "$(finding userns-create) $(finding userns-map)" "ok ok" "the probe made a namespace and wrote a full map"
like "$out" "userns-map +ok +a full map was written: 2 uid and 2 gid extents, 65537 uids" "the map probe says what it wrote"
is "$(finding subuid-range) $(finding subgid-range)" "ok ok" "alice has ranges"
is "$(finding xdg-runtime-dir) $(finding user-env)" "ok ok" "the session is alice's"
is "$(finding root-shared)" warn "the sandbox's / is private: root-shared warns"
is "$(finding overflow-ids)" ok "overflow ids are 65534"
is "$(printf '%s\n' "$out" | awk 'length($0) > 100' | head -3)" "" "the table fits 100 columns"
is "$(printf '%s\n' "$out" | awk '$1=="root-shared"{p=1; next} /^[^ ]/{p=0} p && $1=="fix:"{print $1, $2, $3, $4}')" "fix: as root: 'mnt-share'" "a fix that cannot fit beside its finding is on a line of its own"
is "$(printf '%s\n' "$out" | grep -c $'\033')" 0 "no colour when stdout is not a terminal"
run as alice script -qec "TERM=xterm nskit-doctor" /dev/null
like "$out" $'\033\\[33mwarn\033\\[0m' "on a terminal the status is coloured"
run as alice script -qec "TERM=xterm NO_COLOR=1 nskit-doctor" /dev/null
is "$(printf '%s\n' "$out" | grep -c $'\033')" 0 "NO_COLOR: no colour on a terminal either"

run as alice nskit-doctor --json
is "$rc" 0 "--json: exit 0"
is "$(echo "$out" | jq -r '[.findings[].id] | join(" ")')" "$(echo $ids)" "--json has the same findings"
is "$(echo "$out" | jq -r '.findings[] | select(.id=="root-shared") | .status')" warn "--json: status"
like "$(echo "$out" | jq -r '.findings[] | select(.id=="root-shared") | .fix')" "mnt-share" "--json: fix"

run as alice nskit-doctor --quiet
is "$rc" 0 "--quiet: exit 0"
is "$(printf '%s\n' "$out" | awk 'NR>1 && /^[^ ]/ && $2=="ok"')" "" "--quiet prints no ok finding"
like "$out" "root-shared +warn" "--quiet prints the warnings"

# As root for alice: the probe runs as alice.
run nskit-doctor --user alice
is "$rc" 0 "as root, --user alice: exit 0"
is "$(finding userns-map)" ok "as root, --user alice: the map probe ran as alice"
is "$(printf '%s\n' "$out" | awk '$1=="xdg-runtime-dir" || $1=="user-env"')" "" "the session of another user is not checked"
run nskit-doctor --user "$(id -u alice)"
is "$rc" 0 "--user takes a uid"

mkuser bob
run as bob nskit-doctor --user alice
is "$(finding userns-create)" warn "another user without root: not probed"
expect_fail 1 "nskit-doctor: no user 'nosuchuser' (give a name or uid from the passwd database)" "an unknown user" nskit-doctor --user nosuchuser
expect_fail 2 "nskit-doctor: unexpected argument 'x'
Try 'nskit-doctor --help' for more information." "an argument" nskit-doctor x
run nskit-doctor --help
is "$rc" 0 "--help exits 0"
like "$out" "For more details see nskit-doctor\(1\)\.$" "--help ends with the man page"
run nskit-doctor -V
like "$out" "^nskit-doctor from nskit " "--version"

done_testing

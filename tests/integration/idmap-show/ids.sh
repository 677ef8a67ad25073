#!/bin/bash
# --to-host, --to-ns, --gid, --file and --auto against the kernel's view.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
mkuser bob
uid=$(id -u alice)
gid=$(id -g alice)
sub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
subg=$(awk -F: '$1=="alice"{print $2}' /etc/subgid)

userns_proc P alice
run as alice idmap-apply "$P"
is "$rc" 0 "alice's default map"

# A process of uid 7, gid 9 inside: the kernel shows its host ids.
bg Q nsenter --user --target "$P" --setuid 7 --setgid 9 sleep 600
i=0; while [ "$(cat /proc/$Q/comm 2>/dev/null)" != sleep ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
hu=$(awk '/^Uid:/{print $3}' "/proc/$Q/status")
hg=$(awk '/^Gid:/{print $3}' "/proc/$Q/status")
run as alice idmap-show --to-host 7 "$P"
is "$out" "$hu" "--to-host 7 is the host uid the kernel shows"
run as alice idmap-show --gid --to-host 9 "$P"
is "$out" "$hg" "--gid --to-host 9 is the host gid the kernel shows"
run as alice idmap-show --to-ns "$hu" "$P"
is "$out" 7 "--to-ns turns the host uid back into 7"
run as alice idmap-show -g -n "$gid" "$P"
is "$out" 0 "--gid --to-ns: alice's gid is 0 inside"
run as alice idmap-show --to-ns 0 "$P"
is "$out $rc" "65534 0" "--to-ns of an unmapped id: the overflow uid, exit 0"
expect_fail 1 "idmap-show: uid 70000 is not mapped in the user namespace of process $P: the kernel refuses it there (EINVAL, \"invalid argument\") (see 'idmap-show $P')" \
	"--to-host of an unmapped id fails with the reason" as alice idmap-show --to-host 70000 "$P"
run as alice idmap-show --json --to-host 7 "$P"
is "$(echo "$out" | jq -c '.ids[0]')" "{\"type\":\"uid\",\"inside\":7,\"host\":$hu,\"mapped\":true}" "--json --to-host"
run as alice idmap-show --json --to-ns 0 "$P"
is "$(echo "$out" | jq -c '.ids[0]')" '{"type":"uid","inside":65534,"host":0,"mapped":false}' "--json --to-ns of an unmapped id"
expect_fail 1 "idmap-show: invalid uid '-1': not a decimal number" "a bad id" idmap-show --to-host -1

# --file: a file of alice, of her subordinate uid, and of bob (unmapped).
f=$NSKIT_SANDBOX/tmp/f
touch "$f.alice" "$f.sub" "$f.bob"
chown alice:alice "$f.alice"
chown "$((sub + 4)):$((subg + 4))" "$f.sub"
chown bob:bob "$f.bob"
inside() { nsenter --user --target "$P" --setuid 0 --setgid 0 stat -c '%u %g' "$1"; }
run as alice idmap-show --file "$f.alice" "$P"
is "$(echo "$out" | awk 'NR>1{print $1, $4}' | paste -sd' ')" "uid 0 gid 0" "--file: alice's file is root's inside"
is "$(echo "$out" | awk 'NR>1{print $4}' | paste -sd' ')" "$(inside "$f.alice")" "--file agrees with stat inside the namespace"
run as alice idmap-show --file "$f.sub" "$P"
is "$(echo "$out" | awk 'NR>1{print $4}' | paste -sd' ')" "5 5" "--file: subordinate id sub+4 is 5 inside"
is "$(echo "$out" | awk 'NR>1{print $4}' | paste -sd' ')" "$(inside "$f.sub")" "--file agrees with stat inside (subordinate ids)"
run as alice idmap-show --file "$f.bob" "$P"
bu=$(id -u bob)
like "$out" "uid +$bu \(bob\) +65534 uid $bu \(bob\) is not mapped: the namespace sees the overflow uid 65534 \(nobody\)" "--file explains why bob's file shows as nobody"
is "$(echo "$out" | awk 'NR>1{print $4}' | paste -sd' ')" "$(inside "$f.bob")" "--file agrees with stat inside (unmapped: nobody)"
run as alice idmap-show --json --file "$f.bob" "$P"
is "$(echo "$out" | jq -c '.owner[0] | [.type,.host,.inside]')" "[\"uid\",$bu,65534]" "--json --file"
expect_fail 1 "idmap-show: cannot read the owner of '/nonexistent': No such file or directory" "--file of a missing path" idmap-show --file /nonexistent

# --auto: the default map, as a map stream, equal to what idmap-apply writes.
run as alice idmap-show --auto
is "$(echo "$out" | grep -v '^#')" "b 0 $uid 1
b 1 $sub 65536" "--auto: alice to 0, then her subordinate range"
run idmap-show --auto alice
is "$(echo "$out" | grep -v '^#')" "b 0 $uid 1
b 1 $sub 65536" "--auto alice as root gives the same"
is "$(kmap "$P" uid)" "0 $uid 1|1 $sub 65536" "and it is the map the kernel has after idmap-apply --auto"
run idmap-show --auto --json alice
is "$(echo "$out" | jq -c '[.maps[] | .count]')" "[1,65536,1,65536]" "--auto --json"
sed -i '/^bob:/d' /etc/subuid
expect_fail 1 "idmap-show: no subordinate uid range for 'bob' in /etc/subuid (run 'subid-alloc bob' as root)" \
	"--auto for a user without ranges" idmap-show --auto bob
expect_fail 1 "idmap-show: no user 'nosuchuser'" "--auto for an unknown user" idmap-show --auto nosuchuser

done_testing

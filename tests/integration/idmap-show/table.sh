#!/bin/bash
# idmap-show PID: the table of a real namespace, --map, --json, usage errors.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
uid=$(id -u alice)
sub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)
subg=$(awk -F: '$1=="alice"{print $2}' /etc/subgid)
last=$((sub + 65535))
lastg=$((subg + 65535))

userns_proc P alice
run as alice idmap-apply "$P"
is "$rc" 0 "idmap-apply writes alice's default map"
is "$(kmap "$P" uid)" "0 $uid 1|1 $sub 65536" "the kernel has the default uid map"

# The table as alice: her own id is "caller", the rest her subordinate range.
run as alice idmap-show "$P"
is "$rc" 0 "idmap-show PID exits 0"
ino=$(stat -L -c %i "/proc/$P/ns/user")
want="LEVEL     USERNS TYPE  INSIDE       OUTSIDE COUNT          HOST OWNER
    1 $ino uid        0          $uid     1          $uid caller alice
    1 $ino uid  1-65536 $sub-$last 65536 $sub-$last subuid alice
    1 $ino gid        0          $uid     1          $uid caller alice
    1 $ino gid  1-65536 $subg-$lastg 65536 $subg-$lastg subgid alice"
is "$(echo "$out" | tr -s ' ')" "$(echo "$want" | tr -s ' ')" "table: inside, outside, count, host and owner of every extent"

# The same as root: alice's id is a user's id, not the caller's.
run idmap-show "$P"
like "$out" "uid +0 +$uid +1 +$uid +user alice" "as root, alice's own id is owned by 'user alice'"
like "$out" "gid +0 +$uid +1 +$uid +group alice" "as root, alice's gid is owned by 'group alice'"

# --map: a map stream equal to the kernel's maps, which idmap-apply --from takes.
run as alice idmap-show --map "$P"
is "$rc" 0 "--map exits 0"
is "$(echo "$out" | grep -v '^#')" "b 0 $uid 1
b 1 $sub 65536" "--map prints the kernel's maps as a map stream"
echo "$out" > "$NSKIT_SANDBOX/tmp/map"
userns_proc Q alice
run as alice idmap-apply --from "$NSKIT_SANDBOX/tmp/map" "$Q"
is "$rc" 0 "idmap-apply --from takes idmap-show --map's output"
is "$(kmap "$Q" uid)|$(kmap "$Q" gid)" "$(kmap "$P" uid)|$(kmap "$P" gid)" "the copied maps are the kernel's maps of the original"

# --json: valid, numbers as numbers.
run as alice idmap-show --json "$P"
is "$rc" 0 "--json exits 0"
is "$(echo "$out" | jq -c '.maps[1] | [.level,.type,.inside,.outside,.count,.host,.owner]')" \
	"[1,\"uid\",1,$sub,65536,$sub,\"subuid alice\"]" "--json gives each extent with numbers"
is "$(echo "$out" | jq '.maps | length')" 4 "--json has the four extents"

# The process's own namespace (the sandbox runs in the initial one).
run idmap-show
like "$out" " 0 +[0-9]+ +uid +0-4294967294 +0-4294967294 +4294967295 +0-4294967294 +host" "without PID: our own namespace, the whole id space"

# A namespace with no map yet.
userns_proc R alice
run as alice idmap-show "$R"
like "$out" "uid +- +- +- +- +unmapped \(no map written yet\)" "a namespace without a map shows unmapped"
expect_fail 1 "idmap-show: process $R has no uid or gid map yet (write one with 'idmap-apply $R')" \
	"--map of a namespace without a map fails" as alice idmap-show --map "$R"

# Usage.
expect_fail 1 "idmap-show: invalid pid 'x': not a decimal number" "a bad PID" idmap-show x
expect_fail 1 "idmap-show: no process with pid 2147483647" "a PID that does not exist" idmap-show 2147483647
expect_fail 1 "idmap-show: too many arguments: only one PID
Try 'idmap-show --help' for more information." "two PIDs" idmap-show 1 2
expect_fail 1 "idmap-show: --map, --auto, --to-host, --to-ns, --ps and --file are mutually exclusive
Try 'idmap-show --help' for more information." "two modes" idmap-show --map --ps
expect_fail 1 "idmap-show: --gid goes with --to-host or --to-ns
Try 'idmap-show --help' for more information." "--gid alone" idmap-show --gid
run idmap-show --help
is "$rc" 0 "--help exits 0"
like "$out" "For more details see idmap-show\(1\)\.$" "--help ends with the man page"
run idmap-show --version
like "$out" "^idmap-show from nskit " "--version"

done_testing

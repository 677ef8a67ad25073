#!/bin/bash
# subid-check: every finding on seeded files, one line each with FILE:LINE;
# clean on files written by subid-alloc; exit 0 / 1 / 2.
. "$NSKIT_TOP/tests/integration/lib.sh"

useradd -M -u 2001 ann
useradd -M -u 2002 ben
useradd -M -u 2003 cat
useradd -M -u 2004 many
useradd -M -u 150000 -N -g 0 real
groupadd -g 250000 realgrp
: > /etc/subuid
: > /etc/subgid

run subid-check
is "$rc:$out" "0:" "empty files are clean"
run subid-alloc ann ben cat many
run subid-check
is "$rc:$out:$err" "0::" "clean on files written by subid-alloc"
run subid-alloc --json -c 100000 ann
run subid-check --json
is "$rc:$out" "0:" "clean after a second, larger allocation"

{
	echo "# seeded"                   # 1 comment: fine
	echo "ann:100000:65536"           # 2
	echo "ben:160000:65536"           # 3 overlaps ann
	echo "ben:160000:65536"           # 4 duplicate of 3
	echo "ghost:400000:65536"         # 5 owner gone
	echo "cat:2001:65536"             # 6 contains cat's uid 2003 and ann's 2001
	echo "2002:4294967000:65536"      # 7 past the top (owner by uid: ben)
	echo "ann:500000:1000"            # 8 small
	echo "this is junk"               # 9 malformed
	echo "ann::5"                     # 10 malformed
	echo "ben:140000:20000"           # 11 contains real uid 150000
	printf 'cat:700000:65536'         # 12 no final newline
} > /etc/subuid
{
	echo "ann:100000:65536"           # 1: ann has fewer gids than uids
	echo "dan:600000:65536"           # 2: no uids, no such user
	echo "cat:240000:65536"           # 3: contains gid 250000 of realgrp
} > /etc/subgid
awk 'BEGIN { for (i = 0; i < 340; i++) printf "many:%d:65536\n", 1000000 + i * 65536 }' >> /etc/subgid
run subid-check
is "$rc" 1 "findings: exit 1"
U=/etc/subuid G=/etc/subgid
want() { # REGEX DESC
	like "$out" "$1" "$2"
}
want "^$U:9: malformed line 'this is junk': not owner:start:count \(shadow ignores it\)$" "malformed line"
want "^$U:10: malformed line 'ann::5': start or count is not a decimal number" "malformed numbers"
want "^$U:12: no newline at the end of the file" "missing final newline"
want "^$U:3: range 160000-225535 of 'ben' overlaps range 100000-165535 of 'ann' \(line 2\)" "overlap between owners"
want "^$U:4: duplicate of line 3" "duplicate line"
want "^$U:5: owner 'ghost' is no user \(renamed or deleted\? fix or remove the line\)" "owner that does not resolve"
want "^$U:6: range 2001-67536 of 'cat' contains its own uid 2003" "range with its owner's uid"
want "^$U:6: range 2001-67536 of 'cat' contains uid 2001 of user 'ann'" "range over a real user"
want "^$U:11: range 140000-159999 of 'ben' contains uid 150000 of user 'real'" "range over another real user"
want "^$G:3: range 240000-305535 of 'cat' contains gid 250000 of group 'realgrp'" "range over a real group"
want "^$U:7: range 4294967000-4295032535 of '2002' ends past 4294967294, the highest uid" "range past 4294967294"
want "^$U:8: range 500000-500999 of 'ann' has 1000 ids, fewer than 65536" "range smaller than 65536"
want "^$U:5: 'ghost' has subordinate uids but no gids in $G" "uid range, no gid range"
want "^$G:2: 'dan' has subordinate gids but no uids in $U" "gid range, no uid range"
want "^$G:1: 'ann' has 65536 subordinate gids but 66536 uids \($U line 2\)" "different sizes"
want "^$G:4: 'many' has 340 ranges; with its own gid a map holds at most 340 lines" "more extents than the kernel allows"
is "$(grep -vc '^/etc/sub[ug]id:[0-9]*: ' <<<"$out")" 0 "every finding is one FILE:LINE: line"

run subid-check ghost
is "$rc:$out" "1:$U:5: owner 'ghost' is no user (renamed or deleted? fix or remove the line)
$U:5: 'ghost' has subordinate uids but no gids in $G (run 'subid-alloc ghost')" "USER limits the report to that owner"
run subid-check --json ghost
like "$out" '^\{"file": "/etc/subuid", "line": 5, "problem": "no-owner", "message": "owner .ghost. is no user' "--json"

chmod 000 /etc/subuid
mkuser plain
expect_fail 2 "subid-check: cannot read /etc/subuid: Permission denied" "unreadable file: exit 2" as plain subid-check
chmod 644 /etc/subuid
expect_fail 2 "subid-check: cannot open /nonexistent: No such file or directory" "missing root: exit 2" subid-check -R /nonexistent
expect_fail 1 "subid-check: unrecognized option '--bogus'
Try 'subid-check --help' for more information." "bad option" subid-check --bogus

done_testing

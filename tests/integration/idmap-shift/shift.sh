#!/bin/bash
# idmap-shift as root on real files: owners, ACL ids and v3 rootids shifted;
# setuid/setgid bits, capabilities, other xattrs, whiteouts, times and
# hardlinks kept; symlinks shifted themselves, never followed; --reverse
# gives back exactly the original metadata; --dry-run and --check change
# nothing.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/idmap-shift/common.sh.inc"

# Target ids beyond any automatic subordinate range.
max=$(awk '$1 == "SUB_UID_MAX" { print $2 }' /etc/login.defs)
B=$(( ${max:-600100000} + 65536 ))
t=$NSKIT_SANDBOX/tree
st=$NSKIT_SANDBOX/state
mktree "$t"
before=$(manifest "$t")
passwd_owner=$(own /etc/passwd)

run idmap-shift --state-dir "$st" --dry-run -m "0:$B:65536" "$t"
is "$rc|$out" "0|would change 19 of 21 files (3 ACLs, 3 capabilities)" "--dry-run reports what would change"
is "$(manifest "$t")" "$before" "--dry-run changes nothing"

run idmap-shift --state-dir "$st" --check "$t"
is "$rc|$out" "0|" "--check: every id inside the identity --from"
run idmap-shift --state-dir "$st" --check -f - "$t" <<<"b 0 0 1000"
is "$rc" 1 "--check with a --from of 0-999: exit 1"
like "$out" "^$t/home/u: owner uid 1000 is outside --from" "... and lists the offenders"
like "$out" "$t/usr/bin/capv3: capability rootid uid 1000 is outside --from" "... v3 rootids included"
run idmap-shift --state-dir "$st" --check -j 1 -f - "$t" <<<"b 0 0 10
b 1000 1000 1"
is "$rc|$(sort <<<"$out")" "1|$t/home/u: default ACL entry uid 10 is outside --from
$t/var/fifo: ACL entry gid 12 is outside --from" "... and ACL entries (the first one of each file)"

run idmap-shift --state-dir "$st" --json -m "0:$B:65536" "$t"
is "$rc|$err" "0|" "idmap-shift -m 0:B:65536"
like "$out" '^\{"files":21,"changed":19,"acls":3,"capabilities":3,"hardlinks":2,"outside_links":0,"skipped":0,' "--json summary"
is "$(own "$t")|$(own "$t/home/u")|$(own "$t/var/fifo")" "$B:$B|$((B + 1000)):$((B + 1000))|$((B + 5)):$((B + 6))" "owners shifted"
is "$(own "$t/usr/outside")|$passwd_owner" "$((B + 7)):$((B + 8))|$(own /etc/passwd)" "a symlink is shifted itself, its target is not"
is "$(stat -c %a "$t/usr/bin/suid")|$(stat -c %a "$t/usr/bin/sgid")|$(stat -c %a "$t/usr/bin/suidcap")" "4755|2755|4755" "setuid and setgid bits restored"
is "$(getcap "$t/usr/bin/capv2")" "$t/usr/bin/capv2 cap_net_raw=ep" "a v2 capability is kept"
is "$(getcap -n "$t/usr/bin/capv3")" "$t/usr/bin/capv3 cap_net_admin=ep [rootid=$((B + 1000))]" "a v3 rootid is shifted like the owners"
is "$(getcap "$t/usr/bin/suidcap")" "$t/usr/bin/suidcap cap_net_bind_service=ep" "setuid and a capability on one file: both kept"
is "$(getfacl -cpn "$t/home/u/file" 2>/dev/null | grep -E '^(user|group):[0-9]' | paste -sd,)" \
	"user:$((B + 7)):rw-,group:$((B + 8)):r--" "access ACL user and group entries shifted"
is "$(getfacl -cpn "$t/home/u" 2>/dev/null | grep -E '^(default:)?(user|group):[0-9]' | paste -sd,)" \
	"user:$((B + 9)):rwx,default:user:$((B + 10)):rwx,default:group:$((B + 11)):r-x" "default ACL entries shifted"
is "$(getfattr --only-values -n user.note "$t/home/u/file")" "kept byte for byte" "user xattrs kept"
is "$(getfattr --only-values -n trusted.overlay.opaque "$t/var/lib/ov")" "y" "overlay markers kept"
is "$(stat -c '%F %t:%T' "$t/var/lib/ov/whiteout")" "character special file 0:0" "the whiteout is still a 0:0 device"
is "$(stat -c %Y.%X "$t/home/u/file")|$(stat -c %y "$t/usr/outside")" \
	"$(grep '^./home/u/file ' <<<"$before" | sed 's/.* m=\([0-9]*\)\.[0-9]* a=\([0-9]*\)\..*/\1.\2/')|2001-02-03 04:05:06.123456789 +0000" \
	"mtime and atime kept"
is "$(stat -c %h "$t/home/u/file")" 3 "hardlinks are still links"
is "$(ls -A "$st" | wc -l)" 0 "a complete shift leaves no journal (its maps do not overlap: nothing would be shifted twice)"
after=$(manifest "$t")
run idmap-shift --state-dir "$st" -m "0:$B:65536" "$t"
like "$rc|$err" "^1\|idmap-shift: '$t': owner uid $B is outside --from" \
	"the same shift again: the owners on disk decide (each one now outside --from), exit 1"
like "$err" "idmap-shift: nothing changed: [0-9]+ ids in '$t' outside --from \(use --unmapped keep or overflow, or a --from that maps them\)\$" \
	"... and the refusal says nothing changed"
is "$(manifest "$t")" "$after" "... nothing shifted twice"

run idmap-shift --state-dir "$st" --progress -r -m "0:$B:65536" "$t"
like "$rc|$err" "^0\|.*idmap-shift: 21 files in [0-9.]+ s \$" "--reverse, with --progress: files done on stderr"
is "$(manifest "$t")" "$before" "--reverse gives back every stat field and xattr of every file"

# --from and --to: from one map to an overlapping one, and back.
run idmap-shift --state-dir "$st" -m "0:$B:65536" "$t"
run idmap-shift --state-dir "$st" -f - -m "0:$((B + 10)):65536" "$t" <<<"b 0 $B 65536"
is "$rc|$(own "$t/home/u")" "0|$((B + 1010)):$((B + 1010))" "--from map to an overlapping --to: each id moved once"
is "$(getfacl -cpn "$t/home/u/file" 2>/dev/null | grep -E '^user:[0-9]')" "user:$((B + 17)):rw-" "... ACL ids too"
# These maps overlap (ids B+10.. are both moved and made): a second run
# would move them again, so the finished journal stays and refuses it.
J=$(ls "$st"/*.journal)
is "$(tail -n 1 "$J")" done "overlapping maps: the finished journal stays, marked done"
after=$(manifest "$t")
run idmap-shift --state-dir "$st" -f - -m "0:$((B + 10)):65536" "$t" <<<"b 0 $B 65536"
is "$rc|$err" "1|idmap-shift: '$t' was shifted with these maps already (journal '$J'): a second run would move uids $((B + 10))-$((B + 65535)) again (remove the journal to shift it once more)" \
	"... and the same command again is refused, naming the ids it would move twice"
is "$(manifest "$t")" "$after" "... nothing shifted twice"
run idmap-shift --state-dir "$st" -j 1 -f - -r -m "0:$((B + 10)):65536" "$t" <<<"b 0 $B 65536"
run idmap-shift --state-dir "$st" -j 3 -r -m "0:$B:65536" "$t"
is "$(manifest "$t")" "$before" "and back, with 1 and 3 threads: the original metadata"

# -u and -g separately; a map stream for --to.
run idmap-shift --state-dir "$st" -u "0:$B:65536" -g "0:$((B + 65536)):65536" "$t"
is "$rc|$(own "$t/var/fifo")" "0|$((B + 5)):$((B + 65536 + 6))" "-u and -g shift uids and gids apart"
printf 'u 0 %s 65536\ng 0 %s 65536\n' "$B" "$((B + 65536))" > "$NSKIT_SANDBOX/maps"
run idmap-shift --state-dir "$st" -r --to "$NSKIT_SANDBOX/maps" "$t"
is "$rc|$(manifest "$t")" "0|$before" "--to FILE --reverse undoes it"

done_testing

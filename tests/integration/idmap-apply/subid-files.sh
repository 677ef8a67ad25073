#!/bin/bash
# Differential: with the files source, nskit reads a user's subordinate
# ranges exactly as libsubid does (by name and by uid, file order), and
# skips the lines that shadow would read in ways nobody meant.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice)
rc_bin=$NSKIT_SANDBOX/helpers/ranges-compare
side() { # nskit|libsubid uid|gid -> "start:count ..."
	grep "^$1 $2:" <<<"$out" | cut -d: -f2- | sed 's/^ //'
}

cat >> /etc/subuid <<X
bob:1000000:10
alice:300000:1000
$a:400000:500
# alice:500000:10
alice:4294967290:5
X
printf 'alice:200000:7\n%s:210000:3' "$a" >> /etc/subgid    # no final newline
run as alice "$rc_bin" alice
is "$(side nskit uid)" "$(side libsubid uid)" "well-formed subuid lines: nskit reads what libsubid reads"
is "$(side nskit uid)" "100000:65536 300000:1000 400000:500 4294967290:5" "subuid: by name and by uid, in file order"
is "$(side nskit gid)" "$(side libsubid gid)" "well-formed subgid lines (no final newline): the same"
is "$(side nskit gid)" "100000:65536 200000:7 210000:3" "subgid ranges"

# Lines shadow reads loosely: nskit skips each one.
for bad in "alice:0x1000:10" "alice:-5:10" "alice:600000" "alice:700000:0" "alice:800000:10:extra" \
	" alice:900000:10" "alice:910000:10 " "alice:920000:+10" "alice:930000:010" "alice:940000:99999999999" \
	"alice::10" "alice:950000:"; do
	cp /etc/subuid /etc/subuid.keep
	echo "$bad" >> /etc/subuid
	run as alice "$rc_bin" alice
	is "$(side nskit uid)" "100000:65536 300000:1000 400000:500 4294967290:5" "skipped: '$bad'"
	mv /etc/subuid.keep /etc/subuid
done

# The lines that nskit reads are the ones it maps, through the real newuidmap.
userns_proc p alice
run as alice idmap-apply "$p"
is "$rc" 0 "idmap-apply maps every well-formed range"
is "$(kmap "$p" uid)" "0 $a 1|1 100000 65536|65537 300000 1000|66537 400000 500|67037 4294967290 5" \
	"the kernel's uid_map holds all of them"
is "$(kmap "$p" gid)" "0 $(id -g alice) 1|1 100000 65536|65537 200000 7|65544 210000 3" \
	"the kernel's gid_map holds all of them"

done_testing

#!/bin/bash
# subid-check reports what shadow-utils reads otherwise than we do: numbers
# strtoul(base 0) takes as octal, hex, or with a blank or sign; lines we
# call malformed that shadow still grants; and overlaps as shadow sees them.
. "$NSKIT_TOP/tests/integration/lib.sh"

useradd -M -u 2001 alice
useradd -M -u 2002 bob
useradd -M -u 2003 carol
useradd -M -u 2004 dave
: > /etc/subgid
{
	echo "alice:0200000:65536"             # 1 octal: 65536-131071
	echo "bob:100000:65536"                # 2 overlaps alice as shadow reads it
	echo "carol:0x927c0:65536"             # 3 hex: 600000-665535
	echo "dave: +700000:65536"             # 4 blank and plus
	echo "bob:800000:65536:extra"          # 5 shadow reads the first three fields
	echo "carol:1:0"                       # 6 count 0: shadow grants nothing
	echo "dave:18446744073709551615:2"     # 7 end past 2^64 - 1: no wrap to 0
	echo "alice:1x:5"                      # 8 shadow ignores it
} > /etc/subuid
run subid-check
U=/etc/subuid
is "$rc" 1 "findings: exit 1"
want() { # LINE DESC
	if printf '%s\n' "$out" | grep -qxF -- "$1"; then status_is 0 "$2"; else status_is 1 "$2"; diag "got:" "$out" "want line: $1"; fi
}
want "$U:1: shadow reads '0200000' as 65536 (octal); write the decimal number" "octal start"
want "$U:3: shadow reads '0x927c0' as 600000 (hexadecimal); write the decimal number" "hex start"
want "$U:4: shadow reads ' +700000' as 700000 (leading blank, plus sign); write the decimal number" "blank and plus sign"
want "$U:2: range 100000-165535 of 'bob' overlaps range 65536-131071 of 'alice' (line 1)" "overlap with shadow's reading of an octal line"
want "$U:5: malformed line 'bob:800000:65536:extra': more than three fields (shadow reads it as range 800000-865535 of 'bob')" "extra field: shadow's range named"
want "$U:6: malformed line 'carol:1:0': count is 0 (shadow reads it but grants no ids)" "count 0"
want "$U:7: range 18446744073709551615-18446744073709551615 of 'dave' ends past 4294967294, the highest uid" "end computed without wrapping"
want "$U:8: malformed line 'alice:1x:5': start or count is not a decimal number (shadow ignores it)" "a line shadow ignores"
unlike "$out" "^$U:[134]: malformed" "lines shadow reads are not called malformed"
is "$(printf '%s\n' "$out" | grep -c 'shadow ignores it')" 1 "only line 8 is one shadow ignores"

run subid-check --json
like "$out" '"problem": "shadow-reads", "message": "shadow reads '\''0200000'\'' as 65536 \(octal\); write the decimal number"' "json: shadow-reads"

# after rewriting in decimal, subid-alloc and subid-check agree
printf 'alice:65536:65536\nbob:131072:65536\n' > /etc/subuid
run subid-check alice bob
unlike "$out" "shadow reads|overlaps|malformed" "in decimal, nothing differs any more"

done_testing

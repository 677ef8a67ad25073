#!/bin/bash
# Subordinate id findings, each made for real in the sandbox's /etc.
. "$NSKIT_TOP/tests/integration/lib.sh"

finding() { printf '%s\n' "$out" | awk -v id="$1" '$1==id{print $2}'; }
# The finding's row and its continuation lines (wrapped text, the fix), as one line.
line() { printf '%s\n' "$out" | awk -v id="$1" '/^[^ ]/{p=($1==id)} p{printf "%s ", $0} END{print ""}' | tr -s ' ' | sed 's/ $//'; }

mkuser alice
auid=$(id -u alice)
asub=$(awk -F: '$1=="alice"{print $2}' /etc/subuid)

# No ranges at all.
mkuser nosub
sed -i '/^nosub:/d' /etc/subuid /etc/subgid
run as nosub nskit-doctor
is "$rc" 1 "no ranges: exit 1"
is "$(finding subuid-range) $(finding subgid-range)" "fail fail" "no ranges: subuid-range and subgid-range fail"
is "$(line subuid-range)" "subuid-range fail no subordinate uid range for 'nosub' (uid $(id -u nosub)) in /etc/subuid fix: run 'subid-alloc nosub' as root" "subuid-range says what and the fix"
is "$(finding userns-map)" fail "no ranges: the full map cannot be written"

# Overlapping another user's range.
mkuser bob
sed -i "s/^bob:.*/bob:$((asub + 1000)):65536/" /etc/subuid
run as bob nskit-doctor
is "$rc" 0 "overlap: a warning, exit 0"
is "$(finding subuid-overlap)" warn "overlap: subuid-overlap warns"
like "$(line subuid-overlap)" "overlaps 'alice' \(line 1 of /etc/subuid\)" "overlap names the other user and line"
is "$(finding subgid-overlap)" ok "subgid ranges do not overlap"

# Too small for 65534 (nobody).
mkuser carol
sed -i "s/^carol:\([0-9]*\):.*/carol:\1:1000/" /etc/subuid
run as carol nskit-doctor
is "$rc" 1 "too small: exit 1"
is "$(finding subuid-size)" fail "too small: subuid-size fails"
like "$(line subuid-size)" "only 1000 subordinate uids" "subuid-size gives the count"
is "$(finding userns-map)" ok "a small range still maps (the map probe works)"

# A range containing the user's own uid.
mkuser dave
duid=$(id -u dave)
sed -i "s/^dave:.*/dave:$((duid - 1)):65536/" /etc/subuid
run as dave nskit-doctor
is "$(finding subuid-self)" warn "own uid in the range: subuid-self warns"
is "$(finding subuid-realid)" warn "the range holds other real uids: subuid-realid warns"
like "$(line subuid-realid)" "contains the real uid of 'nobody'" "subuid-realid names the first real user in the range"
is "$(finding subuid-self) $(finding subuid-overlap)" "warn ok" "no other subuid range overlaps dave's"

# Malformed lines.
echo "this is not a range" >> /etc/subuid
n=$(wc -l < /etc/subuid)
run as alice nskit-doctor
is "$(finding subuid-file)" warn "a malformed line: subuid-file warns"
like "$(line subuid-file)" "1 malformed line \(first: line $n\)" "subuid-file gives the line"
sed -i '$d' /etc/subuid

# Unreadable.
chmod 0600 /etc/subuid
run as alice nskit-doctor
is "$rc" 1 "unreadable /etc/subuid: exit 1"
is "$(finding subuid-file)" fail "unreadable: subuid-file fails"
like "$(line subuid-file)" "cannot read /etc/subuid: Permission denied" "subuid-file says why"
chmod 0644 /etc/subuid

# More ranges than the kernel's 340 extents.
mkuser frank
sed -i '/^frank:/d' /etc/subuid
for i in $(seq 0 339); do echo "frank:$((2000000 + i * 1000)):200"; done >> /etc/subuid
run as frank nskit-doctor
is "$rc" 1 "340 ranges: exit 1"
is "$(finding subuid-extents)" fail "340 ranges: subuid-extents fails"
like "$(line subuid-extents)" "'frank' has 340 subuid ranges: with its own id that is 341 extents" "subuid-extents counts"
is "$(finding userns-map)" fail "the kernel's limit: the full map cannot be written"

# A renamed user whose old lines remain (usermod -l keeps them).
mkuser greg
usermod -l gregory greg
run as gregory nskit-doctor
is "$(finding subuid-stale) $(finding subgid-stale)" "warn warn" "renamed user: subuid-stale and subgid-stale warn"
like "$(line subuid-stale)" "belongs to 'greg', which is no user .* if 'greg' was renamed to 'gregory', write 'gregory'" "the fix names the old and new names"
is "$(finding subuid-range)" fail "the renamed user has no range under the new name"
run as alice nskit-doctor
is "$(finding subuid-stale)" warn "other users see the stale line too"

done_testing

#!/bin/bash
# A racing attacker swaps a directory and a file of the tree for symlinks
# to a directory outside it, over and over, while the tree is shifted:
# nothing outside the tree changes owner or mode, ever.
. "$NSKIT_TOP/tests/integration/lib.sh"

t=$NSKIT_SANDBOX/tree
out=$NSKIT_SANDBOX/outside
st=$NSKIT_SANDBOX/state
mkdir -p "$t/a" "$out/sub"
for i in $(seq 1 30); do echo "$i" > "$t/a/f$i"; echo "$i" > "$out/o$i"; done
echo x > "$t/file"
cp /bin/true "$out/suid" && chmod 4755 "$out/suid"
outside_before=$(cd "$out" && find . -printf '%p %U:%G %m\n' | sort)

# The attacker: a directory becomes a symlink to $out and back; a file
# becomes a symlink to a file outside and back.
cat > "$NSKIT_SANDBOX/attack" <<ATTACK
#!/bin/bash
while :; do
	mv "$t/a" "$t/a.real" 2>/dev/null && ln -s "$out" "$t/a" && rm -f "$t/a" && mv "$t/a.real" "$t/a"
	mv "$t/file" "$t/file.real" 2>/dev/null && ln -s "$out/suid" "$t/file" && rm -f "$t/file" && mv "$t/file.real" "$t/file"
done
ATTACK
chmod +x "$NSKIT_SANDBOX/attack"
bg attacker "$NSKIT_SANDBOX/attack"

runs=0 oddrc=0
for i in $(seq 1 40); do
	if [ $((i % 2)) = 1 ]; then dir=(); else dir=(-r); fi
	idmap-shift --state-dir "$st" --unmapped keep -j 2 -m 0:1000:65536 "${dir[@]}" "$t" >/dev/null 2>&1
	r=$?
	# 1: an entry vanished or was a symlink when opened (reported, never followed)
	[ $r = 0 ] || [ $r = 1 ] || oddrc=$((oddrc + 1))
	rm -f "$st"/*.journal       # each run starts afresh
	runs=$((runs + 1))
done
kill "$attacker"
wait "$attacker" 2>/dev/null
is "$oddrc" 0 "$runs shifts under attack: each ends with 0 or 1"
is "$(cd "$out" && find . -printf '%p %U:%G %m\n' | sort)" "$outside_before" "nothing outside the tree changed owner or mode"
f=$t/a/f1; [ -e "$f" ] || f=$t/a.real/f1      # the attacker may stop mid-swap
# A run that ended with 1 (an entry swapped away) is not resumed here (its
# journal is removed), so the next run may shift a file a second time:
# its owner is a whole number of steps of the map, never anything else.
like "$(stat -c %u "$f")" '^(0|[1-9][0-9]*000)$' "the tree itself was shifted, in whole steps of the map"

done_testing

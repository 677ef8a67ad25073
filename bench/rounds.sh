# bench/rounds.sh - sourced by the benchmarks: hyperfine in rounds.
#
# On a shared VM the cost of starting a program drifts by tens of percent
# over a minute, so a command measured in one block and its peer in the
# next block can differ by the drift alone (hyperfine runs each command's
# runs one after the other). hf_rounds runs ROUNDS hyperfine invocations of
# RUNS runs per command each, the commands in a different order in every
# round (rotated), and merges the per-run times: every command is measured
# across the same stretch of time, next to its peers.
#
#   hf_rounds PREFIX ROUNDS RUNS [hyperfine options] -- NAME CMD [NAME CMD]...
#
# Writes PREFIX.json (hyperfine's layout: .results[] with command, mean,
# stddev, median, min, max, user, system, times; in the order given) and
# PREFIX.md (hyperfine's markdown table). HF_RUN (an array, default:
# hyperfine) is how hyperfine is started, e.g. (as user hyperfine).

hf_rounds() {
	local prefix=$1 rounds=$2 runs=$3 r i k n
	shift 3
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	local names=() cmds=()
	while [ $# -gt 1 ]; do names+=("$1"); cmds+=("$2"); shift 2; done
	n=${#names[@]}
	local run=(hyperfine)
	[ -n "${HF_RUN+x}" ] && run=("${HF_RUN[@]}")
	for ((r = 0; r < rounds; r++)); do
		local args=()
		for ((k = 0; k < n; k++)); do
			i=$(( (k + r) % n ))
			args+=(-n "${names[i]}" "${cmds[i]}")
		done
		"${run[@]}" "${opts[@]}" --runs "$runs" --export-json "$prefix.round$r.json" "${args[@]}" >/dev/null || return 1
	done
	local order
	order=$(printf '%s\n' "${names[@]}" | jq -R . | jq -s .)
	jq -s --argjson order "$order" '
		[.[].results[]] as $all |
		{ results: [ $order[] as $name |
			[ $all[] | select(.command == $name) ] as $rs |
			($rs | map(.times) | add) as $t |
			($t | length) as $n |
			($t | add / $n) as $mean |
			{ command: $name, times: $t, mean: $mean,
			  stddev: (if $n > 1 then (($t | map((. - $mean) * (. - $mean)) | add) / ($n - 1) | sqrt) else 0 end),
			  median: ($t | sort | if $n % 2 == 1 then .[($n - 1) / 2] else (.[$n / 2 - 1] + .[$n / 2]) / 2 end),
			  min: ($t | min), max: ($t | max),
			  user: ($rs | map(.user * (.times | length)) | add / $n),
			  system: ($rs | map(.system * (.times | length)) | add / $n) } ] }' \
		"$prefix".round*.json > "$prefix.json" || return 1
	rm -f "$prefix".round*.json
	jq -r '
		(.results | map(.mean) | min) as $best |
		(.results[] | select(.mean == $best)) as $b |
		(if (.results | map(.mean) | max) < 10 then [1000, "ms", 10] else [1, "s", 1000] end) as [$f, $u, $q] |
		def num: . * $f * $q | round / $q | tostring | if test("\\.") then . else . + ".0" end;
		def num2: . * 100 | round / 100 | tostring | if test("\\.") then (if test("\\.[0-9]$") then . + "0" else . end) else . + ".00" end;
		"| Command | Mean [\($u)] | Min [\($u)] | Max [\($u)] | Relative |",
		"|:---|---:|---:|---:|---:|",
		(.results[] |
			(.mean / $best) as $rel |
			"| `\(.command)` | \(.mean | num) ± \(.stddev | num) | \(.min | num) | \(.max | num) | " +
			(if .mean == $best then "1.00" else
				"\($rel | num2) ± \(($rel * (((.stddev / .mean) | . * .) + (($b.stddev / $b.mean) | . * .) | sqrt)) | num2)" end) + " |")' \
		"$prefix.json" > "$prefix.md"
}

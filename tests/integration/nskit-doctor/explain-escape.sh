#!/bin/bash
# --explain prints the matched line as cat -v shows it: the input is
# someone else's text (a program's colored message, a log line), and its
# escape sequences must not reach the terminal. ESC is ^[, DEL ^?, another
# control character ^X, a byte of 0x80 or more M- and its low 7 bits.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice

# newuidmap's message, colored, with a BEL, a carriage return, a DEL and
# an é (UTF-8 0xc3 0xa9) in it.
line=$'\e[1;31mnewuidmap:\e[0m write to uid_map failed: Operation not permitted\a\r\x7f \xc3\xa9'
shown='^[[1;31mnewuidmap:^[[0m write to uid_map failed: Operation not permitted^G^M^? M-CM-)'
is "$(printf '%s' "$line" | cat -v)" "$shown" "(what cat -v makes of the line)"

run as alice nskit-doctor --explain "$line"
is "$(printf '%s\n' "$out" | sed -n 1p)" "message: $shown" "the line given as TEXT: shown as cat -v shows it"
is "$(printf '%s\n' "$out" | sed -n 2p | cut -d, -f1)" "known as: newuidmap-eperm" "and still matched as newuidmap's message"
case $out in
*$'\e'* | *$'\x7f'* | *$'\a'*) status_is 1 "no ESC, DEL or BEL reaches the output" ;;
*) status_is 0 "no ESC, DEL or BEL reaches the output" ;;
esac

run as alice nskit-doctor --explain - <<<"$line"
is "$(printf '%s\n' "$out" | sed -n 1p)" "message: $shown" "the line read from standard input: the same"

# A plain line is shown as it came.
plain='newuidmap: write to uid_map failed: Operation not permitted'
run as alice nskit-doctor --explain "$plain"
is "$(printf '%s\n' "$out" | sed -n 1p)" "message: $plain" "a line without control characters: unchanged"

done_testing

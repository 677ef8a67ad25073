#!/bin/bash
# subid-alloc --root DIR runs as root in a folder someone else may own: the
# links they plant in DIR/etc are never followed (no file outside DIR/etc is
# created or truncated), and a DIR/etc/subuid that is a link, or anything
# but a regular file, is refused with one line.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser mallory
chmod 755 "$NSKIT_SANDBOX"
root=$NSKIT_SANDBOX/img
victim=$NSKIT_SANDBOX/victim
nologin=$NSKIT_SANDBOX/nologin
mkdir -p "$root/etc"
printf 'root:x:0:0::/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\ndev:x:1000:\n' > "$root/etc/group"
chown -R mallory "$root"
printf 'precious\n' > "$victim"
chmod 644 "$victim"
vsum=$(stat -c '%s %a %U' "$victim"; sha256sum < "$victim")
untouched() { # DESC
	is "$(stat -c '%s %a %U' "$victim"; sha256sum < "$victim")" "$vsum" "$1"
}
plant() { # NAME TARGET (as mallory)
	as mallory ln -sfn "$2" "$root/etc/$1"
}

# .pwd.lock pointing out of DIR/etc
plant .pwd.lock "$nologin"
expect_fail 1 "subid-alloc: cannot lock $root/etc/.pwd.lock: it is a symbolic link (remove it)" \
	".pwd.lock a link: refused" subid-alloc --root "$root" dev
check "the link's target was not created" test ! -e "$nologin"
check "no lock is left" test ! -e "$root/etc/subuid.lock" -a ! -e "$root/etc/subgid.lock"
rm "$root/etc/.pwd.lock"

# FILE.PID, FILE+, FILE- pointing at the victim: removed, files made anew
plant subuid+ "$victim"
plant subuid- "$victim"
plant subgid+ "$victim"
run bash -c "setpriv --reuid=mallory --regid=\$(id -g mallory) --clear-groups -- ln -s '$victim' '$root/etc/subuid.'\$\$ &&
	setpriv --reuid=mallory --regid=\$(id -g mallory) --clear-groups -- ln -s '$victim' '$root/etc/subgid.'\$\$ &&
	exec subid-alloc --root '$root' --create dev"
is "$rc:$err" "0:" "planted FILE.PID, FILE+ and FILE- links are replaced, not followed"
untouched "the victim is untouched"
is "$(cat "$root/etc/subuid"):$(cat "$root/etc/subgid")" "dev:100000:65536:dev:100000:65536" "the files were written in DIR/etc"
check "subuid is a regular file" test -f "$root/etc/subuid" -a ! -L "$root/etc/subuid"
check "no lock is left" test ! -e "$root/etc/subuid.lock" -a ! -e "$root/etc/subgid.lock"

# DIR/etc/subuid itself a link: refused, nothing written through it
mv "$root/etc/subuid" "$root/etc/subuid.real"
plant subuid "$victim"
expect_fail 1 "subid-alloc: cannot read $root/etc/subuid: it is a symbolic link (replace it with the file)" \
	"subuid a link: refused" subid-alloc --root "$root" --release dev
untouched "the victim is still untouched"
check "no lock is left" test ! -e "$root/etc/subuid.lock" -a ! -e "$root/etc/subgid.lock"
rm "$root/etc/subuid"

# not a regular file
as mallory mkfifo "$root/etc/subuid"
expect_fail 1 "subid-alloc: cannot read $root/etc/subuid: not a regular file" \
	"subuid a FIFO: refused, without hanging" timeout 10 subid-alloc --root "$root" dev
rm "$root/etc/subuid"
mv "$root/etc/subuid.real" "$root/etc/subuid"

# FILE.lock a link
plant subuid.lock "$victim"
expect_fail 1 "subid-alloc: cannot lock $root/etc/subuid: $root/etc/subuid.lock holds no valid pid (remove it if no useradd or usermod runs)" \
	"subuid.lock a link: refused" subid-alloc --root "$root" --release dev
untouched "the victim is untouched by a planted lock"
rm "$root/etc/subuid.lock"

# DIR/etc a link to another folder
mkdir "$NSKIT_SANDBOX/img2"
ln -s "$root/etc" "$NSKIT_SANDBOX/img2/etc"
expect_fail 1 "subid-alloc: cannot use $NSKIT_SANDBOX/img2/etc: it is a symbolic link (--root follows no links below DIR)" \
	"DIR/etc a link: refused" subid-alloc --root "$NSKIT_SANDBOX/img2" --release dev
untouched "the victim is untouched at the end"

done_testing

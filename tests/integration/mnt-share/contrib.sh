# The boot services in contrib/ and their install targets.
. "$NSKIT_TOP/tests/integration/lib.sh"

dest=$NSKIT_SANDBOX/tmp/destdir
run make -s -C "$NSKIT_TOP" install-systemd install-openrc DESTDIR="$dest" PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system
is "$rc|$err" "0|" "make install-systemd install-openrc: exit 0"
unit=$dest/usr/lib/systemd/system/nskit-mnt-share.service
rc_script=$dest/etc/init.d/nskit-mnt-share
is "$(stat -c %a "$unit" 2>&1)" 644 "the unit is installed under DESTDIR and SYSTEMDUNITDIR, mode 0644"
is "$(stat -c %a "$rc_script" 2>&1)" 755 "the OpenRC service is installed under DESTDIR/etc/init.d, mode 0755"
is "$(grep '^ExecStart=' "$unit")" "ExecStart=/usr/bin/mnt-share" "the unit runs mnt-share from BINDIR"
is "$(grep '^mnt_share=' "$rc_script")" "mnt_share=/usr/bin/mnt-share" "the OpenRC service runs mnt-share from BINDIR"
check "the OpenRC service is valid sh" sh -n "$rc_script"
is "$(head -n1 "$rc_script")" "#!/sbin/openrc-run" "the OpenRC service is an openrc-run script"
is "$(find "$dest" -type f | wc -l)" 2 "nothing else is installed"

run make -s -C "$NSKIT_TOP" install-systemd DESTDIR="$dest/2"
want=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
is "$rc|$(find "$dest/2" -type f)" "0|$dest/2${want:-/lib/systemd/system}/nskit-mnt-share.service" "SYSTEMDUNITDIR defaults to systemd's pkg-config, else /lib/systemd/system"
is "$(grep '^ExecStart=' "$dest/2${want:-/lib/systemd/system}/nskit-mnt-share.service")" "ExecStart=/usr/local/bin/mnt-share" "the default BINDIR is /usr/local/bin"
run make -s -C "$NSKIT_TOP" install-openrc DESTDIR="$dest/3" SYSCONFDIR=/usr/etc
is "$rc|$(find "$dest/3" -type f)" "0|$dest/3/usr/etc/init.d/nskit-mnt-share" "the OpenRC service goes under SYSCONFDIR"

if command -v systemd-analyze >/dev/null 2>&1; then
	cp "$unit" "$NSKIT_SANDBOX/tmp/nskit-mnt-share.service"
	sed -i "s|^ExecStart=.*|ExecStart=$NSKIT_BIN/mnt-share|" "$NSKIT_SANDBOX/tmp/nskit-mnt-share.service"
	run systemd-analyze verify --man=no "$NSKIT_SANDBOX/tmp/nskit-mnt-share.service"
	is "$rc|$(printf '%s\n' "$err" | grep nskit-mnt-share)" "0|" "systemd-analyze verify: the unit is valid"
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# What the services run, in a namespace where / is private, as at boot.
run unshare -m --propagation private sh -c 'mnt-share && mnt-share --check'
is "$rc|$err" "0|" "what the services run makes a private / shared"

done_testing

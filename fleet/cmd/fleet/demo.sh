#!/usr/bin/env bash
# `make demo`: the fleet server, an enrolled agent and the kiosk together on
# this machine, on their embedded defaults. The fleet serves HTTPS on
# loopback (127.0.0.1:8443, or a free port when that one is taken; or
# DEMO_FLEET_ADDR) with a self-signed certificate the agent pins; the agent
# enrols with a one-use token and talks to the kiosk over a private D-Bus
# session bus. With a display the kiosk opens a window until Ctrl-C; without
# one it runs under Xvfb until it has shown its home page (saved as a
# screenshot) and the agent has reported it to the fleet, for at most
# DEMO_SECONDS. It exits non-zero, printing the kiosk's log, when the kiosk
# did not show home, ended on its own, or the fleet never heard of it.
set -euo pipefail

# devices prints the fleet's device list (its admin API), empty when the
# fleet does not answer.
devices() {
	curl -sk --max-time 5 -H "Authorization: Bearer $API_TOKEN" "https://$ADDR/api/v1/admin/devices" 2>/dev/null || true
}

# reported_state prints the kiosk state the agent last reported to the
# fleet ("idle", "in_session", ..., "gone" when the kiosk was not on the
# bus), empty before the first report.
reported_state() {
	devices | sed -n 's/.*"kiosk_state":"\([^"]*\)".*/\1/p' | head -n 1
}

# shown says whether a reported kiosk state is one with home shown (not
# "starting", "gone" or nothing).
shown() {
	case "$1" in "" | starting | gone) return 1 ;; esac
}

# run_pair runs the kiosk and the agent on the D-Bus session this script
# was re-entered in (demo.sh --pair). A kiosk that ends on its own leaves
# its exit status in $DIR/kiosk.exit.
run_pair() {
	"$BIN/kiosk" --windowed --screenshot "$DIR/kiosk-home.png" > "$DIR/kiosk.log" 2>&1 &
	local kiosk=$!
	# Let the kiosk take its bus name before the agent looks for it.
	for _ in $(seq 150); do
		dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.accesskiosk.Kiosk1 2>/dev/null | grep -q true && break
		kill -0 $kiosk 2>/dev/null || break
		sleep 0.2
	done
	"$BIN/agent" --config "$DIR/agent/agent.yaml" > "$DIR/agent.log" 2>&1 &
	local agent=$!
	if [ -n "${DEMO_FOREGROUND:-}" ]; then
		wait $kiosk || true
	else
		# Until home is on screen and the fleet has the kiosk's state from
		# the agent, or the kiosk ends, or time is up.
		local deadline=$((SECONDS + SECONDS_TO_RUN)) state
		while kill -0 $kiosk 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			if [ -s "$DIR/kiosk-home.png" ]; then
				state=$(reported_state)
				shown "$state" && break
			fi
			sleep 0.5
		done
		if ! kill -0 $kiosk 2>/dev/null; then
			local rc=0
			wait $kiosk || rc=$?
			echo "$rc" > "$DIR/kiosk.exit"
		fi
	fi
	kill $agent $kiosk 2>/dev/null || true
	wait $agent $kiosk 2>/dev/null || true
}
if [ "${1:-}" = "--pair" ]; then
	run_pair
	exit 0
fi

BIN=${BIN:-bin}
DIR=${DEMO_DIR:-$BIN/demo}
SECONDS_TO_RUN=${DEMO_SECONDS:-60}
USER_NAME=demo
PASSWORD=demo-password

# fail says what went wrong, prints the log that says why, and stops the demo.
fail() {
	echo "demo: FAILED: $1" >&2
	if [ -n "${2:-}" ]; then
		echo "demo: --- $2 (last 60 lines) ---" >&2
		tail -n 60 "$2" >&2 || true
		echo "demo: --- end of $2 ---" >&2
		[ "$2" != "$DIR/kiosk.log" ] || echo "demo: the X server's and D-Bus's messages are in $DIR/dbus.log" >&2
	fi
	exit 1
}
for tool in curl dbus-send dbus-run-session xvfb-run; do
	command -v $tool >/dev/null || fail "$tool is not installed: run make deps"
done

rm -rf "$DIR/fleet" "$DIR/agent" "$DIR/kiosk-home.png" "$DIR/kiosk.exit" "$DIR/kiosk.log" "$DIR/agent.log"
mkdir -p "$DIR/fleet" "$DIR/agent"
printf '%s\n' "$PASSWORD" > "$DIR/password"
"$BIN/fleet" admin create --data "$DIR/fleet" --user "$USER_NAME" --password-file "$DIR/password" >/dev/null
"$BIN/fleet" admin site --data "$DIR/fleet" --id demo --name "Demo Library" >/dev/null
"$BIN/fleet" admin enrol-token --data "$DIR/fleet" --site demo --uses 1 --expires 1h > "$DIR/agent/enrol-token"
API_TOKEN=$("$BIN/fleet" admin api-token --data "$DIR/fleet" --user "$USER_NAME")

# start_fleet starts the fleet on $1 and waits until it serves (true) or
# has ended (false).
FLEET_PID=
start_fleet() {
	"$BIN/fleet" serve --addr "$1" --data "$DIR/fleet" --log-level warn > "$DIR/fleet.out" 2> "$DIR/fleet.log" &
	FLEET_PID=$!
	for _ in $(seq 300); do
		grep -q 'serving the console' "$DIR/fleet.out" 2>/dev/null && return 0
		kill -0 $FLEET_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
trap '[ -z "$FLEET_PID" ] || { kill $FLEET_PID 2>/dev/null; wait $FLEET_PID 2>/dev/null; } || true' EXIT
if [ -n "${DEMO_FLEET_ADDR:-}" ]; then
	start_fleet "$DEMO_FLEET_ADDR" || fail "the fleet server did not start on $DEMO_FLEET_ADDR" "$DIR/fleet.log"
elif ! start_fleet 127.0.0.1:8443; then
	grep -q 'address already in use' "$DIR/fleet.log" || fail "the fleet server did not start" "$DIR/fleet.log"
	echo "demo: 127.0.0.1:8443 is taken; the fleet takes a free port instead"
	start_fleet 127.0.0.1:0 || fail "the fleet server did not start" "$DIR/fleet.log"
fi
ADDR=$(sed -n 's|.*serving the console and device API at https://\([^/]*\)/.*|\1|p' "$DIR/fleet.out")
FP=$(sed -n 's/.*fingerprint \([0-9A-F:]*\).*/\1/p' "$DIR/fleet.out")
[ -n "$ADDR" ] && [ -n "$FP" ] || fail "the fleet server did not say where it serves" "$DIR/fleet.out"

cat > "$DIR/agent/agent.yaml" <<YAML
log_level: info
state_dir: $DIR/agent/state
fleet:
  url: https://$ADDR
  fingerprint: "$FP"
  enrol_token_file: $DIR/agent/enrol-token
report:
  interval: 5s
  jitter: 1s
kiosk:
  bus: session
system:
  bus: session
  allow_reboot: false
discovery:
  advertise: false
YAML

export BIN DIR SECONDS_TO_RUN ADDR API_TOKEN
echo
echo "demo: fleet console  https://$ADDR/   (self-signed; fingerprint $FP)"
echo "demo: sign in as     $USER_NAME / $PASSWORD"
echo

FOREGROUND=
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	FOREGROUND=1
	echo "demo: kiosk in a window, agent beside it (close the kiosk window or Ctrl-C to stop)"
	DEMO_FOREGROUND=1 dbus-run-session -- "$0" --pair > "$DIR/dbus.log" 2>&1
else
	echo "demo: no display; kiosk under Xvfb and agent, until home is shown and reported (at most ${SECONDS_TO_RUN}s)"
	xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$0" --pair > "$DIR/dbus.log" 2>&1
fi

if [ -f "$DIR/kiosk.exit" ]; then
	fail "the kiosk ended on its own (exit status $(cat "$DIR/kiosk.exit"))" "$DIR/kiosk.log"
fi
[ -s "$DIR/kiosk-home.png" ] || fail "the kiosk did not show its home page (no screenshot was saved)" "$DIR/kiosk.log"
DEVICES=$(devices)
echo "$DEVICES" | grep -q '"last_seen_unix_ms":[1-9]' || fail "the agent did not report to the fleet" "$DIR/agent.log"
STATE=$(reported_state)
if [ -z "$FOREGROUND" ] && ! shown "$STATE"; then
	fail "the agent last reported the kiosk as '${STATE:-nothing}', not showing home" "$DIR/kiosk.log"
fi
echo "demo: the kiosk showed its home page: $DIR/kiosk-home.png"
echo "demo: the agent enrolled and reported it to the fleet (kiosk_state $STATE): $DEVICES"
if [ -z "${DEMO_NO_WAIT:-}" ] && [ -t 0 ]; then
	echo "demo: the fleet keeps running at https://$ADDR/ ($USER_NAME / $PASSWORD); Enter stops it"
	read -r _
fi

#!/usr/bin/env bash
# `make demo`: the fleet server, an enrolled agent and the kiosk together on
# this machine, on their embedded defaults. The fleet serves HTTPS on
# loopback with a self-signed certificate the agent pins; the agent enrols
# with a one-use token and talks to the kiosk over a private D-Bus session
# bus. With a display the kiosk opens a window until Ctrl-C; without one it
# runs under Xvfb for DEMO_SECONDS and saves a screenshot.
set -euo pipefail

# run_pair runs the kiosk and the agent on the D-Bus session this script
# was re-entered in (demo.sh --pair).
run_pair() {
	"$BIN/kiosk" --windowed --screenshot "$DIR/kiosk-home.png" > "$DIR/kiosk.log" 2>&1 &
	local kiosk=$!
	# Let the kiosk take its bus name before the agent looks for it.
	for _ in $(seq 100); do
		dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.accesskiosk.Kiosk1 2>/dev/null | grep -q true && break
		sleep 0.2
	done
	"$BIN/agent" --config "$DIR/agent/agent.yaml" > "$DIR/agent.log" 2>&1 &
	local agent=$!
	if [ -n "${DEMO_FOREGROUND:-}" ]; then
		wait $kiosk || true
	else
		sleep "$SECONDS_TO_RUN"
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
SECONDS_TO_RUN=${DEMO_SECONDS:-20}
ADDR=${DEMO_FLEET_ADDR:-127.0.0.1:8443}
USER_NAME=demo
PASSWORD=demo-password

rm -rf "$DIR/fleet" "$DIR/agent"
mkdir -p "$DIR/fleet" "$DIR/agent"
printf '%s\n' "$PASSWORD" > "$DIR/password"
"$BIN/fleet" admin create --data "$DIR/fleet" --user "$USER_NAME" --password-file "$DIR/password" >/dev/null
"$BIN/fleet" admin site --data "$DIR/fleet" --id demo --name "Demo Library" >/dev/null
"$BIN/fleet" admin enrol-token --data "$DIR/fleet" --site demo --uses 1 --expires 1h > "$DIR/agent/enrol-token"
API_TOKEN=$("$BIN/fleet" admin api-token --data "$DIR/fleet" --user "$USER_NAME")

"$BIN/fleet" serve --addr "$ADDR" --data "$DIR/fleet" --log-level warn > "$DIR/fleet.out" 2> "$DIR/fleet.log" &
FLEET_PID=$!
trap 'kill $FLEET_PID 2>/dev/null; wait $FLEET_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q fingerprint "$DIR/fleet.out" 2>/dev/null && break; sleep 0.1; done
FP=$(sed -n 's/.*fingerprint \([0-9A-F:]*\).*/\1/p' "$DIR/fleet.out")
[ -n "$FP" ] || { echo "demo: the fleet server did not start:"; cat "$DIR/fleet.log"; exit 1; }

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

export BIN DIR SECONDS_TO_RUN
echo
echo "demo: fleet console  https://$ADDR/   (self-signed; fingerprint $FP)"
echo "demo: sign in as     $USER_NAME / $PASSWORD"
echo


if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
	echo "demo: kiosk in a window, agent beside it (close the kiosk window or Ctrl-C to stop)"
	DEMO_FOREGROUND=1 dbus-run-session -- "$0" --pair 2> "$DIR/dbus.log"
else
	echo "demo: no display; kiosk under Xvfb and agent for ${SECONDS_TO_RUN}s"
	xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$0" --pair 2> "$DIR/dbus.log"
fi

DEVICES=$(curl -sk --max-time 5 -H "Authorization: Bearer $API_TOKEN" "https://$ADDR/api/v1/admin/devices")
if echo "$DEVICES" | grep -q '"last_seen_unix_ms":[1-9]'; then
	echo "demo: the kiosk enrolled and reported: $DEVICES"
else
	echo "demo: the agent did not report to the fleet; see $DIR/agent.log"; tail -20 "$DIR/agent.log"; exit 1
fi
[ -s "$DIR/kiosk-home.png" ] && echo "demo: screenshot of the kiosk's home page: $DIR/kiosk-home.png"
if [ -z "${DEMO_NO_WAIT:-}" ] && [ -t 0 ]; then
	echo "demo: the fleet keeps running at https://$ADDR/ ($USER_NAME / $PASSWORD); Enter stops it"
	read -r _
fi

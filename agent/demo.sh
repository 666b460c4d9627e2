#!/usr/bin/env bash
# `make demo`: the fleet server, an enrolled agent and the kiosk together on
# this machine, on their embedded defaults (the agent gets only what tells
# it where the fleet is), everything on loopback and a private D-Bus.
#
#   DEMO_DIR      where state and logs go (default out/demo; wiped first)
#   DEMO_ADDR     fleet address (default 127.0.0.1:8443)
#   DEMO_SECONDS  stop after this many seconds (default: run until Ctrl-C)
#   BIN           where the programs are (default bin)
#
# Without a display the kiosk runs under a private Xvfb and a screenshot of
# its home page is saved as DEMO_DIR/kiosk.png.
set -euo pipefail

BIN=${BIN:-bin}
OUT=${DEMO_DIR:-out/demo}
ADDR=${DEMO_ADDR:-127.0.0.1:8443}
RUN_FOR=${DEMO_SECONDS:-0}

for p in fleet agent; do
	[ -x "$BIN/$p" ] || { echo "demo: $BIN/$p is missing (make build)" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# wait_for FILE PATTERN SECONDS: wait until FILE has a line matching PATTERN.
wait_for() {
	for _ in $(seq 1 $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "demo: no '$2' in $1 after $3s; its last lines:" >&2
	tail -n 20 "$1" >&2 || true
	return 1
}

# 1. The fleet: first admin, a site, a single-use enrolment token, then serve.
"$BIN/fleet" admin create --data "$OUT/fleet" --user admin >"$OUT/admin.txt"
password=$(sed -n 's/^password: //p' "$OUT/admin.txt")
"$BIN/fleet" admin site --data "$OUT/fleet" --id demo --name "Demo Library" >/dev/null
"$BIN/fleet" admin enrol-token --data "$OUT/fleet" --site demo >"$OUT/enrol-token"
"$BIN/fleet" serve --addr "$ADDR" --data "$OUT/fleet" >"$OUT/fleet.log" 2>&1 &
pids+=($!)
wait_for "$OUT/fleet.log" "fingerprint" 30
fingerprint=$(sed -n 's/.*fingerprint \([0-9A-Fa-f:]*\).*/\1/p' "$OUT/fleet.log" | head -n 1)

# 2. A private D-Bus for the kiosk and the agent.
dbus-daemon --session --nofork --nopidfile --print-address=1 >"$OUT/bus.address" 2>"$OUT/bus.log" &
pids+=($!)
wait_for "$OUT/bus.address" "unix:" 10
bus=$(head -n 1 "$OUT/bus.address")

# 3. The kiosk, when it is built: on the display, or on a private Xvfb.
if [ -x "$BIN/kiosk" ]; then
	display=${DISPLAY:-}
	if [ -z "$display" ]; then
		for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || break; done
		Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
		pids+=($!)
		display=":$n"
		for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
	fi
	DISPLAY=$display DBUS_SESSION_BUS_ADDRESS=$bus "$BIN/kiosk" --screenshot "$OUT/kiosk.png" >"$OUT/kiosk.log" 2>&1 &
	pids+=($!)
else
	echo "demo: $BIN/kiosk is not built; running the fleet and the agent only" >&2
fi

# 4. The agent: embedded defaults, plus where the fleet is and how to trust it.
cat >"$OUT/agent.yaml" <<EOF
state_dir: $OUT/agent
fleet:
  url: https://$ADDR
  fingerprint: "$fingerprint"
  enrol_token_file: $OUT/enrol-token
report:
  interval: 10s
kiosk:
  bus: "$bus"
discovery:
  advertise: false
EOF
"$BIN/agent" --config "$OUT/agent.yaml" >"$OUT/agent.log" 2>&1 &
pids+=($!)
wait_for "$OUT/agent.log" "enrolled with the fleet" 30
device=$(sed -n 's/.*device_id=\([^ ]*\).*/\1/p' "$OUT/agent.log" | tail -n 1)

cat <<EOF

  Access Kiosk demo is running.

  Fleet console   https://$ADDR/   (self-signed certificate, SHA-256 $fingerprint)
  Log in as       admin / $password
  Enrolled kiosk  $device at site "demo" (reports every 10 s)
  Logs and state  $OUT/{fleet,agent,kiosk}.log

EOF
if [ -x "$BIN/kiosk" ]; then
	echo "  Kiosk screenshot (once the home page shows): $OUT/kiosk.png"
	echo
fi

if [ "$RUN_FOR" -gt 0 ]; then
	sleep "$RUN_FOR"
else
	echo "  Ctrl-C stops everything."
	wait
fi

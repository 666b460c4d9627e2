#!/bin/bash
# Stages the persistent partition's first contents (mounted at
# /var/lib/accesskiosk): the agent's state, SSH host keys (made on first
# use) and NetworkManager's Wi-Fi profiles, each readable by root only; the
# update directory (releases the units run, world-readable: the kiosk user
# runs its program from there); the agent's config; and, when the build was
# given one (TRUSTED_ROOT=FILE, the fleet's `fleet release root` output), the
# trusted root of signed releases.
set -euo pipefail
dir=${1:?DATADIR}
rm -rf "$dir"
mkdir -p "$dir"
chmod 0755 "$dir"
for d in agent ssh network-connections; do
	install -d -m 0700 "$dir/$d"
done
install -d -m 0755 "$dir/update"
cat >"$dir/agent.yaml" <<'CONF'
# Access Kiosk agent configuration of this device (/etc/accesskiosk/agent.yaml
# links here). First boot enrols the device with the fleet the boot
# partition's first-boot file names; with nothing set the agent finds its
# fleet on the network by mDNS.
log_level: info
update:
  # Signed releases from the fleet this device enrolled with (FLEET/release).
  repo_url: fleet
  # The fleet's TUF root (`fleet release root`): given at image build
  # (TRUSTED_ROOT=FILE) or on the boot partition as
  # accesskiosk-release-root.json (copied here at the first boot that sees it).
  trusted_root: /var/lib/accesskiosk/release-root.json
  # The units run bin/* of update/current (release-exec).
  dir: /var/lib/accesskiosk/update
CONF
chmod 0644 "$dir/agent.yaml"
if [ -n "${TRUSTED_ROOT:-}" ]; then
	if ! grep -q '"_type"[[:space:]]*:[[:space:]]*"root"' "$TRUSTED_ROOT"; then
		echo "data: TRUSTED_ROOT=$TRUSTED_ROOT is not TUF root metadata (make it with: fleet release root --data DIR --out root.json)" >&2
		exit 2
	fi
	install -m 0644 "$TRUSTED_ROOT" "$dir/release-root.json"
	echo "data: trusted root of signed releases from $TRUSTED_ROOT"
else
	echo "data: no TRUSTED_ROOT: signed updates stay off until the boot partition carries accesskiosk-release-root.json"
fi

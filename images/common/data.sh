#!/bin/bash
# Stages the persistent partition's first contents (mounted at
# /var/lib/accesskiosk): the agent's state, SSH host keys (made on first
# use) and NetworkManager's Wi-Fi profiles, each readable by root only.
set -euo pipefail
dir=${1:?DATADIR}
rm -rf "$dir"
mkdir -p "$dir"
for d in agent ssh network-connections; do
	install -d -m 0700 "$dir/$d"
done
cat >"$dir/agent.yaml" <<'CONF'
# Access Kiosk agent configuration of this device (/etc/accesskiosk/agent.yaml
# links here). First boot rewrites it from the boot partition's first-boot
# file; with nothing set the agent finds its fleet on the network by mDNS.
log_level: info
CONF
chmod 0644 "$dir/agent.yaml"

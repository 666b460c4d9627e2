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

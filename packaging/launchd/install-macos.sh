#!/bin/sh
# Installs the agent binary and its launchd daemon on macOS. Run as root:
#   sudo ./install-macos.sh ./agent https://collector.example.ac.uk <enrolment-token> [ca.pem]
set -eu
BINARY=$1 SERVER=$2 TOKEN=$3 CA=${4:-}
STATE="/Library/Application Support/Outpost"
install -d -m 0755 /usr/local/outpost
install -m 0755 "$BINARY" /usr/local/outpost/agent
install -d -m 0700 "$STATE"
install -d -m 0750 /Library/Logs/Outpost
if [ -n "$CA" ]; then
  /usr/local/outpost/agent --state-dir "$STATE" enroll --server "$SERVER" --token "$TOKEN" --ca-file "$CA"
else
  /usr/local/outpost/agent --state-dir "$STATE" enroll --server "$SERVER" --token "$TOKEN"
fi
install -m 0644 "$(dirname "$0")/org.outpost.agent.plist" /Library/LaunchDaemons/org.outpost.agent.plist
launchctl bootout system/org.outpost.agent 2>/dev/null || true
launchctl bootstrap system /Library/LaunchDaemons/org.outpost.agent.plist
/usr/local/outpost/agent --state-dir "$STATE" --self-check || true

#!/bin/sh
# Enrolment at install time, for device management (installed as
# /usr/lib/outpost/enrol-at-install, run by the .deb's postinst and the .rpm's %post):
# /etc/outpost/enrol.env (root's alone, 0600) with OUTPOST_SERVER=, OUTPOST_ENROL_TOKEN= and
# optionally OUTPOST_CA_FILE=, put there before the package is installed. Used once: removed
# after the device enrolled; kept, with a message, when enrolment fails. The agent enrols as
# the service user, so what it writes is the service's from the start; the secret goes to a
# 0600 file in /var/lib/outpost (no keyring: the service user has none). Honours DPKG_ROOT.
# Usage: enrol-at-install "HOW TO RETRY"   (always exits 0: a failed enrolment is said, and
#        does not fail the package's installation)
set -u
retry=${1:-reinstall the package}
enrol_file="${DPKG_ROOT:-}/etc/outpost/enrol.env"
state="${DPKG_ROOT:-}/var/lib/outpost"
# The service user's uid (field 3) or gid (field 4).
owner() {
  awk -F: -v field="$1" '$1 == "outpost" { print $field }' "${DPKG_ROOT:-}/etc/passwd"
}
value() {
  sed -n "s/^$1=//p" "$enrol_file" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
}
if [ ! -f "$enrol_file" ] || [ -f "$state/enrolment.json" ]; then
  exit 0
fi
server=$(value OUTPOST_SERVER)
token=$(value OUTPOST_ENROL_TOKEN)
ca=$(value OUTPOST_CA_FILE)
mode=$(stat -c '%a %u' "$enrol_file")
if [ "$mode" != "600 0" ] && [ "$mode" != "400 0" ]; then
  echo "outpost-agent: $enrol_file must be root's alone (mode 0600), not enrolling" >&2
elif [ -z "$server" ] || [ -z "$token" ]; then
  echo "outpost-agent: $enrol_file needs OUTPOST_SERVER and OUTPOST_ENROL_TOKEN, not enrolling" >&2
elif setpriv --reuid="$(owner 3)" --regid="$(owner 4)" --clear-groups \
  env PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
  "${DPKG_ROOT:-}/usr/lib/outpost/agent" --state-dir "$state" enroll \
  --server "$server" --token "$token" ${ca:+--ca-file "${DPKG_ROOT:-}$ca"} >/dev/null; then
  rm -f "$enrol_file"
  echo "outpost-agent: enrolled with $server"
else
  echo "outpost-agent: enrolment with $server failed; $enrol_file is kept: fix it, then $retry" >&2
fi
exit 0

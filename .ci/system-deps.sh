#!/usr/bin/env bash
# Installs the Debian packages the project needs on the host: sipp (callers, carriers and
# operator softphones), debootstrap (the Asterisk sandbox builds itself from Debian unstable),
# espeak-ng and sox (the IVR prompts are synthesised and converted at install time).
set -euo pipefail
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing ${need[*]} …"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q "${need[@]}" >/dev/null

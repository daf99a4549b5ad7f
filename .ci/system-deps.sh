#!/usr/bin/env bash
# Installs the Debian packages the project needs on the host: sipp (callers, carriers and
# operator softphones), debootstrap (the Asterisk sandbox builds itself from Debian unstable),
# espeak-ng and sox (the IVR prompts are synthesised and converted at install time),
# chromium (the browser tier drives Debian's Chromium with Playwright: `playwright install`
# cannot download a browser build here).
set -euo pipefail
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing ${need[*]} …"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q "${need[@]}" >/dev/null
for cmd in sipp debootstrap espeak-ng sox /usr/bin/chromium; do
  command -v "$cmd" >/dev/null || { echo "installed ${need[*]} but $cmd is still missing" >&2; exit 1; }
done

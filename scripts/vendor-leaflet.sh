#!/usr/bin/env bash
# Vendors Leaflet into gateway/console/static/vendor/leaflet/ so that the operator console
# draws its map with no CDN, no tile server and no network at run time. The files it writes
# are committed: a clean clone has them. Run this only to re-vendor (e.g. a new version):
#   bash scripts/vendor-leaflet.sh
# To change the version, set LEAFLET_VERSION and both checksums below to the values of
# `npm view leaflet@X.Y.Z dist --json` (integrity is base64 sha512, shasum is hex sha1), then
# check the console page still passes `pytest tests/browser`.
set -euo pipefail

LEAFLET_VERSION="1.9.4"
# npm "integrity" of leaflet-1.9.4.tgz (base64 of its sha512), and its "shasum" (hex sha1).
LEAFLET_SHA512="nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
LEAFLET_SHA1="23fae724e282fa25745aff82ca4d394748db7d8d"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/gateway/console/static/vendor/leaflet"

command -v npm >/dev/null || { echo "vendor-leaflet: npm is required (apt-get install npm)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "vendor-leaflet: python3 is required" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching leaflet@$LEAFLET_VERSION from the npm registry …"
(cd "$work" && npm pack --silent "leaflet@$LEAFLET_VERSION" >/dev/null)
tarball="$work/leaflet-$LEAFLET_VERSION.tgz"
[ -f "$tarball" ] || { echo "vendor-leaflet: npm pack wrote no $tarball" >&2; exit 1; }

got_sha512="$(python3 -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
got_sha1="$(sha1sum "$tarball" | cut -d' ' -f1)"
if [ "$got_sha512" != "$LEAFLET_SHA512" ] || [ "$got_sha1" != "$LEAFLET_SHA1" ]; then
  echo "vendor-leaflet: checksum mismatch for leaflet-$LEAFLET_VERSION.tgz" >&2
  echo "  sha512 expected $LEAFLET_SHA512" >&2
  echo "         got      $got_sha512" >&2
  echo "  sha1   expected $LEAFLET_SHA1" >&2
  echo "         got      $got_sha1" >&2
  exit 1
fi

tar -xzf "$tarball" -C "$work"
pkg="$work/package"
for f in dist/leaflet.js dist/leaflet.css LICENSE; do
  [ -f "$pkg/$f" ] || { echo "vendor-leaflet: $f is missing from the tarball" >&2; exit 1; }
done

rm -rf "$dest"
mkdir -p "$dest/images"
cp "$pkg/dist/leaflet.js" "$pkg/dist/leaflet.css" "$dest/"
cp "$pkg/dist/images/"* "$dest/images/"
cp "$pkg/LICENSE" "$dest/LICENSE"
cat >"$dest/VERSION" <<VERSION
leaflet $LEAFLET_VERSION (npm registry tarball leaflet-$LEAFLET_VERSION.tgz)
sha512-$LEAFLET_SHA512
sha1 $LEAFLET_SHA1
written by scripts/vendor-leaflet.sh; do not edit these files by hand
VERSION
echo "leaflet $LEAFLET_VERSION vendored into ${dest#"$root"/}:"
(cd "$dest" && find . -type f | sort)

# shellcheck shell=bash
# Prints the Debian mirror this machine's apt already uses (so the arm64
# root file systems come from the same place, proxies included); empty when
# none is found, and mmdebstrap then picks Debian's default.
# CAMGW_DEBIAN_MIRROR overrides.
debian_mirror() {
  if [[ -n "${CAMGW_DEBIAN_MIRROR:-}" ]]; then
    echo "$CAMGW_DEBIAN_MIRROR"
    return
  fi
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    # deb822: the first URIs line of a stanza whose Suites are Debian's own.
    awk '/^URIs:/{u=$2} /^Suites:/{ if ($2 ~ /^(bookworm|trixie|sid|stable|testing|unstable)$/ && u !~ /security/) {print u; exit} }' "$f"
  done | head -1
  if [[ -f /etc/apt/sources.list ]]; then
    awk '$1=="deb" && $0 !~ /security/ && $0 ~ /debian/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list
  fi | head -1
}

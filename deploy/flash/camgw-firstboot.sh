#!/bin/sh
# /usr/local/sbin/camgw-firstboot, run once by camgw-firstboot.service on a
# board flashed with `make flash`. Puts the settings that flash left on the
# boot partition in /etc/camgw, installs the camgw package (apt resolves
# nodejs, libx264 and the rest from the board's repositories), then removes
# its inputs (they may hold credentials) and disables itself.
set -eu
state=/var/lib/camgw-firstboot
boot=/boot/firmware
[ -d "$boot" ] || boot=/boot
log() { echo "camgw-firstboot: $*"; }

# Settings: the boot partition's copy may have been edited on a PC since
# flashing; it wins.
mkdir -p /etc/camgw
if [ -f "$boot/camgw/config.yaml" ]; then
  cp "$boot/camgw/config.yaml" /etc/camgw/config.yaml
  chmod 0640 /etc/camgw/config.yaml
  log "settings from $boot/camgw/config.yaml"
fi
if [ -f "$boot/camgw/broker-ca.pem" ]; then
  cp "$boot/camgw/broker-ca.pem" /etc/camgw/broker-ca.pem
  chmod 0644 /etc/camgw/broker-ca.pem
fi

# Wi-Fi: Raspberry Pi OS keeps Wi-Fi soft-blocked until a country is set.
if [ -f "$state/wifi-country" ]; then
  country=$(cat "$state/wifi-country")
  if command -v raspi-config >/dev/null; then
    raspi-config nonint do_wifi_country "$country" || log "could not set Wi-Fi country $country"
  fi
  rfkill unblock wifi 2>/dev/null || true
  nmcli connection reload 2>/dev/null || true
fi

# --force-confold: keep the config written above instead of the package's.
export DEBIAN_FRONTEND=noninteractive
if ! dpkg -s nodejs >/dev/null 2>&1 || ! apt-get -s install "$state/camgw.deb" >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 update -q || log "apt-get update failed (no network yet?)"
fi
apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold install -y -q "$state/camgw.deb"

# Done: drop the inputs (credentials) and never run again.
chown root:camgw /etc/camgw/config.yaml 2>/dev/null || true
rm -rf "$boot/camgw" "$state"
systemctl disable camgw-firstboot.service >/dev/null 2>&1 || true
log "camgw installed; service: $(systemctl is-active camgw.service 2>/dev/null || echo unknown)"

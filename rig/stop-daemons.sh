#!/bin/bash
# Destroy/undefine the project's domains (prefix atp-), then stop libvirtd and virtlogd.
set -uo pipefail
URI=${ATP_LIBVIRT_URI:-qemu:///system}
PREFIX=${ATP_DOMAIN_PREFIX:-atp-}
if [ -f /run/libvirtd.pid ] && kill -0 "$(cat /run/libvirtd.pid)" 2>/dev/null; then
  for d in $(virsh -c "$URI" list --all --name | grep "^$PREFIX" || true); do
    virsh -c "$URI" destroy "$d" >/dev/null 2>&1
    virsh -c "$URI" undefine "$d" >/dev/null 2>&1 && echo "removed domain $d"
  done
fi
stop() {
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || { rm -f "$1"; return 0; }
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$1"; echo "stopped $1 ($pid)"
}
bash "$(dirname "$0")/remote-hosts.sh" stop
stop /run/libvirtd.pid
stop /run/virtlogd.pid

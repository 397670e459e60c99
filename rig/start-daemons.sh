#!/bin/bash
# Start virtlogd + libvirtd (and Redis when nothing answers on REDIS port) without systemd.
# Idempotent. As root the URI is qemu:///system.
set -euo pipefail
URI=${ATP_LIBVIRT_URI:-qemu:///system}
mkdir -p /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu
export LIBVIRT_LOG_OUTPUTS=${LIBVIRT_LOG_OUTPUTS:-"3:file:/var/log/libvirt/libvirtd.log"}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# /dev/kvm present but root-only makes libvirt 9 re-probe QEMU on every lookup (56 s defines).
# Give it Debian's udev mode; domains still use TCG (type='qemu').
if [ -c /dev/kvm ] && [ -z "${ATP_KEEP_KVM_PERMS:-}" ]; then
  chgrp kvm /dev/kvm 2>/dev/null && chmod 0660 /dev/kvm || true
fi

# libvirt's per-domain mount namespace fails where / is not a mount point (chroots).
if ! awk '$5=="/"{f=1} END{exit !f}' /proc/self/mountinfo; then
  grep -q '^namespaces *= *\[ *\]' /etc/libvirt/qemu.conf || {
    echo 'namespaces = []' >> /etc/libvirt/qemu.conf
    alive /run/libvirtd.pid && kill "$(cat /run/libvirtd.pid)" && sleep 1
  }
fi

if ! alive /run/virtlogd.pid; then
  rm -f /run/virtlogd.pid /run/libvirt/virtlogd-sock /run/libvirt/virtlogd-admin-sock
  virtlogd -d
fi
if ! alive /run/libvirtd.pid; then
  rm -f /run/libvirtd.pid
  libvirtd -d --pid-file /run/libvirtd.pid
fi
for _ in $(seq 1 150); do
  virsh -c "$URI" version >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -c "$URI" version >/dev/null || { echo "rig: libvirtd did not answer on $URI" >&2; exit 1; }

# Redis: the machine's own on 6379 when it answers; else start one.
REDIS_PORT=${ATP_REDIS_PORT:-6379}
if ! (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/atp.log
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null && break; sleep 0.1; done
fi
echo "rig: libvirtd $(cat /run/libvirtd.pid), virtlogd $(cat /run/virtlogd.pid), redis :$REDIS_PORT"

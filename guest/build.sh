#!/bin/bash
# Build the tiny test guest: the host's Debian kernel + a busybox/qemu-ga initramfs.
# Output: $ATP_GUEST_DIR/vmlinuz and $ATP_GUEST_DIR/initramfs.cpio.gz (default /var/tmp/atp/guest).
# Skips the build when the output is newer than this script (pass --force to rebuild).
#
# Inside the guest:
#   qemu-ga on the virtio port org.qemu.guest_agent.0
#   /bin/keylogger on tty1: each typed line is appended to /tmp/keys.log and echoed on screen
#   raw evdev recorders: /tmp/eventN.bin (24-byte struct input_event), map in /tmp/input-devices.txt
#   an echo service on the virtio port org.atp.echo.0 (each line written back), for channel tests
#   ctrl+alt+del appends CTRL-ALT-DEL to /tmp/keys.log instead of rebooting
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${ATP_GUEST_DIR:-/var/tmp/atp/guest}
if [ "${1:-}" != "--force" ] && [ -s "$OUT/initramfs.cpio.gz" ] && [ "$OUT/initramfs.cpio.gz" -nt "$0" ]; then
  echo "guest: up to date in $OUT"; exit 0
fi
KVER=${KVER:-$(ls /lib/modules | sort -V | tail -1)}
KERNEL=/boot/vmlinuz-$KVER
MODULES="virtio_console virtio_pci virtio_input evdev psmouse"
[ -r "$KERNEL" ] || { echo "guest: no kernel $KERNEL (run rig/install.sh)" >&2; exit 1; }
ROOT=$(mktemp -d /var/tmp/atpguest.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT

mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,var/log,root,lib/modules}
ln -s ../run "$ROOT/var/run"
cp /bin/busybox "$ROOT/bin/busybox"
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || [ -e "$ROOT/bin/$a" ] || ln -s busybox "$ROOT/bin/$a"
done
ln -sf ../bin/busybox "$ROOT/sbin/init"
ln -sf bin/busybox "$ROOT/init"

# qemu-ga's guest-shutdown runs /sbin/shutdown; busybox has poweroff/reboot only.
cat > "$ROOT/sbin/shutdown" <<'SH'
#!/bin/sh
case " $* " in *" -r "*) exec /bin/reboot ;; *) exec /bin/poweroff ;; esac
SH
chmod +x "$ROOT/sbin/shutdown"

cp /usr/sbin/qemu-ga "$ROOT/usr/sbin/qemu-ga"
for lib in $(ldd /usr/sbin/qemu-ga | grep -o '/[^ ]*'); do
  mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"
done

: > "$ROOT/etc/modules.order"
for m in $MODULES; do
  modprobe -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}' | while read -r ko; do
    base=$(basename "$ko")
    case "$ko" in
      *.ko.xz)  base=${base%.xz};  xz -dc "$ko" > "$ROOT/lib/modules/$base" ;;
      *.ko.zst) base=${base%.zst}; zstd -qdc "$ko" > "$ROOT/lib/modules/$base" ;;
      *)        cp "$ko" "$ROOT/lib/modules/$base" ;;
    esac
    grep -qx "$base" "$ROOT/etc/modules.order" || echo "$base" >> "$ROOT/etc/modules.order"
  done
done

cp "$HERE/rootfs/inittab" "$ROOT/etc/inittab"
install -m 755 "$HERE/rootfs/rc.sysinit" "$ROOT/etc/rc.sysinit"
install -m 755 "$HERE/rootfs/keylogger" "$ROOT/bin/keylogger"
install -m 755 "$HERE/rootfs/echo-channel" "$ROOT/bin/echo-channel"
cat > "$ROOT/etc/os-release" <<'OS'
NAME="ATP busybox guest"
ID=atpguest
VERSION_ID=1
PRETTY_NAME="ATP busybox test guest"
OS
echo 'root:x:0:0:root:/root:/bin/sh' > "$ROOT/etc/passwd"
echo 'root:x:0:' > "$ROOT/etc/group"
echo atpguest > "$ROOT/etc/hostname"
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true

mkdir -p "$OUT"
(cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet | gzip -6) > "$OUT/initramfs.cpio.gz.tmp"
mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
cp "$KERNEL" "$OUT/vmlinuz"
chmod 644 "$OUT/vmlinuz" "$OUT/initramfs.cpio.gz"; chmod 755 "$OUT"
echo "guest: kernel $KVER, initramfs $(stat -c %s "$OUT/initramfs.cpio.gz") bytes in $OUT"

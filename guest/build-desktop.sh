#!/bin/bash
# Build the desktop test guest: the host's Debian kernel + an initramfs of files copied from the
# host's installed packages (rig/install.sh installs them): busybox init, qemu-ga, Xorg on the QXL
# DRM device (modesetting), evdev input, xkb, fonts, the xdm login screen (PAM, user atp/atp),
# twm, xterm, xcalc, xedit, xclock, and the text guest's key and evdev recorders.
# Output: $ATP_DESKTOP_DIR/vmlinuz and initramfs.cpio.gz (default /var/tmp/atp/desktop), apart
# from the text guest. Skips the build when the output is newer than its sources (--force).
#
# Inside the guest (markers the rig reads through the agent; nothing here judges a test):
#   /run/atp-ready      devices, recorders and xorg.conf are ready
#   /run/atp-greeter    xdm shows its login screen        (Xsetup)
#   /run/atp-session    a user logged in, holds the name  (Xstartup)
#   /tmp/atp-desktop    the session's windows are mapped  (Xsession)
#   /tmp/keys.log       lines typed into the "keylog" xterm (/bin/keylogger)
#   /tmp/eventN.bin     raw evdev recordings, map in /tmp/input-devices.txt
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$HERE/desktop
OUT=${ATP_DESKTOP_DIR:-/var/tmp/atp/desktop}
IMAGE=$OUT/initramfs.cpio.gz
if [ "${1:-}" != "--force" ] && [ -s "$IMAGE" ] && [ "$IMAGE" -nt "$0" ] \
   && [ -z "$(find "$SRC" "$HERE/rootfs/keylogger" -newer "$IMAGE" -print -quit)" ]; then
  echo "desktop guest: up to date in $OUT"; exit 0
fi
KVER=${KVER:-$(ls /lib/modules | sort -V | tail -1)}
KERNEL=/boot/vmlinuz-$KVER
MULTIARCH=x86_64-linux-gnu
MODULES="qxl virtio_console virtio_pci virtio_input evdev usbhid hid_generic uhci_hcd ehci_pci"
[ -r "$KERNEL" ] || { echo "desktop guest: no kernel $KERNEL (run rig/install.sh)" >&2; exit 1; }
[ -x /usr/lib/xorg/Xorg ] && [ -x /usr/bin/xdm ] \
  || { echo "desktop guest: Xorg/xdm missing (run rig/install.sh)" >&2; exit 1; }
T0=$(date +%s.%N)
ROOT=$(mktemp -d /var/tmp/atpdesktop.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"   # mktemp makes it 0700, which would close / to the user atp

# merged /usr like the host: every path ldd, PAM and Xorg know exists as it is
mkdir -p "$ROOT"/usr/{bin,sbin,lib,lib64} "$ROOT"/{etc,proc,sys,dev,tmp,run,root,home}
ln -s usr/bin "$ROOT/bin"; ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"; ln -s usr/lib64 "$ROOT/lib64"
mkdir -p "$ROOT/var/log" "$ROOT/var/lib/xkb" "$ROOT/var/lib/xdm"
ln -s ../run "$ROOT/var/run"

copy() {  # one file; a symlink is copied as a link plus its target
  local f=$1 target
  [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ] && return 0
  mkdir -p "$ROOT$(dirname "$f")"
  if [ -L "$f" ]; then
    target=$(readlink -f "$f"); copy "$target"; ln -sf "$target" "$ROOT$f"
  else
    cp -a "$f" "$ROOT$f"
  fi
}
copy_elf() {  # binaries or dlopen'ed objects and every library ldd resolves for them
  local f lib
  for f in "$@"; do
    copy "$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do copy "$lib"; done
  done
}

copy_elf /usr/sbin/qemu-ga /usr/lib/xorg/Xorg /usr/bin/xkbcomp /usr/bin/xdm /usr/bin/twm \
  /usr/bin/xterm /usr/bin/xcalc /usr/bin/xedit /usr/bin/xclock /usr/bin/xrdb /usr/bin/xsetroot \
  /usr/bin/xwininfo /usr/bin/xdpyinfo /usr/sbin/unix_chkpwd
for m in drivers/modesetting_drv.so input/evdev_drv.so libshadow.so libshadowfb.so libwfb.so; do
  copy_elf /usr/lib/xorg/modules/$m
done
for m in pam_unix pam_permit pam_deny pam_env; do copy_elf /usr/lib/$MULTIARCH/security/$m.so; done
copy_elf /usr/lib/X11/xdm/libXdmGreet.so   # xdm dlopens its greeter; without it X restarts in a loop

# busybox applets, never over a real binary
cp /bin/busybox "$ROOT/usr/bin/busybox"
for a in $(/bin/busybox --list); do
  [ -e "$ROOT/usr/bin/$a" ] || [ -e "$ROOT/usr/sbin/$a" ] || ln -s busybox "$ROOT/usr/bin/$a"
done
ln -sf ../bin/busybox "$ROOT/usr/sbin/init"
ln -sf bin/busybox "$ROOT/init"
cat > "$ROOT/usr/sbin/shutdown" <<'SH'
#!/bin/sh
case " $* " in *" -r "*) exec /bin/reboot ;; *) exec /bin/poweroff ;; esac
SH
chmod 755 "$ROOT/usr/sbin/shutdown"

# X data: xkb, app-defaults, locale, xdm pixmaps, fonts
mkdir -p "$ROOT/usr/share/X11/locale" "$ROOT/etc/X11/atp" "$ROOT/etc/X11/xdm"
cp -a /usr/share/X11/xkb "$ROOT/usr/share/X11/"
cp -aL /usr/share/X11/xdm "$ROOT/usr/share/X11/"
cp -aL /etc/X11/app-defaults "$ROOT/etc/X11/"
ln -sfn /etc/X11/app-defaults "$ROOT/usr/share/X11/app-defaults"
for f in rgb.txt XErrorDB XKeysymDB; do [ -e /usr/share/X11/$f ] && cp -aL /usr/share/X11/$f "$ROOT/usr/share/X11/"; done
for f in C en_US.UTF-8 compose.dir locale.alias locale.dir; do
  [ -e /usr/share/X11/locale/$f ] && cp -aL /usr/share/X11/locale/$f "$ROOT/usr/share/X11/locale/"
done
F=/usr/share/fonts/X11/misc; mkdir -p "$ROOT$F"
cp "$F"/*-ISO8859-1.pcf.gz "$F"/cursor.pcf.gz "$F"/fonts.alias "$ROOT$F/"
mkfontdir "$ROOT$F"
D=/usr/share/fonts/truetype/dejavu; mkdir -p "$ROOT$D" "$ROOT/etc/fonts"
cp "$D"/DejaVuSans.ttf "$D"/DejaVuSans-Bold.ttf "$D"/DejaVuSerif-BoldItalic.ttf \
  "$D"/DejaVuSansMono.ttf "$D"/DejaVuSansMono-Bold.ttf "$ROOT$D/"
cp -aL /etc/fonts/fonts.conf "$ROOT/etc/fonts/"
fc-cache -s -y "$ROOT" >/dev/null 2>&1 || true   # Xft (greeter, xterm) would build it at every start

# kernel modules
: > "$ROOT/etc/modules.order"
for m in $MODULES; do
  modprobe -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}' | while read -r ko; do
    base=$(basename "$ko")
    case "$ko" in
      *.ko.xz)  base=${base%.xz};  [ -e "$ROOT/lib/modules/$base" ] || { mkdir -p "$ROOT/lib/modules"; xz -dc "$ko" > "$ROOT/lib/modules/$base"; } ;;
      *.ko.zst) base=${base%.zst}; [ -e "$ROOT/lib/modules/$base" ] || { mkdir -p "$ROOT/lib/modules"; zstd -qdc "$ko" > "$ROOT/lib/modules/$base"; } ;;
      *)        mkdir -p "$ROOT/lib/modules"; cp -n "$ko" "$ROOT/lib/modules/$base" ;;
    esac
    grep -qx "$base" "$ROOT/etc/modules.order" || echo "$base" >> "$ROOT/etc/modules.order"
  done
done

# users: root (no password login) and atp/atp for the login screen
HASH=$(openssl passwd -6 -salt atpdesk atp)
cat > "$ROOT/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
atp:x:1000:1000:ATP test user:/home/atp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
printf 'root:*:19000:0:99999:7:::\natp:%s:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' "$HASH" > "$ROOT/etc/shadow"
chmod 640 "$ROOT/etc/shadow"
printf 'root:x:0:\natp:x:1000:\nnogroup:x:65534:\n' > "$ROOT/etc/group"
printf '/bin/sh\n' > "$ROOT/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' > "$ROOT/etc/nsswitch.conf"
printf '127.0.0.1 localhost atpdesktop\n' > "$ROOT/etc/hosts"
echo atpdesktop > "$ROOT/etc/hostname"
mkdir -p "$ROOT/home/atp"; chown 1000:1000 "$ROOT/home/atp"; chmod 755 "$ROOT/home/atp"

# our files
mkdir -p "$ROOT/etc/pam.d"
install -m 644 "$SRC/pam-xdm" "$ROOT/etc/pam.d/xdm"
install -m 644 "$SRC/pam-xdm" "$ROOT/etc/pam.d/other"
install -m 644 "$SRC/inittab" "$ROOT/etc/inittab"
install -m 755 "$SRC/rc.sysinit" "$ROOT/etc/rc.sysinit"
install -m 644 "$SRC/xorg.conf.in" "$ROOT/etc/X11/xorg.conf.in"
install -m 644 "$SRC/twmrc" "$SRC/session.Xresources" "$ROOT/etc/X11/atp/"
cp -a "$SRC/xdm/." "$ROOT/etc/X11/xdm/"
install -m 755 "$HERE/rootfs/keylogger" "$ROOT/usr/bin/keylogger"
cat > "$ROOT/etc/os-release" <<'OS'
NAME="ATP desktop guest"
ID=atpdesktop
VERSION_ID=1
PRETTY_NAME="ATP busybox + Xorg/xdm/twm desktop test guest"
OS
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true

mkdir -p "$OUT"
(cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet | gzip -6) > "$IMAGE.tmp"
mv "$IMAGE.tmp" "$IMAGE"
cp "$KERNEL" "$OUT/vmlinuz"
chmod 644 "$OUT/vmlinuz" "$IMAGE"; chmod 755 "$OUT"
T1=$(date +%s.%N)
echo "desktop guest: kernel $KVER, $(du -sh "$ROOT" | cut -f1) unpacked, initramfs $(stat -c %s "$IMAGE") bytes in $OUT ($(awk "BEGIN{printf \"%.1f\", $T1 - $T0}") s)"

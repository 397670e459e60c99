#!/bin/bash
# Install the system packages OCloudView ATP needs on Debian/Ubuntu (root, no systemd needed).
# Idempotent and fast when everything is present: apt is only touched for what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# command-or-file : package
# (the X, xdm and font packages are copied into the desktop test guest by guest/build-desktop.sh;
#  gir1.2-spiceclientglib-2.0 is the SPICE client, libgirepository1.0-dev and libcairo2-dev let
#  pip build PyGObject and pycairo; fonts-wqy-microhei, the smallest CJK font, lets Chromium show
#  the VDI platform's Chinese messages as characters instead of boxes; iproute2 and
#  openssh-server make the two remote libvirt hosts of rig/remote-hosts.sh; rabbitmq-server is
#  the second broker of the distributed tests, and tests/dist starts private nodes of it)
NEEDED="
/usr/bin/qemu-system-x86_64:qemu-system-x86
/usr/bin/qemu-img:qemu-utils
/usr/sbin/libvirtd:libvirt-daemon-system
/usr/bin/virsh:libvirt-clients
/usr/include/libvirt/libvirt.h:libvirt-dev
/usr/bin/pkg-config:pkg-config
/bin/busybox:busybox-static
/usr/sbin/qemu-ga:qemu-guest-agent
/usr/bin/cpio:cpio
/sbin/modprobe:kmod
/usr/bin/xz:xz-utils
/usr/bin/zstd:zstd
/usr/bin/redis-server:redis-server
/usr/lib/rabbitmq/bin/rabbitmq-server:rabbitmq-server
/usr/bin/chromium:chromium
/usr/bin/gcc:gcc
/usr/bin/g++:g++
/usr/bin/tesseract:tesseract-ocr
/usr/share/tesseract-ocr/5/tessdata/eng.traineddata:tesseract-ocr-eng
/usr/include/tesseract/baseapi.h:libtesseract-dev
/usr/include/leptonica/allheaders.h:libleptonica-dev
/usr/lib/xorg/Xorg:xserver-xorg-core
/usr/lib/xorg/modules/drivers/qxl_drv.so:xserver-xorg-video-qxl
/usr/lib/xorg/modules/input/evdev_drv.so:xserver-xorg-input-evdev
/usr/bin/xkbcomp:x11-xkb-utils
/usr/share/X11/xkb/rules/evdev:xkb-data
/usr/bin/xdm:xdm
/usr/bin/twm:twm
/usr/bin/xterm:xterm
/usr/bin/xcalc:x11-apps
/usr/bin/xwininfo:x11-utils
/usr/bin/xsetroot:x11-xserver-utils
/usr/share/fonts/X11/misc/fonts.alias:xfonts-base
/usr/bin/mkfontdir:xfonts-utils
/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf:fonts-dejavu-core
/usr/bin/fc-cache:fontconfig
/usr/share/fonts/truetype/wqy/wqy-microhei.ttc:fonts-wqy-microhei
/usr/lib/x86_64-linux-gnu/security/pam_unix.so:libpam-modules
/usr/bin/openssl:openssl
/usr/sbin/ip:iproute2
/usr/bin/nsenter:util-linux
/usr/sbin/sshd:openssh-server
/usr/bin/ssh:openssh-client
/usr/lib/x86_64-linux-gnu/girepository-1.0/SpiceClientGLib-2.0.typelib:gir1.2-spiceclientglib-2.0
/usr/lib/x86_64-linux-gnu/pkgconfig/gobject-introspection-1.0.pc:libgirepository1.0-dev
/usr/lib/x86_64-linux-gnu/pkgconfig/cairo.pc:libcairo2-dev
/usr/bin/ffmpeg:ffmpeg
"
missing=""
for entry in $NEEDED; do
  path=${entry%%:*}; pkg=${entry##*:}
  [ -e "$path" ] || missing="$missing $pkg"
done
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing="$missing linux-image-amd64"
python3 -c 'import ensurepip' 2>/dev/null || missing="$missing python3-venv"
python3 - <<'PY' || missing="$missing python3-dev"
import os, sys, sysconfig
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY

if [ -n "$missing" ]; then
  echo "rig/install: installing$missing"
  if [ "$(id -u)" != 0 ]; then echo "rig/install: need root to install$missing" >&2; exit 1; fi
  apt-get update -q
  # INITRD=No: the kernel is only used for our own initramfs guest; skip update-initramfs.
  INITRD=No apt-get install -y -q --no-install-recommends $missing
else
  echo "rig/install: system packages present"
fi

"""The tiny test guest: build script (build.sh) and its libvirt domain XML."""

#!/usr/bin/env bash
# build-image.sh [--deb FILE] [--raw] OUT.qcow2: the Gatehouse appliance
# disk image: Debian 12 (bookworm, with -updates and -security) from Debian
# packages by mmdebstrap, the gatehouse package installed, booting with
# SYSLINUX from BIOS. No loop device and no mount: the root filesystem is
# made from a directory with mkfs.ext4 -d, the boot partition is FAT filled
# with mtools and made bootable by `syslinux --install` on the image file,
# and the disk is assembled with sfdisk and dd, then qemu-img convert.
#
# On first boot the appliance takes DHCP on its first NIC, has consoles on
# VGA and the serial port, and gatehoused (gatehouse.service) makes its
# admin certificate and first admin password; the console banner shows the
# URL https://ADDRESS:9443/, the certificate fingerprint and the password.
# Nothing secret is in the image (no keys, no passwords, empty machine-id).
#
# --deb FILE: the package to install (default: scripts/build-package.sh
# builds one). --raw: also keep OUT.raw. Needs root and the "vm" set of
# scripts/install-deps.sh. Environment: GH_MIRROR (default
# http://deb.debian.org/debian), GH_SECURITY_MIRROR.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deb=""
keep_raw=0
while [ $# -gt 1 ]; do
	case "$1" in
	--deb) deb=$2; shift 2 ;;
	--raw) keep_raw=1; shift ;;
	*) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { sed -n '2,22p' "$0"; exit 2; }
out=$(realpath -m "$1")
[ "$(id -u)" -eq 0 ] || { echo "build-image.sh: run as root" >&2; exit 1; }
# Every tool the steps below run, checked before a minute of mmdebstrap.
missing=()
for c in mmdebstrap mkfs.vfat mcopy syslinux mkfs.ext4 sfdisk qemu-img; do
	command -v "$c" >/dev/null || missing+=("$c")
done
[ -f /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(/usr/lib/syslinux/mbr/mbr.bin)
if [ ${#missing[@]} -gt 0 ]; then
	echo "build-image.sh: missing ${missing[*]}; run scripts/install-deps.sh vm" >&2
	exit 1
fi
mirror=${GH_MIRROR:-http://deb.debian.org/debian}
secmirror=${GH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
boot_mb=64
root_mb=${GH_ROOT_MB:-1536}

work=$(mktemp -d /var/tmp/gatehouse-image.XXXXXX)
# An interrupted mmdebstrap can leave /proc, /sys and /dev/* mounted in the
# tree: unmount whatever is under $work before deleting, and never cross
# into another filesystem.
cleanup() {
	local m
	for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
t0=$(date +%s)
step() { echo "build-image.sh: [$(($(date +%s) - t0)) s] $*"; }

if [ -z "$deb" ]; then
	bash "$top/scripts/build-package.sh" "$work/pkg"
	deb=$(ls "$work"/pkg/gatehouse_*.deb)
fi
deb=$(realpath "$deb")
cp "$deb" "$work/gatehouse.deb"

# 1. The root tree. The kernel is Debian's cloud flavour (made for VMs,
# a quarter of the modules); the initramfs holds only what a virtio disk
# needs. Documentation, man pages and locales are left out.
step "mmdebstrap bookworm"
root="$work/root"
mmdebstrap --mode=root --variant=minbase --format=directory \
	--include=systemd-sysv,udev,dbus,linux-image-cloud-amd64,initramfs-tools,openssl,adduser,libevent-2.1-7,libevent-pthreads-2.1-7,libgnutls30,libsqlite3-0,libmicrohttpd12,libjansson4,libargon2-1,libcap2 \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"; printf "MODULES=list\nCOMPRESS=zstd\n" >"$1/etc/initramfs-tools/conf.d/gatehouse.conf"; printf "virtio_pci\nvirtio_blk\nvirtio_net\next4\n" >>"$1/etc/initramfs-tools/modules" || true' \
	--customize-hook="copy-in $work/gatehouse.deb /tmp" \
	--customize-hook='chroot "$1" apt-get install -y -q --no-install-recommends /tmp/gatehouse.deb' \
	--customize-hook='rm -f "$1/tmp/gatehouse.deb"' \
	bookworm "$root" \
	"deb $mirror bookworm main" \
	"deb $mirror bookworm-updates main" \
	"deb $secmirror bookworm-security main" 2>&1 | grep -v '^I: ' || true
[ -x "$root/usr/sbin/gatehoused" ] || { echo "build-image.sh: gatehouse not installed in the image" >&2; exit 1; }

# 2. Appliance settings.
step "configure"
echo gatehouse >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgatehouse\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf 'LABEL=gh-root\t/\text4\terrors=remount-ro\t0\t1\n' >"$root/etc/fstab"
install -m 0644 "$top/dist/image/20-dhcp.network" "$root/etc/systemd/network/20-dhcp.network"
install -D -m 0755 "$top/dist/image/console-banner" "$root/usr/lib/gatehouse/console-banner"
install -m 0644 "$top/dist/image/gatehouse-console.service" "$root/etc/systemd/system/gatehouse-console.service"
chroot "$root" systemctl enable systemd-networkd gatehouse.service gatehouse-console.service serial-getty@ttyS0.service >/dev/null 2>&1
# Fewer units at boot: no periodic apt or filesystem jobs on an appliance.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
	chroot "$root" systemctl mask "$u" >/dev/null 2>&1 || true
done
# The journal stays on disk (the DB is the appliance's state; logs help).
mkdir -p "$root/var/log/journal"
# Nothing secret or machine-specific: a new machine-id on first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root/var/lib/systemd/random-seed"
rm -rf "$root/var/lib/gatehouse"/* "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*_Packages
find "$root/var/cache/apt/archives" -name '*.deb' -delete
kver=$(basename "$(ls -d "$root"/lib/modules/*)")
[ -f "$root/boot/initrd.img-$kver" ] || { echo "build-image.sh: no initramfs" >&2; exit 1; }

# 3. Boot partition (FAT, SYSLINUX) and root partition (ext4), no mount.
step "filesystems (kernel $kver)"
cmdline="root=LABEL=gh-root ro quiet console=tty0 console=ttyS0,115200n8"
cat >"$work/syslinux.cfg" <<CFG
DEFAULT gatehouse
PROMPT 0
TIMEOUT 0
SERIAL 0 115200
LABEL gatehouse
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img $cmdline
CFG
mkfs.vfat -C -n GHBOOT "$work/boot.img" $((boot_mb * 1024)) >/dev/null
mcopy -i "$work/boot.img" "$root/boot/vmlinuz-$kver" ::/vmlinuz
mcopy -i "$work/boot.img" "$root/boot/initrd.img-$kver" ::/initrd.img
mcopy -i "$work/boot.img" "$work/syslinux.cfg" ::/syslinux.cfg
syslinux --install "$work/boot.img"
truncate -s "${root_mb}M" "$work/root.img"
mkfs.ext4 -q -L gh-root -d "$root" "$work/root.img"

# 4. The disk: MBR with SYSLINUX's boot code, p1 FAT (bootable), p2 ext4.
step "disk"
disk="$work/disk.raw"
truncate -s $((1 + boot_mb + root_mb))M "$disk"
sfdisk -q "$disk" <<PART
label: dos
start=1MiB, size=${boot_mb}MiB, type=c, bootable
start=$((1 + boot_mb))MiB, size=${root_mb}MiB, type=83
PART
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$work/boot.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$disk" bs=1M seek=$((1 + boot_mb)) conv=notrunc,sparse status=none

step "qcow2"
mkdir -p "$(dirname "$out")"
qemu-img convert -c -O qcow2 "$disk" "$out"
[ "$keep_raw" -eq 0 ] || cp --sparse=always "$disk" "${out%.qcow2}.raw"
step "done: $out ($(du -h "$out" | cut -f1), root tree $(du -sh "$root" | cut -f1))"

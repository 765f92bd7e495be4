# scripts/lib/rootfs.sh — a Debian root filesystem from Debian's packages alone (no Docker
# Hub), for the images scripts/web-image and scripts/docker-image build. Sourced; the caller
# defines die() and note().

rootfs_suite=bookworm

# The Debian mirror: $SHOAL_DEBIAN_MIRROR, else the first one apt is configured with.
debian_mirror() {
    if [ -n "${SHOAL_DEBIAN_MIRROR:-}" ]; then echo "$SHOAL_DEBIAN_MIRROR"; return; fi
    local found
    found="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { print $2; exit }')"
    [ -n "$found" ] || found="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')"
    [ -n "$found" ] || die "no Debian mirror in /etc/apt/sources.list{,.d}; set SHOAL_DEBIAN_MIRROR"
    echo "$found"
}

# rootfs_tar TAR PACKAGES: a minbase rootfs with PACKAGES (comma-separated) as the tarball
# TAR, built once (minutes: debootstrap downloads every package) and reused after.
rootfs_tar() {
    local tar="$1" packages="$2" work source
    [ -f "$tar" ] && return 0
    [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap makes a root filesystem)"
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
    source="$(debian_mirror)"
    work="$(mktemp -d)"
    note "debootstrap $rootfs_suite ($packages) from $source — once, then cached in $tar"
    if ! debootstrap --variant=minbase --include="$packages" "$rootfs_suite" "$work/rootfs" "$source" >"$work/debootstrap.log" 2>&1; then
        tail -20 "$work/debootstrap.log" >&2
        rm -rf "$work"
        die "debootstrap failed"
    fi
    # What an image does not need: package lists, caches, documentation.
    rm -rf "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/cache/apt/* "$work/rootfs"/usr/share/doc/* \
           "$work/rootfs"/usr/share/man/* "$work/rootfs"/usr/share/locale/* "$work/rootfs"/var/log/*.log
    mkdir -p "$(dirname "$tar")"
    tar -C "$work/rootfs" --numeric-owner -cf "$tar.partial" .
    mv "$tar.partial" "$tar"
    rm -rf "$work"
}

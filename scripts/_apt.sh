# Sourced by the setup/install scripts: one way to install Debian packages.
#
#   apt_install_missing PKG...
#
# Installs those of PKG that are not installed yet (nothing to do: no apt call at all),
# as root or through sudo, non-interactively. If the package lists are missing or stale
# (a fresh machine), it runs `apt-get update` once and tries again.
apt_install_missing() {
    local missing=() p sudo=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "apt: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

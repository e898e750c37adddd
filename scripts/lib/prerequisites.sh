# Shared by scripts/start and scripts/test: checks and installs what they need on a fresh Debian 12
# machine. Installs from Debian's packages only, and only when something is missing.

# Installs Debian packages that are missing (as root directly, else through sudo).
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${missing[*]} from Debian's packages" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The Swift toolchain is part of the machine image; say so clearly when it is not there.
require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$candidate/swift" ] && export PATH="$candidate:$PATH" && break
        done
    fi
    command -v swift >/dev/null 2>&1 || {
        echo "error: the Swift 6 toolchain is required (https://www.swift.org/install/linux/)" >&2
        exit 1
    }
}

# python3 with the venv module, for the PyPI tools the checks use (schemathesis).
require_python_venv() {
    command -v python3 >/dev/null 2>&1 || apt_install python3
    python3 -c "import venv, ensurepip" >/dev/null 2>&1 || apt_install python3-venv
}

#!/usr/bin/env bash
# The set-up command: install leafml with everything it needs, then run the demo.
#   bash setup.sh            install, then `leafml demo`
#   bash setup.sh --no-demo  install only (what .ci/run uses)
set -euo pipefail
cd "$(dirname "$0")"

# The Cortex-M4 rung of the verification ladder: Debian's cross compiler,
# newlib(-nano) and QEMU (about 900 MB).
APT_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
have_toolchain() {
    command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null &&
        [ -n "$(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=nano.specs -print-file-name=libc_nano.a | grep /)" ]
}
if ! have_toolchain; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
        echo "setup: need root to install: apt-get install -y --no-install-recommends $APT_PACKAGES" >&2; exit 1
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $APT_PACKAGES >/dev/null
fi

# torch is pinned in pyproject.toml to the CPU build these machines carry.
python3 -m pip install -q -e ".[test]"

if [ "${1:-}" != "--no-demo" ]; then
    leafml demo --force
fi

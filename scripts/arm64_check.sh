#!/usr/bin/env bash
# Run the runtime on Debian bookworm arm64 (Raspberry Pi OS's base) under user-mode emulation, and compare its
# outputs with this machine's.
#
# Usage: scripts/arm64_check.sh WORK_DIR [MODELS_DIR]      (as root; MODELS_DIR defaults to ./models)
# Needs Debian's debootstrap, qemu-user-static and proot (installed here if missing). proot runs every arm64
# program through qemu-aarch64-static, so no binfmt_misc registration (often unavailable in containers) is needed.
# Steps: debootstrap an arm64 userland (minbase + python3) → venv → `pip install .[runtime]` from PyPI wheels
# (numpy, opencv-python-headless, ai-edge-litert are taken as binary wheels only) → the runtime tests with
# `import tensorflow` impossible → scripts/runtime_fingerprint.py on both machines → compare (int8 identical,
# fp32 within 1e-5; see that script for the one-step int8 softmax allowance). LFW is bound read-only into the userland, not copied. Each step is skipped when done.
set -euo pipefail
work=$(realpath -m "${1:?WORK_DIR}"); models=$(realpath "${2:-models}")
repo=$(cd "$(dirname "$0")/.." && pwd)
lfw=$(cd "$repo" && python3 -c 'from edgeface.lfw import locate_lfw; print(locate_lfw())' 2>/dev/null || true)
[ -n "$lfw" ] || { echo "error: LFW not found (set EDGEFACE_LFW)" >&2; exit 2; }
root="$work/bookworm-arm64"
mkdir -p "$work"
need=(); for tool in debootstrap qemu-aarch64-static proot; do command -v $tool >/dev/null || need+=($tool); done
[ ${#need[@]} -eq 0 ] || apt-get install -y -q debootstrap qemu-user-static proot
ca_bundle=${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}  # the host's trust (proxies included)
# The host's /proc/cpuinfo describes x86 CPUs; LiteRT's CPU detection (cpuinfo) crashes on it under emulation.
# The userland sees a Raspberry Pi 4's instead (Cortex-A72: fp, asimd, crc32 - no dot product, no SVE).
cpuinfo="$work/cpuinfo-raspberry-pi-4"
for core in 0 1 2 3; do
  printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\n' $core
  printf 'CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
done > "$cpuinfo"
printf 'Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n' >> "$cpuinfo"
# qemu emulates exactly that CPU too (-cpu cortex-a72). Its default "max" CPU advertises newer instructions (dot
# product, i8mm, SVE) that LiteRT's XNNPACK then picks for int8, and qemu 7.2 gets some of them wrong: int8 results
# were garbage there, while a faithful Cortex-A72 gives results bit-identical to x86_64's.
qemu="qemu-aarch64-static -cpu cortex-a72"
in_arm64() {  # run a shell command inside the arm64 userland
  proot -q "$qemu" -0 -r "$root" -b /proc -b "$cpuinfo:/proc/cpuinfo" -b /dev -b /sys \
        -b /etc/resolv.conf -b "$ca_bundle:/etc/ssl/certs/ca-certificates.crt" \
        -b "$repo:/src" -b "$lfw:/lfw" -b "$models:/models" -b "$work:/work" -w / /usr/bin/env -i \
        HOME=/root PATH=/usr/local/bin:/usr/bin:/bin EDGEFACE_LFW=/lfw LANG=C.UTF-8 \
        PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
        PIP_DEFAULT_TIMEOUT=180 PIP_DISABLE_PIP_VERSION_CHECK=1 ${PIP_INDEX_URL:+PIP_INDEX_URL=$PIP_INDEX_URL} \
        /bin/sh -c "$1"
}
t0=$(date +%s)
if [ ! -f "$root/.stage2-done" ]; then
  rm -rf "$root"
  debootstrap --arch=arm64 --foreign --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$root" http://deb.debian.org/debian
  cp /usr/bin/qemu-aarch64-static "$root/usr/bin/"
  proot -q qemu-aarch64-static -0 -r "$root" -b /proc -b /dev -b /sys -w / /usr/bin/env -i \
        DEBOOTSTRAP_DIR=/debootstrap PATH=/usr/sbin:/usr/bin:/sbin:/bin /debootstrap/debootstrap --second-stage
  touch "$root/.stage2-done"
fi
echo "userland ready: $(( $(date +%s) - t0 )) s; $(in_arm64 'uname -m; python3 --version' | tr '\n' ' ')"
t1=$(date +%s)
rm -rf "$root/opt/edgeface" && mkdir -p "$root/opt/edgeface"
git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 tar cf -) | tar xf - -C "$root/opt/edgeface"
if [ ! -x "$root/opt/venv/bin/python" ]; then
  in_arm64 'python3 -m venv /opt/venv'
fi
in_arm64 'cd /opt/edgeface && PIP_ONLY_BINARY=numpy,opencv-python-headless,ai-edge-litert \
  /opt/venv/bin/pip install -q ".[runtime]" pytest pillow && /opt/venv/bin/pip list 2>/dev/null | grep -iE "numpy|opencv|litert|tensorflow|edgeface"'
# Emulation harness only: proot 5.3 hands faccessat2 (what glibc >= 2.33 uses for access()) to the kernel without
# translating the guest path, so os.access() would look at the host's files. Answer access() from stat() instead.
# (Debian's own sitecustomize shadows one in site-packages, so a .pth file loads the fix.)
echo "import emulated_access" > "$root/opt/venv/lib/python3.11/site-packages/emulated_access.pth"
cat > "$root/opt/venv/lib/python3.11/site-packages/emulated_access.py" <<'PY'
import os


def _access(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True):
    try:
        info = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
    except (OSError, ValueError):
        return False
    if mode & os.X_OK and not (info.st_mode & 0o111 or os.path.isdir(path)):
        return False
    return True  # the emulated userland runs as root


os.access = _access
PY
echo "runtime installed: $(( $(date +%s) - t1 )) s"
t2=$(date +%s)
status=0
for kernels in xnnpack builtin reference; do  # LiteRT's kernel choices (runtime/interpreter.py, $EDGEFACE_KERNELS)
  echo "== EDGEFACE_KERNELS=$kernels"
  if [ "$kernels" != reference ]; then  # the reference kernels are too slow under emulation for the whole suite
    in_arm64 "cd /opt/edgeface && EDGEFACE_KERNELS=$kernels EDGEFACE_TEST_MODELS=/models /opt/venv/bin/pytest -q \
      -p no:cacheprovider tests/test_geometry.py tests/test_align.py tests/test_images.py tests/test_lock.py \
      -k 'not scenario'" > "$work/arm64_pytest_$kernels.log" 2>&1 || status=1
    tail -3 "$work/arm64_pytest_$kernels.log"
  fi
  EDGEFACE_KERNELS=$kernels python3 "$repo/scripts/runtime_fingerprint.py" dump "$work/x86_64_$kernels.npz" \
    --models "$models" --images 6
  in_arm64 "cd /opt/edgeface && EDGEFACE_KERNELS=$kernels /opt/venv/bin/python scripts/runtime_fingerprint.py dump \
    /work/arm64_$kernels.npz --models /models --images 6 --crops /work/x86_64_$kernels.npz"
  # xnnpack is what the runtime uses by default, reference is the portable ground truth: both must agree with
  # x86_64. builtin (no XNNPACK) is reported only: its int8 kernels round per CPU (up to 3 steps here).
  python3 "$repo/scripts/runtime_fingerprint.py" compare "$work/x86_64_$kernels.npz" "$work/arm64_$kernels.npz" \
    || [ "$kernels" = builtin ] || status=1
done
echo "tests and comparisons: $(( $(date +%s) - t2 )) s; total: $(( $(date +%s) - t0 )) s"
exit $status

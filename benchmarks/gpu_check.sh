#!/usr/bin/env bash
# The CuPy backend on a machine with an NVIDIA GPU and no network, in one run:
# install CuPy and the package's needs from carried wheels, run tests/gpu, then time
# jacobian and hessian on the GPU against NumPy on the same machine.
#
#   bash benchmarks/gpu_check.sh [WHEEL_DIR]        (default: shared/wheels)
#
# The wheels must be downloaded beforehand, on a machine with a network, for the GPU
# machine's Python: see benchmarks/README-gpu.md.  Environment: PYTHON (python3),
# GPU_SITE (where the wheels are installed, /tmp/zygote-gpu-site), GPU_SIZES ("1024 4096").
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS="${1:-shared/wheels}"
PYTHON="${PYTHON:-python3}"
SITE="${GPU_SITE:-/tmp/zygote-gpu-site}"
SIZES="${GPU_SIZES:-1024 4096}"

say() { printf '\n== %s\n' "$*"; }

say "device"
if ! nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; then
    echo "nvidia-smi failed: this machine has no usable NVIDIA GPU"
    exit 2
fi
"$PYTHON" -V

if ! ls "$WHEELS"/cupy_cuda12x-*.whl >/dev/null 2>&1; then
    cat <<EOF
no cupy_cuda12x wheel in $WHEELS. This machine has no network: on one that has, download the
wheels for this machine's Python ($("$PYTHON" -V 2>&1)) into $WHEELS first, e.g.

  pip download --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \\
      --dest $WHEELS 'cupy-cuda12x[ctk]' numpy autograd executing pytest pip

and carry the directory here (see benchmarks/README-gpu.md).
EOF
    exit 2
fi

say "install from $WHEELS into $SITE (offline)"
if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    PIP=("$PYTHON" -m pip)
elif ls "$WHEELS"/pip-*.whl >/dev/null 2>&1; then
    PIP=("$PYTHON" "$(ls "$WHEELS"/pip-*.whl | head -n 1)/pip")  # pip runs from its own wheel
else
    echo "no pip here and no pip wheel in $WHEELS: add one (pip download pip)"
    exit 2
fi
mapfile -t PACKAGES < <(find "$WHEELS" -name '*.whl' ! -name 'pip-*.whl')
if ! "${PIP[@]}" install --quiet --disable-pip-version-check --no-index --find-links "$WHEELS" \
        --target "$SITE" --upgrade "${PACKAGES[@]}"; then
    echo "the offline install failed: the wheels do not match this machine's Python or platform"
    exit 2
fi
export PYTHONPATH="$SITE:$PWD:$PWD/tests"

say "CuPy smoke test"
if ! "$PYTHON" -c "import cupy; a = cupy.arange(4.0); print('CuPy', cupy.__version__, 'sum of squares', float((a * a).sum()))"; then
    echo "CuPy cannot run a kernel: it needs the CUDA 12 libraries (NVRTC, cuBLAS...). Carry them as"
    echo "wheels too: pip download 'cupy-cuda12x[ctk]' fetches the nvidia-*-cu12 packages."
    exit 2
fi

say "tests/gpu"
"$PYTHON" -m pytest -q -p no:cacheprovider -o addopts="" -ra tests/gpu
tests_status=$?

say "timing: jacobian and hessian, NumPy vs CuPy, n = $SIZES"
# shellcheck disable=SC2086  (the sizes are separate arguments)
"$PYTHON" benchmarks/gpu_timing.py --sizes $SIZES
timing_status=$?

say "done: tests exit $tests_status, timing exit $timing_status"
exit $(( tests_status != 0 ? tests_status : timing_status ))

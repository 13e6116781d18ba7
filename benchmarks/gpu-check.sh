#!/usr/bin/env bash
# PEARL's GPU path, checked on a machine with a CUDA GPU. Run from the repository root:
#
#     benchmarks/gpu-check.sh [OUT_DIR]
#
# 1. tests/test_pearl_device.py (its CUDA tests run only where torch sees a GPU, so the step before
#    it checks that torch does), then the PEARL test files whose training now goes to the GPU;
# 2. metarl-course bench pixel-pearl --preset ci with METARL_DEVICE=cuda, from fresh checkpoints;
# 3. metarl-course bench pixel-throughput at the laptop and paper presets, with METARL_DEVICE=cuda
#    and with METARL_DEVICE=cpu (frames, estimator steps and PEARL steps per second on each).
#
# Every step's output goes to OUT_DIR/<step>.log (default OUT_DIR: $OUT, else ./gpu-check), the
# benches' JSON and PNG beside it. A step that fails is recorded in OUT_DIR/summary.txt and the next
# step runs; the exit status is 1 if any step failed. The package is used from the working tree
# (PYTHONPATH=$PWD), so nothing needs installing. PYTHON (default python3) runs everything. WHEELS,
# if set, is a folder of wheels (gymnasium and mujoco, say, where the GPU image lacks them): they are
# installed as they are (no index, no dependencies resolved) into /tmp/site, added to PYTHONPATH.
set -euo pipefail

ROOT=$PWD
[[ -f "$ROOT/metarl_course/pearl.py" ]] || { echo "run this from the repository root" >&2; exit 2; }
OUT_DIR=${1:-${OUT:-./gpu-check}}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
SUMMARY="$OUT_DIR/summary.txt"
FAILED=()

# step NAME COMMAND...: run COMMAND, its output to OUT_DIR/NAME.log, its exit status to the summary.
step() {
    local name=$1 status=0 start=$SECONDS
    shift
    echo "== $name: $*" | tee -a "$SUMMARY"
    "$@" > "$OUT_DIR/$name.log" 2>&1 || status=$?
    echo "   exit $status after $((SECONDS - start)) s" | tee -a "$SUMMARY"
    if [[ $status -ne 0 ]]; then
        FAILED+=("$name")
        tail -n 20 "$OUT_DIR/$name.log" | sed 's/^/   | /' | tee -a "$SUMMARY"
    fi
}

# in_dir DIR COMMAND...: COMMAND run in DIR (the benches keep their checkpoints under ./build/bench).
in_dir() {
    local dir=$1
    shift
    (cd "$dir" && "$@")
}

{
    echo "gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
    echo "commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "out: $OUT_DIR"
} > "$SUMMARY"

if [[ -n "${WHEELS:-}" ]]; then
    step wheels "$PYTHON" -m pip install --no-index --no-deps --find-links "$WHEELS" --target /tmp/site "$WHEELS"/*.whl
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
command -v nvidia-smi > /dev/null && { nvidia-smi > "$OUT_DIR/nvidia-smi.log" 2>&1 || true; }
"$PYTHON" -m metarl_course.cli doctor > "$OUT_DIR/doctor.log" 2>&1 || true   # for the record: jupyter may be missing

step torch-sees-cuda "$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA GPU'; \
print(torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"
step tests-pearl-device "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/test_pearl_device.py
step tests-pearl-on-cuda "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests/test_pearl_parts.py \
    tests/test_pearl_cheetah.py tests/test_pixel_end_to_end.py

rm -rf "$OUT_DIR/pixel-pearl-work" && mkdir -p "$OUT_DIR/pixel-pearl-work"
step pixel-pearl-ci-cuda in_dir "$OUT_DIR/pixel-pearl-work" env METARL_DEVICE=cuda "$PYTHON" -m metarl_course.cli \
    bench pixel-pearl --preset ci --out "$OUT_DIR/pixel-pearl-ci-cuda.json"

for preset in laptop paper; do
    for device in cuda cpu; do
        step "pixel-throughput-$preset-$device" env METARL_DEVICE=$device "$PYTHON" -m metarl_course.cli \
            bench pixel-throughput --preset "$preset" --out "$OUT_DIR/pixel-throughput-$preset-$device.json"
    done
done

if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "FAILED: ${FAILED[*]}" | tee -a "$SUMMARY"
    exit 1
fi
echo "all steps passed" | tee -a "$SUMMARY"

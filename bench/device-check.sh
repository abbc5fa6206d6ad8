#!/usr/bin/env bash
# The device check: the CodeFormer network and the whole pipeline on CUDA at FP32 and FP16 with batches of 1, 4, 8
# and 16 faces, FP16 checked against FP32 on the same aligned faces, and the worker situation (1, 4, 16 concurrent
# jobs) — one JSON file of results, in under 8 minutes. The GPU machines it is for have the NVIDIA driver and the
# CUDA 13 + cuDNN 9 libraries, but no .NET and no internet, so it runs in two steps:
#
#   bench/device-check.sh publish [dir]
#       On a machine with the .NET 10 SDK and NuGet: publishes the bench self-contained for linux-x64 with ONNX Runtime's
#       CUDA natives (-p:OrtFlavor=Gpu, Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0), and copies the YuNet detector, two
#       test photos and this script beside it, into dir (default: out/device-check). No weights: the models are built
#       on the GPU machine with pseudo-random weights (what `codeformer models build --random` does).
#
#   <dir>/device-check.sh run <cuda-lib-dir> [results.json]
#       On the GPU machine, from the published folder: <cuda-lib-dir> holds libcudart.so.13, libcublas*.so.13,
#       libcudnn*.so.9 … Writes results.json (default: device-check-<UTC time>.json in the current folder), section by
#       section, so a run cut short still leaves what it measured.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

publish() {
    local repo; repo="$(cd "$here/.." && pwd)"
    local dir="${1:-$repo/out/device-check}"
    local assets="${CODEFORMER_ASSETS:-$repo/../shared/assets}"
    for file in models/face_detection_yunet_2023mar.onnx images/astronaut.png images/solvay_1927_1280x926.png; do
        [[ -f "$assets/$file" ]] || { echo "error: $assets/$file is missing (set CODEFORMER_ASSETS to the assets folder)" >&2; exit 1; }
    done
    rm -rf "$dir"
    mkdir -p "$dir/assets"
    dotnet publish "$repo/bench/CodeFormer.Bench/CodeFormer.Bench.csproj" -c Release -r linux-x64 --self-contained \
        -p:OrtFlavor=Gpu -o "$dir/bin"
    cp "$assets/models/face_detection_yunet_2023mar.onnx" "$assets/images/astronaut.png" "$assets/images/solvay_1927_1280x926.png" "$dir/assets/"
    cp "${BASH_SOURCE[0]}" "$dir/device-check.sh"
    chmod +x "$dir/device-check.sh"
    echo "published to $dir ($(du -sh "$dir" | cut -f1)); on the GPU machine: $dir/device-check.sh run <cuda-lib-dir>"
}

run() {
    local libs="${1:?run needs the folder of the CUDA 13 and cuDNN 9 libraries}"
    local out="${2:-device-check-$(date -u +%Y%m%d-%H%M).json}"
    [[ -d "$libs" ]] || { echo "error: CUDA library folder '$libs' does not exist" >&2; exit 1; }
    [[ -x "$here/bin/codeformer-bench" ]] || { echo "error: $here/bin/codeformer-bench is missing: run 'bench/device-check.sh publish' first and copy its folder" >&2; exit 1; }
    # ONNX Runtime's CUDA provider (in bin/) loads libcudart, cuBLAS and cuDNN through the dynamic loader.
    export LD_LIBRARY_PATH="$libs:$here/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export DOTNET_CLI_TELEMETRY_OPTOUT=1
    # Global, not local: the EXIT trap runs after this function has returned.
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    # 470 s leaves the script well inside 8 minutes; the bench saves the JSON after every section.
    timeout 470 "$here/bin/codeformer-bench" device-check \
        --detector-model "$here/assets/face_detection_yunet_2023mar.onnx" \
        --photos "$here/assets/astronaut.png,$here/assets/solvay_1927_1280x926.png" \
        --batches 1,4,8,16 --iterations 5 --work "$work" --out "$out"
}

case "${1:-}" in
    publish) shift; publish "$@" ;;
    run) shift; run "$@" ;;
    *) usage ;;
esac

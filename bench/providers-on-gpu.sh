#!/bin/sh
# The one script to run when a GPU is lent (issue 20): bench:providers on the bundled model, CPU
# (all cores) against WebGPU stage by stage (onnxruntime's default layout, NHWC in 1.30), fused, and
# stage by stage in NCHW (preferredLayout), batches 1/64/256/1024, all stages and the default
# policy, 2048 images, each cell capped at 3 s (4 setups x 8 cells x 3 s = 96 s timed at most):
# about 3 minutes with shader compilation.
# Writes bench/results/providers-<device>-cifar.{json,md}, the device named from nvidia-smi.
set -eu
cd "$(dirname "$0")/.."
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 | tr 'A-Z ' 'a-z-' | sed 's/[^a-z0-9-]//g')
device=${device:-unknown-gpu}
exec npm run bench:providers -- --providers cpu,webgpu,webgpu-fused,webgpu-nchw --images 2048 --batches 1,64,256,1024 \
  --cell-seconds "${CELL_SECONDS:-3}" --out "bench/results/providers-${device}-cifar.json"

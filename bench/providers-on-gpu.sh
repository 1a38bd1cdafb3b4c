#!/bin/sh
# The one script to run when a GPU is lent (issue 20): bench:providers on the bundled model, CPU
# (all cores) against WebGPU stage by stage and fused, batches 1/64/256/1024, all stages and the
# default policy, 2048 images, each cell capped at 4 s: about 3 minutes with shader compilation.
# Writes bench/results/providers-<device>-cifar.{json,md}, the device named from nvidia-smi.
set -eu
cd "$(dirname "$0")/.."
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 | tr 'A-Z ' 'a-z-' | sed 's/[^a-z0-9-]//g')
device=${device:-unknown-gpu}
exec npm run bench:providers -- --providers cpu,webgpu,webgpu-fused --images 2048 --batches 1,64,256,1024 \
  --cell-seconds "${CELL_SECONDS:-4}" --out "bench/results/providers-${device}-cifar.json"

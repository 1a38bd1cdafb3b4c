;; Strided copies on tfjs-backend-wasm's heap: the runs of a channel concatenation or of a slice
;; along the channel axis, one loop in WebAssembly instead of one JS call per run. Assembled by
;; scripts/build-wasm-kernels.ts into copy-runs.wasm.ts. Pointers and lengths are in bytes.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; the builder drops "shared" for the single-threaded build

  ;; For i < count: copy `bytes` bytes from src + i * srcStride to dst + i * dstStride (no overlap).
  (func (export "copyRuns") (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32)
    (param $bytes i32) (param $count i32)
    (local $k i32) (local $s i32) (local $d i32)
    (if (i32.or (i32.eqz (local.get $count)) (i32.eqz (local.get $bytes))) (then (return)))
    ;; Runs of whole 16-byte vectors (every float channel count that is a multiple of 4) are
    ;; copied with vector moves: memory.copy's call costs more than a short run itself.
    (if (i32.eqz (i32.and (local.get $bytes) (i32.const 15)))
      (then
        (loop $runs
          (local.set $s (local.get $src))
          (local.set $d (local.get $dst))
          (local.set $k (local.get $bytes))
          (loop $vectors
            (v128.store (local.get $d) (v128.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $k (i32.sub (local.get $k) (i32.const 16)))
            (br_if $vectors (local.get $k)))
          (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
          (local.set $count (i32.sub (local.get $count) (i32.const 1)))
          (br_if $runs (local.get $count)))
        (return)))
    (loop $runs
      (memory.copy (local.get $dst) (local.get $src) (local.get $bytes))
      (local.set $src (i32.add (local.get $src) (local.get $srcStride)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (br_if $runs (local.get $count))))
)

;; The filter gradient of a convolution as sums of outer products, over tfjs-backend-wasm's heap
;; (WebAssembly SIMD). Assembled by scripts/build-wasm-kernels.ts into conv-filter-grad.wasm.ts.
;; Pointers are byte offsets into the heap; strides are in floats.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; the builder drops "shared" for the single-threaded build

  ;; out[0..lanes) += a[0..lanes), lanes in 1..4.
  (func $addLanes (param $out i32) (param $a v128) (param $lanes i32)
    (if (i32.eq (local.get $lanes) (i32.const 4))
      (then
        (v128.store (local.get $out) (f32x4.add (v128.load (local.get $out)) (local.get $a)))
        (return)))
    (f32.store (local.get $out) (f32.add (f32.load (local.get $out)) (f32x4.extract_lane 0 (local.get $a))))
    (if (i32.le_u (local.get $lanes) (i32.const 1)) (then (return)))
    (f32.store offset=4 (local.get $out) (f32.add (f32.load offset=4 (local.get $out)) (f32x4.extract_lane 1 (local.get $a))))
    (if (i32.le_u (local.get $lanes) (i32.const 2)) (then (return)))
    (f32.store offset=8 (local.get $out) (f32.add (f32.load offset=8 (local.get $out)) (f32x4.extract_lane 2 (local.get $a)))))

  ;; dw[ci * Co + co] += Σ_{m < images} Σ_{r < rows} Σ_{k < n} x[m * xImg + r * xRow + k * xPix + ci]
  ;;                                                        · dy[m * dyImg + r * dyRow + k * dyPix + co]
  ;; for ci < Ci, co < Co (rows of dw are Co apart): one kernel tap of the filter gradient over a
  ;; 2-D run of output pixels in each of `images` images.
  ;; Blocks of 4 input x 4 output channels stay in registers over the whole run. A block at the
  ;; channel edge reads up to 3 floats past a pixel's channels (the next pixel, or the bytes after
  ;; the tensor, which the allocator's next chunk header always provides); those lanes are dropped.
  (func (export "accumulate")
    (param $x i32) (param $xPix i32) (param $xRow i32)
    (param $dy i32) (param $dyPix i32) (param $dyRow i32)
    (param $n i32) (param $rows i32) (param $images i32) (param $xImg i32) (param $dyImg i32)
    (param $Ci i32) (param $Co i32) (param $dw i32)
    (local $ci i32) (local $co i32) (local $r i32) (local $k i32) (local $px i32) (local $pd i32) (local $rx i32) (local $rd i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128)
    (local $out i32) (local $lanes i32) (local $left i32) (local $rowBytes i32)
    (local $m i32) (local $ix i32) (local $id i32)
    (local.set $xPix (i32.shl (local.get $xPix) (i32.const 2)))
    (local.set $xRow (i32.shl (local.get $xRow) (i32.const 2)))
    (local.set $dyPix (i32.shl (local.get $dyPix) (i32.const 2)))
    (local.set $dyRow (i32.shl (local.get $dyRow) (i32.const 2)))
    (local.set $xImg (i32.shl (local.get $xImg) (i32.const 2)))
    (local.set $dyImg (i32.shl (local.get $dyImg) (i32.const 2)))
    (local.set $rowBytes (i32.shl (local.get $Co) (i32.const 2)))
    (if (i32.or (i32.or (i32.eqz (local.get $n)) (i32.eqz (local.get $rows))) (i32.eqz (local.get $images))) (then (return)))
    (local.set $ci (i32.const 0))
    (loop $ciBlocks
      (local.set $co (i32.const 0))
      (loop $coBlocks
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $ix (i32.add (local.get $x) (i32.shl (local.get $ci) (i32.const 2))))
        (local.set $id (i32.add (local.get $dy) (i32.shl (local.get $co) (i32.const 2))))
        (local.set $m (local.get $images))
        (loop $imageLoop
        (local.set $rx (local.get $ix))
        (local.set $rd (local.get $id))
        (local.set $r (local.get $rows))
        (loop $rowLoop
          (local.set $px (local.get $rx))
          (local.set $pd (local.get $rd))
          (local.set $k (local.get $n))
          (loop $pixels
            (local.set $d (v128.load (local.get $pd)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (f32x4.splat (f32.load (local.get $px))) (local.get $d))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (f32x4.splat (f32.load offset=4 (local.get $px))) (local.get $d))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (f32x4.splat (f32.load offset=8 (local.get $px))) (local.get $d))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (f32x4.splat (f32.load offset=12 (local.get $px))) (local.get $d))))
            (local.set $px (i32.add (local.get $px) (local.get $xPix)))
            (local.set $pd (i32.add (local.get $pd) (local.get $dyPix)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br_if $pixels (local.get $k)))
          (local.set $rx (i32.add (local.get $rx) (local.get $xRow)))
          (local.set $rd (i32.add (local.get $rd) (local.get $dyRow)))
          (local.set $r (i32.sub (local.get $r) (i32.const 1)))
          (br_if $rowLoop (local.get $r)))
        (local.set $ix (i32.add (local.get $ix) (local.get $xImg)))
        (local.set $id (i32.add (local.get $id) (local.get $dyImg)))
        (local.set $m (i32.sub (local.get $m) (i32.const 1)))
        (br_if $imageLoop (local.get $m)))
        ;; Write back min(4, Ci - ci) rows of min(4, Co - co) lanes.
        (local.set $lanes (i32.sub (local.get $Co) (local.get $co)))
        (if (i32.gt_u (local.get $lanes) (i32.const 4)) (then (local.set $lanes (i32.const 4))))
        (local.set $left (i32.sub (local.get $Ci) (local.get $ci)))
        (local.set $out (i32.add (local.get $dw)
          (i32.shl (i32.add (i32.mul (local.get $ci) (local.get $Co)) (local.get $co)) (i32.const 2))))
        (block $written
          (call $addLanes (local.get $out) (local.get $a0) (local.get $lanes))
          (br_if $written (i32.le_u (local.get $left) (i32.const 1)))
          (call $addLanes (i32.add (local.get $out) (local.get $rowBytes)) (local.get $a1) (local.get $lanes))
          (br_if $written (i32.le_u (local.get $left) (i32.const 2)))
          (call $addLanes (i32.add (local.get $out) (i32.mul (local.get $rowBytes) (i32.const 2))) (local.get $a2) (local.get $lanes))
          (br_if $written (i32.le_u (local.get $left) (i32.const 3)))
          (call $addLanes (i32.add (local.get $out) (i32.mul (local.get $rowBytes) (i32.const 3))) (local.get $a3) (local.get $lanes)))
        (local.set $co (i32.add (local.get $co) (i32.const 4)))
        (br_if $coBlocks (i32.lt_u (local.get $co) (local.get $Co))))
      (local.set $ci (i32.add (local.get $ci) (i32.const 4)))
      (br_if $ciBlocks (i32.lt_u (local.get $ci) (local.get $Ci)))))
)

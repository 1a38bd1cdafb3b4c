;; The filter gradient of a convolution as sums of outer products, over tfjs-backend-wasm's heap
;; (WebAssembly SIMD). Assembled by scripts/build-wasm-kernels.ts into conv-filter-grad.wasm.ts.
;; Pointers are byte offsets into the heap; strides are in floats.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; the builder drops "shared" for the single-threaded build

;; dw[ci * dwRow + co] += Σ_{m < images} Σ_{r < rows} Σ_{k < n} x[m * xImg + r * xRow + k * xPix + ci]
  ;;                                                         · dy[m * dyImg + r * dyRow + k * dyPix + co]
  ;; for ci < Ci, co < Co: one kernel tap of the filter gradient over a 2-D run of output pixels in
  ;; each of `images` images. dw is padded: its rows are dwRow floats apart, dwRow is Co rounded up
  ;; to 8 and the row count Ci rounded up to 4, so blocks of 4 x 8 are stored whole.
  ;; The run is taken in chunks of up to 32 pixels; within a chunk each block of 4 input x 8 output
  ;; channels is accumulated in registers over the chunk's pixels, whose x and dy values stay in
  ;; the L1 cache from one block to the next. A block at the channel edge reads up to 3 floats past
  ;; a pixel's input channels and up to 7 past its output channels (the next pixel, or the bytes
  ;; after the tensor: the caller makes sure the heap extends that far);
  ;; the lanes they feed lie in dw's padding.
  (func (export "accumulate")
    (param $x i32) (param $xPix i32) (param $xRow i32)
    (param $dy i32) (param $dyPix i32) (param $dyRow i32)
    (param $n i32) (param $rows i32) (param $images i32) (param $xImg i32) (param $dyImg i32)
    (param $Ci i32) (param $Co i32) (param $dw i32) (param $dwRow i32)
    (local $ci i32) (local $co i32) (local $m i32) (local $r i32) (local $k0 i32) (local $k i32) (local $chunk i32)
    (local $ix i32) (local $id i32) (local $rx i32) (local $rd i32) (local $cx i32) (local $cd i32) (local $px i32) (local $pd i32)
    (local $out i32) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $d v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128) (local $e v128) (local $s v128)
    (if (i32.or (i32.or (i32.eqz (local.get $n)) (i32.eqz (local.get $rows))) (i32.eqz (local.get $images))) (then (return)))
    (local.set $xPix (i32.shl (local.get $xPix) (i32.const 2)))
    (local.set $xRow (i32.shl (local.get $xRow) (i32.const 2)))
    (local.set $xImg (i32.shl (local.get $xImg) (i32.const 2)))
    (local.set $dyPix (i32.shl (local.get $dyPix) (i32.const 2)))
    (local.set $dyRow (i32.shl (local.get $dyRow) (i32.const 2)))
    (local.set $dyImg (i32.shl (local.get $dyImg) (i32.const 2)))
    (local.set $dwRow (i32.shl (local.get $dwRow) (i32.const 2)))
    (local.set $ix (local.get $x))
    (local.set $id (local.get $dy))
    (local.set $m (local.get $images))
    (loop $imageLoop
      (local.set $rx (local.get $ix))
      (local.set $rd (local.get $id))
      (local.set $r (local.get $rows))
      (loop $rowLoop
        (local.set $k0 (i32.const 0))
        (loop $chunkLoop
          (local.set $chunk (i32.sub (local.get $n) (local.get $k0)))
          (if (i32.gt_u (local.get $chunk) (i32.const 32)) (then (local.set $chunk (i32.const 32))))
          (local.set $cx (i32.add (local.get $rx) (i32.mul (local.get $k0) (local.get $xPix))))
          (local.set $cd (i32.add (local.get $rd) (i32.mul (local.get $k0) (local.get $dyPix))))
          (local.set $ci (i32.const 0))
          (loop $ciBlocks
            (local.set $co (i32.const 0))
            (loop $coBlocks
              (local.set $out (i32.add (i32.add (local.get $dw) (i32.mul (local.get $ci) (local.get $dwRow)))
                (i32.shl (local.get $co) (i32.const 2))))
              (local.set $a0 (v128.load (local.get $out)))
              (local.set $b0 (v128.load offset=16 (local.get $out)))
              (local.set $a1 (v128.load (i32.add (local.get $out) (local.get $dwRow))))
              (local.set $b1 (v128.load offset=16 (i32.add (local.get $out) (local.get $dwRow))))
              (local.set $a2 (v128.load (i32.add (local.get $out) (i32.shl (local.get $dwRow) (i32.const 1)))))
              (local.set $b2 (v128.load offset=16 (i32.add (local.get $out) (i32.shl (local.get $dwRow) (i32.const 1)))))
              (local.set $a3 (v128.load (i32.add (local.get $out) (i32.mul (local.get $dwRow) (i32.const 3)))))
              (local.set $b3 (v128.load offset=16 (i32.add (local.get $out) (i32.mul (local.get $dwRow) (i32.const 3)))))
              (local.set $px (i32.add (local.get $cx) (i32.shl (local.get $ci) (i32.const 2))))
              (local.set $pd (i32.add (local.get $cd) (i32.shl (local.get $co) (i32.const 2))))
              (local.set $k (local.get $chunk))
              (loop $pixels
                (local.set $d (v128.load (local.get $pd)))
                (local.set $e (v128.load offset=16 (local.get $pd)))
                (local.set $s (f32x4.splat (f32.load (local.get $px))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d))))
                (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s) (local.get $e))))
                (local.set $s (f32x4.splat (f32.load offset=4 (local.get $px))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d))))
                (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s) (local.get $e))))
                (local.set $s (f32x4.splat (f32.load offset=8 (local.get $px))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d))))
                (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $s) (local.get $e))))
                (local.set $s (f32x4.splat (f32.load offset=12 (local.get $px))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d))))
                (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (local.get $s) (local.get $e))))
                (local.set $px (i32.add (local.get $px) (local.get $xPix)))
                (local.set $pd (i32.add (local.get $pd) (local.get $dyPix)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br_if $pixels (local.get $k)))
              (v128.store (local.get $out) (local.get $a0))
              (v128.store offset=16 (local.get $out) (local.get $b0))
              (v128.store (i32.add (local.get $out) (local.get $dwRow)) (local.get $a1))
              (v128.store offset=16 (i32.add (local.get $out) (local.get $dwRow)) (local.get $b1))
              (v128.store (i32.add (local.get $out) (i32.shl (local.get $dwRow) (i32.const 1))) (local.get $a2))
              (v128.store offset=16 (i32.add (local.get $out) (i32.shl (local.get $dwRow) (i32.const 1))) (local.get $b2))
              (v128.store (i32.add (local.get $out) (i32.mul (local.get $dwRow) (i32.const 3))) (local.get $a3))
              (v128.store offset=16 (i32.add (local.get $out) (i32.mul (local.get $dwRow) (i32.const 3))) (local.get $b3))
              (local.set $co (i32.add (local.get $co) (i32.const 8)))
              (br_if $coBlocks (i32.lt_u (local.get $co) (local.get $Co))))
            (local.set $ci (i32.add (local.get $ci) (i32.const 4)))
            (br_if $ciBlocks (i32.lt_u (local.get $ci) (local.get $Ci))))
          (local.set $k0 (i32.add (local.get $k0) (local.get $chunk)))
          (br_if $chunkLoop (i32.lt_u (local.get $k0) (local.get $n))))
        (local.set $rx (i32.add (local.get $rx) (local.get $xRow)))
        (local.set $rd (i32.add (local.get $rd) (local.get $dyRow)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br_if $rowLoop (local.get $r)))
      (local.set $ix (i32.add (local.get $ix) (local.get $xImg)))
      (local.set $id (i32.add (local.get $id) (local.get $dyImg)))
      (local.set $m (i32.sub (local.get $m) (i32.const 1)))
      (br_if $imageLoop (local.get $m))))
)

;; BatchNorm + ReLU passes over tfjs-backend-wasm's heap, 4 floats at a time (WebAssembly SIMD).
;; Assembled by scripts/build-wasm-kernels.ts into batch-norm-relu.wasm.ts; the one memory is
;; imported from tfjs's module, so the kernels read and write tensors where they already are.
;;
;; Every function walks n floats (NHWC, channel innermost) as rows of L floats, where L is a
;; multiple of both 4 and the channel count C: lane k of the i-th vector of a row always belongs
;; to channel (4i + k) mod C, so per-channel values are passed tiled to L floats. The caller
;; passes n as a multiple of L. Pointers are byte offsets into the heap.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; the builder drops "shared" for the single-threaded build

  ;; Adds x (f32) and x*x, widened to f64, into sum[L] and sumSq[L] (f64, caller-zeroed).
  (func (export "stats") (param $x i32) (param $n i32) (param $L i32) (param $sum i32) (param $sumSq i32)
    (local $end i32) (local $rowEnd i32) (local $p i32) (local $q i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $L) (i32.const 2))))
        (local.set $p (local.get $sum))
        (local.set $q (local.get $sumSq))
        (loop $cols
          (local.set $v (v128.load (local.get $x)))
          (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
          (local.set $hi (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
          (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p)) (local.get $lo)))
          (v128.store offset=16 (local.get $p) (f64x2.add (v128.load offset=16 (local.get $p)) (local.get $hi)))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.mul (local.get $lo) (local.get $lo))))
          (v128.store offset=16 (local.get $q)
            (f64x2.add (v128.load offset=16 (local.get $q)) (f64x2.mul (local.get $hi) (local.get $hi))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $cols (i32.lt_u (local.get $x) (local.get $rowEnd))))
        (br $rows))))

  ;; y = max(x * scale + shift, 0), scale and shift tiled to L floats.
  (func (export "apply") (param $x i32) (param $y i32) (param $n i32) (param $L i32) (param $scale i32) (param $shift i32)
    (local $o i32) (local $end i32) (local $rowEnd i32) (local $j i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $o) (i32.shl (local.get $L) (i32.const 2))))
        (local.set $j (i32.const 0))
        (loop $cols
          (v128.store (i32.add (local.get $y) (local.get $o))
            (f32x4.max
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $scale) (local.get $j))))
                (v128.load (i32.add (local.get $shift) (local.get $j))))
              (v128.const f32x4 0 0 0 0)))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $o) (local.get $rowEnd))))
        (br $rows))))

  ;; With g = dy where y > 0, else 0: adds g and g*x, widened to f64, into sumG[L] and sumGX[L].
  (func (export "gradStats") (param $dy i32) (param $x i32) (param $y i32) (param $n i32) (param $L i32)
    (param $sumG i32) (param $sumGX i32)
    (local $o i32) (local $end i32) (local $rowEnd i32) (local $p i32) (local $q i32) (local $g v128) (local $gx v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $o) (i32.shl (local.get $L) (i32.const 2))))
        (local.set $p (local.get $sumG))
        (local.set $q (local.get $sumGX))
        (loop $cols
          (local.set $g
            (v128.and (v128.load (i32.add (local.get $dy) (local.get $o)))
              (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $o))) (v128.const f32x4 0 0 0 0))))
          (local.set $gx (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $x) (local.get $o)))))
          (v128.store (local.get $p) (f64x2.add (v128.load (local.get $p)) (f64x2.promote_low_f32x4 (local.get $g))))
          (v128.store offset=16 (local.get $p)
            (f64x2.add (v128.load offset=16 (local.get $p))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $gx))))
          (v128.store offset=16 (local.get $q)
            (f64x2.add (v128.load offset=16 (local.get $q))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gx) (local.get $gx)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $cols (i32.lt_u (local.get $o) (local.get $rowEnd))))
        (br $rows))))

  ;; dx = k1 * g + k2 * x + k3, with g as in gradStats and k1, k2, k3 tiled to L floats.
  (func (export "gradApply") (param $dy i32) (param $x i32) (param $y i32) (param $dx i32) (param $n i32) (param $L i32)
    (param $k1 i32) (param $k2 i32) (param $k3 i32)
    (local $o i32) (local $end i32) (local $rowEnd i32) (local $j i32) (local $g v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $o) (i32.shl (local.get $L) (i32.const 2))))
        (local.set $j (i32.const 0))
        (loop $cols
          (local.set $g
            (v128.and (v128.load (i32.add (local.get $dy) (local.get $o)))
              (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $o))) (v128.const f32x4 0 0 0 0))))
          (v128.store (i32.add (local.get $dx) (local.get $o))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $k1) (local.get $j))))
                (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $o))) (v128.load (i32.add (local.get $k2) (local.get $j)))))
              (v128.load (i32.add (local.get $k3) (local.get $j)))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $o) (local.get $rowEnd))))
        (br $rows))))
)

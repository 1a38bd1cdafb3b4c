;; The input gradient of a convolution, tap by tap, over tfjs-backend-wasm's heap (WebAssembly
;; SIMD). Assembled by scripts/build-wasm-kernels.ts into conv-input-grad.wasm.ts. Pointers are
;; byte offsets into the heap; strides are in floats.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; the builder drops "shared" for the single-threaded build

  ;; dx[m * dxImg + r * dxRow + k * dxPix + ci] += Σ_co dy[m * dyImg + r * dyRow + k * dyPix + co] · wt[co * Cip + ci]
  ;; for m < images, r < rows, k < n and ci < Cip: one filter tap's share of dx over a 2-D run of
  ;; output pixels in each image. wt is the tap's filter transposed to [Co, Cip]; Cip is the input
  ;; channel count rounded up to 8 (wt's extra columns are zero, dx's rows are Cip floats long).
  ;; Four pixels x 8 input channels are accumulated in registers over all Co; leftover pixels one
  ;; at a time.
  (func (export "accumulate")
    (param $dy i32) (param $dyPix i32) (param $dyRow i32) (param $dyImg i32)
    (param $dx i32) (param $dxPix i32) (param $dxRow i32) (param $dxImg i32)
    (param $n i32) (param $rows i32) (param $images i32) (param $Co i32) (param $Cip i32) (param $wt i32)
    (local $m i32) (local $r i32) (local $k i32) (local $ci i32) (local $co i32)
    (local $iy i32) (local $ix i32) (local $ry i32) (local $rx i32) (local $py i32) (local $px i32)
    (local $d0 i32) (local $d1 i32) (local $d2 i32) (local $d3 i32) (local $o i32) (local $w i32) (local $wRow i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (if (i32.or (i32.or (i32.eqz (local.get $n)) (i32.eqz (local.get $rows))) (i32.eqz (local.get $images))) (then (return)))
    (local.set $dyPix (i32.shl (local.get $dyPix) (i32.const 2)))
    (local.set $dyRow (i32.shl (local.get $dyRow) (i32.const 2)))
    (local.set $dyImg (i32.shl (local.get $dyImg) (i32.const 2)))
    (local.set $dxPix (i32.shl (local.get $dxPix) (i32.const 2)))
    (local.set $dxRow (i32.shl (local.get $dxRow) (i32.const 2)))
    (local.set $dxImg (i32.shl (local.get $dxImg) (i32.const 2)))
    (local.set $wRow (i32.shl (local.get $Cip) (i32.const 2)))
    (local.set $iy (local.get $dy))
    (local.set $ix (local.get $dx))
    (local.set $m (local.get $images))
    (loop $imageLoop
      (local.set $ry (local.get $iy))
      (local.set $rx (local.get $ix))
      (local.set $r (local.get $rows))
      (loop $rowLoop
        (local.set $py (local.get $ry))
        (local.set $px (local.get $rx))
        (local.set $k (local.get $n))
        ;; Groups of 4 pixels.
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.lt_u (local.get $k) (i32.const 4)))
            (local.set $ci (i32.const 0))
            (loop $ciBlocks
              (local.set $o (i32.add (local.get $px) (i32.shl (local.get $ci) (i32.const 2))))
              (local.set $a00 (v128.load (local.get $o)))
              (local.set $a01 (v128.load offset=16 (local.get $o)))
              (local.set $a10 (v128.load (i32.add (local.get $o) (local.get $dxPix))))
              (local.set $a11 (v128.load offset=16 (i32.add (local.get $o) (local.get $dxPix))))
              (local.set $a20 (v128.load (i32.add (local.get $o) (i32.shl (local.get $dxPix) (i32.const 1)))))
              (local.set $a21 (v128.load offset=16 (i32.add (local.get $o) (i32.shl (local.get $dxPix) (i32.const 1)))))
              (local.set $a30 (v128.load (i32.add (local.get $o) (i32.mul (local.get $dxPix) (i32.const 3)))))
              (local.set $a31 (v128.load offset=16 (i32.add (local.get $o) (i32.mul (local.get $dxPix) (i32.const 3)))))
              (local.set $d0 (local.get $py))
              (local.set $d1 (i32.add (local.get $py) (local.get $dyPix)))
              (local.set $d2 (i32.add (local.get $d1) (local.get $dyPix)))
              (local.set $d3 (i32.add (local.get $d2) (local.get $dyPix)))
              (local.set $w (i32.add (local.get $wt) (i32.shl (local.get $ci) (i32.const 2))))
              (local.set $co (local.get $Co))
              (loop $k4
                (local.set $w0 (v128.load (local.get $w)))
                (local.set $w1 (v128.load offset=16 (local.get $w)))
                (local.set $s (f32x4.splat (f32.load (local.get $d0))))
                (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
                (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
                (local.set $s (f32x4.splat (f32.load (local.get $d1))))
                (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
                (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
                (local.set $s (f32x4.splat (f32.load (local.get $d2))))
                (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $w0))))
                (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w1))))
                (local.set $s (f32x4.splat (f32.load (local.get $d3))))
                (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $w0))))
                (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $w1))))
                (local.set $d0 (i32.add (local.get $d0) (i32.const 4)))
                (local.set $d1 (i32.add (local.get $d1) (i32.const 4)))
                (local.set $d2 (i32.add (local.get $d2) (i32.const 4)))
                (local.set $d3 (i32.add (local.get $d3) (i32.const 4)))
                (local.set $w (i32.add (local.get $w) (local.get $wRow)))
                (local.set $co (i32.sub (local.get $co) (i32.const 1)))
                (br_if $k4 (local.get $co)))
              (v128.store (local.get $o) (local.get $a00))
              (v128.store offset=16 (local.get $o) (local.get $a01))
              (v128.store (i32.add (local.get $o) (local.get $dxPix)) (local.get $a10))
              (v128.store offset=16 (i32.add (local.get $o) (local.get $dxPix)) (local.get $a11))
              (v128.store (i32.add (local.get $o) (i32.shl (local.get $dxPix) (i32.const 1))) (local.get $a20))
              (v128.store offset=16 (i32.add (local.get $o) (i32.shl (local.get $dxPix) (i32.const 1))) (local.get $a21))
              (v128.store (i32.add (local.get $o) (i32.mul (local.get $dxPix) (i32.const 3))) (local.get $a30))
              (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $dxPix) (i32.const 3))) (local.get $a31))
              (local.set $ci (i32.add (local.get $ci) (i32.const 8)))
              (br_if $ciBlocks (i32.lt_u (local.get $ci) (local.get $Cip))))
            (local.set $py (i32.add (local.get $py) (i32.shl (local.get $dyPix) (i32.const 2))))
            (local.set $px (i32.add (local.get $px) (i32.shl (local.get $dxPix) (i32.const 2))))
            (local.set $k (i32.sub (local.get $k) (i32.const 4)))
            (br $groups)))
        ;; Leftover pixels, one at a time.
        (block $singlesDone
          (loop $singles
            (br_if $singlesDone (i32.eqz (local.get $k)))
            (local.set $ci (i32.const 0))
            (loop $ciBlocks1
              (local.set $o (i32.add (local.get $px) (i32.shl (local.get $ci) (i32.const 2))))
              (local.set $a00 (v128.load (local.get $o)))
              (local.set $a01 (v128.load offset=16 (local.get $o)))
              (local.set $d0 (local.get $py))
              (local.set $w (i32.add (local.get $wt) (i32.shl (local.get $ci) (i32.const 2))))
              (local.set $co (local.get $Co))
              (loop $k1
                (local.set $s (f32x4.splat (f32.load (local.get $d0))))
                (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (v128.load (local.get $w)))))
                (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $w)))))
                (local.set $d0 (i32.add (local.get $d0) (i32.const 4)))
                (local.set $w (i32.add (local.get $w) (local.get $wRow)))
                (local.set $co (i32.sub (local.get $co) (i32.const 1)))
                (br_if $k1 (local.get $co)))
              (v128.store (local.get $o) (local.get $a00))
              (v128.store offset=16 (local.get $o) (local.get $a01))
              (local.set $ci (i32.add (local.get $ci) (i32.const 8)))
              (br_if $ciBlocks1 (i32.lt_u (local.get $ci) (local.get $Cip))))
            (local.set $py (i32.add (local.get $py) (local.get $dyPix)))
            (local.set $px (i32.add (local.get $px) (local.get $dxPix)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $singles)))
        (local.set $ry (i32.add (local.get $ry) (local.get $dyRow)))
        (local.set $rx (i32.add (local.get $rx) (local.get $dxRow)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br_if $rowLoop (local.get $r)))
      (local.set $iy (i32.add (local.get $iy) (local.get $dyImg)))
      (local.set $ix (i32.add (local.get $ix) (local.get $dxImg)))
      (local.set $m (i32.sub (local.get $m) (i32.const 1)))
      (br_if $imageLoop (local.get $m))))

  ;; wt[tap][co * Cip + ci] = w[tap][ci * Co + co] for tap < taps, ci < Ci, co < Co: each tap of
  ;; a [kh, kw, Ci, Co] filter transposed to the [Co, Cip] rows "accumulate" reads. wt's columns
  ;; from Ci to Cip are left as they are (the caller zeroes them).
  (func (export "transposeTaps") (param $w i32) (param $wt i32) (param $taps i32) (param $Ci i32) (param $Co i32) (param $Cip i32)
    (local $tap i32) (local $ci i32) (local $co i32) (local $src i32) (local $dst i32) (local $tapOut i32)
    (if (i32.or (i32.or (i32.eqz (local.get $taps)) (i32.eqz (local.get $Ci))) (i32.eqz (local.get $Co))) (then (return)))
    (local.set $src (local.get $w))
    (loop $tapLoop
      (local.set $tapOut (i32.add (local.get $wt) (i32.shl (i32.mul (local.get $tap) (i32.mul (local.get $Co) (local.get $Cip))) (i32.const 2))))
      (local.set $ci (i32.const 0))
      (loop $ciLoop
        (local.set $dst (i32.add (local.get $tapOut) (i32.shl (local.get $ci) (i32.const 2))))
        (local.set $co (local.get $Co))
        (loop $coLoop
          (f32.store (local.get $dst) (f32.load (local.get $src)))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $Cip) (i32.const 2))))
          (local.set $co (i32.sub (local.get $co) (i32.const 1)))
          (br_if $coLoop (local.get $co)))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (br_if $ciLoop (i32.lt_u (local.get $ci) (local.get $Ci))))
      (local.set $tap (i32.add (local.get $tap) (i32.const 1)))
      (br_if $tapLoop (i32.lt_u (local.get $tap) (local.get $taps)))))
)

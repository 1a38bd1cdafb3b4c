;; One parameter's SGD step with momentum and weight decay on tfjs-backend-wasm's heap
;; (WebAssembly SIMD), four floats at a time. Assembled by scripts/build-wasm-kernels.ts into
;; sgd-update.wasm.ts. Pointers are byte offsets into the heap.
(module
  (import "env" "memory" (memory 1 65536 shared)) ;; the builder drops "shared" for the single-threaded build

  ;; For i < n, in float32 with one rounding per operation (as the JavaScript path rounds):
  ;;   d = g[i] + wd * p[i];  m = mu * v[i] + d;  v2[i] = m;  p2[i] = p[i] - lr * (nesterov ? d + mu * m : m)
  (func (export "sgd")
    (param $p i32) (param $g i32) (param $v i32) (param $p2 i32) (param $v2 i32) (param $n i32)
    (param $lr f32) (param $mu f32) (param $wd f32) (param $nesterov i32)
    (local $i i32) (local $end4 i32) (local $at i32)
    (local $w v128) (local $d v128) (local $m v128) (local $lr4 v128) (local $mu4 v128) (local $wd4 v128)
    (local $ws f32) (local $ds f32) (local $ms f32)
    (local.set $lr4 (f32x4.splat (local.get $lr)))
    (local.set $mu4 (f32x4.splat (local.get $mu)))
    (local.set $wd4 (f32x4.splat (local.get $wd)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $w (v128.load (i32.add (local.get $p) (local.get $at))))
        (local.set $d (f32x4.add (v128.load (i32.add (local.get $g) (local.get $at))) (f32x4.mul (local.get $wd4) (local.get $w))))
        (local.set $m (f32x4.add (f32x4.mul (local.get $mu4) (v128.load (i32.add (local.get $v) (local.get $at)))) (local.get $d)))
        (v128.store (i32.add (local.get $v2) (local.get $at)) (local.get $m))
        (if (local.get $nesterov)
          (then (local.set $m (f32x4.add (local.get $d) (f32x4.mul (local.get $mu4) (local.get $m))))))
        (v128.store (i32.add (local.get $p2) (local.get $at))
          (f32x4.sub (local.get $w) (f32x4.mul (local.get $lr4) (local.get $m))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vectors)))
    ;; The last n mod 4 floats one at a time.
    (block $done
      (loop $scalars
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (local.set $ws (f32.load (i32.add (local.get $p) (local.get $at))))
        (local.set $ds (f32.add (f32.load (i32.add (local.get $g) (local.get $at))) (f32.mul (local.get $wd) (local.get $ws))))
        (local.set $ms (f32.add (f32.mul (local.get $mu) (f32.load (i32.add (local.get $v) (local.get $at)))) (local.get $ds)))
        (f32.store (i32.add (local.get $v2) (local.get $at)) (local.get $ms))
        (if (local.get $nesterov)
          (then (local.set $ms (f32.add (local.get $ds) (f32.mul (local.get $mu) (local.get $ms))))))
        (f32.store (i32.add (local.get $p2) (local.get $at))
          (f32.sub (local.get $ws) (f32.mul (local.get $lr) (local.get $ms))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scalars))))
)

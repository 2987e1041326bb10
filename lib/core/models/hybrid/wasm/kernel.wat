;; The hybrid model's SGD kernel in WebAssembly with 128-bit SIMD (f32x4): the same algorithm as
;; ../kernel.ts (the readable reference; read its header for WARP, BPR, Adagrad, Adam and identity
;; dropout), four embedding dimensions per instruction. Compiled by `npm run build:wasm` into
;; kernel-bytes.ts; a test recompiles it and checks the bytes.
;;
;; Every array lives in the shared linear memory and is passed as a byte offset. A control block
;; describes one shard; its fields are read as offset=(at)name, and scripts/build-wasm.ts replaces each
;; name by its byte offset from the one table of the layout, layout.ts, which runner.ts writes by name.
;; `run(ctx, start, end)` processes positives order[start .. end-1] and returns the summed loss.
;; Optimizer (control field `optimizer`): 0 Adagrad, 1 Adam, 2 row-wise Adagrad (one accumulator
;; float per feature row, at acc + feature * 4; biases keep their per-feature Adagrad).
;; Requires dim % 4 == 0. Arithmetic is f32, and ../kernel.ts performs the same f32 operations in the
;; same order, so on one thread the two kernels take the same steps to the bit.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (import "env" "exp" (func $exp (param f64) (result f64)))
  (import "env" "log1p" (func $log1p (param f64) (result f64)))

  ;; sfc32 state, the generator of lib/core/rng.ts, seeded by the caller.
  (global $ra (mut i32) (i32.const 0))
  (global $rb (mut i32) (i32.const 0))
  (global $rc (mut i32) (i32.const 0))
  (global $rd (mut i32) (i32.const 0))

  (func $next_u32 (result i32)
    (local $t i32)
    (local.set $t (i32.add (i32.add (global.get $ra) (global.get $rb)) (global.get $rd)))
    (global.set $rd (i32.add (global.get $rd) (i32.const 1)))
    (global.set $ra (i32.xor (global.get $rb) (i32.shr_u (global.get $rb) (i32.const 9))))
    (global.set $rb (i32.add (global.get $rc) (i32.shl (global.get $rc) (i32.const 3))))
    (global.set $rc (i32.add (i32.rotl (global.get $rc) (i32.const 21)) (local.get $t)))
    (local.get $t))

  ;; A uniform float in [0, 1).
  (func $next (result f64)
    (f64.mul (f64.convert_i32_u (call $next_u32)) (f64.const 0x1p-32)))

  ;; A uniform integer in [0, n).
  (func $int (param $n i32) (result i32)
    (i32.trunc_f64_u (f64.mul (call $next) (f64.convert_i32_u (local.get $n)))))

  ;; Horizontal sum of the four lanes.
  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; x · y over dim floats (byte offsets).
  (func $dot (param $x i32) (param $y i32) (param $dim i32) (result f32)
    (local $acc v128) (local $k i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $acc (v128.const f32x4 0 0 0 0))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $bytes)))
        (local.set $acc (f32x4.add (local.get $acc)
          (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $k))) (v128.load (i32.add (local.get $y) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $l)))
    (call $hsum (local.get $acc)))

  ;; The row's vector: sum over its features of weight * embedding, written to `out`; returns `out`,
  ;; or, for a row of one feature of weight 1 (an identity-only entity), that embedding's own address
  ;; (read-only use: no copy).
  (func $sum_rows (param $ptr i32) (param $feat i32) (param $w i32) (param $emb i32) (param $row i32) (param $dim i32) (param $out i32) (result i32)
    (local $p i32) (local $end i32) (local $k i32) (local $bytes i32) (local $base i32) (local $a v128) (local $a0 f32)
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $p (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $row) (i32.const 2)))))
    (local.set $end (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 2)))))
    (local.set $k (i32.const 0))
    (if (i32.lt_s (local.get $p) (local.get $end))
      (then
        (local.set $a0 (f32.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $base (i32.add (local.get $emb) (i32.mul (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))) (local.get $bytes))))
        (if (i32.and (i32.eq (i32.add (local.get $p) (i32.const 1)) (local.get $end)) (f32.eq (local.get $a0) (f32.const 1)))
          (then (return (local.get $base))))
        ;; First feature: a scaled copy.
        (local.set $a (f32x4.splat (local.get $a0)))
        (block $d0 (loop $l0
          (br_if $d0 (i32.ge_u (local.get $k) (local.get $bytes)))
          (v128.store (i32.add (local.get $out) (local.get $k)) (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $base) (local.get $k)))))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $l0)))
        (local.set $p (i32.add (local.get $p) (i32.const 1))))
      (else
        (block $dz (loop $lz
          (br_if $dz (i32.ge_u (local.get $k) (local.get $bytes)))
          (v128.store (i32.add (local.get $out) (local.get $k)) (v128.const f32x4 0 0 0 0))
          (local.set $k (i32.add (local.get $k) (i32.const 16)))
          (br $lz)))))
    (block $done (loop $rows
      (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
      (local.set $a (f32x4.splat (f32.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2))))))
      (local.set $base (i32.add (local.get $emb) (i32.mul (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))) (local.get $bytes))))
      (local.set $k (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $k) (local.get $bytes)))
        (v128.store (i32.add (local.get $out) (local.get $k))
          (f32x4.add (v128.load (i32.add (local.get $out) (local.get $k)))
            (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $base) (local.get $k))))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $l1)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $rows)))
    (local.get $out))

  ;; Sum over the row's features of weight * bias.
  (func $row_bias (param $ptr i32) (param $feat i32) (param $w i32) (param $bias i32) (param $row i32) (result f32)
    (local $p i32) (local $end i32) (local $b f32)
    (local.set $p (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $row) (i32.const 2)))))
    (local.set $end (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 2)))))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
      (local.set $b (f32.add (local.get $b)
        (f32.mul (f32.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2))))
          (f32.load (i32.add (local.get $bias) (i32.shl (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.get $b))

  ;; user · item + itemBias, feature by feature (no temporary vector: most WARP draws are rejected).
  (func $score_item (param $ptr i32) (param $feat i32) (param $w i32) (param $emb i32) (param $bias i32) (param $row i32) (param $dim i32) (param $user i32) (result f32)
    (local $p i32) (local $end i32) (local $f i32) (local $total f32)
    (local.set $p (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $row) (i32.const 2)))))
    (local.set $end (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 2)))))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
      (local.set $f (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))))
      (local.set $total (f32.add (local.get $total)
        (f32.mul (f32.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2))))
          (f32.add
            (call $dot (local.get $user) (i32.add (local.get $emb) (i32.mul (local.get $f) (i32.shl (local.get $dim) (i32.const 2)))) (local.get $dim))
            (f32.load (i32.add (local.get $bias) (i32.shl (local.get $f) (i32.const 2))))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    (local.get $total))

  ;; Binary search of value in sorted i32 array [lo, hi).
  (func $contains (param $arr i32) (param $lo i32) (param $hi i32) (param $value i32) (result i32)
    (local $a i32) (local $b i32) (local $mid i32) (local $v i32)
    (local.set $a (local.get $lo))
    (local.set $b (i32.sub (local.get $hi) (i32.const 1)))
    (block $done (loop $l
      (br_if $done (i32.gt_s (local.get $a) (local.get $b)))
      (local.set $mid (i32.shr_u (i32.add (local.get $a) (local.get $b)) (i32.const 1)))
      (local.set $v (i32.load (i32.add (local.get $arr) (i32.shl (local.get $mid) (i32.const 2)))))
      (if (i32.eq (local.get $v) (local.get $value)) (then (return (i32.const 1))))
      (if (i32.lt_s (local.get $v) (local.get $value))
        (then (local.set $a (i32.add (local.get $mid) (i32.const 1))))
        (else (local.set $b (i32.sub (local.get $mid) (i32.const 1)))))
      (br $l)))
    (i32.const 0))

  ;; Adagrad (opt = 0), Adam (opt = 1) or row-wise Adagrad (opt = 2) step on every feature of a row:
  ;; gradient of feature f = scale * weight_f * grad + l2 * emb[f].
  (func $update_row (param $emb i32) (param $acc i32) (param $mom i32) (param $ptr i32) (param $feat i32) (param $w i32) (param $row i32)
                    (param $grad i32) (param $scale f32) (param $dim i32) (param $opt i32) (param $lr f32) (param $l2 f32) (param $c1 f32) (param $c2 f32)
    (local $p i32) (local $end i32) (local $k i32) (local $bytes i32) (local $off i32) (local $f i32) (local $sr f32)
    (local $a v128) (local $lrv v128) (local $l2v v128) (local $e v128) (local $g v128) (local $s v128) (local $m v128)
    (local $b1 v128) (local $nb1 v128) (local $b2 v128) (local $nb2 v128) (local $c1v v128) (local $c2v v128) (local $eps v128)
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    (local.set $lrv (f32x4.splat (local.get $lr)))
    (local.set $l2v (f32x4.splat (local.get $l2)))
    (local.set $b1 (f32x4.splat (f32.const 0.9)))
    (local.set $nb1 (f32x4.splat (f32.const 0.1)))
    (local.set $b2 (f32x4.splat (f32.const 0.999)))
    (local.set $nb2 (f32x4.splat (f32.const 0.001)))
    (local.set $c1v (f32x4.splat (local.get $c1)))
    (local.set $c2v (f32x4.splat (local.get $c2)))
    (local.set $eps (f32x4.splat (f32.const 1e-8)))
    (local.set $p (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $row) (i32.const 2)))))
    (local.set $end (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 2)))))
    (block $done (loop $rows
      (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
      (local.set $a (f32x4.splat (f32.mul (local.get $scale) (f32.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2)))))))
      (local.set $f (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))))
      (local.set $off (i32.mul (local.get $f) (local.get $bytes)))
      (local.set $k (i32.const 0))
      (if (i32.eq (local.get $opt) (i32.const 1))
        (then
          (block $da (loop $la
            (br_if $da (i32.ge_u (local.get $k) (local.get $bytes)))
            (local.set $e (v128.load (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k))))
            (local.set $g (f32x4.add (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $grad) (local.get $k)))) (f32x4.mul (local.get $l2v) (local.get $e))))
            (local.set $m (f32x4.add (f32x4.mul (local.get $b1) (v128.load (i32.add (i32.add (local.get $mom) (local.get $off)) (local.get $k)))) (f32x4.mul (local.get $nb1) (local.get $g))))
            (local.set $s (f32x4.add (f32x4.mul (local.get $b2) (v128.load (i32.add (i32.add (local.get $acc) (local.get $off)) (local.get $k)))) (f32x4.mul (local.get $nb2) (f32x4.mul (local.get $g) (local.get $g)))))
            (v128.store (i32.add (i32.add (local.get $mom) (local.get $off)) (local.get $k)) (local.get $m))
            (v128.store (i32.add (i32.add (local.get $acc) (local.get $off)) (local.get $k)) (local.get $s))
            (v128.store (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k))
              (f32x4.sub (local.get $e)
                (f32x4.div (f32x4.mul (f32x4.mul (local.get $lrv) (local.get $m)) (local.get $c1v))
                  (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $s) (local.get $c2v))) (local.get $eps)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $la))))
        (else (if (i32.eq (local.get $opt) (i32.const 2))
        (then
          ;; Row-wise: the step lr / sqrt(acc) from the row's one accumulator, then acc += mean of g^2
          ;; (four lanes, summed as $hsum does).
          (local.set $sr (f32.load (i32.add (local.get $acc) (i32.shl (local.get $f) (i32.const 2)))))
          (local.set $s (f32x4.splat (f32.div (local.get $lr) (f32.sqrt (local.get $sr)))))
          (local.set $m (v128.const f32x4 0 0 0 0))
          (block $dr (loop $lr_
            (br_if $dr (i32.ge_u (local.get $k) (local.get $bytes)))
            (local.set $e (v128.load (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k))))
            (local.set $g (f32x4.add (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $grad) (local.get $k)))) (f32x4.mul (local.get $l2v) (local.get $e))))
            (v128.store (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k))
              (f32x4.sub (local.get $e) (f32x4.mul (local.get $s) (local.get $g))))
            (local.set $m (f32x4.add (local.get $m) (f32x4.mul (local.get $g) (local.get $g))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $lr_)))
          (f32.store (i32.add (local.get $acc) (i32.shl (local.get $f) (i32.const 2)))
            (f32.add (local.get $sr) (f32.div (call $hsum (local.get $m)) (f32.convert_i32_u (local.get $dim))))))
        (else
          (block $dg (loop $lg
            (br_if $dg (i32.ge_u (local.get $k) (local.get $bytes)))
            (local.set $e (v128.load (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k))))
            (local.set $g (f32x4.add (f32x4.mul (local.get $a) (v128.load (i32.add (local.get $grad) (local.get $k)))) (f32x4.mul (local.get $l2v) (local.get $e))))
            (local.set $s (v128.load (i32.add (i32.add (local.get $acc) (local.get $off)) (local.get $k))))
            (v128.store (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k))
              (f32x4.sub (local.get $e) (f32x4.div (f32x4.mul (local.get $lrv) (local.get $g)) (f32x4.sqrt (local.get $s)))))
            (v128.store (i32.add (i32.add (local.get $acc) (local.get $off)) (local.get $k)) (f32x4.add (local.get $s) (f32x4.mul (local.get $g) (local.get $g))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $lg)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $rows))))

  ;; The same step on the biases of a row's features (scalar).
  (func $update_bias (param $bias i32) (param $acc i32) (param $mom i32) (param $ptr i32) (param $feat i32) (param $w i32) (param $row i32)
                     (param $grad f32) (param $adam i32) (param $lr f32) (param $l2 f32) (param $c1 f32) (param $c2 f32)
    (local $p i32) (local $end i32) (local $at i32) (local $e f32) (local $g f32) (local $s f32) (local $m f32)
    (local.set $p (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $row) (i32.const 2)))))
    (local.set $end (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 2)))))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $p) (local.get $end)))
      (local.set $at (i32.shl (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 2)))
      (local.set $e (f32.load (i32.add (local.get $bias) (local.get $at))))
      (local.set $g (f32.add (f32.mul (local.get $grad) (f32.load (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 2))))) (f32.mul (local.get $l2) (local.get $e))))
      (if (local.get $adam)
        (then
          (local.set $m (f32.add (f32.mul (f32.const 0.9) (f32.load (i32.add (local.get $mom) (local.get $at)))) (f32.mul (f32.const 0.1) (local.get $g))))
          (local.set $s (f32.add (f32.mul (f32.const 0.999) (f32.load (i32.add (local.get $acc) (local.get $at)))) (f32.mul (f32.const 0.001) (f32.mul (local.get $g) (local.get $g)))))
          (f32.store (i32.add (local.get $mom) (local.get $at)) (local.get $m))
          (f32.store (i32.add (local.get $acc) (local.get $at)) (local.get $s))
          (f32.store (i32.add (local.get $bias) (local.get $at))
            (f32.sub (local.get $e) (f32.div (f32.mul (f32.mul (local.get $lr) (local.get $m)) (local.get $c1)) (f32.add (f32.sqrt (f32.mul (local.get $s) (local.get $c2))) (f32.const 1e-8))))))
        (else
          (local.set $s (f32.load (i32.add (local.get $acc) (local.get $at))))
          (f32.store (i32.add (local.get $bias) (local.get $at)) (f32.sub (local.get $e) (f32.div (f32.mul (local.get $lr) (local.get $g)) (f32.sqrt (local.get $s)))))
          (f32.store (i32.add (local.get $acc) (local.get $at)) (f32.add (local.get $s) (f32.mul (local.get $g) (local.get $g))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l))))

  ;; `n` raw draws of the generator into the i32 array at byte `out`, from and back to the state in
  ;; the control block: lets a test compare this stream with lib/core/rng.ts draw by draw.
;; One load per 64-byte line of the embedding row (`bytes`) and of the accumulator row (`accBytes`:
  ;; the same per dimension, 4 for row-wise Adagrad's one float, whose one load is all its step reads)
  ;; of a row's first feature (the identity, or its first metadata feature), xor-ed together; 0 for a
  ;; row without features.
  (func $touch_row (param $ptr i32) (param $feat i32) (param $emb i32) (param $acc i32) (param $row i32) (param $bytes i32) (param $accBytes i32) (result i32)
    (local $p i32) (local $off i32) (local $k i32) (local $x i32) (local $f i32) (local $accOff i32)
    (local.set $p (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $row) (i32.const 2)))))
    (if (i32.ge_s (local.get $p) (i32.load (i32.add (local.get $ptr) (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 2)))))
      (then (return (i32.const 0))))
    (local.set $f (i32.load (i32.add (local.get $feat) (i32.shl (local.get $p) (i32.const 2)))))
    (local.set $off (i32.mul (local.get $f) (local.get $bytes)))
    (local.set $accOff (i32.add (local.get $acc) (i32.mul (local.get $f) (local.get $accBytes))))
    (block $done (loop $lines
      (br_if $done (i32.ge_u (local.get $k) (local.get $bytes)))
      (local.set $x (i32.xor (local.get $x) (i32.load (i32.add (i32.add (local.get $emb) (local.get $off)) (local.get $k)))))
      (if (i32.lt_u (local.get $k) (local.get $accBytes))
        (then (local.set $x (i32.xor (local.get $x) (i32.load (i32.add (local.get $accOff) (local.get $k)))))))
      (local.set $k (i32.add (local.get $k) (i32.const 64)))
      (br $lines)))
    (local.get $x))

;; Validation scores of four users in one pass over the item vectors (fit.ts scoreFour, to the bit):
  ;; scores[j * n + i] = bias[i] + (((a0 + a1) + a2) + a3), where a_r sums, in f64, user j's
  ;; component q times item i's component q over q = r mod 4, one product and one sum at a time
  ;; (f64x2 lanes: (a0, a1) and (a2, a3)). users: 4 × dim f64; rep: n × dim f32; bias: n f32;
  ;; scores: 4 × n f64.
  (func (export "score_four") (param $users i32) (param $rep i32) (param $bias i32) (param $dim i32) (param $n i32) (param $scores i32)
    (local $i i32) (local $q i32) (local $row i32) (local $ub i32) (local $b f64) (local $at i32)
    (local $r01 v128) (local $r23 v128)
    (local $a01 v128) (local $a23 v128) (local $b01 v128) (local $b23 v128)
    (local $c01 v128) (local $c23 v128) (local $e01 v128) (local $e23 v128)
    (local.set $ub (i32.shl (local.get $dim) (i32.const 3)))
    (block $done (loop $items
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $row (i32.add (local.get $rep) (i32.shl (i32.mul (local.get $i) (local.get $dim)) (i32.const 2))))
      (local.set $a01 (f64x2.splat (f64.const 0))) (local.set $a23 (f64x2.splat (f64.const 0)))
      (local.set $b01 (f64x2.splat (f64.const 0))) (local.set $b23 (f64x2.splat (f64.const 0)))
      (local.set $c01 (f64x2.splat (f64.const 0))) (local.set $c23 (f64x2.splat (f64.const 0)))
      (local.set $e01 (f64x2.splat (f64.const 0))) (local.set $e23 (f64x2.splat (f64.const 0)))
      (local.set $q (i32.const 0))
      (block $dq (loop $lq
        (br_if $dq (i32.ge_u (local.get $q) (local.get $dim)))
        (local.set $r01 (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $q) (i32.const 2))))))
        (local.set $r23 (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (i32.add (local.get $q) (i32.const 2)) (i32.const 2))))))
        (local.set $at (i32.add (local.get $users) (i32.shl (local.get $q) (i32.const 3))))
        (local.set $a01 (f64x2.add (local.get $a01) (f64x2.mul (v128.load (local.get $at)) (local.get $r01))))
        (local.set $a23 (f64x2.add (local.get $a23) (f64x2.mul (v128.load offset=16 (local.get $at)) (local.get $r23))))
        (local.set $at (i32.add (local.get $at) (local.get $ub)))
        (local.set $b01 (f64x2.add (local.get $b01) (f64x2.mul (v128.load (local.get $at)) (local.get $r01))))
        (local.set $b23 (f64x2.add (local.get $b23) (f64x2.mul (v128.load offset=16 (local.get $at)) (local.get $r23))))
        (local.set $at (i32.add (local.get $at) (local.get $ub)))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (v128.load (local.get $at)) (local.get $r01))))
        (local.set $c23 (f64x2.add (local.get $c23) (f64x2.mul (v128.load offset=16 (local.get $at)) (local.get $r23))))
        (local.set $at (i32.add (local.get $at) (local.get $ub)))
        (local.set $e01 (f64x2.add (local.get $e01) (f64x2.mul (v128.load (local.get $at)) (local.get $r01))))
        (local.set $e23 (f64x2.add (local.get $e23) (f64x2.mul (v128.load offset=16 (local.get $at)) (local.get $r23))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $lq)))
      (local.set $b (f64.promote_f32 (f32.load (i32.add (local.get $bias) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $at (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 3))))
      (f64.store (local.get $at) (f64.add (local.get $b) (call $sum4 (local.get $a01) (local.get $a23))))
      (local.set $at (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 3))))
      (f64.store (local.get $at) (f64.add (local.get $b) (call $sum4 (local.get $b01) (local.get $b23))))
      (local.set $at (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 3))))
      (f64.store (local.get $at) (f64.add (local.get $b) (call $sum4 (local.get $c01) (local.get $c23))))
      (local.set $at (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 3))))
      (f64.store (local.get $at) (f64.add (local.get $b) (call $sum4 (local.get $e01) (local.get $e23))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $items))))

  ;; ((a0 + a1) + a2) + a3 of the lanes (a0, a1) and (a2, a3), JS's left-to-right order.
  (func $sum4 (param $x01 v128) (param $x23 v128) (result f64)
    (f64.add (f64.add (f64.add (f64x2.extract_lane 0 (local.get $x01)) (f64x2.extract_lane 1 (local.get $x01)))
      (f64x2.extract_lane 0 (local.get $x23))) (f64x2.extract_lane 1 (local.get $x23))))

  (func (export "rng_draws") (param $ctx i32) (param $out i32) (param $n i32)
    (local $k i32)
    (global.set $ra (i32.load offset=@rngA (local.get $ctx)))
    (global.set $rb (i32.load offset=@rngB (local.get $ctx)))
    (global.set $rc (i32.load offset=@rngC (local.get $ctx)))
    (global.set $rd (i32.load offset=@rngD (local.get $ctx)))
    (block $done (loop $l
      (br_if $done (i32.ge_s (local.get $k) (local.get $n)))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (call $next_u32))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l)))
    (i32.store offset=@rngA (local.get $ctx) (global.get $ra))
    (i32.store offset=@rngB (local.get $ctx) (global.get $rb))
    (i32.store offset=@rngC (local.get $ctx) (global.get $rc))
    (i32.store offset=@rngD (local.get $ctx) (global.get $rd)))

  ;; One shard, described by the control block at byte $ctx (fields: layout.ts).
  (func (export "run") (param $ctx i32) (param $start i32) (param $end i32) (result f64)
    (local $dim i32) (local $nItems i32) (local $uPtr i32) (local $uFeat i32) (local $uW i32)
    (local $iPtr i32) (local $iFeat i32) (local $iW i32) (local $cPtr i32) (local $cFeat i32) (local $cW i32)
    (local $posUser i32) (local $posItem i32) (local $posWeight i32) (local $seenPtr i32) (local $seenItem i32) (local $order i32)
    (local $uEmb i32) (local $uAcc i32) (local $uMom i32) (local $iEmb i32) (local $iAcc i32) (local $iMom i32)
    (local $iBias i32) (local $iBiasAcc i32) (local $iBiasMom i32)
    (local $bpr i32) (local $opt i32) (local $adam i32) (local $maxSampled i32) (local $accBytes i32)
    (local $sUser i32) (local $sPos i32) (local $sNeg i32) (local $sGrad i32) (local $logTable i32)
    (local $lr f32) (local $l2 f32) (local $dropout f64) (local $b1pow f64) (local $b2pow f64) (local $c1 f32) (local $c2 f32)
    (local $o i32) (local $p i32) (local $u i32) (local $i i32) (local $w f32)
    (local $pPtr i32) (local $pFeat i32) (local $pW i32) (local $nPtr i32) (local $nFeat i32) (local $nW i32)
    (local $posScore f32) (local $negScore f32) (local $lo i32) (local $hi i32) (local $j i32) (local $coef f32)
    (local $sampled i32) (local $cand i32) (local $tries i32) (local $best i32) (local $bestScore f32) (local $rw f64) (local $x f64) (local $loss f64)
    (local $k i32) (local $bytes i32) (local $cv v128) (local $vUser i32) (local $vPos i32) (local $vNeg i32)
    (local $q i32) (local $touch i32)
    (local.set $dim (i32.load offset=@dim (local.get $ctx)))
    (local.set $nItems (i32.load offset=@nItems (local.get $ctx)))
    (local.set $uPtr (i32.load offset=@userPtr (local.get $ctx)))
    (local.set $uFeat (i32.load offset=@userFeat (local.get $ctx)))
    (local.set $uW (i32.load offset=@userWeight (local.get $ctx)))
    (local.set $iPtr (i32.load offset=@itemPtr (local.get $ctx)))
    (local.set $iFeat (i32.load offset=@itemFeat (local.get $ctx)))
    (local.set $iW (i32.load offset=@itemWeight (local.get $ctx)))
    (local.set $cPtr (i32.load offset=@coldPtr (local.get $ctx)))
    (local.set $cFeat (i32.load offset=@coldFeat (local.get $ctx)))
    (local.set $cW (i32.load offset=@coldWeight (local.get $ctx)))
    (local.set $posUser (i32.load offset=@posUser (local.get $ctx)))
    (local.set $posItem (i32.load offset=@posItem (local.get $ctx)))
    (local.set $posWeight (i32.load offset=@posWeight (local.get $ctx)))
    (local.set $seenPtr (i32.load offset=@seenPtr (local.get $ctx)))
    (local.set $seenItem (i32.load offset=@seenItem (local.get $ctx)))
    (local.set $order (i32.load offset=@order (local.get $ctx)))
    (local.set $uEmb (i32.load offset=@userEmb (local.get $ctx)))
    (local.set $uAcc (i32.load offset=@userAcc (local.get $ctx)))
    (local.set $uMom (i32.load offset=@userMom (local.get $ctx)))
    (local.set $iEmb (i32.load offset=@itemEmb (local.get $ctx)))
    (local.set $iAcc (i32.load offset=@itemAcc (local.get $ctx)))
    (local.set $iMom (i32.load offset=@itemMom (local.get $ctx)))
    (local.set $iBias (i32.load offset=@itemBias (local.get $ctx)))
    (local.set $iBiasAcc (i32.load offset=@itemBiasAcc (local.get $ctx)))
    (local.set $iBiasMom (i32.load offset=@itemBiasMom (local.get $ctx)))
    (local.set $bpr (i32.load offset=@loss (local.get $ctx)))
    (local.set $opt (i32.load offset=@optimizer (local.get $ctx)))
    (local.set $adam (i32.eq (local.get $opt) (i32.const 1)))
    (local.set $maxSampled (i32.load offset=@maxSampled (local.get $ctx)))
    (local.set $sUser (i32.load offset=@scratchUser (local.get $ctx)))
    (local.set $sPos (i32.load offset=@scratchPos (local.get $ctx)))
    (local.set $sNeg (i32.load offset=@scratchNeg (local.get $ctx)))
    (local.set $sGrad (i32.load offset=@scratchGrad (local.get $ctx)))
    (global.set $ra (i32.load offset=@rngA (local.get $ctx)))
    (global.set $rb (i32.load offset=@rngB (local.get $ctx)))
    (global.set $rc (i32.load offset=@rngC (local.get $ctx)))
    (global.set $rd (i32.load offset=@rngD (local.get $ctx)))
    (local.set $logTable (i32.load offset=@logTable (local.get $ctx)))
    (local.set $lr (f32.demote_f64 (f64.load offset=@learningRate (local.get $ctx))))
    (local.set $l2 (f32.demote_f64 (f64.load offset=@l2 (local.get $ctx))))
    (local.set $dropout (f64.load offset=@identityDropout (local.get $ctx)))
    (local.set $b1pow (f64.load offset=@beta1Pow (local.get $ctx)))
    (local.set $b2pow (f64.load offset=@beta2Pow (local.get $ctx)))
    (local.set $c1 (f32.const 1))
    (local.set $c2 (f32.const 1))
    (local.set $bytes (i32.shl (local.get $dim) (i32.const 2)))
    ;; Bytes of one feature's accumulator row: a float per dimension, or row-wise Adagrad's one float.
    (local.set $accBytes (select (i32.const 4) (local.get $bytes) (i32.eq (local.get $opt) (i32.const 2))))
    (local.set $o (local.get $start))
    (block $all (loop $positives
      (br_if $all (i32.ge_s (local.get $o) (local.get $end)))
      (local.set $p (i32.load (i32.add (local.get $order) (i32.shl (local.get $o) (i32.const 2)))))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (local.set $u (i32.load (i32.add (local.get $posUser) (i32.shl (local.get $p) (i32.const 2)))))
      (local.set $i (i32.load (i32.add (local.get $posItem) (i32.shl (local.get $p) (i32.const 2)))))
      (local.set $w (f32.load (i32.add (local.get $posWeight) (i32.shl (local.get $p) (i32.const 2)))))
      ;; Touch the next positive's user and item rows (embeddings and accumulators, one load per 64-byte
      ;; line) now: the kernel is bound by memory latency (rows of a 36 MB working set read at random),
      ;; and wasm has no prefetch instruction; the loads' misses overlap this positive's arithmetic.
      ;; Nothing computed depends on them ($touch only goes to the scratch area at the end).
      (if (i32.lt_s (local.get $o) (local.get $end))
        (then
          (local.set $q (i32.load (i32.add (local.get $order) (i32.shl (local.get $o) (i32.const 2)))))
          (local.set $touch (i32.xor (local.get $touch)
            (call $touch_row (local.get $uPtr) (local.get $uFeat) (local.get $uEmb) (local.get $uAcc)
              (i32.load (i32.add (local.get $posUser) (i32.shl (local.get $q) (i32.const 2)))) (local.get $bytes) (local.get $accBytes))))
          (local.set $touch (i32.xor (local.get $touch)
            (call $touch_row (local.get $iPtr) (local.get $iFeat) (local.get $iEmb) (local.get $iAcc)
              (i32.load (i32.add (local.get $posItem) (i32.shl (local.get $q) (i32.const 2)))) (local.get $bytes) (local.get $accBytes))))
          ;; ... and the start of the next user's list of seen items (the negatives' check).
          (local.set $touch (i32.xor (local.get $touch)
            (i32.load (i32.add (local.get $seenItem) (i32.shl
              (i32.load (i32.add (local.get $seenPtr) (i32.shl (i32.load (i32.add (local.get $posUser) (i32.shl (local.get $q) (i32.const 2)))) (i32.const 2))))
              (i32.const 2))))))))
      ;; This positive's first negative candidate is the generator's next draw (without dropout, which
      ;; draws first): its output is a + b + d of the current state, so its rows can be touched now,
      ;; before the user and positive are scored, without advancing the generator.
      (if (f64.eq (local.get $dropout) (f64.const 0))
        (then
          (local.set $touch (i32.xor (local.get $touch)
            (call $touch_row (local.get $iPtr) (local.get $iFeat) (local.get $iEmb) (local.get $iAcc)
              (i32.trunc_f64_u (f64.mul
                (f64.mul (f64.convert_i32_u (i32.add (i32.add (global.get $ra) (global.get $rb)) (global.get $rd))) (f64.const 0x1p-32))
                (f64.convert_i32_u (local.get $nItems))))
              (local.get $bytes) (local.get $accBytes))))))
      (local.set $pPtr (local.get $iPtr)) (local.set $pFeat (local.get $iFeat)) (local.set $pW (local.get $iW))
      (local.set $nPtr (local.get $iPtr)) (local.set $nFeat (local.get $iFeat)) (local.set $nW (local.get $iW))
      (if (f64.gt (local.get $dropout) (f64.const 0))
        (then
          (if (f64.lt (call $next) (local.get $dropout))
            (then (local.set $pPtr (local.get $cPtr)) (local.set $pFeat (local.get $cFeat)) (local.set $pW (local.get $cW))))
          (if (f64.lt (call $next) (local.get $dropout))
            (then (local.set $nPtr (local.get $cPtr)) (local.set $nFeat (local.get $cFeat)) (local.set $nW (local.get $cW))))))
      (local.set $vUser (call $sum_rows (local.get $uPtr) (local.get $uFeat) (local.get $uW) (local.get $uEmb) (local.get $u) (local.get $dim) (local.get $sUser)))
      (local.set $vPos (call $sum_rows (local.get $pPtr) (local.get $pFeat) (local.get $pW) (local.get $iEmb) (local.get $i) (local.get $dim) (local.get $sPos)))
      (local.set $posScore (f32.add
        (call $dot (local.get $vUser) (local.get $vPos) (local.get $dim))
        (call $row_bias (local.get $pPtr) (local.get $pFeat) (local.get $pW) (local.get $iBias) (local.get $i))))
      (local.set $lo (i32.load (i32.add (local.get $seenPtr) (i32.shl (local.get $u) (i32.const 2)))))
      (local.set $hi (i32.load (i32.add (local.get $seenPtr) (i32.shl (i32.add (local.get $u) (i32.const 1)) (i32.const 2)))))
      (local.set $j (i32.const -1))
      (local.set $coef (f32.const 0))
      (if (i32.eqz (local.get $bpr))
        (then
          ;; WARP: draw until a negative scores above positive - 1, at most maxSampled draws.
          (local.set $sampled (i32.const 1))
          (block $found (loop $draw
            (br_if $found (i32.gt_s (local.get $sampled) (local.get $maxSampled)))
            (local.set $cand (call $int (local.get $nItems)))
            (if (i32.eqz (call $contains (local.get $seenItem) (local.get $lo) (local.get $hi) (local.get $cand)))
              (then
                (local.set $negScore (call $score_item (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $iEmb) (local.get $iBias) (local.get $cand) (local.get $dim) (local.get $vUser)))
                (if (f32.gt (local.get $negScore) (f32.sub (local.get $posScore) (f32.const 1)))
                  (then
                    (local.set $vNeg (call $sum_rows (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $iEmb) (local.get $cand) (local.get $dim) (local.get $sNeg)))
                    (local.set $rw (f64.load (i32.add (local.get $logTable) (i32.shl (local.get $sampled) (i32.const 3)))))
                    (if (f64.gt (local.get $rw) (f64.const 0))
                      (then
                        (local.set $j (local.get $cand))
                        (local.set $coef (f32.mul (local.get $w) (f32.demote_f64 (local.get $rw))))
                        (local.set $loss (f64.add (local.get $loss)
                          (f64.promote_f32 (f32.mul (local.get $coef) (f32.add (f32.sub (f32.const 1) (local.get $posScore)) (local.get $negScore))))))))
                    (br $found)))))
            (local.set $sampled (i32.add (local.get $sampled) (i32.const 1)))
            (br $draw))))
        (else
          ;; BPR: the highest-scoring of maxSampled negatives, each drawn with up to 10 redraws past the
          ;; user's own items (with 1, the classic uniform negative, and no scoring).
          (local.set $best (i32.const -1))
          (local.set $bestScore (f32.const 0))
          (local.set $sampled (i32.const 0))
          (block $drawn (loop $draws
            (br_if $drawn (i32.ge_s (local.get $sampled) (local.get $maxSampled)))
            (local.set $cand (call $int (local.get $nItems)))
            (local.set $tries (i32.const 0))
            (block $ok (loop $redraw
              (br_if $ok (i32.ge_s (local.get $tries) (i32.const 10)))
              (br_if $ok (i32.eqz (call $contains (local.get $seenItem) (local.get $lo) (local.get $hi) (local.get $cand))))
              (local.set $cand (call $int (local.get $nItems)))
              (local.set $tries (i32.add (local.get $tries) (i32.const 1)))
              (br $redraw)))
            (if (i32.eqz (call $contains (local.get $seenItem) (local.get $lo) (local.get $hi) (local.get $cand)))
              (then
                (if (i32.eq (local.get $maxSampled) (i32.const 1))
                  (then (local.set $best (local.get $cand)))
                  (else
                    (local.set $negScore (call $score_item (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $iEmb) (local.get $iBias) (local.get $cand) (local.get $dim) (local.get $vUser)))
                    (if (i32.or (i32.lt_s (local.get $best) (i32.const 0)) (f32.gt (local.get $negScore) (local.get $bestScore)))
                      (then (local.set $best (local.get $cand)) (local.set $bestScore (local.get $negScore))))))))
            (local.set $sampled (i32.add (local.get $sampled) (i32.const 1)))
            (br $draws)))
          (local.set $cand (local.get $best))
          (if (i32.ge_s (local.get $cand) (i32.const 0))
            (then
              (local.set $vNeg (call $sum_rows (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $iEmb) (local.get $cand) (local.get $dim) (local.get $sNeg)))
              (local.set $x (f64.promote_f32 (f32.sub (local.get $posScore)
                (f32.add (call $dot (local.get $vUser) (local.get $vNeg) (local.get $dim))
                  (call $row_bias (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $iBias) (local.get $cand))))))
              (local.set $loss (f64.add (local.get $loss) (f64.mul (f64.promote_f32 (local.get $w))
                (if (result f64) (f64.gt (local.get $x) (f64.const 0))
                  (then (call $log1p (call $exp (f64.neg (local.get $x)))))
                  (else (f64.add (f64.neg (local.get $x)) (call $log1p (call $exp (local.get $x)))))))))
              (local.set $j (local.get $cand))
              (local.set $coef (f32.demote_f64 (f64.div (f64.promote_f32 (local.get $w)) (f64.add (f64.const 1) (call $exp (local.get $x))))))))))
      (if (i32.and (i32.ge_s (local.get $j) (i32.const 0)) (f32.ne (local.get $coef) (f32.const 0)))
        (then
          (if (local.get $adam)
            (then
              (local.set $b1pow (f64.mul (local.get $b1pow) (f64.const 0.9)))
              (local.set $b2pow (f64.mul (local.get $b2pow) (f64.const 0.999)))
              (local.set $c1 (f32.demote_f64 (f64.div (f64.const 1) (f64.sub (f64.const 1) (local.get $b1pow)))))
              (local.set $c2 (f32.demote_f64 (f64.div (f64.const 1) (f64.sub (f64.const 1) (local.get $b2pow)))))))
          ;; d loss / d positive score = -coef, d loss / d negative score = +coef.
          (local.set $cv (f32x4.splat (local.get $coef)))
          (local.set $k (i32.const 0))
          (block $dg (loop $lg
            (br_if $dg (i32.ge_u (local.get $k) (local.get $bytes)))
            (v128.store (i32.add (local.get $sGrad) (local.get $k))
              (f32x4.mul (local.get $cv) (f32x4.sub (v128.load (i32.add (local.get $vNeg) (local.get $k))) (v128.load (i32.add (local.get $vPos) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $lg)))
          (call $update_row (local.get $iEmb) (local.get $iAcc) (local.get $iMom) (local.get $pPtr) (local.get $pFeat) (local.get $pW) (local.get $i)
            (local.get $vUser) (f32.neg (local.get $coef)) (local.get $dim) (local.get $opt) (local.get $lr) (local.get $l2) (local.get $c1) (local.get $c2))
          (call $update_bias (local.get $iBias) (local.get $iBiasAcc) (local.get $iBiasMom) (local.get $pPtr) (local.get $pFeat) (local.get $pW) (local.get $i)
            (f32.neg (local.get $coef)) (local.get $adam) (local.get $lr) (local.get $l2) (local.get $c1) (local.get $c2))
          (call $update_row (local.get $iEmb) (local.get $iAcc) (local.get $iMom) (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $j)
            (local.get $vUser) (local.get $coef) (local.get $dim) (local.get $opt) (local.get $lr) (local.get $l2) (local.get $c1) (local.get $c2))
          (call $update_bias (local.get $iBias) (local.get $iBiasAcc) (local.get $iBiasMom) (local.get $nPtr) (local.get $nFeat) (local.get $nW) (local.get $j)
            (local.get $coef) (local.get $adam) (local.get $lr) (local.get $l2) (local.get $c1) (local.get $c2))
          (call $update_row (local.get $uEmb) (local.get $uAcc) (local.get $uMom) (local.get $uPtr) (local.get $uFeat) (local.get $uW) (local.get $u)
            (local.get $sGrad) (f32.const 1) (local.get $dim) (local.get $opt) (local.get $lr) (local.get $l2) (local.get $c1) (local.get $c2))))
      (br $positives)))
    (i32.store offset=@rngA (local.get $ctx) (global.get $ra))
    (i32.store offset=@rngB (local.get $ctx) (global.get $rb))
    (i32.store offset=@rngC (local.get $ctx) (global.get $rc))
    (i32.store offset=@rngD (local.get $ctx) (global.get $rd))
    (i32.store offset=@samples (local.get $ctx) (i32.sub (local.get $end) (local.get $start)))
    (i32.store (local.get $sGrad) (local.get $touch))
    (local.get $loss))
)

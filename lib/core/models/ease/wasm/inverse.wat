;; The two products of EASE's blocked sweep (../inverse.ts, the readable reference; read its header)
;; in WebAssembly with 128-bit SIMD (f64x2): W = P·S and the rank-b update of the trailing upper
;; triangle, a_ij -= W_i · P_j. Compiled by `npm run build:wasm` into inverse-bytes.ts; a test
;; recompiles it and checks the bytes. Driven by ../inverse.ts (sweepBlockedWasm), which packs the
;; panel, sweeps the small pivot block and writes the block's row and column back.
;;
;; Layout (every argument is a byte offset into the imported memory; doubles, 16-byte aligned):
;; - the matrix: row-major, `ld` doubles a row, ld and the row count rounded up to multiples of 4
;;   (the padding is never read back);
;; - a panel in tiles of 4 rows: tile I holds bp × 4 doubles, [t][r] = P(4I + r, t), so a tile's
;;   pivots t are contiguous and a v128 holds two rows' values of one pivot;
;; - W in the same tiled layout, each value stored twice ([t][r] is the v128 (W(4I + r, t), the same)),
;;   so the update multiplies by it without a splat (2bp × 4 doubles a tile); S row-major bp × bp
;;   and exactly symmetric.
;; bp (pivots, padded with zero columns of P and zero rows and columns of S) is a multiple of 4.
;;
;; Each element is a sum over the pivots in their order, from 0, multiplied then added (no fused
;; multiply-add), as the JS reference does; the padding adds zeros. Same bits on every run.
(module
  (import "env" "memory" (memory 1))

  ;; W tiles [0, tiles): W(4I + r, t) = Σ_u S(t, u) · P(4I + r, u), four pivots t at a time
  ;; (8 accumulators: 4 pivots × 2 pairs of rows).
  (func (export "panel_times_s") (param $p i32) (param $s i32) (param $w i32) (param $tiles i32) (param $bp i32)
    (local $tileBytes i32) (local $rowBytes i32) (local $end i32)
    (local $t i32) (local $u i32) (local $pu i32) (local $s0 i32) (local $wt i32)
    (local $x v128) (local $y v128) (local $k v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $rowBytes (i32.shl (local.get $bp) (i32.const 3)))
    (local.set $tileBytes (i32.shl (local.get $bp) (i32.const 5)))
    (local.set $end (i32.add (local.get $p) (i32.mul (local.get $tiles) (local.get $tileBytes))))
    (block $tiles_done
      (loop $tile
        (br_if $tiles_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $tl
            (br_if $t_done (i32.ge_u (local.get $t) (local.get $bp)))
            (local.set $a00 (v128.const f64x2 0 0)) (local.set $a01 (v128.const f64x2 0 0))
            (local.set $a10 (v128.const f64x2 0 0)) (local.set $a11 (v128.const f64x2 0 0))
            (local.set $a20 (v128.const f64x2 0 0)) (local.set $a21 (v128.const f64x2 0 0))
            (local.set $a30 (v128.const f64x2 0 0)) (local.set $a31 (v128.const f64x2 0 0))
            ;; s0: S(t, 0); the next pivots' rows are rowBytes apart.
            (local.set $s0 (i32.add (local.get $s) (i32.mul (local.get $t) (local.get $rowBytes))))
            (local.set $pu (local.get $p))
            (local.set $u (i32.const 0))
            (block $u_done
              (loop $ul
                (br_if $u_done (i32.ge_u (local.get $u) (local.get $bp)))
                (local.set $x (v128.load (local.get $pu)))
                (local.set $y (v128.load offset=16 (local.get $pu)))
                (local.set $k (f64x2.splat (f64.load (local.get $s0))))
                (local.set $a00 (f64x2.add (local.get $a00) (f64x2.mul (local.get $k) (local.get $x))))
                (local.set $a01 (f64x2.add (local.get $a01) (f64x2.mul (local.get $k) (local.get $y))))
                (local.set $k (f64x2.splat (f64.load (i32.add (local.get $s0) (local.get $rowBytes)))))
                (local.set $a10 (f64x2.add (local.get $a10) (f64x2.mul (local.get $k) (local.get $x))))
                (local.set $a11 (f64x2.add (local.get $a11) (f64x2.mul (local.get $k) (local.get $y))))
                (local.set $k (f64x2.splat (f64.load (i32.add (local.get $s0) (i32.shl (local.get $rowBytes) (i32.const 1))))))
                (local.set $a20 (f64x2.add (local.get $a20) (f64x2.mul (local.get $k) (local.get $x))))
                (local.set $a21 (f64x2.add (local.get $a21) (f64x2.mul (local.get $k) (local.get $y))))
                (local.set $k (f64x2.splat (f64.load (i32.add (local.get $s0) (i32.mul (local.get $rowBytes) (i32.const 3))))))
                (local.set $a30 (f64x2.add (local.get $a30) (f64x2.mul (local.get $k) (local.get $x))))
                (local.set $a31 (f64x2.add (local.get $a31) (f64x2.mul (local.get $k) (local.get $y))))
                (local.set $pu (i32.add (local.get $pu) (i32.const 32)))
                (local.set $s0 (i32.add (local.get $s0) (i32.const 8)))
                (local.set $u (i32.add (local.get $u) (i32.const 1)))
                (br $ul)))
            ;; W tile rows t..t+3, each value twice (a v128 the update multiplies without a splat).
            (local.set $wt (i32.add (local.get $w) (i32.shl (local.get $t) (i32.const 6))))
            (call $store_pair (local.get $wt) (local.get $a00))
            (call $store_pair (i32.add (local.get $wt) (i32.const 32)) (local.get $a01))
            (call $store_pair (i32.add (local.get $wt) (i32.const 64)) (local.get $a10))
            (call $store_pair (i32.add (local.get $wt) (i32.const 96)) (local.get $a11))
            (call $store_pair (i32.add (local.get $wt) (i32.const 128)) (local.get $a20))
            (call $store_pair (i32.add (local.get $wt) (i32.const 160)) (local.get $a21))
            (call $store_pair (i32.add (local.get $wt) (i32.const 192)) (local.get $a30))
            (call $store_pair (i32.add (local.get $wt) (i32.const 224)) (local.get $a31))
            (local.set $t (i32.add (local.get $t) (i32.const 4)))
            (br $tl)))
        (local.set $p (i32.add (local.get $p) (local.get $tileBytes)))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $tileBytes) (i32.const 1))))
        (br $tile))))

  ;; Stores the two lanes of v at a as (v0, v0), (v1, v1).
  (func $store_pair (param $a i32) (param $v v128)
    (v128.store (local.get $a) (f64x2.splat (f64x2.extract_lane 0 (local.get $v))))
    (v128.store offset=16 (local.get $a) (f64x2.splat (f64x2.extract_lane 1 (local.get $v)))))

  ;; One tile row of the rank-b update: rows 4I..4I+3 (`a` is the byte offset of a(4I, 4·J0)),
  ;; column tiles J0 .. J0+count-1 (`p` is the panel tile J0), `w` the W tile I:
  ;; a(4I + r, 4J + c) -= Σ_t W(4I + r, t) · P(4J + c, t). 4 × 4 accumulators in 8 v128.
  (func (export "update_tiles") (param $a i32) (param $w i32) (param $p i32) (param $count i32) (param $ldBytes i32) (param $bp i32)
    (local $tileBytes i32) (local $end i32) (local $off i32) (local $pt i32) (local $wt i32) (local $row i32)
    (local $x v128) (local $y v128) (local $k v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $tileBytes (i32.shl (local.get $bp) (i32.const 5)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $count) (i32.const 5))))
    (block $done
      (loop $tile
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $a00 (v128.const f64x2 0 0)) (local.set $a01 (v128.const f64x2 0 0))
        (local.set $a10 (v128.const f64x2 0 0)) (local.set $a11 (v128.const f64x2 0 0))
        (local.set $a20 (v128.const f64x2 0 0)) (local.set $a21 (v128.const f64x2 0 0))
        (local.set $a30 (v128.const f64x2 0 0)) (local.set $a31 (v128.const f64x2 0 0))
        (local.set $pt (local.get $p))
        (local.set $wt (local.get $w))
        (local.set $off (i32.add (local.get $p) (local.get $tileBytes)))
        (block $t_done
          (loop $tl
            (br_if $t_done (i32.ge_u (local.get $pt) (local.get $off)))
            (local.set $x (v128.load (local.get $pt)))
            (local.set $y (v128.load offset=16 (local.get $pt)))
            (local.set $k (v128.load (local.get $wt)))
            (local.set $a00 (f64x2.add (local.get $a00) (f64x2.mul (local.get $k) (local.get $x))))
            (local.set $a01 (f64x2.add (local.get $a01) (f64x2.mul (local.get $k) (local.get $y))))
            (local.set $k (v128.load offset=16 (local.get $wt)))
            (local.set $a10 (f64x2.add (local.get $a10) (f64x2.mul (local.get $k) (local.get $x))))
            (local.set $a11 (f64x2.add (local.get $a11) (f64x2.mul (local.get $k) (local.get $y))))
            (local.set $k (v128.load offset=32 (local.get $wt)))
            (local.set $a20 (f64x2.add (local.get $a20) (f64x2.mul (local.get $k) (local.get $x))))
            (local.set $a21 (f64x2.add (local.get $a21) (f64x2.mul (local.get $k) (local.get $y))))
            (local.set $k (v128.load offset=48 (local.get $wt)))
            (local.set $a30 (f64x2.add (local.get $a30) (f64x2.mul (local.get $k) (local.get $x))))
            (local.set $a31 (f64x2.add (local.get $a31) (f64x2.mul (local.get $k) (local.get $y))))
            (local.set $pt (i32.add (local.get $pt) (i32.const 32)))
            (local.set $wt (i32.add (local.get $wt) (i32.const 64)))
            (br $tl)))
        (local.set $row (local.get $a))
        (v128.store (local.get $row) (f64x2.sub (v128.load (local.get $row)) (local.get $a00)))
        (v128.store offset=16 (local.get $row) (f64x2.sub (v128.load offset=16 (local.get $row)) (local.get $a01)))
        (local.set $row (i32.add (local.get $row) (local.get $ldBytes)))
        (v128.store (local.get $row) (f64x2.sub (v128.load (local.get $row)) (local.get $a10)))
        (v128.store offset=16 (local.get $row) (f64x2.sub (v128.load offset=16 (local.get $row)) (local.get $a11)))
        (local.set $row (i32.add (local.get $row) (local.get $ldBytes)))
        (v128.store (local.get $row) (f64x2.sub (v128.load (local.get $row)) (local.get $a20)))
        (v128.store offset=16 (local.get $row) (f64x2.sub (v128.load offset=16 (local.get $row)) (local.get $a21)))
        (local.set $row (i32.add (local.get $row) (local.get $ldBytes)))
        (v128.store (local.get $row) (f64x2.sub (v128.load (local.get $row)) (local.get $a30)))
        (v128.store offset=16 (local.get $row) (f64x2.sub (v128.load offset=16 (local.get $row)) (local.get $a31)))
        (local.set $a (i32.add (local.get $a) (i32.const 32)))
        (local.set $p (i32.add (local.get $p) (local.get $tileBytes)))
        (br $tile))))
)

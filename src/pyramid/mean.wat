;; The uint8 mean of 2x2 (2x2x2) blocks, 16 output voxels a step with wasm SIMD: each input row's
;; neighbouring pairs are summed into 16-bit lanes (at most 8 x 255, no overflow), the rows added,
;; the sums shifted and narrowed back to bytes. About 5 times the speed of the same loop in
;; JavaScript over 32-bit words (see downsample.ts), which was most of a pyramid chunk's compute.
;;
;; Both functions write `rows` output rows of `width` voxels (a multiple of 16) from
;; 2 * `rows` input rows of `stride` bytes starting at `src`; mean2x2x2 also reads the rows
;; `plane` bytes further on (the next z). Output rows start `dstStride` bytes apart.
(module
  (memory (export "memory") 1)

  (func (export "mean2x2")
    (param $src i32) (param $stride i32) (param $dst i32) (param $dstStride i32)
    (param $width i32) (param $rows i32)
    (local $p i32) (local $q i32) (local $o i32) (local $end i32)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $p (local.get $src))
        (local.set $q (i32.add (local.get $src) (local.get $stride)))
        (local.set $o (local.get $dst))
        (local.set $end (i32.add (local.get $dst) (local.get $width)))
        (block $rowDone
          (loop $step
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $end)))
            (v128.store (local.get $o)
              (i8x16.narrow_i16x8_u
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $p)))
                    (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $q))))
                  (i32.const 2))
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.extadd_pairwise_i8x16_u (v128.load offset=16 (local.get $p)))
                    (i16x8.extadd_pairwise_i8x16_u (v128.load offset=16 (local.get $q))))
                  (i32.const 2))))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $step)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $stride) (i32.const 1))))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  (func (export "mean2x2x2")
    (param $src i32) (param $stride i32) (param $plane i32) (param $dst i32) (param $dstStride i32)
    (param $width i32) (param $rows i32)
    (local $p i32) (local $q i32) (local $r i32) (local $s i32) (local $o i32) (local $end i32)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $p (local.get $src))
        (local.set $q (i32.add (local.get $src) (local.get $stride)))
        (local.set $r (i32.add (local.get $src) (local.get $plane)))
        (local.set $s (i32.add (local.get $r) (local.get $stride)))
        (local.set $o (local.get $dst))
        (local.set $end (i32.add (local.get $dst) (local.get $width)))
        (block $rowDone
          (loop $step
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $end)))
            (v128.store (local.get $o)
              (i8x16.narrow_i16x8_u
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.add
                      (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $p)))
                      (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $q))))
                    (i16x8.add
                      (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $r)))
                      (i16x8.extadd_pairwise_i8x16_u (v128.load (local.get $s)))))
                  (i32.const 3))
                (i16x8.shr_u
                  (i16x8.add
                    (i16x8.add
                      (i16x8.extadd_pairwise_i8x16_u (v128.load offset=16 (local.get $p)))
                      (i16x8.extadd_pairwise_i8x16_u (v128.load offset=16 (local.get $q))))
                    (i16x8.add
                      (i16x8.extadd_pairwise_i8x16_u (v128.load offset=16 (local.get $r)))
                      (i16x8.extadd_pairwise_i8x16_u (v128.load offset=16 (local.get $s)))))
                  (i32.const 3))))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (local.set $q (i32.add (local.get $q) (i32.const 32)))
            (local.set $r (i32.add (local.get $r) (i32.const 32)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $step)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $stride) (i32.const 1))))
        (local.set $dst (i32.add (local.get $dst) (local.get $dstStride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)

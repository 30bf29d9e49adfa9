;; Bitset kernels of the directory index (src/modules/directory/index/bitsets.ts).
;;
;; Every bitset lives in the imported memory as 64-bit words; a bitset is passed as the byte offset of
;; its first word, and every kernel works on the word range [from, to) so callers can restrict work to
;; the part of the directory a search touches. Compiled to bitset-kernel.ts by `npm run wasm:kernel`;
;; a test recompiles this file and checks the bytes there are its compilation.
(module
  (import "env" "memory" (memory 1))

  ;; dst = a AND b
  (func (export "and") (param $dst i32) (param $a i32) (param $b i32) (param $from i32) (param $to i32)
    (local $i i32) (local $end i32)
    (local.set $i (i32.shl (local.get $from) (i32.const 3)))
    (local.set $end (i32.shl (local.get $to) (i32.const 3)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (i64.store (i32.add (local.get $dst) (local.get $i))
        (i64.and (i64.load (i32.add (local.get $a) (local.get $i))) (i64.load (i32.add (local.get $b) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next))))

  ;; dst = a OR b
  (func (export "or") (param $dst i32) (param $a i32) (param $b i32) (param $from i32) (param $to i32)
    (local $i i32) (local $end i32)
    (local.set $i (i32.shl (local.get $from) (i32.const 3)))
    (local.set $end (i32.shl (local.get $to) (i32.const 3)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (i64.store (i32.add (local.get $dst) (local.get $i))
        (i64.or (i64.load (i32.add (local.get $a) (local.get $i))) (i64.load (i32.add (local.get $b) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next))))

  ;; dst = a AND NOT b
  (func (export "andNot") (param $dst i32) (param $a i32) (param $b i32) (param $from i32) (param $to i32)
    (local $i i32) (local $end i32)
    (local.set $i (i32.shl (local.get $from) (i32.const 3)))
    (local.set $end (i32.shl (local.get $to) (i32.const 3)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (i64.store (i32.add (local.get $dst) (local.get $i))
        (i64.and (i64.load (i32.add (local.get $a) (local.get $i)))
                 (i64.xor (i64.load (i32.add (local.get $b) (local.get $i))) (i64.const -1))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next))))

;; number of bits set in a AND b (b = a counts a itself). Four words a step into four sums, so the
  ;; popcounts of a step do not wait on each other; the last words one by one.
  (func $andCount (export "andCount") (param $a i32) (param $b i32) (param $from i32) (param $to i32) (result i32)
    (local $i i32) (local $end i32) (local $end4 i32) (local $pa i32) (local $pb i32)
    (local $c0 i64) (local $c1 i64) (local $c2 i64) (local $c3 i64)
    (local.set $i (i32.shl (local.get $from) (i32.const 3)))
    (local.set $end (i32.shl (local.get $to) (i32.const 3)))
    (local.set $end4 (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $i)) (i32.const 31))))
    (block $done4 (loop $next4
      (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
      (local.set $pa (i32.add (local.get $a) (local.get $i)))
      (local.set $pb (i32.add (local.get $b) (local.get $i)))
      (local.set $c0 (i64.add (local.get $c0) (i64.popcnt (i64.and (i64.load (local.get $pa)) (i64.load (local.get $pb))))))
      (local.set $c1 (i64.add (local.get $c1) (i64.popcnt (i64.and (i64.load offset=8 (local.get $pa)) (i64.load offset=8 (local.get $pb))))))
      (local.set $c2 (i64.add (local.get $c2) (i64.popcnt (i64.and (i64.load offset=16 (local.get $pa)) (i64.load offset=16 (local.get $pb))))))
      (local.set $c3 (i64.add (local.get $c3) (i64.popcnt (i64.and (i64.load offset=24 (local.get $pa)) (i64.load offset=24 (local.get $pb))))))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (br $next4)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $c0 (i64.add (local.get $c0)
        (i64.popcnt (i64.and (i64.load (i32.add (local.get $a) (local.get $i))) (i64.load (i32.add (local.get $b) (local.get $i)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next)))
    (i32.wrap_i64 (i64.add (i64.add (local.get $c0) (local.get $c1)) (i64.add (local.get $c2) (local.get $c3)))))

;; For n bitsets whose byte offsets are the i32s at $terms: out[k] = bits set in mask AND term k.
  ;; Terms go two at a time, so each word of the mask is loaded once for both.
  (func (export "countMany") (param $mask i32) (param $terms i32) (param $n i32) (param $from i32) (param $to i32) (param $out i32)
    (local $k i32) (local $t0 i32) (local $t1 i32) (local $i i32) (local $end i32) (local $end2 i32)
    (local $m i64) (local $m2 i64) (local $c0 i64) (local $c1 i64) (local $d0 i64) (local $d1 i64)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (if (i32.eq (i32.add (local.get $k) (i32.const 1)) (local.get $n))
        (then
          (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
            (call $andCount (local.get $mask) (i32.load (i32.add (local.get $terms) (i32.shl (local.get $k) (i32.const 2)))) (local.get $from) (local.get $to)))
          (br $done)))
      (local.set $t0 (i32.load (i32.add (local.get $terms) (i32.shl (local.get $k) (i32.const 2)))))
      (local.set $t1 (i32.load offset=4 (i32.add (local.get $terms) (i32.shl (local.get $k) (i32.const 2)))))
      (local.set $c0 (i64.const 0))
      (local.set $c1 (i64.const 0))
      (local.set $d0 (i64.const 0))
      (local.set $d1 (i64.const 0))
      (local.set $i (i32.shl (local.get $from) (i32.const 3)))
      (local.set $end (i32.shl (local.get $to) (i32.const 3)))
      ;; Two words a step while two remain, then the last one.
      (local.set $end2 (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $i)) (i32.const 15))))
      (block $pairs_done (loop $pair
        (br_if $pairs_done (i32.ge_u (local.get $i) (local.get $end2)))
        (local.set $m (i64.load (i32.add (local.get $mask) (local.get $i))))
        (local.set $m2 (i64.load offset=8 (i32.add (local.get $mask) (local.get $i))))
        (local.set $c0 (i64.add (local.get $c0) (i64.popcnt (i64.and (local.get $m) (i64.load (i32.add (local.get $t0) (local.get $i)))))))
        (local.set $c1 (i64.add (local.get $c1) (i64.popcnt (i64.and (local.get $m) (i64.load (i32.add (local.get $t1) (local.get $i)))))))
        (local.set $d0 (i64.add (local.get $d0) (i64.popcnt (i64.and (local.get $m2) (i64.load offset=8 (i32.add (local.get $t0) (local.get $i)))))))
        (local.set $d1 (i64.add (local.get $d1) (i64.popcnt (i64.and (local.get $m2) (i64.load offset=8 (i32.add (local.get $t1) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $pair)))
      (block $words_done (loop $word
        (br_if $words_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $m (i64.load (i32.add (local.get $mask) (local.get $i))))
        (local.set $c0 (i64.add (local.get $c0) (i64.popcnt (i64.and (local.get $m) (i64.load (i32.add (local.get $t0) (local.get $i)))))))
        (local.set $c1 (i64.add (local.get $c1) (i64.popcnt (i64.and (local.get $m) (i64.load (i32.add (local.get $t1) (local.get $i)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $word)))
      (local.set $c0 (i64.add (local.get $c0) (local.get $d0)))
      (local.set $c1 (i64.add (local.get $c1) (local.get $d1)))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (i32.wrap_i64 (local.get $c0)))
      (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (i32.wrap_i64 (local.get $c1)))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $next))))

  ;; The first word in [from, to) that is not zero, or to when all are.
  (func (export "firstNonZero") (param $a i32) (param $from i32) (param $to i32) (result i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
      (br_if $done (i64.ne (i64.load (i32.add (local.get $a) (i32.shl (local.get $from) (i32.const 3)))) (i64.const 0)))
      (local.set $from (i32.add (local.get $from) (i32.const 1)))
      (br $next)))
    (local.get $from))

  ;; One past the last word in [from, to) that is not zero, or from when all are.
  (func (export "endNonZero") (param $a i32) (param $from i32) (param $to i32) (result i32)
    (block $done (loop $next
      (br_if $done (i32.le_u (local.get $to) (local.get $from)))
      (br_if $done (i64.ne (i64.load (i32.add (local.get $a) (i32.shl (i32.sub (local.get $to) (i32.const 1)) (i32.const 3)))) (i64.const 0)))
      (local.set $to (i32.sub (local.get $to) (i32.const 1)))
      (br $next)))
    (local.get $to))
;; The blocks of 8 words (512 slots) in [from, to) where `a` has a bit set, as word indexes written
  ;; (i32) from `out`; returns how many. A sparse match (one city, one radius) then costs its blocks.
  (func (export "nonZeroBlocks") (param $a i32) (param $from i32) (param $to i32) (param $out i32) (result i32)
    (local $n i32) (local $w i32) (local $end i32) (local $any i64) (local $p i32)
    (local.set $w (local.get $from))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $w) (local.get $to)))
      (local.set $end (i32.add (local.get $w) (i32.const 8)))
      (if (i32.gt_u (local.get $end) (local.get $to)) (then (local.set $end (local.get $to))))
      (local.set $any (i64.const 0))
      (local.set $p (local.get $w))
      (block $scanned (loop $scan
        (br_if $scanned (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $any (i64.or (local.get $any) (i64.load (i32.add (local.get $a) (i32.shl (local.get $p) (i32.const 3))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
      (if (i64.ne (local.get $any) (i64.const 0)) (then
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $w))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $w (local.get $end))
      (br $next)))
    (local.get $n))

  ;; countMany over the blocks listed at $blocks (nblocks word indexes from nonZeroBlocks), each up to 8
  ;; words and never past `to`.
  (func (export "countManyBlocks") (param $mask i32) (param $terms i32) (param $n i32) (param $blocks i32) (param $nblocks i32) (param $to i32) (param $out i32)
    (local $k i32) (local $b i32) (local $w i32) (local $end i32) (local $c i64) (local $term i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (local.set $term (i32.load (i32.add (local.get $terms) (i32.shl (local.get $k) (i32.const 2)))))
      (local.set $c (i64.const 0))
      (local.set $b (i32.const 0))
      (block $blocks_done (loop $block
        (br_if $blocks_done (i32.ge_u (local.get $b) (local.get $nblocks)))
        (local.set $w (i32.load (i32.add (local.get $blocks) (i32.shl (local.get $b) (i32.const 2)))))
        (local.set $end (i32.add (local.get $w) (i32.const 8)))
        (if (i32.gt_u (local.get $end) (local.get $to)) (then (local.set $end (local.get $to))))
        (block $words_done (loop $word
          (br_if $words_done (i32.ge_u (local.get $w) (local.get $end)))
          (local.set $c (i64.add (local.get $c) (i64.popcnt (i64.and
            (i64.load (i32.add (local.get $mask) (i32.shl (local.get $w) (i32.const 3))))
            (i64.load (i32.add (local.get $term) (i32.shl (local.get $w) (i32.const 3))))))))
          (local.set $w (i32.add (local.get $w) (i32.const 1)))
          (br $word)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2))) (i32.wrap_i64 (local.get $c)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $next))))
)

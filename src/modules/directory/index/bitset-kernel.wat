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

  ;; number of bits set in a AND b (b = a counts a itself)
  (func $andCount (export "andCount") (param $a i32) (param $b i32) (param $from i32) (param $to i32) (result i32)
    (local $i i32) (local $end i32) (local $c i64)
    (local.set $i (i32.shl (local.get $from) (i32.const 3)))
    (local.set $end (i32.shl (local.get $to) (i32.const 3)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $c (i64.add (local.get $c)
        (i64.popcnt (i64.and (i64.load (i32.add (local.get $a) (local.get $i))) (i64.load (i32.add (local.get $b) (local.get $i)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next)))
    (i32.wrap_i64 (local.get $c)))

  ;; For n bitsets whose byte offsets are the i32s at $terms: out[k] = bits set in mask AND term k.
  ;; One call per facet: the mask stays in cache while each term is streamed once.
  (func (export "countMany") (param $mask i32) (param $terms i32) (param $n i32) (param $from i32) (param $to i32) (param $out i32)
    (local $k i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
      (i32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
        (call $andCount (local.get $mask) (i32.load (i32.add (local.get $terms) (i32.shl (local.get $k) (i32.const 2))))
          (local.get $from) (local.get $to)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
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
)

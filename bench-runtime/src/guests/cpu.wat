;; cpu: computes for the number of microseconds given as decimal input (e.g. "250"), then
;; returns a 16-digit hex checksum of the work. Reads the host clock every 1024 rounds of
;; xorshift, so the work is real and the overshoot is about a microsecond.
(module
  (import "faas" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "faas" "output_write" (func $output_write (param i32 i32)))
  (import "faas" "now_us" (func $now_us (result i64)))
  (memory (export "memory") 1)

  ;; Leading ASCII digits of memory[0..len] as a number.
  (func $parse_decimal (param $len i32) (result i64)
    (local $i i32)
    (local $digit i32)
    (local $value i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $digit (i32.sub (i32.load8_u (local.get $i)) (i32.const 48)))
        (br_if $done (i32.gt_u (local.get $digit) (i32.const 9)))
        (local.set $value
          (i64.add
            (i64.mul (local.get $value) (i64.const 10))
            (i64.extend_i32_u (local.get $digit))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $value))

  (func (export "handle")
    (local $deadline i64)
    (local $x i64)
    (local $round i32)
    (local $i i32)
    (local $nibble i32)
    (local.set $deadline
      (i64.add
        (call $now_us)
        (call $parse_decimal (call $input_read (i32.const 0) (i32.const 20)))))
    (local.set $x (i64.const 0x9E3779B97F4A7C15))
    (loop $until_deadline
      (local.set $round (i32.const 1024))
      (loop $rounds
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (local.set $round (i32.sub (local.get $round) (i32.const 1)))
        (br_if $rounds (local.get $round)))
      (br_if $until_deadline (i64.lt_s (call $now_us) (local.get $deadline))))
    ;; Hex digits of $x, most significant first.
    (loop $digits
      (local.set $nibble
        (i32.wrap_i64
          (i64.and
            (i64.shr_u (local.get $x) (i64.extend_i32_u (i32.sub (i32.const 60) (i32.shl (local.get $i) (i32.const 2)))))
            (i64.const 15))))
      (i32.store8 (local.get $i)
        (i32.add (local.get $nibble)
          (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $nibble) (i32.const 10)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $i) (i32.const 16))))
    (call $output_write (i32.const 0) (i32.const 16))))

  ;; The guest ABI's imports and helpers shared by the built-in guests. Memory below 4096 is
  ;; scratch space for parsing input and formatting output.
  (import "faas" "input_len" (func $input_len (result i32)))
  (import "faas" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "faas" "output_write" (func $output_write (param i32 i32)))
  (import "faas" "now_us" (func $now_us (result i64)))
  (import "faas" "sleep_ms" (func $sleep_ms (param i32)))
  (import "faas" "invoke" (func $invoke (param i32 i32 i32 i32) (result i32)))
  (import "faas" "invoke_result_read" (func $invoke_result_read (param i32 i32) (result i32)))
  (memory (export "memory") 1)

  ;; Reads up to 64 bytes of input into scratch memory; returns how many.
  (func $read_small_input (result i32)
    (call $input_read (i32.const 0) (i32.const 64)))

  ;; The decimal number at memory[pos..end] after any spaces, and the position after it.
  (func $decimal (param $pos i32) (param $end i32) (result i64 i32)
    (local $digit i32)
    (local $value i64)
    (block $spaces_done
      (loop $spaces
        (br_if $spaces_done (i32.ge_u (local.get $pos) (local.get $end)))
        (br_if $spaces_done (i32.ne (i32.load8_u (local.get $pos)) (i32.const 32)))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (br $spaces)))
    (block $done
      (loop $digits
        (br_if $done (i32.ge_u (local.get $pos) (local.get $end)))
        (local.set $digit (i32.sub (i32.load8_u (local.get $pos)) (i32.const 48)))
        (br_if $done (i32.gt_u (local.get $digit) (i32.const 9)))
        (local.set $value
          (i64.add (i64.mul (local.get $value) (i64.const 10)) (i64.extend_i32_u (local.get $digit))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (br $digits)))
    (local.get $value)
    (local.get $pos))

  ;; Computes for `us` microseconds: rounds of xorshift, checking the clock every 1024 rounds.
  ;; Returns a checksum of the work, so it cannot be optimised away.
  (func $spin (param $us i64) (result i64)
    (local $deadline i64)
    (local $x i64)
    (local $round i32)
    (local.set $deadline (i64.add (call $now_us) (local.get $us)))
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
    (local.get $x))

  ;; Grows memory so that bytes [0, end) exist. Growing past the function's memory size traps.
  (func $ensure_memory (param $end i64)
    (local $pages i64)
    (local.set $pages
      (i64.sub
        (i64.shr_u (i64.add (local.get $end) (i64.const 65535)) (i64.const 16))
        (i64.extend_i32_u (memory.size))))
    (if (i64.gt_s (local.get $pages) (i64.const 0))
      (then (drop (memory.grow (i32.wrap_i64 (local.get $pages)))))))

  ;; Writes `value` as 16 hex digits at `ptr`.
  (func $hex (param $ptr i32) (param $value i64)
    (local $i i32)
    (local $nibble i32)
    (loop $digits
      (local.set $nibble
        (i32.wrap_i64
          (i64.and
            (i64.shr_u (local.get $value)
              (i64.extend_i32_u (i32.sub (i32.const 60) (i32.shl (local.get $i) (i32.const 2)))))
            (i64.const 15))))
      (i32.store8 (i32.add (local.get $ptr) (local.get $i))
        (i32.add (local.get $nibble)
          (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $nibble) (i32.const 10)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $i) (i32.const 16)))))

  ;; Outputs `value` as 16 hex digits.
  (func $output_hex (param $value i64)
    (call $hex (i32.const 1024) (local.get $value))
    (call $output_write (i32.const 1024) (i32.const 16)))

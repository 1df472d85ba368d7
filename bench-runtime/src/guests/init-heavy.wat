  ;; init-heavy: an `init` that stands in for a language runtime's boot. It computes for
  ;; {INIT_US} µs and fills {STATE_BYTES} bytes of state above 64 KiB with pseudo-random data,
  ;; keeping a checksum in a global. `handle` counts its calls in a global and returns the
  ;; checksum and the count (two 16-digit hex numbers); with the input "scan" it first reads
  ;; the whole state again. A snapshot restores state, checksum and count without running init.
  (global $checksum (mut i64) (i64.const 0))
  (global $calls (mut i64) (i64.const 0))

  (func (export "init")
    (local $addr i32)
    (local $x i64)
    (local $sum i64)
    (drop (call $spin (i64.const {INIT_US})))
    (call $ensure_memory (i64.const {STATE_END}))
    (local.set $addr (i32.const 65536))
    (local.set $x (i64.const 0x2545F4914F6CDD1D))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $addr) (i32.const {STATE_END})))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
        (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
        (i64.store (local.get $addr) (local.get $x))
        (local.set $sum (i64.add (i64.rotl (local.get $sum) (i64.const 1)) (local.get $x)))
        (local.set $addr (i32.add (local.get $addr) (i32.const 8)))
        (br $fill)))
    (global.set $checksum (local.get $sum)))

  ;; The checksum of the state as it is in memory now.
  (func $scan (result i64)
    (local $addr i32)
    (local $sum i64)
    (local.set $addr (i32.const 65536))
    (block $done
      (loop $read
        (br_if $done (i32.ge_u (local.get $addr) (i32.const {STATE_END})))
        (local.set $sum
          (i64.add (i64.rotl (local.get $sum) (i64.const 1)) (i64.load (local.get $addr))))
        (local.set $addr (i32.add (local.get $addr) (i32.const 8)))
        (br $read)))
    (local.get $sum))

  (func (export "handle")
    (local $checksum i64)
    (local.set $checksum (global.get $checksum))
    ;; "scan" as a little-endian i32 is 0x6e616373.
    (if (i32.and
          (i32.eq (call $read_small_input) (i32.const 4))
          (i32.eq (i32.load (i32.const 0)) (i32.const 0x6e616373)))
      (then (local.set $checksum (call $scan))))
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (call $hex (i32.const 1024) (local.get $checksum))
    (call $hex (i32.const 1040) (global.get $calls))
    (call $output_write (i32.const 1024) (i32.const 32)))

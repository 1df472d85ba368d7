  ;; memory: touches the number of MiB given as decimal input (e.g. "64"), writing one byte in
  ;; every 4 KiB page above 64 KiB so each page is really backed. Memory grows as needed; more
  ;; than the function's memory size traps. Returns the number of pages touched, in hex.
  (func (export "handle")
    (local $end i32)
    (local $bytes i64)
    (local $addr i64)
    (local $pages i64)
    (local.set $end (call $read_small_input))
    (call $decimal (i32.const 0) (local.get $end))
    (drop)
    (local.set $bytes (i64.shl (i64.const 20)))
    (call $ensure_memory (i64.add (i64.const 65536) (local.get $bytes)))
    (local.set $addr (i64.const 65536))
    (block $done
      (loop $pages_left
        (br_if $done (i64.ge_u (local.get $addr) (i64.add (i64.const 65536) (local.get $bytes))))
        (i32.store8 (i32.wrap_i64 (local.get $addr)) (i32.wrap_i64 (local.get $pages)))
        (local.set $pages (i64.add (local.get $pages) (i64.const 1)))
        (local.set $addr (i64.add (local.get $addr) (i64.const 4096)))
        (br $pages_left)))
    (call $output_hex (local.get $pages)))

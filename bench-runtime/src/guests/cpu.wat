  ;; cpu: computes for the number of microseconds given as decimal input (e.g. "250") and
  ;; returns a 16-digit hex checksum of the work.
  (func (export "handle")
    (local $us i64)
    (local $end i32)
    (local.set $end (call $read_small_input))
    (call $decimal (i32.const 0) (local.get $end))
    (drop)
    (local.set $us)
    (call $output_hex (call $spin (local.get $us))))

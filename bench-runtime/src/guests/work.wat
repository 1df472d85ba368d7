  ;; work: computes for the first number of the input in microseconds, then waits for the
  ;; second in milliseconds ("800 20"): an invocation's CPU and I/O time, as a trace-derived
  ;; profile sets them. Returns the hex checksum of the computation.
  (func (export "handle")
    (local $end i32)
    (local $pos i32)
    (local $cpu_us i64)
    (local $io_ms i64)
    (local $checksum i64)
    (local.set $end (call $read_small_input))
    (call $decimal (i32.const 0) (local.get $end))
    (local.set $pos)
    (local.set $cpu_us)
    (call $decimal (local.get $pos) (local.get $end))
    (drop)
    (local.set $io_ms)
    (local.set $checksum (call $spin (local.get $cpu_us)))
    (call $sleep_ms (i32.wrap_i64 (local.get $io_ms)))
    (call $output_hex (local.get $checksum)))

  ;; io: waits for the number of milliseconds given as decimal input (e.g. "20") without
  ;; computing: the wait is asynchronous and holds no thread. Returns nothing.
  (func (export "handle")
    (local $end i32)
    (local.set $end (call $read_small_input))
    (call $decimal (i32.const 0) (local.get $end))
    (drop)
    (call $sleep_ms (i32.wrap_i64)))

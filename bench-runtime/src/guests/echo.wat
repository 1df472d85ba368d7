  ;; echo: returns its input unchanged. Memory grows to fit the input, so an input larger than
  ;; the function's memory size traps.
  (func (export "handle")
    (local $len i32)
    (local.set $len (call $input_len))
    (call $ensure_memory (i64.add (i64.const 4096) (i64.extend_i32_u (local.get $len))))
    (drop (call $input_read (i32.const 4096) (local.get $len)))
    (call $output_write (i32.const 4096) (local.get $len)))

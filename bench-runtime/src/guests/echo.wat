;; echo: returns its input unchanged. Grows memory to fit the input, so an input larger than
;; the function's memory limit traps.
(module
  (import "faas" "input_len" (func $input_len (result i32)))
  (import "faas" "input_read" (func $input_read (param i32 i32) (result i32)))
  (import "faas" "output_write" (func $output_write (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "handle")
    (local $len i32)
    (local $missing_pages i32)
    (local.set $len (call $input_len))
    (local.set $missing_pages
      (i32.sub
        (i32.shr_u (i32.add (local.get $len) (i32.const 65535)) (i32.const 16))
        (memory.size)))
    (if (i32.gt_s (local.get $missing_pages) (i32.const 0))
      (then (drop (memory.grow (local.get $missing_pages)))))
    (drop (call $input_read (i32.const 0) (local.get $len)))
    (call $output_write (i32.const 0) (local.get $len))))

;; noop: returns an empty output. Measures the platform's own cost per invocation.
(module
  (memory (export "memory") 1)
  (func (export "handle")))

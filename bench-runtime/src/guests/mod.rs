//! The built-in guest library: WebAssembly functions shipped with the runtime, written in WAT
//! against the guest ABI described in the crate docs.
//!
//! | guest  | input                 | does                                             |
//! |--------|-----------------------|--------------------------------------------------|
//! | `noop` | ignored               | nothing; the platform's own cost per invocation  |
//! | `echo` | any bytes             | returns the input                                |
//! | `cpu`  | decimal microseconds  | computes for that long, returns a hex checksum   |

const LIBRARY: &[(&str, &str)] = &[
    ("noop", include_str!("noop.wat")),
    ("echo", include_str!("echo.wat")),
    ("cpu", include_str!("cpu.wat")),
];

/// The WAT source of the built-in guest called `name`.
pub fn source(name: &str) -> Option<&'static str> {
    LIBRARY
        .iter()
        .find(|(guest, _)| *guest == name)
        .map(|(_, wat)| *wat)
}

/// Names of all built-in guests.
pub fn names() -> impl Iterator<Item = &'static str> {
    LIBRARY.iter().map(|(name, _)| *name)
}

//! The built-in guest library: WebAssembly functions shipped with the runtime, written in WAT
//! against the guest ABI described in the crate docs.
//!
//! A guest is named by a spec: its name, and for some guests arguments in parentheses.
//!
//! | spec | input | does |
//! |---|---|---|
//! | `noop` | ignored | nothing; the platform's own cost per invocation |
//! | `echo` | any bytes | returns the input |
//! | `cpu` | decimal µs, `"250"` | computes for that long; returns a hex checksum |
//! | `io` | decimal ms, `"20"` | waits that long asynchronously, holding no thread |
//! | `work` | `"<cpu µs> <io ms>"` | computes, then waits: an invocation's CPU and I/O time |
//! | `memory` | decimal MiB, `"64"` | writes every 4 KiB page of that much memory |
//! | `init-heavy(init_ms=X, state_mib=Y)` | empty, or `"scan"` | `init` computes X ms and fills Y MiB of state; `handle` returns the state's checksum and a call count (`"scan"` re-reads all state first) |
//! | `chain(f1, f2, ...)` | any bytes | invokes f1 with the input, f2 with f1's output, ...; returns the last output |

use std::fmt;

const PRELUDE: &str = include_str!("prelude.wat");

/// Guests with a fixed module: name and module body (wrapped with the prelude).
const FIXED: &[(&str, &str)] = &[
    ("echo", include_str!("echo.wat")),
    ("cpu", include_str!("cpu.wat")),
    ("io", include_str!("io.wat")),
    ("work", include_str!("work.wat")),
    ("memory", include_str!("memory.wat")),
];

const NOOP: &str = include_str!("noop.wat");

/// Longest `init` of `init-heavy`: an hour, the longest timeout.
const MAX_INIT_MS: u64 = 60 * 60 * 1000;
/// Largest state of `init-heavy`: it must fit a 32-bit memory above the first 64 KiB.
const MAX_STATE_MIB: u64 = 4000;
const INIT_HEAVY: &str = include_str!("init-heavy.wat");

/// Names of all built-in guests.
pub fn names() -> impl Iterator<Item = &'static str> {
    ["noop"]
        .into_iter()
        .chain(FIXED.iter().map(|(name, _)| *name))
        .chain(["init-heavy", "chain"])
}

/// A built-in guest with its arguments, e.g. `init-heavy(init_ms=50, state_mib=16)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestSpec {
    name: String,
    args: Vec<String>,
}

impl fmt::Display for GuestSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if !self.args.is_empty() {
            write!(f, "({})", self.args.join(", "))?;
        }
        Ok(())
    }
}

impl GuestSpec {
    /// Parses `name` or `name(arg, arg, ...)`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        let (name, args) = match spec.split_once('(') {
            None => (spec, Vec::new()),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("`{spec}`: missing `)` at the end"))?;
                let args = inner
                    .split(',')
                    .map(|arg| arg.trim().to_owned())
                    .filter(|arg| !arg.is_empty())
                    .collect();
                (name.trim(), args)
            }
        };
        if !names().any(|known| known == name) {
            return Err(format!(
                "unknown built-in guest `{name}`; expected one of: {}",
                names().collect::<Vec<_>>().join(", ")
            ));
        }
        let guest = Self {
            name: name.to_owned(),
            args,
        };
        guest.wat()?;
        Ok(guest)
    }

    /// The guest's name, without arguments.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The guest's module, as WebAssembly text.
    pub fn wat(&self) -> Result<String, String> {
        match self.name.as_str() {
            "noop" => self.no_args().map(|()| NOOP.to_owned()),
            "init-heavy" => self.init_heavy(),
            "chain" => self.chain(),
            name => {
                self.no_args()?;
                let body = FIXED
                    .iter()
                    .find(|(guest, _)| *guest == name)
                    .map(|(_, body)| *body)
                    .ok_or_else(|| format!("unknown built-in guest `{name}`"))?;
                Ok(module(body))
            }
        }
    }

    fn no_args(&self) -> Result<(), String> {
        if self.args.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "`{}` takes no arguments, found `{self}`",
                self.name
            ))
        }
    }

    fn init_heavy(&self) -> Result<String, String> {
        let mut init_ms = 50u64;
        let mut state_mib = 16u64;
        for arg in &self.args {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| format!("`{self}`: expected key=value, found `{arg}`"))?;
            let value: u64 = value.trim().parse().map_err(|_| {
                format!(
                    "`{self}`: `{}` must be a whole number, found `{}`",
                    key.trim(),
                    value.trim()
                )
            })?;
            match key.trim() {
                "init_ms" => init_ms = value,
                "state_mib" => state_mib = value,
                other => {
                    return Err(format!(
                        "`{self}`: unknown argument `{other}`; expected init_ms and state_mib"
                    ));
                }
            }
        }
        if init_ms > MAX_INIT_MS {
            return Err(format!(
                "`{self}`: init_ms must be within 0..={MAX_INIT_MS} (an hour), found {init_ms}"
            ));
        }
        if state_mib > MAX_STATE_MIB {
            return Err(format!(
                "`{self}`: state_mib must be within 0..={MAX_STATE_MIB}, found {state_mib}"
            ));
        }
        // Both are bounded above, so none of this can overflow.
        let state_end = 65536 + (state_mib << 20);
        Ok(module(
            &INIT_HEAVY
                .replace("{INIT_US}", &(init_ms * 1000).to_string())
                .replace("{STATE_BYTES}", &(state_mib << 20).to_string())
                .replace("{STATE_END}", &state_end.to_string()),
        ))
    }

    fn chain(&self) -> Result<String, String> {
        if self.args.is_empty() {
            return Err(
                "`chain` needs the functions to call, e.g. `chain(resize, analyze)`".into(),
            );
        }
        // Function names live at 2048.. in memory, the payload at 4096.. (grown as needed).
        let mut data = String::new();
        let mut steps = String::new();
        let mut at = 2048usize;
        for name in &self.args {
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(format!("`{self}`: `{name}` is not a function name"));
            }
            data.push_str(name);
            steps.push_str(&format!(
                "    (local.set $len (call $invoke (i32.const {at}) (i32.const {}) (i32.const 4096) (local.get $len)))\n\
                 \x20   (call $ensure_memory (i64.add (i64.const 4096) (i64.extend_i32_u (local.get $len))))\n\
                 \x20   (drop (call $invoke_result_read (i32.const 4096) (local.get $len)))\n",
                name.len()
            ));
            at += name.len();
        }
        if at > 4096 {
            return Err(format!("`{self}`: the function names are too long"));
        }
        Ok(module(&format!(
            "  ;; chain: calls {} in turn, each with the previous one's output.\n\
             \x20 (data (i32.const 2048) \"{data}\")\n\
             \x20 (func (export \"handle\")\n\
             \x20   (local $len i32)\n\
             \x20   (local.set $len (call $input_len))\n\
             \x20   (call $ensure_memory (i64.add (i64.const 4096) (i64.extend_i32_u (local.get $len))))\n\
             \x20   (drop (call $input_read (i32.const 4096) (local.get $len)))\n\
             {steps}\
             \x20   (call $output_write (i32.const 4096) (local.get $len)))\n",
            self.args.join(" → ")
        )))
    }
}

fn module(body: &str) -> String {
    format!("(module\n{PRELUDE}\n{body})\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guest_assembles_into_a_valid_module() {
        for spec in [
            "noop",
            "echo",
            "cpu",
            "io",
            "work",
            "memory",
            "init-heavy",
            "init-heavy(init_ms=0, state_mib=1)",
            "chain(a, b-2, c.3)",
        ] {
            let guest = GuestSpec::parse(spec).unwrap();
            let wasm =
                wat::parse_str(guest.wat().unwrap()).unwrap_or_else(|err| panic!("{spec}: {err}"));
            wasmparser::Validator::new()
                .validate_all(&wasm)
                .unwrap_or_else(|err| panic!("{spec}: {err}"));
        }
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let cases = [
            ("gpu", "unknown built-in guest `gpu`"),
            ("cpu(1)", "takes no arguments"),
            ("init-heavy(init_ms=fast)", "whole number"),
            ("init-heavy(size=3)", "unknown argument `size`"),
            ("init-heavy(init_ms=1", "missing `)`"),
            (
                "init-heavy(init_ms=18446744073709551615)",
                "init_ms must be within 0..=3600000",
            ),
            (
                "init-heavy(state_mib=4001)",
                "state_mib must be within 0..=4000",
            ),
            ("chain()", "needs the functions"),
            ("chain(a b)", "not a function name"),
        ];
        for (spec, expected) in cases {
            let err = GuestSpec::parse(spec).unwrap_err();
            assert!(err.contains(expected), "{spec}: {err}");
        }
    }

    #[test]
    fn specs_print_as_written() {
        let spec = GuestSpec::parse("init-heavy( init_ms=5 ,state_mib=2 )").unwrap();
        assert_eq!(spec.to_string(), "init-heavy(init_ms=5, state_mib=2)");
        assert_eq!(spec.name(), "init-heavy");
    }
}

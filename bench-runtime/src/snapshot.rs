//! Snapshots: the state of an instance right after `init`, turned into a module that starts in
//! that state.
//!
//! A snapshot is taken once per function, from the first instance that ran `init`. Its linear
//! memory becomes active data segments and its mutable globals become constant initialisers of
//! a rewritten module (the start function is removed: it already ran). Compiled once, that
//! module instantiates in microseconds: wasmtime's pooling allocator maps the data image
//! copy-on-write, so restoring 16 MiB of state copies nothing until a page is written.
//!
//! Reading the globals of a live instance needs exports, so instances that may be snapshotted
//! run an *instrumented* module: the original plus one export per mutable global. Nothing else
//! changes, so the instrumented module behaves exactly like the original.
//!
//! What a snapshot restores is linear memory and mutable globals; `init` must not change tables
//! (a module whose `init` grows or writes a table should run with snapshots off).

use std::ops::Range;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    ConstExpr, DataCountSection, DataSection, ExportKind, ExportSection, GlobalSection,
    MemorySection, Module as EncodedModule, RawSection, SectionId,
};
use wasmparser::{Parser, Payload, TypeRef, ValType};
use wasmtime::{AsContextMut, Instance, Val};

/// Exports added to an instrumented module are named this, then the global's index.
const GLOBAL_EXPORT_PREFIX: &str = "__faasbench_global_";

/// Granularity at which memory is scanned for data: all-zero runs of this size are left out of
/// the image, since a fresh page reads as zero anyway.
const SCAN_PAGE: usize = 4096;

/// A module prepared for snapshotting: the instrumented binary, and the mutable globals it
/// exports for capture.
#[derive(Debug, Clone)]
pub(crate) struct Instrumented {
    pub(crate) wasm: Vec<u8>,
    globals: Vec<u32>,
}

/// The value of a global, as restored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum GlobalValue {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
}

/// Memory and mutable globals of an instance after `init`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Captured {
    /// Size of memory 0 in WebAssembly pages.
    pages: u64,
    /// Non-zero stretches of memory: offset and bytes.
    segments: Vec<(u32, Vec<u8>)>,
    globals: Vec<(u32, GlobalValue)>,
}

impl Captured {
    /// Bytes of memory the snapshot holds.
    pub(crate) fn data_bytes(&self) -> usize {
        self.segments.iter().map(|(_, bytes)| bytes.len()).sum()
    }
}

fn parse_error(err: wasmparser::BinaryReaderError) -> String {
    format!("cannot read the module: {err}")
}

fn encode_error<E: std::fmt::Debug>(err: wasm_encoder::reencode::Error<E>) -> String {
    format!("cannot re-encode the module: {err:?}")
}

/// Checks that a module can be snapshotted and adds the exports capture needs. Refuses modules
/// whose state cannot be restored this way: an imported or 64-bit memory, several memories,
/// or a mutable global of a reference type.
pub(crate) fn instrument(original: &[u8]) -> Result<Instrumented, String> {
    let mut imported_globals = 0u32;
    let mut memories = 0u32;
    let mut mutable_globals = Vec::new();
    for payload in Parser::new(0).parse_all(original) {
        match payload.map_err(parse_error)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.map_err(parse_error)?.ty {
                        TypeRef::Global(_) => imported_globals += 1,
                        TypeRef::Memory(_) => return Err("the module imports its memory".into()),
                        _ => {}
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    if memory.map_err(parse_error)?.memory64 {
                        return Err("64-bit memories are not supported".into());
                    }
                    memories += 1;
                }
            }
            Payload::GlobalSection(reader) => {
                for (offset, global) in reader.into_iter().enumerate() {
                    let global = global.map_err(parse_error)?;
                    if !global.ty.mutable {
                        continue;
                    }
                    if matches!(global.ty.content_type, ValType::Ref(_)) {
                        return Err("a mutable global holds a reference".into());
                    }
                    mutable_globals.push(imported_globals + offset as u32);
                }
            }
            _ => {}
        }
    }
    if memories != 1 {
        return Err(format!(
            "the module defines {memories} memories; snapshots need exactly one"
        ));
    }

    let wasm = rewrite(original, |id, payload, module| {
        if id != SectionId::Export as u8 {
            return Ok(false);
        }
        let Payload::ExportSection(reader) = payload else {
            return Ok(false);
        };
        let mut exports = ExportSection::new();
        for export in reader.clone() {
            RoundtripReencoder
                .parse_export(&mut exports, export.map_err(parse_error)?)
                .map_err(encode_error)?;
        }
        for &index in &mutable_globals {
            exports.export(
                &format!("{GLOBAL_EXPORT_PREFIX}{index}"),
                ExportKind::Global,
                index,
            );
        }
        module.section(&exports);
        Ok(true)
    })?;
    Ok(Instrumented {
        wasm,
        globals: mutable_globals,
    })
}

/// Reads memory 0 and the mutable globals of an instance of an [`Instrumented`] module.
pub(crate) fn capture(
    mut store: impl AsContextMut,
    instance: &Instance,
    instrumented: &Instrumented,
) -> Result<Captured, String> {
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("the module exports no memory named `memory`")?;
    let data = memory.data(&store);
    let pages = memory.size(&store);
    let segments = nonzero_runs(data)
        .map(|range| (range.start as u32, data[range].to_vec()))
        .collect();
    let mut globals = Vec::with_capacity(instrumented.globals.len());
    for &index in &instrumented.globals {
        let name = format!("{GLOBAL_EXPORT_PREFIX}{index}");
        let global = instance
            .get_global(&mut store, &name)
            .ok_or_else(|| format!("the instrumented export `{name}` is missing"))?;
        let value = match global.get(&mut store) {
            Val::I32(v) => GlobalValue::I32(v),
            Val::I64(v) => GlobalValue::I64(v),
            Val::F32(bits) => GlobalValue::F32(bits),
            Val::F64(bits) => GlobalValue::F64(bits),
            Val::V128(v) => GlobalValue::V128(v.as_u128()),
            other => {
                return Err(format!(
                    "global {index} holds {other:?}, which cannot be restored"
                ));
            }
        };
        globals.push((index, value));
    }
    Ok(Captured {
        pages,
        segments,
        globals,
    })
}

/// Ranges of `data` that hold a non-zero byte, at [`SCAN_PAGE`] granularity, merged when
/// adjacent.
fn nonzero_runs(data: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut pages = data
        .chunks(SCAN_PAGE)
        .enumerate()
        .map(|(index, page)| (index * SCAN_PAGE, page.iter().any(|&b| b != 0)))
        .peekable();
    std::iter::from_fn(move || {
        let (start, _) = pages.find(|&(_, nonzero)| nonzero)?;
        let mut end = (start + SCAN_PAGE).min(data.len());
        while let Some(&(next, true)) = pages.peek() {
            end = (next + SCAN_PAGE).min(data.len());
            pages.next();
        }
        Some(start..end)
    })
}

/// The original module rewritten to start in the captured state: mutable globals initialised
/// to their captured values, memory 0 sized as captured and filled by active data segments,
/// the original active segments turned into empty passive ones (their effect is in the
/// image; indices used by `memory.init`/`data.drop` stay valid), and no start function.
pub(crate) fn build(original: &[u8], captured: &Captured) -> Result<Vec<u8>, String> {
    let mut imported_globals = 0u32;
    let mut original_segments = None;
    for payload in Parser::new(0).parse_all(original) {
        match payload.map_err(parse_error)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.map_err(parse_error)?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Payload::DataSection(reader) => original_segments = Some(reader.count()),
            _ => {}
        }
    }
    let segment_count = original_segments.unwrap_or(0) + captured.segments.len() as u32;
    let append_captured = |data: &mut DataSection| {
        for (offset, bytes) in &captured.segments {
            data.active(
                0,
                &ConstExpr::i32_const(*offset as i32),
                bytes.iter().copied(),
            );
        }
    };

    let mut wrote_data = false;
    rewrite(original, |id, payload, module| {
        match payload {
            Payload::StartSection { .. } => Ok(true),
            Payload::GlobalSection(reader) => {
                let mut globals = GlobalSection::new();
                for (offset, global) in reader.clone().into_iter().enumerate() {
                    let global = global.map_err(parse_error)?;
                    let index = imported_globals + offset as u32;
                    let ty = RoundtripReencoder
                        .global_type(global.ty)
                        .map_err(encode_error)?;
                    let init = match captured.globals.iter().find(|(i, _)| *i == index) {
                        Some((_, value)) => const_of(*value),
                        None => RoundtripReencoder
                            .const_expr(global.init_expr)
                            .map_err(encode_error)?,
                    };
                    globals.global(ty, &init);
                }
                module.section(&globals);
                Ok(true)
            }
            Payload::MemorySection(reader) => {
                let mut memories = MemorySection::new();
                for memory in reader.clone() {
                    let mut ty = RoundtripReencoder
                        .memory_type(memory.map_err(parse_error)?)
                        .map_err(encode_error)?;
                    ty.minimum = captured.pages;
                    memories.memory(ty);
                }
                module.section(&memories);
                Ok(true)
            }
            Payload::DataCountSection { .. } => {
                module.section(&DataCountSection {
                    count: segment_count,
                });
                Ok(true)
            }
            Payload::DataSection(reader) => {
                let mut data = DataSection::new();
                for segment in reader.clone() {
                    let segment = segment.map_err(parse_error)?;
                    match segment.kind {
                        wasmparser::DataKind::Active { .. } => data.passive([]),
                        // Passive segments keep their bytes for `memory.init`.
                        wasmparser::DataKind::Passive => data.passive(segment.data.iter().copied()),
                    };
                }
                append_captured(&mut data);
                module.section(&data);
                wrote_data = true;
                Ok(true)
            }
            Payload::CodeSectionStart { .. } if original_segments.is_none() => {
                // No data section follows the code; append the captured one right after it.
                module.section(&RawSection {
                    id,
                    data: section_bytes(original, payload)?,
                });
                if !captured.segments.is_empty() {
                    let mut data = DataSection::new();
                    append_captured(&mut data);
                    module.section(&data);
                }
                wrote_data = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    })
    .and_then(|wasm| {
        if wrote_data || captured.segments.is_empty() {
            Ok(wasm)
        } else {
            Err("the module has no code section to place the snapshot after".into())
        }
    })
}

fn const_of(value: GlobalValue) -> ConstExpr {
    match value {
        GlobalValue::I32(v) => ConstExpr::i32_const(v),
        GlobalValue::I64(v) => ConstExpr::i64_const(v),
        GlobalValue::F32(bits) => ConstExpr::f32_const(f32::from_bits(bits).into()),
        GlobalValue::F64(bits) => ConstExpr::f64_const(f64::from_bits(bits).into()),
        GlobalValue::V128(v) => ConstExpr::v128_const(v as i128),
    }
}

fn section_bytes<'a>(original: &'a [u8], payload: &Payload<'_>) -> Result<&'a [u8], String> {
    let (_, range) = payload.as_section().ok_or("not a section")?;
    original
        .get(range.start as usize..range.end as usize)
        .ok_or_else(|| "section out of bounds".to_string())
}

/// Copies `original` section by section. `replace` sees every section first and returns true
/// when it wrote a replacement (or deliberately dropped the section).
fn rewrite(
    original: &[u8],
    mut replace: impl FnMut(u8, &Payload<'_>, &mut EncodedModule) -> Result<bool, String>,
) -> Result<Vec<u8>, String> {
    let mut module = EncodedModule::new();
    for payload in Parser::new(0).parse_all(original) {
        let payload = payload.map_err(parse_error)?;
        let Some((id, _)) = payload.as_section() else {
            continue;
        };
        if replace(id, &payload, &mut module)? {
            continue;
        }
        module.section(&RawSection {
            id,
            data: section_bytes(original, &payload)?,
        });
    }
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_runs_skip_zero_pages_and_merge_neighbours() {
        let mut data = vec![0u8; SCAN_PAGE * 6];
        data[10] = 1;
        data[SCAN_PAGE + 5] = 2;
        data[SCAN_PAGE * 4] = 3;
        let runs: Vec<_> = nonzero_runs(&data).collect();
        assert_eq!(runs, vec![0..SCAN_PAGE * 2, SCAN_PAGE * 4..SCAN_PAGE * 5]);
        assert_eq!(nonzero_runs(&[0u8; 100]).count(), 0);
        assert_eq!(nonzero_runs(&[0, 0, 7]).collect::<Vec<_>>(), vec![0..3]);
    }

    #[test]
    fn modules_whose_state_cannot_be_restored_are_refused() {
        let cases = [
            (
                "(module (import \"env\" \"m\" (memory 1)) (func (export \"handle\")))",
                "imports its memory",
            ),
            (
                "(module (memory i64 1) (func (export \"handle\")))",
                "64-bit",
            ),
            (
                "(module (memory 1) (memory 1) (func (export \"handle\")))",
                "2 memories",
            ),
            (
                "(module (memory 1) (global (mut externref) (ref.null extern)))",
                "reference",
            ),
        ];
        for (wat, reason) in cases {
            let wasm = wat::parse_str(wat).unwrap();
            let err = instrument(&wasm).unwrap_err();
            assert!(err.contains(reason), "{wat}: {err}");
        }
    }
}

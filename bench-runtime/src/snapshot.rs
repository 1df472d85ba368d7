//! Snapshots: the state of an instance right after `init`, turned into a module that starts in
//! that state.
//!
//! A snapshot is taken once per function, from the first instance that ran `init`. Its linear
//! memory becomes active data segments and its mutable globals become constant initialisers of
//! a rewritten module (the start function is removed: it already ran). Compiled once, that
//! module instantiates in microseconds: wasmtime's pooling allocator maps the data image
//! copy-on-write, so restoring 16 MiB of state copies nothing until a page is written.
//!
//! Reading the state of a live instance needs exports, so instances that may be snapshotted
//! run an *instrumented* module: the original plus one export per mutable global and, for each
//! passive data segment the code may `data.drop`, an exported flag that those `data.drop`s set.
//! Nothing the guest can observe changes, so the instrumented module behaves exactly like the
//! original. The snapshot module is rewritten from the instrumented one, so a restored instance
//! has the same exports as a cold-started one.
//!
//! What a snapshot restores is linear memory, mutable globals and which data segments are
//! dropped: active segments (dropped by instantiation) and passive segments `init` dropped
//! become empty passive segments, which behave exactly like dropped ones, while the other
//! passive segments keep their bytes for `memory.init`. `init` must not change tables (a
//! module whose `init` grows or writes a table should run with snapshots off).

use std::ops::Range;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ExportKind, ExportSection,
    GlobalSection, GlobalType, Ieee32, Ieee64, Instruction, MemorySection, Module as EncodedModule,
    RawSection, SectionId,
};
use wasmparser::{
    BinaryReader, CodeSectionReader, DataKind, FunctionBody, Operator, Parser, Payload, TypeRef,
    ValType,
};
use wasmtime::{AsContextMut, Instance, Val};

/// Exports added to an instrumented module are named this, then the global's index.
const GLOBAL_EXPORT_PREFIX: &str = "__faasbench_global_";

/// Drop flags of an instrumented module are exported as this, then the data segment's index.
const DROPPED_EXPORT_PREFIX: &str = "__faasbench_dropped_";

/// Granularity at which memory is scanned for data: all-zero runs of this size are left out of
/// the image, since a fresh page reads as zero anyway.
const SCAN_PAGE: usize = 4096;

/// A module prepared for snapshotting: the instrumented binary, the mutable globals it exports
/// for capture, and the flags that record which passive data segments were dropped.
#[derive(Debug, Clone)]
pub(crate) struct Instrumented {
    pub(crate) wasm: Vec<u8>,
    globals: Vec<u32>,
    drop_flags: Vec<DropFlag>,
}

/// A passive data segment that some `data.drop` names, and the mutable i32 global, added by
/// instrumentation, that every such `data.drop` sets to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DropFlag {
    segment: u32,
    global: u32,
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

/// Memory, mutable globals and dropped passive data segments of an instance after `init`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Captured {
    /// Size of memory 0 in WebAssembly pages.
    pages: u64,
    /// Non-zero stretches of memory: offset and bytes.
    segments: Vec<(u32, Vec<u8>)>,
    globals: Vec<(u32, GlobalValue)>,
    /// Indices of the passive data segments that were dropped.
    dropped: Vec<u32>,
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

/// Checks that a module can be snapshotted and adds what capture needs: an export per mutable
/// global, and a flag per passive data segment that code may `data.drop`, set by every such
/// `data.drop` (flags are appended after all globals, so no index changes). Refuses modules
/// whose state cannot be restored this way: an imported or 64-bit memory, several memories,
/// a mutable global of a reference type, or no exports.
pub(crate) fn instrument(original: &[u8]) -> Result<Instrumented, String> {
    let mut imported_globals = 0u32;
    let mut defined_globals = 0u32;
    let mut memories = 0u32;
    let mut has_exports = false;
    let mut mutable_globals = Vec::new();
    let mut passive_segments = Vec::new();
    let mut dropped_segments = Vec::new();
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
                defined_globals = reader.count();
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
            Payload::ExportSection(_) => has_exports = true,
            Payload::CodeSectionEntry(body) => dropped_segments.extend(drops_in(&body)?),
            Payload::DataSection(reader) => {
                for (index, segment) in reader.into_iter().enumerate() {
                    if matches!(segment.map_err(parse_error)?.kind, DataKind::Passive) {
                        passive_segments.push(index as u32);
                    }
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
    if !has_exports {
        return Err("the module exports nothing, not even its memory".into());
    }
    let first_flag = imported_globals + defined_globals;
    let drop_flags: Vec<DropFlag> = passive_segments
        .into_iter()
        .filter(|segment| dropped_segments.contains(segment))
        .zip(first_flag..)
        .map(|(segment, global)| DropFlag { segment, global })
        .collect();

    let add_flags = |globals: &mut GlobalSection| {
        for _ in &drop_flags {
            let ty = GlobalType {
                val_type: wasm_encoder::ValType::I32,
                mutable: true,
                shared: false,
            };
            globals.global(ty, &ConstExpr::i32_const(0));
        }
    };
    let mut globals_written = drop_flags.is_empty();
    let wasm = rewrite(original, |id, payload, module| {
        if !globals_written && id == SectionId::Export as u8 {
            // The module has no global section (it would have come first): the flags get one,
            // where the section order puts it.
            let mut globals = GlobalSection::new();
            add_flags(&mut globals);
            module.section(&globals);
            globals_written = true;
        }
        match payload {
            Payload::GlobalSection(reader) if !drop_flags.is_empty() => {
                let mut globals = GlobalSection::new();
                for global in reader.clone() {
                    RoundtripReencoder
                        .parse_global(&mut globals, global.map_err(parse_error)?)
                        .map_err(encode_error)?;
                }
                add_flags(&mut globals);
                module.section(&globals);
                globals_written = true;
                Ok(true)
            }
            Payload::ExportSection(reader) => {
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
                for flag in &drop_flags {
                    exports.export(
                        &format!("{DROPPED_EXPORT_PREFIX}{}", flag.segment),
                        ExportKind::Global,
                        flag.global,
                    );
                }
                module.section(&exports);
                Ok(true)
            }
            Payload::CodeSectionStart {
                unchecked_range, ..
            } if !drop_flags.is_empty() => {
                let section = section_bytes(original, payload)?;
                module.section(&set_flags_on_drop(
                    section,
                    unchecked_range.start,
                    &drop_flags,
                )?);
                Ok(true)
            }
            _ => Ok(false),
        }
    })?;
    Ok(Instrumented {
        wasm,
        globals: mutable_globals,
        drop_flags,
    })
}

/// The data segments a function body names in a `data.drop`.
fn drops_in(body: &FunctionBody<'_>) -> Result<Vec<u32>, String> {
    let mut operators = body.get_operators_reader().map_err(parse_error)?;
    let mut dropped = Vec::new();
    while !operators.eof() {
        if let Operator::DataDrop { data_index } = operators.read().map_err(parse_error)? {
            dropped.push(data_index);
        }
    }
    Ok(dropped)
}

/// The code section `section` (found at `offset` in the module) with every `data.drop` of a
/// flagged segment followed by setting its flag. Bodies that drop no flagged segment are copied
/// as they are; the others are re-encoded with their locals.
fn set_flags_on_drop(
    section: &[u8],
    offset: u64,
    flags: &[DropFlag],
) -> Result<CodeSection, String> {
    let flag_of = |segment: u32| {
        flags
            .iter()
            .find(|flag| flag.segment == segment)
            .map(|flag| flag.global)
    };
    let reader = CodeSectionReader::new(BinaryReader::new(section, offset)).map_err(parse_error)?;
    let mut code = CodeSection::new();
    for body in reader {
        let body = body.map_err(parse_error)?;
        if !drops_in(&body)?
            .into_iter()
            .any(|segment| flag_of(segment).is_some())
        {
            let range = body.range();
            code.raw(&section[(range.start - offset) as usize..(range.end - offset) as usize]);
            continue;
        }
        let mut function = RoundtripReencoder
            .new_function_with_parsed_locals(&body)
            .map_err(encode_error)?;
        let mut operators = body.get_operators_reader().map_err(parse_error)?;
        while !operators.eof() {
            let operator = operators.read().map_err(parse_error)?;
            let flag = match operator {
                Operator::DataDrop { data_index } => flag_of(data_index),
                _ => None,
            };
            function.instruction(
                &RoundtripReencoder
                    .instruction(operator)
                    .map_err(encode_error)?,
            );
            if let Some(global) = flag {
                function
                    .instruction(&Instruction::I32Const(1))
                    .instruction(&Instruction::GlobalSet(global));
            }
        }
        code.function(&function);
    }
    Ok(code)
}

/// Reads memory 0, the mutable globals and the drop flags of an instance of an
/// [`Instrumented`] module.
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
        let value = match instrumented_global(&mut store, instance, &name)? {
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
    let mut dropped = Vec::new();
    for flag in &instrumented.drop_flags {
        let name = format!("{DROPPED_EXPORT_PREFIX}{}", flag.segment);
        match instrumented_global(&mut store, instance, &name)? {
            Val::I32(0) => {}
            Val::I32(_) => dropped.push(flag.segment),
            other => return Err(format!("the drop flag `{name}` holds {other:?}")),
        }
    }
    Ok(Captured {
        pages,
        segments,
        globals,
        dropped,
    })
}

fn instrumented_global(
    mut store: impl AsContextMut,
    instance: &Instance,
    name: &str,
) -> Result<Val, String> {
    let global = instance
        .get_global(&mut store, name)
        .ok_or_else(|| format!("the instrumented export `{name}` is missing"))?;
    Ok(global.get(&mut store))
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

/// The instrumented module rewritten to start in the captured state: mutable globals (drop
/// flags among them) initialised to their captured values, memory 0 sized as captured and
/// filled by active data segments, the active segments and the passive ones `init` dropped
/// turned into empty passive segments (an empty segment behaves exactly like a dropped one, and
/// indices used by `memory.init`/`data.drop` stay valid), and no start function.
///
/// `instrumented` is the module the capturing instance ran and `captured` what [`capture`] read
/// from it. Since the result keeps the instrumented exports, a restored instance looks like a
/// cold-started one down to its exports, and can be captured the same way.
pub(crate) fn build(instrumented: &Instrumented, captured: &Captured) -> Result<Vec<u8>, String> {
    let wasm = &instrumented.wasm[..];
    let mut imported_globals = 0u32;
    let mut existing_segments = None;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(parse_error)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if matches!(import.map_err(parse_error)?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Payload::DataSection(reader) => existing_segments = Some(reader.count()),
            _ => {}
        }
    }
    let segment_count = existing_segments.unwrap_or(0) + captured.segments.len() as u32;
    let append_captured = |data: &mut DataSection| {
        for (offset, bytes) in &captured.segments {
            data.active(
                0,
                &ConstExpr::i32_const(*offset as i32),
                bytes.iter().copied(),
            );
        }
    };
    let captured_init = |index: u32| {
        if let Some((_, value)) = captured.globals.iter().find(|(i, _)| *i == index) {
            return Some(const_of(*value));
        }
        let flag = instrumented
            .drop_flags
            .iter()
            .find(|flag| flag.global == index)?;
        let dropped = captured.dropped.contains(&flag.segment);
        Some(ConstExpr::i32_const(dropped.into()))
    };

    let mut wrote_data = false;
    rewrite(wasm, |id, payload, module| {
        match payload {
            Payload::StartSection { .. } => Ok(true),
            Payload::GlobalSection(reader) => {
                let mut globals = GlobalSection::new();
                for (offset, global) in reader.clone().into_iter().enumerate() {
                    let global = global.map_err(parse_error)?;
                    let ty = RoundtripReencoder
                        .global_type(global.ty)
                        .map_err(encode_error)?;
                    let init = match captured_init(imported_globals + offset as u32) {
                        Some(init) => init,
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
                for (index, segment) in reader.clone().into_iter().enumerate() {
                    let segment = segment.map_err(parse_error)?;
                    let dropped = match segment.kind {
                        DataKind::Active { .. } => true,
                        DataKind::Passive => captured.dropped.contains(&(index as u32)),
                    };
                    if dropped {
                        data.passive([]);
                    } else {
                        data.passive(segment.data.iter().copied());
                    }
                }
                append_captured(&mut data);
                module.section(&data);
                wrote_data = true;
                Ok(true)
            }
            Payload::CodeSectionStart { .. } if existing_segments.is_none() => {
                // No data section follows the code; append the captured one right after it.
                module.section(&RawSection {
                    id,
                    data: section_bytes(wasm, payload)?,
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

/// A constant of exactly the captured bits (a NaN keeps its payload).
fn const_of(value: GlobalValue) -> ConstExpr {
    match value {
        GlobalValue::I32(v) => ConstExpr::i32_const(v),
        GlobalValue::I64(v) => ConstExpr::i64_const(v),
        GlobalValue::F32(bits) => ConstExpr::f32_const(Ieee32::new(bits)),
        GlobalValue::F64(bits) => ConstExpr::f64_const(Ieee64::new(bits)),
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
mod tests;

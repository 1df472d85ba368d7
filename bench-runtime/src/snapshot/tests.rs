use super::*;
use wasmtime::{Engine, Extern, Linker, Module, Store, Trap};

use crate::RuntimeConfig;
use crate::abi::{HostState, InstanceLimits};
use crate::guests::GuestSpec;

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
        ("(module (memory 1) (func))", "exports nothing"),
    ];
    for (wat, reason) in cases {
        let wasm = wat::parse_str(wat).unwrap();
        let err = instrument(&wasm).unwrap_err();
        assert!(err.contains(reason), "{wat}: {err}");
    }
}

/// A module whose `init` leaves state of every kind a snapshot restores: memory grown past
/// its initial size with data between zero pages and at its very end, mutable globals of every
/// restorable type (a NaN payload among them), imported and defined immutable globals, an
/// active segment, and two passive segments of which `init` drops one and copies the other.
/// The start function counts its runs, so running it again after a restore shows in `$count`.
const STATEFUL_WAT: &str = r#"
(module
  (import "env" "base" (global $base i32))
  (memory (export "memory") 2)
  (global $seed (export "seed") i64 (i64.const 0x0123456789abcdef))
  (global $ptr (mut i32) (global.get $base))
  (global $count (mut i64) (i64.const 0))
  (global $ratio (mut f32) (f32.const 0))
  (global $scale (mut f64) (f64.const 0))
  (global $lanes (mut v128) (v128.const i64x2 0 0))
  (data (i32.const 16) "written at instantiation")
  (data $kept "kept for later")
  (data $dropped "dropped by init")
  (start $start)
  (func $start (global.set $count (i64.add (global.get $count) (i64.const 1))))
  (func (export "init")
    (drop (memory.grow (i32.const 4)))
    (memory.init $kept (global.get $base) (i32.const 0) (i32.const 14))
    (data.drop $dropped)
    (data.drop 0)
    (i64.store (i32.const 0x30000) (global.get $seed))
    (i64.store (i32.const 0x4fffc) (global.get $seed))
    (i32.store
      (i32.sub (i32.mul (memory.size) (i32.const 0x10000)) (i32.const 4))
      (i32.const 0xfeedf00d))
    (global.set $ptr (i32.add (global.get $ptr) (i32.const 14)))
    (global.set $count (i64.add (global.get $count) (i64.const 41)))
    (global.set $ratio (f32.const nan:0x200001))
    (global.set $scale (f64.const -0x1.5p+3))
    (global.set $lanes (v128.const i32x4 1 2 3 0x80000000)))
  (func (export "init_kept") (param $src i32) (param $len i32)
    (memory.init $kept (i32.const 0x20000) (local.get $src) (local.get $len)))
  (func (export "init_dropped") (param $src i32) (param $len i32)
    (memory.init $dropped (i32.const 0x20000) (local.get $src) (local.get $len)))
  (func (export "handle")))
"#;

/// What guest code can observe of an instance: memory 0, and every exported global by name
/// with its type and bits.
#[derive(Debug)]
struct Observed {
    memory: Vec<u8>,
    globals: Vec<(String, &'static str, u128)>,
}

impl Observed {
    fn global_names(&self, prefix: &str) -> Vec<&str> {
        self.globals
            .iter()
            .map(|(name, _, _)| name.as_str())
            .filter(|name| name.starts_with(prefix))
            .collect()
    }
}

fn observe(mut store: impl AsContextMut, instance: &Instance) -> Observed {
    let exports: Vec<(String, Extern)> = instance
        .exports(&mut store)
        .map(|export| (export.name().to_owned(), export.into_extern()))
        .collect();
    let mut memory = None;
    let mut globals = Vec::new();
    for (name, export) in exports {
        match export {
            Extern::Memory(m) if name == "memory" => memory = Some(m.data(&store).to_vec()),
            Extern::Global(global) => {
                let (ty, bits) = match global.get(&mut store) {
                    Val::I32(v) => ("i32", v as u32 as u128),
                    Val::I64(v) => ("i64", v as u64 as u128),
                    Val::F32(bits) => ("f32", bits as u128),
                    Val::F64(bits) => ("f64", bits as u128),
                    Val::V128(v) => ("v128", v.as_u128()),
                    other => panic!("global `{name}` holds {other:?}"),
                };
                globals.push((name, ty, bits));
            }
            _ => {}
        }
    }
    Observed {
        memory: memory.expect("the instance exports `memory`"),
        globals,
    }
}

fn assert_same_state(cold: &Observed, restored: &Observed) {
    assert_eq!(
        cold.memory.len(),
        restored.memory.len(),
        "memory size: cold vs restored"
    );
    let differs = (0..cold.memory.len()).find(|&i| cold.memory[i] != restored.memory[i]);
    if let Some(offset) = differs {
        panic!(
            "memory differs first at {offset:#x}: cold {:#04x}, restored {:#04x}",
            cold.memory[offset], restored.memory[offset]
        );
    }
    assert_eq!(cold.globals, restored.globals, "globals: cold vs restored");
}

/// Instantiates `wasm`, providing the imported global `env.base`.
fn instantiate(engine: &Engine, wasm: &[u8]) -> (Store<()>, Instance) {
    wasmparser::Validator::new()
        .validate_all(wasm)
        .expect("the module is valid");
    let module = Module::new(engine, wasm).unwrap();
    let mut store = Store::new(engine, ());
    let ty = wasmtime::GlobalType::new(wasmtime::ValType::I32, wasmtime::Mutability::Const);
    let base = wasmtime::Global::new(&mut store, ty, Val::I32(0x10000)).unwrap();
    let mut linker = Linker::new(engine);
    linker.define(&store, "env", "base", base).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// A cold start as the runtime makes it when it captures a snapshot (the instrumented module,
/// then `init`), and an instance restored from that snapshot.
struct ColdAndRestored {
    cold: (Store<()>, Instance),
    restored: (Store<()>, Instance),
}

impl ColdAndRestored {
    fn of(wat: &str) -> Self {
        let engine = Engine::default();
        let instrumented = instrument(&wat::parse_str(wat).unwrap()).unwrap();
        let (mut store, instance) = instantiate(&engine, &instrumented.wasm);
        let init = instance
            .get_typed_func::<(), ()>(&mut store, "init")
            .unwrap();
        init.call(&mut store, ()).unwrap();
        let captured = capture(&mut store, &instance, &instrumented).unwrap();
        let snapshot = build(&instrumented, &captured).unwrap();
        Self {
            cold: (store, instance),
            restored: instantiate(&engine, &snapshot),
        }
    }

    fn observe(&mut self) -> (Observed, Observed) {
        (
            observe(&mut self.cold.0, &self.cold.1),
            observe(&mut self.restored.0, &self.restored.1),
        )
    }

    /// Calls `function` with `args` in both instances; each call either returns or traps.
    fn call(&mut self, function: &str, args: (i32, i32)) -> [Result<(), Option<Trap>>; 2] {
        [&mut self.cold, &mut self.restored].map(|(store, instance)| {
            let func = instance
                .get_typed_func::<(i32, i32), ()>(&mut *store, function)
                .unwrap();
            func.call(&mut *store, args)
                .map_err(|err| err.downcast_ref::<Trap>().copied())
        })
    }
}

#[test]
fn a_restored_instance_is_indistinguishable_from_one_that_ran_init() {
    let mut instances = ColdAndRestored::of(STATEFUL_WAT);
    let (cold, restored) = instances.observe();
    assert_eq!(cold.memory.len(), 6 << 16, "init grew memory to 6 pages");
    assert_eq!(
        cold.global_names(GLOBAL_EXPORT_PREFIX).len(),
        5,
        "every mutable global is exported"
    );
    assert_eq!(
        cold.global_names(DROPPED_EXPORT_PREFIX),
        [format!("{DROPPED_EXPORT_PREFIX}2")],
        "only the passive segment that code drops has a flag"
    );
    assert_same_state(&cold, &restored);

    // A dropped segment behaves as an empty one: only an empty copy from offset 0 succeeds.
    let trap = Err(Some(Trap::MemoryOutOfBounds));
    let cases = [
        ("init_dropped", (0, 0), Ok(())),
        ("init_dropped", (0, 1), trap),
        ("init_dropped", (1, 0), trap),
        ("init_kept", (0, 14), Ok(())),
        ("init_kept", (13, 1), Ok(())),
        ("init_kept", (0, 15), trap),
    ];
    for (function, args, expected) in cases {
        let [cold, restored] = instances.call(function, args);
        assert_eq!(cold, expected, "cold: {function}{args:?}");
        assert_eq!(restored, expected, "restored: {function}{args:?}");
    }
    let (cold, restored) = instances.observe();
    assert_same_state(&cold, &restored);
}

#[test]
fn drop_flags_get_a_global_section_when_the_module_has_none() {
    let mut instances = ColdAndRestored::of(
        r#"(module
          (import "env" "base" (global i32))
          (memory (export "memory") 1)
          (data $once "once")
          (func (export "init") (data.drop $once))
          (func (export "init_once") (param $src i32) (param $len i32)
            (memory.init $once (i32.const 0) (local.get $src) (local.get $len)))
          (func (export "handle")))"#,
    );
    let (cold, restored) = instances.observe();
    assert_eq!(
        cold.globals,
        [(format!("{DROPPED_EXPORT_PREFIX}0"), "i32", 1)]
    );
    assert_same_state(&cold, &restored);
    let trap = Err(Some(Trap::MemoryOutOfBounds));
    assert_eq!(instances.call("init_once", (0, 4)), [trap, trap]);
    assert_eq!(instances.call("init_once", (0, 0)), [Ok(()), Ok(())]);
}

/// Each section of `wasm`: its id and its bytes.
fn sections(wasm: &[u8]) -> Vec<(u8, Vec<u8>)> {
    Parser::new(0)
        .parse_all(wasm)
        .filter_map(|payload| {
            let (id, range) = payload.unwrap().as_section()?;
            Some((id, wasm[range.start as usize..range.end as usize].to_vec()))
        })
        .collect()
}

fn export_names(wasm: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(reader) = payload.unwrap() {
            names.extend(reader.into_iter().map(|e| e.unwrap().name.to_owned()));
        }
    }
    names
}

#[test]
fn modules_that_drop_no_passive_segment_only_gain_global_exports() {
    // Instantiation drops active segments, and a passive segment nothing drops keeps its
    // bytes: neither needs a flag, so the module changes in its exports alone.
    let cases = [
        (
            r#"(module
              (memory (export "memory") 1)
              (global $a (mut i32) (i32.const 0))
              (global i64 (i64.const 1))
              (global $b (mut f64) (f64.const 0))
              (data (i32.const 0) "active")
              (func (export "init") (data.drop 0) (global.set $a (i32.const 1)))
              (func (export "handle")))"#,
            &["__faasbench_global_0", "__faasbench_global_2"][..],
        ),
        (
            r#"(module
              (memory (export "memory") 1)
              (global $a (mut i32) (i32.const 0))
              (data $passive "passive")
              (func (export "init")
                (memory.init $passive (i32.const 0) (i32.const 0) (i32.const 7)))
              (func (export "handle")))"#,
            &["__faasbench_global_0"][..],
        ),
    ];
    for (wat, added) in cases {
        let original = wat::parse_str(wat).unwrap();
        let instrumented = instrument(&original).unwrap();
        let before = sections(&original);
        let after = sections(&instrumented.wasm);
        let ids =
            |sections: &[(u8, Vec<u8>)]| sections.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        assert_eq!(ids(&before), ids(&after), "{wat}");
        for ((id, old), (_, new)) in before.iter().zip(&after) {
            if *id != SectionId::Export as u8 {
                assert_eq!(old, new, "section {id} changed: {wat}");
            }
        }
        let mut expected = export_names(&original);
        expected.extend(added.iter().map(|name| name.to_string()));
        assert_eq!(export_names(&instrumented.wasm), expected, "{wat}");
    }
}

#[tokio::test]
async fn a_restored_init_heavy_guest_matches_a_cold_one() {
    let engine =
        crate::engine::engine(&RuntimeConfig::default().with_instance_slots(4), 0).unwrap();
    let linker = crate::abi::linker(&engine).unwrap();
    let guest = GuestSpec::parse("init-heavy(init_ms=1, state_mib=2)").unwrap();
    let instrumented = instrument(&wat::parse_str(guest.wat().unwrap()).unwrap()).unwrap();
    let new_store = || {
        let mut store = Store::new(
            &engine,
            HostState::new(InstanceLimits {
                memory_bytes: 64 << 20,
                max_output_bytes: 1 << 20,
                max_chain_depth: 1,
                invoker: None,
            }),
        );
        // No epoch ticker runs here, so the epoch never reaches this deadline.
        store.set_epoch_deadline(1);
        store
    };

    let mut cold = new_store();
    let module = Module::new(&engine, &instrumented.wasm).unwrap();
    let cold_instance = linker.instantiate_async(&mut cold, &module).await.unwrap();
    let init = cold_instance
        .get_typed_func::<(), ()>(&mut cold, "init")
        .unwrap();
    init.call_async(&mut cold, ()).await.unwrap();
    let captured = capture(&mut cold, &cold_instance, &instrumented).unwrap();
    let snapshot = build(&instrumented, &captured).unwrap();

    let mut restored = new_store();
    let pre = linker
        .instantiate_pre(&Module::new(&engine, &snapshot).unwrap())
        .unwrap();
    let restored_instance = pre.instantiate_async(&mut restored).await.unwrap();
    let cold = observe(&mut cold, &cold_instance);
    assert!(cold.memory.len() > 2 << 20, "init filled 2 MiB of state");
    assert!(!cold.global_names(GLOBAL_EXPORT_PREFIX).is_empty());
    assert_same_state(&cold, &observe(&mut restored, &restored_instance));
}

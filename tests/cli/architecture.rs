//! The module graph follows the data flow (ARCHITECTURE.md): `src/lib.rs` declares the modules in
//! flow order, a module uses only modules declared above it, and no two files of a module use
//! each other. `scripts/module-graph.py` draws the graph from the `crate::` and `super::` paths.

use std::path::Path;
use std::process::{Command, Output};

fn module_graph(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/module-graph.py");
    Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs scripts/module-graph.py")
}

#[test]
fn no_module_uses_a_later_one_and_no_files_use_each_other_in_a_circle() {
    let out = module_graph(&["--check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("module graph ok"),
        "{stderr}"
    );
}

#[test]
fn the_check_names_an_upward_edge_and_a_cycle_between_files() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("b")).unwrap();
    let write = |path: &str, text: &str| std::fs::write(src.join(path), text).unwrap();
    write("lib.rs", "pub mod a;\npub mod b;\n");
    write("a.rs", "use crate::b::x::X;\n");
    write("b/mod.rs", "pub mod x;\npub mod y;\n");
    write("b/x.rs", "pub struct X;\nuse super::y::Y;\n");
    write(
        "b/y.rs",
        "pub struct Y;\n// crate::a in a comment is no edge\nuse crate::b::{x::X};\n",
    );
    let out = module_graph(&["--src", src.to_str().unwrap(), "--check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("src/a.rs:1: upward edge a -> b"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cycle between files of b: x <-> y"),
        "{stderr}"
    );
    assert!(stderr.contains("2 problem(s)"), "{stderr}");
}

#[test]
fn the_graph_is_drawn_in_flow_order() {
    let out = module_graph(&[]);
    assert!(out.status.success());
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph modules {"), "{dot}");
    let at = |m: &str| {
        dot.find(&format!("  \"{m}\";"))
            .unwrap_or_else(|| panic!("{m}: {dot}"))
    };
    assert!(at("config") < at("github"));
    assert!(at("download") < at("pipeline"));
    assert!(at("pipeline") < at("cli"));
    assert!(dot.contains("\"pipeline\" -> \"download\";"), "{dot}");
}

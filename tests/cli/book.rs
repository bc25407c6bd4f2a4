//! The book (`docs/`) is the reference: these tests check that it documents every command-line
//! flag and every configuration key, and that its links (and those of `README.md` and
//! `ARCHITECTURE.md`) resolve. The Concourse vars and params are checked in
//! `concourse_files.rs` (`readme_documents_every_var_and_param`).
//!
//! The flags come from the clap command itself (`Cli::command()`), and the configuration keys
//! from the serde structs that read the file (`src/config/raw.rs`, `src/config/pattern.rs`):
//! every key the loader accepts is a field of a `#[derive(Deserialize)]` struct there (the
//! hand-written visitors hand mappings to such a struct). A new flag or key fails these tests
//! until the book mentions it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use regex::Regex;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// The text without fenced code blocks (their content is not a mention in the prose or tables).
fn without_fences(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every word of every inline code span: `` `--format json\|yaml` `` gives `--format json\|yaml`,
/// `--format`, `json` and `yaml`.
fn code_words(text: &str) -> BTreeSet<String> {
    let span = Regex::new(r"`([^`\n]+)`").expect("regex");
    let mut out = BTreeSet::new();
    for c in span.captures_iter(&without_fences(text)) {
        let s = c[1].trim();
        out.insert(s.to_owned());
        for w in s.split(|ch: char| ch.is_whitespace() || "|\\,=[]".contains(ch)) {
            if !w.is_empty() {
                out.insert(w.to_owned());
            }
        }
    }
    out
}

/// The section of `text` under the first heading for which `is_heading` holds, down to the next
/// heading of the same or a higher level (subsections included).
fn section(text: &str, is_heading: impl Fn(&str) -> bool) -> Option<&str> {
    let mut start = None;
    let mut level = 0;
    let mut offset = 0;
    let mut fenced = false;
    for line in text.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if !fenced && hashes > 0 && line[hashes..].starts_with(' ') {
            match start {
                None if is_heading(line.trim_end()) => {
                    start = Some(offset);
                    level = hashes;
                }
                Some(s) if hashes <= level => return Some(&text[s..offset]),
                _ => {}
            }
        }
        offset += line.len();
    }
    start.map(|s| &text[s..])
}

/// For each command (`""` for the root, then `db`, `db show`, ...): the flags, environment
/// variables and accepted values of the options it defines.
fn cli_words() -> Vec<(String, Vec<String>)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Vec<String>)>) {
        let mut words = Vec::new();
        for arg in cmd.get_arguments() {
            if arg.is_positional() || ["help", "version"].contains(&arg.get_id().as_str()) {
                continue;
            }
            if let Some(long) = arg.get_long() {
                words.push(format!("--{long}"));
            }
            if let Some(short) = arg.get_short() {
                words.push(format!("-{short}"));
            }
            if let Some(env) = arg.get_env() {
                words.push(env.to_string_lossy().into_owned());
            }
            if arg.get_action().takes_values() {
                for v in arg.get_possible_values() {
                    if !v.is_hide_set() {
                        words.push(v.get_name().to_owned());
                    }
                }
            }
        }
        out.push((path.to_owned(), words));
        for sub in cmd.get_subcommands() {
            let name = sub.get_name();
            let sub_path = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path} {name}")
            };
            walk(sub, &sub_path, out);
        }
    }
    let mut out = Vec::new();
    walk(&release_monitor::cli::Cli::command(), "", &mut out);
    out
}

/// The section of the commands chapter for a command: "Global options" for the root; otherwise
/// the first heading that names the command in backticks (`db show`, `version compare A B`).
fn command_section<'a>(chapter: &'a str, path: &str) -> Option<&'a str> {
    if path.is_empty() {
        return section(chapter, |h| h.contains("Global options"));
    }
    section(chapter, |h| {
        h.contains(&format!("`{path}`")) || h.contains(&format!("`{path} "))
    })
}

#[test]
fn the_commands_chapter_documents_every_command_and_flag() {
    let chapter = read("docs/src/commands.md");
    let mut missing = Vec::new();
    let commands = cli_words();
    assert!(commands.len() >= 18, "too few commands found: {commands:?}");
    for (path, words) in commands {
        // The root's options have a "Global options" section; every command has a section whose
        // heading names it in backticks (`db show`, `version compare A B`).
        let Some(text) = command_section(&chapter, &path) else {
            missing.push(format!("no section for `{path}`"));
            continue;
        };
        // Options shared by subcommands (`--strategy` of `version ...`) may be described once, in
        // the parent command's section.
        let mut mentioned = code_words(text);
        let mut parent = path.as_str();
        while let Some((p, _)) = parent.rsplit_once(' ') {
            parent = p;
            mentioned.extend(
                command_section(&chapter, parent)
                    .map(code_words)
                    .unwrap_or_default(),
            );
        }
        for w in words {
            if !mentioned.contains(&w) {
                let command = if path.is_empty() {
                    "global options"
                } else {
                    &path
                };
                missing.push(format!("{command}: `{w}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/src/commands.md does not document (in backticks, in the command's section):\n{}",
        missing.join("\n")
    );
}

/// A struct of the config sources: its keys (field names, with `rename` and `alias` applied) and
/// each key's Rust type.
#[derive(Debug, Default)]
struct SerdeStruct {
    derived: bool,
    try_from: Option<String>,
    fields: Vec<(Vec<String>, String)>,
}

fn parse_structs(src: &str, structs: &mut BTreeMap<String, SerdeStruct>) {
    let head = Regex::new(r"^(?:pub(?:\(crate\))? )?struct (\w+) \{$").expect("regex");
    let field = Regex::new(r"^\s*(?:pub(?:\(crate\))? )?(\w+): (.+),$").expect("regex");
    let rename = Regex::new(r#"rename = "([^"]+)""#).expect("regex");
    let alias = Regex::new(r#"alias = "([^"]+)""#).expect("regex");
    let try_from = Regex::new(r#"try_from = "(\w+)""#).expect("regex");
    let mut attrs: Vec<&str> = Vec::new();
    let mut lines = src.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with("#[") {
            attrs.push(t);
            continue;
        }
        if t.starts_with("///") {
            continue;
        }
        if let Some(c) = head.captures(line) {
            let mut s = SerdeStruct {
                derived: attrs
                    .iter()
                    .any(|a| a.starts_with("#[derive(") && a.contains("Deserialize")),
                try_from: attrs
                    .iter()
                    .find_map(|a| try_from.captures(a).map(|c| c[1].to_owned())),
                fields: Vec::new(),
            };
            let mut field_attrs: Vec<&str> = Vec::new();
            for l in lines.by_ref() {
                let t = l.trim();
                if t == "}" {
                    break;
                }
                if t.starts_with("#[") {
                    field_attrs.push(t);
                } else if let Some(f) = field.captures(l) {
                    let mut keys = vec![
                        field_attrs
                            .iter()
                            .find_map(|a| rename.captures(a).map(|c| c[1].to_owned()))
                            .unwrap_or_else(|| f[1].to_owned()),
                    ];
                    keys.extend(
                        field_attrs
                            .iter()
                            .filter_map(|a| alias.captures(a).map(|c| c[1].to_owned())),
                    );
                    s.fields.push((keys, f[2].to_owned()));
                    field_attrs.clear();
                }
            }
            structs.insert(c[1].to_owned(), s);
        }
        attrs.clear();
    }
}

/// `impl Deserialize for X` blocks that hand a mapping to a derived struct: X -> that struct.
fn redirects(src: &str) -> BTreeMap<String, String> {
    let imp = Regex::new(r"impl<'de> Deserialize<'de> for (\w+) \{").expect("regex");
    let call = Regex::new(r"(\w+)::deserialize\(").expect("regex");
    let mut out = BTreeMap::new();
    let starts: Vec<(usize, String)> = imp
        .captures_iter(src)
        .map(|c| (c.get(0).expect("match").start(), c[1].to_owned()))
        .collect();
    for (i, (start, name)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(src.len(), |(s, _)| *s);
        if let Some(c) = call
            .captures_iter(&src[*start..end])
            .find(|c| &c[1] != "String")
        {
            out.insert(name.clone(), c[1].to_owned());
        }
    }
    out
}

/// Every key path the configuration file accepts, from the serde structs that read it:
/// `download.s3_storage.endpoint`, `repositories[].tag_filter`,
/// `download.repository_overrides.*.tag_filter`, `notify.webhooks[].url`, ...
fn config_key_paths() -> BTreeSet<String> {
    let mut structs = BTreeMap::new();
    let mut redirect = BTreeMap::new();
    for file in ["src/config/raw.rs", "src/config/pattern.rs"] {
        let src = read(file);
        parse_structs(&src, &mut structs);
        redirect.extend(redirects(&src));
    }
    // The struct whose fields are the keys of a value of type `name`, if it is a mapping.
    let resolve = |mut name: String| -> Option<String> {
        for _ in 0..8 {
            match structs.get(&name) {
                Some(s) if s.derived => match &s.try_from {
                    Some(t) => name = t.clone(),
                    None => return Some(name),
                },
                _ => name = redirect.get(&name)?.clone(),
            }
        }
        None
    };
    let ident = Regex::new(r"\w+").expect("regex");
    let mut out = BTreeSet::new();
    let mut todo = vec![(
        String::new(),
        resolve("RawRoot".to_owned()).expect("RawRoot"),
    )];
    while let Some((prefix, name)) = todo.pop() {
        for (keys, ty) in &structs[&name].fields {
            let child = ident
                .find_iter(ty)
                .find_map(|m| resolve(m.as_str().to_owned()).map(|s| (m.start(), s)));
            for key in keys {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                if let Some((at, child)) = &child {
                    let before = &ty[..*at];
                    let inner = if before.contains("BTreeMap<") {
                        format!("{path}.*")
                    } else if before.contains("Vec<") {
                        format!("{path}[]")
                    } else {
                        path.clone()
                    };
                    todo.push((inner, child.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn the_config_key_list_is_complete() {
    let keys = config_key_paths();
    for known in [
        "repositories",
        "repositories[].owner",
        "repositories[].download.assets[].exclude",
        "settings.concurrency",
        "github.graphql",
        "download.s3_storage.endpoint",
        "download.s3_storage.endpoint_url",
        "download.storage.type",
        "download.version_strategy.pre_release",
        "download.repository_overrides.*.tag_filter",
        "download.post_download.extract_limits.max_ratio",
        "download.artifactory_storage.verify_ssl",
        "notify.webhooks[].secret",
        "notify.email.subject",
    ] {
        assert!(keys.contains(known), "{known} not found in {keys:#?}");
    }
    assert!(keys.len() >= 100, "only {} keys: {keys:#?}", keys.len());
}

#[test]
fn the_configuration_chapter_documents_every_key() {
    let chapter = read("docs/src/configuration.md");
    let mentioned = code_words(&chapter);
    let keys = config_key_paths();
    let missing: Vec<&String> = keys.iter().filter(|k| !mentioned.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "docs/src/configuration.md does not mention these keys as full paths in backticks:\n{}",
        missing
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // And the other way: a full key path in the chapter is a key the loader reads.
    let path_like =
        Regex::new(r"^(repositories\[\]|settings|github|download|notify)(\.(\*|[a-z_]+(\[\])?))+$")
            .expect("regex");
    // The chapter's example of a warning names a misspelled key on purpose.
    let misspelled = ["download.verfy_downloads"];
    let stale: Vec<&String> = mentioned
        .iter()
        .filter(|w| {
            path_like.is_match(w) && !keys.contains(*w) && !misspelled.contains(&w.as_str())
        })
        .collect();
    assert!(
        stale.is_empty(),
        "docs/src/configuration.md names keys the loader does not read: {stale:?}"
    );
}

#[test]
fn the_books_links_resolve() {
    let out = Command::new("python3")
        .arg(Path::new(ROOT).join("scripts/check-book.py"))
        .current_dir(ROOT)
        .output()
        .expect("run python3 scripts/check-book.py");
    assert!(
        out.status.success(),
        "scripts/check-book.py failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_readme_stays_a_front_door() {
    let size = read("README.md").len();
    assert!(
        size < 15_000,
        "README.md is {size} bytes; keep it under 15 KB and put reference material in the book"
    );
}

#[test]
fn architecture_md_describes_every_module() {
    let architecture = read("ARCHITECTURE.md");
    let decl = Regex::new(r"(?m)^pub mod (\w+);").expect("regex");
    let lib = read("src/lib.rs");
    let modules: Vec<&str> = decl
        .captures_iter(&lib)
        .map(|c| c.get(1).expect("name").as_str())
        .collect();
    assert!(modules.len() >= 15, "modules of src/lib.rs: {modules:?}");
    for m in modules {
        assert!(
            architecture.contains(&format!("`{m}`")),
            "ARCHITECTURE.md does not mention the module `{m}` of src/lib.rs"
        );
    }
}

/// The keys a `deny_unknown_fields` struct accepts, as serde lists them when it meets an unknown
/// one ("unknown field `x`, expected one of `a`, `b`").
fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<String> {
    let err = match serde_json::from_str::<T>(r#"{"no such key": 1}"#) {
        Ok(_) => panic!("an unknown key was accepted"),
        Err(e) => e.to_string(),
    };
    let expected = err
        .split_once("expected")
        .unwrap_or_else(|| panic!("no list of fields in {err:?}"))
        .1;
    let names = Regex::new(r"`(\w+)`").expect("regex");
    names
        .captures_iter(expected)
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn the_concourse_chapter_documents_every_source_key_and_get_param() {
    let chapter = read("docs/src/concourse.md");
    let mentioned = code_words(&chapter);
    let source = serde_fields::<release_monitor::concourse::Source>();
    let params = serde_fields::<release_monitor::concourse::InParams>();
    assert!(source.len() >= 15, "source keys: {source:?}");
    assert!(params.len() >= 3, "get params: {params:?}");
    let missing: Vec<&String> = source
        .iter()
        .chain(&params)
        .filter(|k| !mentioned.contains(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/src/concourse.md does not mention these source keys or get params: {missing:?}"
    );
}

#[test]
fn every_commands_help_ends_with_examples_taken_from_the_book() {
    let book = read("docs/src/commands.md");
    let cli = release_monitor::cli::Cli::command();
    // Every command, and every command of a group (`db show`, `version sort`, …).
    let mut commands: Vec<Vec<String>> = Vec::new();
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        commands.push(vec![sub.get_name().to_string()]);
        for nested in sub.get_subcommands().filter(|s| s.get_name() != "help") {
            commands.push(vec![
                sub.get_name().to_string(),
                nested.get_name().to_string(),
            ]);
        }
    }
    assert!(commands.len() > 20, "{commands:?}");
    for words in commands {
        let name = words.join(" ");
        let out = Command::new(env!("CARGO_BIN_EXE_release-monitor"))
            .args(&words)
            .arg("--help")
            .output()
            .expect("runs");
        let help = String::from_utf8_lossy(&out.stdout);
        let examples: Vec<&str> = help
            .split("Examples")
            .nth(1)
            .unwrap_or_else(|| panic!("`{name} --help` has no examples:\n{help}"))
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert!(!examples.is_empty(), "{name}");
        for example in examples {
            assert!(
                book.contains(example),
                "`{name} --help` shows `{example}`, which docs/src/commands.md does not"
            );
        }
    }
}

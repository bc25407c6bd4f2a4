//! Completions and man pages, through the real shells and `man`: the bash and zsh scripts
//! `completions` prints load and complete a subcommand and a flag; `man DIR` writes a page per
//! subcommand that `man -l` renders.

use std::process::Command;

use crate::support::started_or_skipped;

fn binary() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("release-monitor")
}

/// The completion script for `shell`, written to a file in `dir` named `name`.
fn script(shell: &str, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let out = Command::new(binary())
        .args(["completions", shell])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let path = dir.join(name);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// What bash completes for the words `line` (the last one being completed).
fn bash_complete(script: &std::path::Path, line: &[&str]) -> Option<Vec<String>> {
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let cword = line.len() - 1;
    let prev = if cword > 0 { line[cword - 1] } else { "" };
    let program = format!(
        "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{}'; \
         COMP_POINT=${{#COMP_LINE}}; _release__monitor release-monitor '{}' '{prev}'; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        line.join(" "),
        line[cword],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .map_err(|e| e.to_string());
    let out = started_or_skipped(out, "a completion test: bash", "apt-get install bash")?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    words.sort();
    Some(words)
}

#[test]
fn bash_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = script("bash", dir.path(), "release-monitor.bash");
    let Some(words) = bash_complete(&script, &["release-monitor", "mon"]) else {
        return;
    };
    assert_eq!(words, ["monitor"]);
    let words = bash_complete(&script, &["release-monitor", "monitor", "--for"]).unwrap();
    assert_eq!(words, ["--force-check", "--format"]);
    let words = bash_complete(&script, &["release-monitor", "db", "hi"]).unwrap();
    assert_eq!(words, ["history"]);
}

/// Types `line` and a Tab into an interactive zsh (through zpty) with the script on `fpath`,
/// and returns the candidates its completion offers.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='' RPS1=''"
zpty -w z "fpath=($1 \$fpath); autoload -U compinit && compinit -u -d $1/.zcompdump"
zpty -w z "path=($2 \$path)"
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; for h in $__hits; do print -r -- "HI""T:$h"; done }'
zpty -w z 'finish () { print -r -- "DO""NE"; }'
zpty -w z 'zle -N finish; bindkey "^X" finish'
zpty -w -n z "$3"$'\t'$'\x18'
while zpty -r z line; do
  [[ $line == *DONE* ]] && break
  [[ $line == *HIT:* ]] && print -r -- "${${line#*HIT:}%%$'\r'*}"
done
zpty -d z
"#;

fn zsh_complete(dir: &std::path::Path, line: &str) -> Option<Vec<String>> {
    let capture = dir.join("capture.zsh");
    std::fs::write(&capture, ZSH_CAPTURE).unwrap();
    let bin_dir = binary().parent().unwrap().to_path_buf();
    let out = Command::new("timeout")
        .args(["30", "zsh", "-f"])
        .arg(&capture)
        .arg(dir)
        .arg(&bin_dir)
        .arg(line)
        .output()
        .map_err(|e| e.to_string())
        .and_then(|o| {
            if String::from_utf8_lossy(&o.stderr).contains("zsh: not found")
                || o.status.code() == Some(127)
            {
                Err("zsh is missing".to_string())
            } else {
                Ok(o)
            }
        });
    let out = started_or_skipped(out, "a completion test: zsh", "apt-get install zsh")?;
    let mut words: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    words.sort();
    Some(words)
}

#[test]
fn zsh_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    // zsh finds completion functions on `fpath` by their file name.
    script("zsh", dir.path(), "_release-monitor");
    let Some(words) = zsh_complete(dir.path(), "release-monitor mon") else {
        return;
    };
    assert_eq!(words, ["monitor"]);
    let words = zsh_complete(dir.path(), "release-monitor monitor --for").unwrap();
    assert_eq!(words, ["--force-check", "--format"]);
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_one_is_refused() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = Command::new(binary())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("release-monitor"),
            "{shell}"
        );
    }
    let out = Command::new(binary())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_writes_a_page_per_subcommand_that_man_renders() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .arg("man")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    for page in [
        "release-monitor.1",
        "release-monitor-monitor.1",
        "release-monitor-serve.1",
        "release-monitor-db-show.1",
        "release-monitor-config-check.1",
    ] {
        assert!(dir.path().join(page).exists(), "{page}");
    }
    let rendered = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("release-monitor-monitor.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .map_err(|e| e.to_string());
    let Some(rendered) =
        started_or_skipped(rendered, "a man page test: man", "apt-get install man-db")
    else {
        return;
    };
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    assert!(text.contains("SYNOPSIS"), "{text}");
    assert!(text.contains("--force-check"), "{text}");
}

/// Runs `args` with stdout on a pseudo-terminal (util-linux `script`; stderr, with its logs and
/// progress bars, discarded unless `args` says otherwise), in `dir`; returns what the terminal
/// showed.
fn on_terminal(dir: &std::path::Path, args: &str) -> Option<String> {
    let redirect = if args.contains("2>") {
        ""
    } else {
        " 2>/dev/null"
    };
    let command = format!("{} {args}{redirect}", binary().display());
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env_remove("GITHUB_TOKEN")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| e.to_string());
    let out = started_or_skipped(out, "a terminal test: script", "apt-get install util-linux")?;
    Some(String::from_utf8_lossy(&out.stdout).replace('\r', ""))
}

#[test]
fn on_a_terminal_monitor_and_db_print_tables_and_piped_they_print_json() {
    let scenario = r#"
repositories:
  - owner: acme
    repo: tool
    releases:
      - tag_name: v1.0.0
        assets:
          - {name: tool.bin, content: "the tool"}
"#;
    let s = crate::support::FakeSetup::new(scenario, &["acme/tool"], "");
    let Some(shown) = on_terminal(s.dir.path(), "monitor --download") else {
        return;
    };
    let lines: Vec<&str> = shown.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.starts_with("REPOSITORY"))
        .unwrap_or_else(|| panic!("{shown}"));
    for column in ["HELD", "NEW", "FILES", "VERIFIED BY", "ERRORS"] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines
        .iter()
        .find(|l| l.starts_with("acme/tool"))
        .unwrap_or_else(|| panic!("{shown}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["acme/tool", "-", "v1.0.0", "1", "digest"], "{row}");
    assert!(
        shown.contains("1 repositories checked, 1 new releases, 0 failed"),
        "{shown}"
    );
    assert!(!shown.trim_start().starts_with('{'), "{shown}");

    let shown = on_terminal(s.dir.path(), "db show").unwrap();
    assert!(shown.contains("CURRENT VERSION"), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("acme/tool") && l.contains("v1.0.0")),
        "{shown}"
    );
    let shown = on_terminal(s.dir.path(), "db history acme/tool").unwrap();
    assert!(
        shown.contains("VERIFIED BY") && shown.contains("digest"),
        "{shown}"
    );
    let shown = on_terminal(s.dir.path(), "db stats").unwrap();
    assert!(shown.contains("FIGURE"), "{shown}");
    // --format beats the terminal.
    let shown = on_terminal(s.dir.path(), "db stats --format json").unwrap();
    assert!(shown.trim_start().starts_with('{'), "{shown}");
    let shown = on_terminal(s.dir.path(), "db show --format yaml").unwrap();
    assert!(shown.contains("acme/tool:"), "{shown}");

    // Logs on a terminal: no colour with NO_COLOR (set by on_terminal), colour without it.
    let shown = on_terminal(s.dir.path(), "-v config check 2>&1 >/dev/null").unwrap();
    assert!(
        shown.contains("INFO") && !shown.contains('\u{1b}'),
        "{shown:?}"
    );
    let coloured = Command::new("script")
        .args([
            "-qec",
            &format!("{} -v config check 2>&1 >/dev/null", binary().display()),
            "/dev/null",
        ])
        .current_dir(s.dir.path())
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'));

    // Piped: the JSON of before, parseable as it always was.
    let out = s.command(None).args(["db", "show"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["acme/tool"]["current_version"], "v1.0.0");
    let out = s
        .command(None)
        .args(["monitor", "--force-check"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["releases"][0]["tag_name"], "v1.0.0");
}

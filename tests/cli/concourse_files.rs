//! Static checks of the Concourse files: the pipelines under `ci/`, the tasks under
//! `ci/tasks/`, `params/example.yml`, the shell scripts and the `Dockerfile`. They catch what
//! `fly set-pipeline` would only reveal on a real Concourse (a task file that is not there, an
//! input no step provides, a `((var))` nobody defines, a put of a file no task writes).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_json::Value;

use crate::support::files_under;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The artifact (the config repository's get) that task files and scripts are read from.
const CONFIG_ARTIFACT: &str = "release-monitor";

/// The resource types every Concourse has; the pipelines declare no `resource_types`.
const STANDARD_TYPES: &[&str] = &["git", "time", "s3", "registry-image"];

const PIPELINES: &[&str] = &[
    "ci/pipeline.yml",
    "ci/pipeline-simple.yml",
    "ci/pipeline-artifactory.yml",
];

fn root() -> &'static Path {
    Path::new(ROOT)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} does not parse: {e}"))
}

/// Files under `dir` (relative to the repository) whose path ends with `suffix`, relative to the
/// repository, sorted.
fn files_ending(dir: &str, suffix: &str) -> Vec<String> {
    assert!(root().join(dir).is_dir(), "{dir} is not a directory");
    files_under(&root().join(dir))
        .into_iter()
        .map(|rel| format!("{dir}/{rel}"))
        .filter(|rel| rel.ends_with(suffix))
        .collect()
}

fn task_files() -> Vec<String> {
    let tasks = files_ending("ci/tasks", "/task.yml");
    assert!(tasks.len() >= 2, "no task files found: {tasks:?}");
    tasks
}

fn scripts() -> Vec<String> {
    let mut all = files_ending("ci", ".sh");
    all.extend(files_ending("scripts", ".sh"));
    assert!(all.len() >= 4, "scripts: {all:?}");
    all
}

/// `((name))` vars in a text (`((source:name.field))` counts as `source:name`).
fn vars_in(text: &str) -> BTreeSet<String> {
    let re = Regex::new(r"\(\(\s*([^()\s.]+)(?:\.[^()]*)?\s*\)\)").expect("regex");
    re.captures_iter(text).map(|c| c[1].to_owned()).collect()
}

/// The repository path of a file inside the config artifact (`release-monitor/ci/...`).
fn in_repo(path: &str) -> PathBuf {
    let rel = path
        .strip_prefix(&format!("{CONFIG_ARTIFACT}/"))
        .unwrap_or_else(|| panic!("{path} is not inside the {CONFIG_ARTIFACT} artifact"));
    root().join(rel)
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn params_example() -> BTreeMap<String, Value> {
    let v = yaml("params/example.yml");
    v.as_object()
        .expect("params/example.yml is a mapping")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Replaces `((var))` with its value in params/example.yml.
fn interpolate(text: &str, params: &BTreeMap<String, Value>) -> String {
    let re = Regex::new(r"\(\(\s*([^()\s]+)\s*\)\)").expect("regex");
    re.replace_all(text, |c: &regex::Captures| match params.get(&c[1]) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    })
    .into_owned()
}

/// What a job's plan has seen, step by step.
struct Walk<'a> {
    pipeline: &'a str,
    job: &'a str,
    resources: &'a BTreeMap<String, Value>,
    jobs: &'a BTreeMap<String, Value>,
    /// Every resource a get or put in this job names.
    used: BTreeSet<String>,
    /// (task file, artifact -> resource) for each task step, for the s3 file-name checks.
    tasks: Vec<(String, BTreeMap<String, String>)>,
    /// artifact -> resource of the gets seen so far (in any branch).
    got: BTreeMap<String, String>,
    /// Each put: (resource, file param).
    puts: Vec<(String, Option<String>)>,
    /// Each task step, with the vars it passes: (task file, vars).
    task_vars: Vec<(String, BTreeSet<String>)>,
}

impl Walk<'_> {
    fn ctx(&self) -> String {
        format!("{} job {}", self.pipeline, self.job)
    }

    fn resource_of(&self, step: &Value, key: &str) -> String {
        let name = step[key].as_str().expect("step name").to_owned();
        let resource = step["resource"].as_str().map_or(name, str::to_owned);
        assert!(
            self.resources.contains_key(&resource),
            "{}: {key} of unknown resource {resource}",
            self.ctx()
        );
        resource
    }

    /// Walks one step with the artifacts `avail`, and returns the artifacts after it.
    fn step(&mut self, step: &Value, avail: &BTreeSet<String>) -> BTreeSet<String> {
        let mut after = avail.clone();
        if let Some(name) = step.get("get").and_then(Value::as_str) {
            let resource = self.resource_of(step, "get");
            for job in str_list(&step["passed"]) {
                let other = self
                    .jobs
                    .get(&job)
                    .unwrap_or_else(|| panic!("{}: passed names unknown job {job}", self.ctx()));
                assert!(
                    job_uses(other, &resource),
                    "{}: passed: [{job}], but {job} neither gets nor puts {resource}",
                    self.ctx()
                );
            }
            self.used.insert(resource.clone());
            self.got.insert(name.to_owned(), resource);
            after.insert(name.to_owned());
        } else if let Some(name) = step.get("put").and_then(Value::as_str) {
            let resource = self.resource_of(step, "put");
            let file = step["params"]["file"].as_str().map(str::to_owned);
            if let Some(file) = &file {
                let artifact = file.split('/').next().unwrap_or_default();
                assert!(
                    avail.contains(artifact),
                    "{}: put {name} uploads {file}, but no earlier step provides {artifact}/ \
                     (available: {avail:?})",
                    self.ctx()
                );
            }
            self.used.insert(resource.clone());
            self.puts.push((resource, file));
            // The implicit get after a put.
            after.insert(name.to_owned());
        } else if let Some(name) = step.get("task").and_then(Value::as_str) {
            after = self.task(name, step, avail);
        } else if let Some(parallel) = step.get("in_parallel") {
            // A list of steps, or {steps: [...], limit, fail_fast}. Parallel steps do not see
            // each other's artifacts.
            let steps = if parallel.is_array() {
                parallel
            } else {
                &parallel["steps"]
            };
            let steps = steps
                .as_array()
                .unwrap_or_else(|| panic!("{}: in_parallel without steps", self.ctx()));
            for s in steps {
                after.extend(self.step(s, avail));
            }
        } else if let Some(steps) = step.get("do") {
            after = self.steps(steps, avail);
        } else if let Some(inner) = step.get("try") {
            after = self.step(inner, avail);
        } else {
            panic!("{}: unknown step {step}", self.ctx());
        }
        for hook in ["on_success", "on_failure", "on_error", "on_abort", "ensure"] {
            if let Some(h) = step.get(hook) {
                // A hook sees what its step produced; what it produces itself is not counted
                // on, since it may not run.
                self.step(h, &after);
            }
        }
        after
    }

    fn steps(&mut self, steps: &Value, avail: &BTreeSet<String>) -> BTreeSet<String> {
        let mut avail = avail.clone();
        for s in steps
            .as_array()
            .unwrap_or_else(|| panic!("{}: steps are not a list", self.ctx()))
        {
            avail = self.step(s, &avail);
        }
        avail
    }

    fn task(&mut self, name: &str, step: &Value, avail: &BTreeSet<String>) -> BTreeSet<String> {
        let ctx = format!("{} task {name}", self.ctx());
        let file = step["file"]
            .as_str()
            .unwrap_or_else(|| panic!("{ctx}: the task step has no file:"));
        let artifact = file.split('/').next().unwrap_or_default();
        assert!(
            avail.contains(artifact),
            "{ctx}: {file} is read from {artifact}/, which no earlier step provides"
        );
        let path = in_repo(file);
        assert!(path.is_file(), "{ctx}: {} does not exist", path.display());
        let rel = path
            .strip_prefix(root())
            .expect("in the repository")
            .to_string_lossy()
            .into_owned();
        let config = yaml(&rel);
        let input_mapping = step["input_mapping"].as_object();
        let output_mapping = step["output_mapping"].as_object();
        let mut artifacts = BTreeMap::new();
        for input in config["inputs"].as_array().into_iter().flatten() {
            let input_name = input["name"].as_str().expect("input name");
            let mapped = input_mapping
                .and_then(|m| m.get(input_name))
                .and_then(Value::as_str)
                .unwrap_or(input_name);
            let optional = input["optional"].as_bool().unwrap_or(false);
            assert!(
                optional || avail.contains(mapped),
                "{ctx}: input {input_name} (artifact {mapped}) is not available: {avail:?}"
            );
            if let Some(resource) = self.got.get(mapped) {
                artifacts.insert(input_name.to_owned(), resource.clone());
            }
        }
        let mut after = avail.clone();
        for output in config["outputs"].as_array().into_iter().flatten() {
            let output_name = output["name"].as_str().expect("output name");
            let mapped = output_mapping
                .and_then(|m| m.get(output_name))
                .and_then(Value::as_str)
                .unwrap_or(output_name);
            after.insert(mapped.to_owned());
        }
        // The step's params must be ones the task declares (a typo would be silently ignored).
        let declared = config["params"].as_object().cloned().unwrap_or_default();
        for key in step["params"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            assert!(
                declared.contains_key(key),
                "{ctx}: param {key} is not declared in {rel}"
            );
        }
        let vars: BTreeSet<String> = step["vars"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        self.task_vars.push((rel.clone(), vars));
        self.tasks.push((rel, artifacts));
        after
    }
}

fn job_uses(job: &Value, resource: &str) -> bool {
    fn walk(v: &Value, resource: &str) -> bool {
        match v {
            Value::Object(m) => {
                let named = ["get", "put"].iter().any(|k| {
                    m.get(*k).and_then(Value::as_str).is_some_and(|name| {
                        m.get("resource").and_then(Value::as_str).unwrap_or(name) == resource
                    })
                });
                named || m.values().any(|x| walk(x, resource))
            }
            Value::Array(a) => a.iter().any(|x| walk(x, resource)),
            _ => false,
        }
    }
    walk(&job["plan"], resource)
}

struct PipelineReport {
    puts: Vec<(String, Option<String>)>,
    tasks: Vec<(String, BTreeMap<String, String>)>,
    task_vars: Vec<(String, BTreeSet<String>)>,
    resources: BTreeMap<String, Value>,
}

fn walk_pipeline(rel: &str) -> PipelineReport {
    walk_pipeline_value(rel, &yaml(rel))
}

fn walk_pipeline_value(rel: &str, pipeline: &Value) -> PipelineReport {
    assert!(
        pipeline.get("resource_types").is_none(),
        "{rel}: declares resource_types; the standard types need none"
    );
    let mut resources = BTreeMap::new();
    for r in pipeline["resources"].as_array().expect("resources") {
        let name = r["name"].as_str().expect("resource name").to_owned();
        let ty = r["type"].as_str().expect("resource type");
        assert!(
            STANDARD_TYPES.contains(&ty),
            "{rel}: resource {name} has type {ty}, not a standard one"
        );
        assert!(
            resources.insert(name.clone(), r.clone()).is_none(),
            "{rel}: resource {name} twice"
        );
    }
    let mut jobs = BTreeMap::new();
    for j in pipeline["jobs"].as_array().expect("jobs") {
        let name = j["name"].as_str().expect("job name").to_owned();
        assert!(
            jobs.insert(name.clone(), j.clone()).is_none(),
            "{rel}: job {name} twice"
        );
    }
    let mut used = BTreeSet::new();
    let mut report = PipelineReport {
        puts: Vec::new(),
        tasks: Vec::new(),
        task_vars: Vec::new(),
        resources: resources.clone(),
    };
    for (name, job) in &jobs {
        let mut walk = Walk {
            pipeline: rel,
            job: name,
            resources: &resources,
            jobs: &jobs,
            used: BTreeSet::new(),
            tasks: Vec::new(),
            got: BTreeMap::new(),
            puts: Vec::new(),
            task_vars: Vec::new(),
        };
        let after = walk.steps(&job["plan"], &BTreeSet::new());
        for hook in ["on_success", "on_failure", "on_error", "on_abort", "ensure"] {
            if let Some(h) = job.get(hook) {
                walk.step(h, &after);
            }
        }
        used.extend(walk.used);
        report.puts.extend(walk.puts);
        report.tasks.extend(walk.tasks);
        report.task_vars.extend(walk.task_vars);
    }
    let unused: Vec<_> = resources.keys().filter(|r| !used.contains(*r)).collect();
    assert!(unused.is_empty(), "{rel}: unused resources {unused:?}");
    report
}

#[test]
fn pipelines_reference_existing_files_jobs_resources_and_artifacts() {
    for rel in PIPELINES {
        let report = walk_pipeline(rel);
        assert!(!report.tasks.is_empty(), "{rel}: no task step");
    }
}

#[test]
fn pipelines_serialise_the_jobs_that_use_the_version_db() {
    let pipeline = yaml("ci/pipeline.yml");
    for job in pipeline["jobs"].as_array().expect("jobs") {
        let name = job["name"].as_str().expect("name");
        assert_eq!(job["serial"], true, "{name}: serial");
        assert_eq!(
            str_list(&job["serial_groups"]),
            ["version-db"],
            "{name}: serial_groups"
        );
    }
}

#[test]
fn s3_file_names_match_what_the_tasks_read_and_write() {
    let params = params_example();
    let report = walk_pipeline("ci/pipeline.yml");
    let mut checked = BTreeSet::new();
    for (resource, file) in &report.puts {
        let source = &report.resources[resource]["source"];
        if report.resources[resource]["type"] != "s3" {
            continue;
        }
        let file = file
            .as_deref()
            .unwrap_or_else(|| panic!("put {resource} has no file"));
        let file_name = file.rsplit('/').next().expect("file name");
        if let Some(versioned) = source["versioned_file"].as_str() {
            // A get places the object under the basename of versioned_file; the put uploads
            // the file a task wrote. Both must be the file the tasks use.
            let base = versioned.rsplit('/').next().expect("basename");
            assert_eq!(
                base, file_name,
                "{resource}: versioned_file {versioned} vs put {file}"
            );
            checked.insert(base.to_owned());
        } else if let Some(regexp) = source["regexp"].as_str() {
            // The uploaded name (a glob) must give a key the regexp matches.
            let regexp = interpolate(regexp, &params);
            let dir = regexp.rsplit_once('/').map_or("", |(d, _)| d);
            let sample = file_name.replace('*', "20260101000000");
            let key = if dir.is_empty() {
                sample
            } else {
                format!("{dir}/{sample}")
            };
            let re = Regex::new(&format!("^{regexp}$")).expect("regexp compiles");
            assert!(
                re.is_match(&key),
                "{resource}: {regexp} does not match {key}"
            );
            checked.insert(file_name.to_owned());
        } else {
            panic!("s3 resource {resource} has neither versioned_file nor regexp");
        }
    }
    // Each s3 versioned_file read by a task is read under that name.
    for (task, artifacts) in &report.tasks {
        let script_path = task.replace("task.yml", "task.sh");
        let text = format!("{}\n{}", read(task), read(&script_path));
        for (input, resource) in artifacts {
            let r = &report.resources[resource];
            if let Some(versioned) = r["source"]["versioned_file"].as_str() {
                let base = versioned.rsplit('/').next().expect("basename");
                let path = format!("{input}/{base}");
                assert!(text.contains(&path), "{task} never uses {path}");
            }
        }
    }
    assert_eq!(
        checked,
        BTreeSet::from([
            "releases.json".to_owned(),
            "versions.json".to_owned(),
            "release-monitor-downloads-*.tgz".to_owned()
        ])
    );
    // The version database's first version is a usable database, not an empty file.
    let db = report
        .resources
        .get("version-db")
        .expect("version-db resource");
    let initial = db["source"]["initial_content_text"]
        .as_str()
        .expect("initial_content_text");
    let initial: Value = serde_json::from_str(initial).expect("initial content is JSON");
    assert_eq!(initial["metadata"]["version"], "1.0");
    assert!(initial["repositories"].is_object());
    assert!(db["source"]["initial_version"].is_string());
}

#[test]
fn every_var_is_defined_in_params_example_and_passed_to_the_tasks() {
    let params = params_example();
    let mut used = BTreeSet::new();
    for rel in PIPELINES {
        let vars = vars_in(&read(rel));
        for v in &vars {
            assert!(
                params.contains_key(v),
                "{rel}: (({v})) is not in params/example.yml"
            );
        }
        used.extend(vars);
        for (task, passed) in walk_pipeline(rel).task_vars {
            let needed = vars_in(&read(&task));
            for v in &needed {
                assert!(
                    params.contains_key(v),
                    "{task}: (({v})) is not in params/example.yml"
                );
            }
            assert_eq!(
                &needed, &passed,
                "{rel}: the step running {task} must pass exactly its vars"
            );
            used.extend(needed);
        }
    }
    for task in task_files() {
        used.extend(vars_in(&read(&task)));
    }
    let unused: Vec<_> = params.keys().filter(|k| !used.contains(*k)).collect();
    assert!(
        unused.is_empty(),
        "params/example.yml defines unused {unused:?}"
    );
    // Each one is commented.
    let text = read("params/example.yml");
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if let Some((key, _)) = line.split_once(':')
            && params.contains_key(key)
        {
            assert!(
                i > 0 && lines[i - 1].trim_start().starts_with('#'),
                "params/example.yml: {key} has no comment above it"
            );
        }
    }
}

#[test]
fn task_files_match_their_scripts() {
    let shell_vars: BTreeSet<&str> = ["PWD", "HOME", "PATH", "TMPDIR"].into();
    let read_re = Regex::new(r"\$\{#?([A-Z][A-Z0-9_]*)").expect("regex");
    for task in task_files() {
        let config = yaml(&task);
        assert_eq!(config["platform"], "linux", "{task}");
        assert_eq!(config["image_resource"]["type"], "registry-image", "{task}");
        let run_path = config["run"]["path"].as_str().expect("run.path");
        let script = in_repo(run_path);
        assert!(script.is_file(), "{task}: {run_path} does not exist");
        let mode = std::fs::metadata(&script)
            .expect("stat")
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{run_path} is not executable");
        let script_rel = script
            .strip_prefix(root())
            .expect("in the repository")
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            script_rel,
            task.replace("task.yml", "task.sh"),
            "{task}: run.path is not the task.sh beside it"
        );
        let text = read(&script_rel);
        for kind in ["inputs", "outputs"] {
            for item in config[kind].as_array().into_iter().flatten() {
                let name = item["name"].as_str().expect("name");
                assert!(
                    text.contains(name),
                    "{task}: {kind} {name} never appears in {script_rel}"
                );
            }
        }
        let declared: BTreeSet<String> = config["params"]
            .as_object()
            .expect("params")
            .keys()
            .cloned()
            .collect();
        let read_vars: BTreeSet<String> = read_re
            .captures_iter(&text)
            .map(|c| c[1].to_owned())
            .filter(|v| !shell_vars.contains(v.as_str()))
            .collect();
        assert_eq!(
            read_vars, declared,
            "{task}: the params {script_rel} reads vs the ones task.yml declares"
        );
        for (key, value) in config["params"].as_object().expect("params") {
            assert!(
                value.is_string(),
                "{task}: param {key} has no string default"
            );
        }
    }
}

#[test]
fn scripts_are_strict_and_never_print_secrets() {
    let eval = Regex::new(r"(^|[\s;&|(`])eval\b").expect("regex");
    let xtrace = Regex::new(r"set\s+(-[a-zA-Z]*x|-o\s+xtrace)").expect("regex");
    for rel in scripts() {
        let text = read(&rel);
        assert!(
            text.starts_with("#!/usr/bin/env bash\n"),
            "{rel}: not a bash script"
        );
        assert!(
            text.contains("\nset -euo pipefail\n"),
            "{rel}: no set -euo pipefail"
        );
        let mode = std::fs::metadata(root().join(&rel))
            .expect("stat")
            .permissions()
            .mode();
        assert!(mode & 0o111 != 0, "{rel} is not executable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split(" #").next().unwrap_or_default();
            if code.trim_start().starts_with('#') {
                continue;
            }
            assert!(!eval.is_match(code), "{rel}:{}: eval", n + 1);
            assert!(!xtrace.is_match(code), "{rel}:{}: set -x", n + 1);
            if ["echo", "printf", "cat"].iter().any(|w| code.contains(w)) {
                assert!(
                    !code.contains("TOKEN") && !code.contains("SECRET"),
                    "{rel}:{}: prints a secret? {line}",
                    n + 1
                );
            }
        }
    }
}

#[test]
fn bash_n_accepts_every_script() {
    for rel in scripts() {
        let out = Command::new("bash")
            .arg("-n")
            .arg(root().join(&rel))
            .output()
            .expect("run bash -n");
        assert!(
            out.status.success(),
            "bash -n {rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn shellcheck_accepts_every_script_when_installed() {
    let Ok(version) = Command::new("shellcheck").arg("--version").output() else {
        eprintln!("shellcheck is not installed: skipped");
        return;
    };
    assert!(version.status.success());
    for rel in scripts() {
        let out = Command::new("shellcheck")
            .arg(root().join(&rel))
            .output()
            .expect("run shellcheck");
        assert!(
            out.status.success(),
            "shellcheck {rel}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn dockerfile_instructions() -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            if !current.trim().is_empty() {
                out.push(current.trim().to_owned());
            }
            current.clear();
        }
    }
    out
}

#[test]
fn dockerfile_copies_existing_files_that_dockerignore_lets_through() {
    let instructions = dockerfile_instructions();
    let ignore = read(".dockerignore");
    let allowed: BTreeSet<&str> = ignore
        .lines()
        .filter_map(|l| l.trim().strip_prefix('!'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    assert!(
        ignore.lines().any(|l| l.trim() == "*"),
        ".dockerignore should exclude everything but what is copied"
    );
    let mut copied = Vec::new();
    for ins in &instructions {
        let Some(args) = ins.strip_prefix("COPY ") else {
            continue;
        };
        let words: Vec<&str> = args.split_whitespace().collect();
        if words.iter().any(|w| w.starts_with("--from")) {
            continue;
        }
        let words: Vec<&str> = words.into_iter().filter(|w| !w.starts_with("--")).collect();
        let (_, sources) = words.split_last().expect("COPY has a destination");
        for src in sources {
            let path = root().join(src);
            assert!(
                path.exists(),
                "Dockerfile copies {src}, which does not exist"
            );
            let top = src.trim_end_matches('/');
            assert!(
                allowed.contains(top),
                ".dockerignore leaves {src} out of the build context"
            );
            copied.push(top.to_owned());
        }
    }
    assert!(copied.contains(&"Cargo.lock".to_owned()), "{copied:?}");
    // Every path the root manifest names (targets, path dependencies, a build script) is in
    // what is copied, or the build in the image fails.
    let manifest = read("Cargo.toml");
    let path_re = Regex::new(r#"(?m)\b(?:path|build)\s*=\s*"([^"]+)""#).expect("regex");
    for c in path_re.captures_iter(&manifest) {
        let p = &c[1];
        assert!(
            copied
                .iter()
                .any(|top| p == top || p.starts_with(&format!("{top}/"))),
            "Cargo.toml names {p}, which the Dockerfile does not copy"
        );
    }
    assert!(
        !root().join("build.rs").exists() || copied.iter().any(|c| c == "build.rs"),
        "build.rs exists but is not copied"
    );
}

#[test]
fn dockerfile_builds_a_non_root_image_with_the_resource_links() {
    let instructions = dockerfile_instructions();
    let text = instructions.join("\n");
    let froms: Vec<&String> = instructions
        .iter()
        .filter(|i| i.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 4, "{froms:?}");
    assert!(froms[0].contains("rust:1.95-slim-trixie"), "{}", froms[0]);
    assert!(froms[1].contains("debian:trixie-slim"), "{}", froms[1]);
    assert!(text.contains("cargo build --release --locked --bin release-monitor"));
    assert!(text.contains("ca-certificates"));
    for name in ["check", "in", "out"] {
        assert!(
            text.contains(&format!(
                "/usr/local/bin/release-monitor /opt/resource/{name}"
            )),
            "no /opt/resource/{name} link"
        );
    }
    let user = instructions
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("USER "))
        .expect("a USER instruction");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(uid != "0" && uid != "root", "the image runs as {user}");
    // The last stage (the default target) is the non-root runtime; `--target resource` is the
    // resource-type variant.
    assert_eq!(
        froms.last().map(|f| f.as_str()),
        Some("FROM runtime"),
        "{froms:?}"
    );
    assert!(
        froms
            .iter()
            .any(|f| f.as_str() == "FROM runtime AS resource"),
        "{froms:?}"
    );
    assert!(
        !instructions.iter().any(|i| i.starts_with("ENTRYPOINT")),
        "ENTRYPOINT is ignored by Concourse; use CMD"
    );
    assert!(instructions.contains(&r#"CMD ["release-monitor", "--help"]"#.to_owned()));
    for label in [
        "org.opencontainers.image.source",
        "org.opencontainers.image.licenses",
    ] {
        assert!(text.contains(label), "no {label} label");
    }
    assert!(text.contains(r#"org.opencontainers.image.licenses="MIT OR Apache-2.0""#));
}

/// Every pipeline var and task param is described in the book's Concourse chapter (the README is
/// the front door; the reference is the book). The name is kept from when this was the README's
/// Concourse section.
#[test]
fn readme_documents_every_var_and_param() {
    let chapter = read("docs/src/concourse.md");
    let mut names: BTreeSet<String> = params_example().into_keys().collect();
    for task in task_files() {
        let config = yaml(&task);
        names.extend(
            config["params"]
                .as_object()
                .expect("params")
                .keys()
                .cloned(),
        );
    }
    for name in names {
        assert!(
            chapter.contains(&format!("`{name}`")),
            "docs/src/concourse.md (the book's Concourse chapter) does not mention `{name}`"
        );
    }
}

/// A pipeline using every nesting form, mappings and hooks, around the real check-releases task.
const NESTED: &str = r#"
resources:
  - {name: release-monitor, type: git, source: {uri: "https://example.invalid/x.git"}}
  - {name: db, type: s3, source: {bucket: b, versioned_file: v/versions.json}}
  - {name: report, type: s3, source: {bucket: b, versioned_file: m/releases.json}}
jobs:
  - name: a
    plan:
      - in_parallel:
          limit: 2
          steps:
            - get: release-monitor
            - try:
                get: db
      - do:
          - task: check
            file: release-monitor/ci/tasks/check-releases/task.yml
            vars: {image_repository: r, image_tag: t}
            input_mapping: {version-db: db}
            output_mapping: {monitor-output: report}
            on_success:
              put: report
              params: {file: PUT_FILE}
            on_failure:
              do:
                - put: report
                  params: {file: report/releases.json}
            ensure:
              in_parallel:
                - put: db
                  params: {file: db/versions.json}
  - name: b
    plan:
      - get: report
        passed: [a]
"#;

fn nested(put_file: &str) -> Value {
    serde_saphyr::from_str(&NESTED.replace("PUT_FILE", put_file)).expect("parses")
}

#[test]
fn the_plan_walker_follows_nested_steps_mappings_and_hooks() {
    let report = walk_pipeline_value("nested", &nested("report/releases.json"));
    assert_eq!(report.tasks.len(), 1);
    assert_eq!(report.puts.len(), 3);
    // The task's inputs resolved through input_mapping to the resources they came from.
    assert_eq!(
        report.tasks[0].1,
        BTreeMap::from([
            ("release-monitor".to_owned(), "release-monitor".to_owned()),
            ("version-db".to_owned(), "db".to_owned()),
        ])
    );
}

#[test]
#[should_panic(expected = "no earlier step provides monitor-output/")]
fn the_plan_walker_sees_output_mapping_in_a_hook() {
    // The task's output is mapped to `report`, so `monitor-output` is not an artifact.
    walk_pipeline_value("nested", &nested("monitor-output/releases.json"));
}

#[test]
#[should_panic(expected = "which no earlier step provides")]
fn the_plan_walker_keeps_parallel_steps_apart() {
    let pipeline: Value = serde_saphyr::from_str(
        r#"
resources:
  - {name: release-monitor, type: git, source: {uri: "https://example.invalid/x.git"}}
jobs:
  - name: a
    plan:
      - in_parallel:
          - get: release-monitor
          - task: check
            file: release-monitor/ci/tasks/check-releases/task.yml
"#,
    )
    .expect("parses");
    walk_pipeline_value("parallel", &pipeline);
}

#[test]
#[should_panic(expected = "passed names unknown job")]
fn the_plan_walker_checks_passed_jobs() {
    let mut pipeline = nested("report/releases.json");
    pipeline["jobs"][1]["plan"][0]["passed"] = serde_json::json!(["nope"]);
    walk_pipeline_value("nested", &pipeline);
}

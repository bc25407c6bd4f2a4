//! Scenario parsing: the README example, the demo file, validation errors, round trips.

use std::path::Path;

use fake_github::{Digest, FakeGithub, FaultKind, Origin, PathMatch, Scenario};

fn readme_example() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_string()
}

#[test]
fn the_readme_example_parses_with_every_feature() {
    let scenario = Scenario::from_yaml(&readme_example()).unwrap();
    assert_eq!(scenario.token.as_deref(), Some("test-token-123"));
    assert_eq!(scenario.rate_limit.remaining, Some(4999));
    let tool = &scenario.repositories[0];
    assert_eq!(tool.releases[0].tag_name, "v1.2.0");
    let assets = &tool.releases[0].assets;
    assert_eq!(assets[0].size, Some(1_048_576));
    assert_eq!(assets[0].seed.as_deref(), Some("v2"));
    assert_eq!(assets[1].digest, Digest::Auto);
    assert_eq!(assets[2].digest, Digest::Omit);
    assert!(matches!(assets[3].digest, Digest::Literal(_)));
    assert_eq!(assets[3].size_override, Some(10));
    assert_eq!(
        assets[4].content_base64.as_deref(),
        Some("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==")
    );
    assert!(scenario.repositories[1].private);

    let faults = &scenario.faults;
    assert_eq!(faults.len(), 9);
    assert_eq!(faults[0].kind, FaultKind::Statuses(vec![502, 502]));
    assert_eq!(
        faults[1].kind,
        FaultKind::RateLimited {
            status: 403,
            reset_in: 2
        }
    );
    assert_eq!(faults[1].times, Some(1));
    assert_eq!(
        faults[2].kind,
        FaultKind::SecondaryRateLimit {
            status: 403,
            retry_after: Some(1)
        }
    );
    assert_eq!(faults[3].rule.origin, Origin::Assets);
    assert_eq!(faults[3].rule.path, PathMatch::Prefix("/download/".into()));
    assert_eq!(faults[3].kind, FaultKind::TruncateAfter(1000));
    assert_eq!(faults[4].kind, FaultKind::StallAfter(500));
    assert_eq!(faults[5].kind, FaultKind::ResetAfter(2000));
    assert_eq!(faults[6].kind, FaultKind::CorruptAt(4096));
    assert_eq!(faults[6].times, Some(1));
    assert_eq!(
        faults[7].kind,
        FaultKind::RedirectTo("http://127.0.0.1:9/x".into())
    );
    assert_eq!(faults[7].rule.method.as_deref(), Some("GET"));
    assert_eq!(faults[8].kind, FaultKind::IgnoreRange);

    // It also serves.
    drop(FakeGithub::start(scenario).unwrap());
}

#[test]
fn yaml_and_json_round_trips() {
    let scenario = Scenario::from_yaml(&readme_example()).unwrap();
    let yaml = scenario.to_yaml().unwrap();
    assert_eq!(Scenario::from_yaml(&yaml).unwrap(), scenario);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    std::fs::write(&path, serde_json::to_string(&scenario).unwrap()).unwrap();
    assert_eq!(Scenario::from_file(&path).unwrap(), scenario);
}

#[test]
fn the_demo_scenario_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.yaml");
    let scenario = Scenario::from_file(&path).unwrap();
    let names: Vec<String> = scenario
        .repositories
        .iter()
        .map(|r| format!("{}/{}", r.owner, r.repo))
        .collect();
    assert_eq!(
        names,
        [
            "jqlang/jq",
            "mikefarah/yq",
            "BurntSushi/ripgrep",
            "junegunn/fzf"
        ]
    );
    for repo in &scenario.repositories {
        assert!(repo.releases.iter().any(|r| r.prerelease), "{}", repo.repo);
    }
}

#[test]
fn invalid_scenarios_are_refused_with_a_reason() {
    let cases = [
        (
            "repositories: [{owner: a, repo: b, releases: [{tag_name: v1, assets: [{name: x, content: hi, size: 3}]}]}]",
            "give one of",
        ),
        (
            "repositories: [{owner: a, repo: b, releases: [{tag_name: v1, assets: [{name: x, content: hi, content_base64: aGk=}]}]}]",
            "give one of",
        ),
        (
            "repositories: [{owner: a, repo: b, releases: [{tag_name: v1, assets: [{name: x, content_base64: \"not base64!\"}]}]}]",
            "content_base64 is not base64",
        ),
        (
            "repositories: [{owner: a, repo: b, releases: [{tag_name: v1}, {tag_name: v1}]}]",
            "listed twice",
        ),
        (
            "repositories: [{owner: a, repo: b}, {owner: A, repo: B}]",
            "listed twice",
        ),
        (
            "repositories: [{owner: a, repo: b, releases: [{tag_name: v1, published_at: yesterday}]}]",
            "RFC 3339",
        ),
        (
            "faults: [{path: /x, responses: [502], truncate_after: 3}]",
            "more than one action",
        ),
        ("faults: [{path: /x}]", "needs one of"),
        (
            "faults: [{path: /x, responses: [99]}]",
            "not an HTTP status",
        ),
        ("repositories: [{owner: a, repo: b, stars: 3}]", "stars"),
    ];
    for (yaml, expected) in cases {
        let err = Scenario::from_yaml(yaml).unwrap_err().to_string();
        assert!(err.contains(expected), "{yaml}\n=> {err}");
    }
    let err = Scenario::from_file(Path::new("/nonexistent/scenario.yaml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/scenario.yaml"), "{err}");
}

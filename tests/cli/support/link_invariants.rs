//! The `Link` header parser's invariants, shared by the fuzz target
//! (`fuzz/fuzz_targets/link_header.rs`) and by `tests/cli/fuzz_seeds.rs`, which replays the fuzz
//! seeds in `cargo test`.
//!
//! For a header value `h` (UTF-8 text), `next_link(h)`, when it returns a URL, must
//! - return a slice of `h` itself (the client follows only what GitHub sent; nothing is built),
//!   trimmed, with no `>` in it, between a `<` and the next `>` of `h`;
//! - have found `next` (any case) after it in `h`;
//!
//! and the parser is compositional: putting a well-formed link that is not `rel="next"` in front
//! (`<https://api.github.com/x?page=1>; rel="prev", ` + `h`) never changes the answer.

use release_monitor::github::link::next_link;

/// A well-formed entry that is not the next page.
const PREV: &str = r#"<https://api.github.com/repositories/1/releases?page=1>; rel="prev", "#;

/// Checks every invariant on one input.
pub fn check_input(header: &str) {
    let next = next_link(header);
    if let Some(url) = next {
        let start = (url.as_ptr() as usize)
            .checked_sub(header.as_ptr() as usize)
            .expect("the URL is a slice of the header");
        let end = start + url.len();
        assert!(
            end <= header.len(),
            "the URL {url:?} is not a slice of the header"
        );
        assert_eq!(url, url.trim(), "the URL is not trimmed");
        assert!(!url.contains('>'), "the URL {url:?} contains `>`");
        let before = header[..start].trim_end();
        assert!(before.ends_with('<'), "no `<` before the URL {url:?}");
        let after = header[end..].trim_start();
        assert!(after.starts_with('>'), "no `>` after the URL {url:?}");
        assert!(
            after.to_ascii_lowercase().contains("next"),
            "no `next` after the URL {url:?}"
        );
    }
    let prefixed = format!("{PREV}{header}");
    assert_eq!(
        next_link(&prefixed),
        next,
        "a `prev` link in front changed the answer"
    );
}

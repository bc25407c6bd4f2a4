//! The `Link` response header, for pagination: GitHub says where the next page is, and we never
//! build page URLs ourselves.

/// The URL of the `rel="next"` link in a `Link` header value, if any.
///
/// The header is a comma-separated list of `<url>; param=value; ...` entries. Commas inside
/// `<...>` belong to the URL; `rel` may list several space-separated relations, quoted or not.
pub fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let after = &rest[start + 1..];
        let end = after.find('>')?;
        let url = &after[..end];
        let params_and_more = &after[end + 1..];
        // The parameters end at the first comma outside double quotes.
        let mut in_quotes = false;
        let end_of_params = params_and_more
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    in_quotes = !in_quotes;
                }
                c == ',' && !in_quotes
            })
            .map_or(params_and_more.len(), |(i, _)| i);
        let (params, next) = params_and_more.split_at(end_of_params);
        if params.split(';').any(is_rel_next) {
            return Some(url.trim());
        }
        if next.is_empty() {
            return None;
        }
        rest = next;
    }
}

fn is_rel_next(param: &str) -> bool {
    let Some((key, value)) = param.split_once('=') else {
        return false;
    };
    key.trim().eq_ignore_ascii_case("rel")
        && value
            .trim()
            .trim_matches('"')
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("next"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_githubs_links() {
        let h = r#"<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/releases?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_link(h),
            Some("https://api.github.com/repositories/1/releases?per_page=100&page=2")
        );
        let last_page = r#"<https://x/r?page=1>; rel="first", <https://x/r?page=4>; rel="prev""#;
        assert_eq!(next_link(last_page), None);
    }

    #[test]
    fn tolerates_spacing_case_multiple_rels_and_commas_in_urls() {
        assert_eq!(
            next_link("<https://x/a,b?p=2>;rel=next"),
            Some("https://x/a,b?p=2")
        );
        assert_eq!(
            next_link(r#"<https://x/1>; REL="prev next""#),
            Some("https://x/1")
        );
        assert_eq!(
            next_link(r#"<https://x/1>; title="a, b"; rel="last", <https://x/2>; rel="next""#),
            Some("https://x/2")
        );
        assert_eq!(
            next_link(r#"<https://x/1>; title="a, b"; rel="next""#),
            Some("https://x/1")
        );
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
        assert_eq!(next_link(r#"<https://x/1>; rel="nextish""#), None);
    }
}

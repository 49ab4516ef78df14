//! Opaque page tokens for keyset pagination.
//!
//! A token carries the sort key of the last row served and the filters the
//! list was asked with, so a page can never silently skip or repeat rows and
//! a token cannot be replayed against different filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reserve_core::Violations;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A page of rows and the token for the next one.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// Rows of this page.
    pub items: Vec<T>,
    /// Token for the next page; empty on the last.
    pub next_token: String,
}

#[derive(Serialize, Deserialize)]
struct Token<K> {
    /// Sort key of the last row served.
    k: K,
    /// The filters the list was asked with.
    f: String,
}

/// Reads a page token for a list asked with `filters`. Empty means "from the start".
pub fn decode<K: DeserializeOwned>(token: &str, filters: &str) -> Result<Option<K>, Violations> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Violations::one(
            "page_token",
            "is not a token from this list; start again without one",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let t: Token<K> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if t.f != filters {
        return Err(Violations::one(
            "page_token",
            "was issued for different filters; send the same filters as the first page or start again",
        ));
    }
    Ok(Some(t.k))
}

/// Cuts `rows` (fetched with one extra row) to `size` and makes the next token.
pub fn finish<T, K: Serialize>(
    mut rows: Vec<T>,
    size: u32,
    filters: &str,
    key: impl Fn(&T) -> K,
) -> Page<T> {
    let size = size as usize;
    let next_token = if rows.len() > size {
        rows.truncate(size);
        rows.last()
            .and_then(|last| {
                serde_json::to_vec(&Token {
                    k: key(last),
                    f: filters.to_string(),
                })
                .ok()
            })
            .map(|b| URL_SAFE_NO_PAD.encode(b))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Page {
        items: rows,
        next_token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_only_with_the_same_filters() {
        let p = finish(vec![1, 2, 3], 2, "tier=3", |x| *x);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(decode::<i32>(&p.next_token, "tier=3").unwrap(), Some(2));
        assert!(decode::<i32>(&p.next_token, "tier=4").is_err());
        assert!(decode::<i32>("garbage!", "tier=3").is_err());
        assert_eq!(decode::<i32>("", "x").unwrap(), None);
    }

    #[test]
    fn the_last_page_has_no_token() {
        let p = finish(vec![1, 2], 2, "", |x| *x);
        assert_eq!(p.next_token, "");
    }
}

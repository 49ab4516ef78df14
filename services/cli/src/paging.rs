//! Lists are read to the end, page after page, so nothing is silently left
//! out; a `--limit` the user gives stops early and says that more exist.

use crate::output::Format;
use std::future::Future;

/// The largest page the server serves.
const MAX_PAGE: usize = 1000;

/// How many rows a list command shows: all of them unless a limit is given.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct LimitArg {
    /// Show at most this many (default: all).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// The rows read and, when the limit stopped the reading, the token of the
/// rest (empty when the list was read to its end).
#[derive(Debug, PartialEq)]
pub struct Fetched<T> {
    /// The rows, in the server's order.
    pub items: Vec<T>,
    /// Where the rest starts; empty when nothing is left.
    pub next_page_token: String,
}

impl<T> Fetched<T> {
    /// Whether rows beyond the limit exist.
    pub fn more(&self) -> bool {
        !self.next_page_token.is_empty()
    }

    /// Says, after the rows, that the limit cut the list: below the table,
    /// or on standard error so JSON output stays one message.
    pub fn note_more(&self, fmt: Format) {
        if !self.more() {
            return;
        }
        let note = format!(
            "showing the first {}; more exist (raise --limit, or leave it out to see all)",
            self.items.len()
        );
        match fmt {
            Format::Table => println!("{note}"),
            Format::Json => eprintln!("{note}"),
        }
    }
}

/// Reads pages with `page(page_token, page_size)` until the list ends or
/// `limit` rows are read. Pages are never larger than what is still wanted,
/// so the returned token continues exactly after the last row shown.
pub async fn fetch<T, F, Fut>(limit: LimitArg, mut page: F) -> Result<Fetched<T>, tonic::Status>
where
    F: FnMut(String, i32) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let limit = limit.limit.map(|n| n as usize);
    let mut items = Vec::new();
    let mut token = String::new();
    loop {
        let want = limit.map_or(MAX_PAGE, |n| n.saturating_sub(items.len()));
        if want == 0 {
            return Ok(Fetched {
                items,
                next_page_token: token,
            });
        }
        let size = i32::try_from(want.min(MAX_PAGE)).unwrap_or(1000);
        let (rows, next) = page(token, size).await?;
        if rows.is_empty() && !next.is_empty() {
            return Err(tonic::Status::internal(
                "the server returned an empty page with a next page token",
            ));
        }
        items.extend(rows);
        if next.is_empty() {
            return Ok(Fetched {
                items,
                next_page_token: next,
            });
        }
        token = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A list of `n` numbers served in pages, recording the sizes asked for.
    async fn serve(n: usize, limit: Option<u32>, asked: &RefCell<Vec<i32>>) -> Fetched<usize> {
        fetch(LimitArg { limit }, |token, size| {
            asked.borrow_mut().push(size);
            let start: usize = token.parse().unwrap_or(0);
            let end = (start + size as usize).min(n);
            let next = if end < n {
                end.to_string()
            } else {
                String::new()
            };
            async move { Ok(((start..end).collect(), next)) }
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn without_a_limit_every_page_is_read() {
        let asked = RefCell::new(vec![]);
        let f = serve(2500, None, &asked).await;
        assert_eq!(f.items, (0..2500).collect::<Vec<_>>());
        assert!(!f.more());
        assert_eq!(*asked.borrow(), vec![1000, 1000, 1000]);
    }

    #[tokio::test]
    async fn a_limit_stops_exactly_there_and_keeps_the_token_of_the_rest() {
        let asked = RefCell::new(vec![]);
        let f = serve(2500, Some(1200), &asked).await;
        assert_eq!(f.items.len(), 1200);
        assert_eq!(f.next_page_token, "1200");
        assert!(f.more());
        assert_eq!(*asked.borrow(), vec![1000, 200]);
    }

    #[tokio::test]
    async fn a_limit_beyond_the_end_reads_to_the_end_and_says_nothing_more() {
        let asked = RefCell::new(vec![]);
        let f = serve(3, Some(10), &asked).await;
        assert_eq!(f.items, vec![0, 1, 2]);
        assert!(!f.more());
    }
}

//! Queries whose WHERE clause depends on the filters a caller gave.

use crate::error::StoreError;
use sqlx::Executor;
use sqlx::any::AnyRow;

/// Appends `$n` placeholders and their values to a dynamic query.
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends `fragment` with `?` replaced by the next placeholder.
    pub(crate) fn push(&mut self, fragment: &str, arg: Arg) -> &mut Self {
        self.args.push(arg);
        let n = self.args.len();
        self.text.push_str(&fragment.replace('?', &format!("${n}")));
        self
    }

    /// Binds the value of `$1` when the text already refers to it; call
    /// before any other argument.
    pub(crate) fn bind_first(&mut self, arg: Arg) -> &mut Self {
        debug_assert!(
            self.args.is_empty(),
            "bind_first must come before other arguments"
        );
        self.args.insert(0, arg);
        self
    }

    /// Appends `prefix` and a parenthesised list of placeholders for `values`.
    pub(crate) fn in_list(
        &mut self,
        prefix: &str,
        values: impl IntoIterator<Item = String>,
    ) -> &mut Self {
        self.text.push_str(prefix);
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.args.push(Arg::Text(v));
            let n = self.args.len();
            self.text.push_str(&format!("${n}"));
        }
        self.text.push(')');
        self
    }

    /// Runs a statement and returns how many rows it changed.
    pub(crate) async fn execute<'c, E: Executor<'c, Database = sqlx::Any>>(
        &self,
        ex: E,
    ) -> Result<u64, StoreError> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::OptText(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        Ok(q.execute(ex).await?.rows_affected())
    }

    pub(crate) fn raw(&mut self, fragment: &str) -> &mut Self {
        self.text.push_str(fragment);
        self
    }

    pub(crate) async fn fetch_all<'c, E: Executor<'c, Database = sqlx::Any>>(
        &self,
        ex: E,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::OptText(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        Ok(q.fetch_all(ex).await?)
    }
}

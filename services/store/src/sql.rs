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
                Arg::Int(i) => q.bind(*i),
            };
        }
        Ok(q.fetch_all(ex).await?)
    }
}

//! Where a depot sits in the tree, as a materialised path.

use super::DepotCode;
use serde::{Deserialize, Serialize};

/// Materialised path of a depot in the tree: `/HB/HB-SY/HB-SY-ZS/`.
/// Depot codes cannot contain `/`, so prefix tests are exact subtree tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DepotPath(String);

impl DepotPath {
    /// The path of a root depot.
    pub fn root(code: &DepotCode) -> Self {
        Self(format!("/{}/", code.as_str()))
    }

    /// The path of a child of this depot.
    pub fn child(&self, code: &DepotCode) -> Self {
        Self(format!("{}{}/", self.0, code.as_str()))
    }

    /// Wraps a path read from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The path text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this depot or below it.
    pub fn covers(&self, other: &DepotPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// Codes from the root down to this depot.
    pub fn codes(&self) -> Vec<&str> {
        self.0.split('/').filter(|s| !s.is_empty()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DepotCode {
        DepotCode::parse(s).unwrap()
    }

    #[test]
    fn a_path_covers_itself_and_its_subtree_but_not_siblings_sharing_a_prefix() {
        let hb = DepotPath::root(&code("HB"));
        let sy = hb.child(&code("SY"));
        let sy2 = hb.child(&code("SY2"));
        let zs = sy.child(&code("ZS"));
        assert!(sy.covers(&sy));
        assert!(sy.covers(&zs));
        assert!(!sy.covers(&sy2));
        assert!(!zs.covers(&sy));
        assert_eq!(zs.codes(), vec!["HB", "SY", "ZS"]);
    }
}

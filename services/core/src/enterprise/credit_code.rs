//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18
//! characters from a 31-character alphabet (digits and capitals without I,
//! O, S, V, Z), the last a check character computed from the first 17.

use serde::{Deserialize, Serialize};

/// The code's alphabet; a character's value is its position.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1 to 17 (3^(i-1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code whose check character is right.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CreditCode(String);

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character of the first 17 characters.
fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let r = (31 - sum % 31) % 31;
    ALPHABET.get(r as usize).copied()
}

impl CreditCode {
    /// Checks length, alphabet and the check character. Lower-case letters
    /// are taken as capitals; surrounding spaces are ignored.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim().to_ascii_uppercase();
        let n = v.chars().count();
        if n != 18 {
            return Err(format!("must be 18 characters (got {n})"));
        }
        let b = v.as_bytes();
        if let Some(bad) = v
            .chars()
            .find(|c| !c.is_ascii() || value(*c as u8).is_none())
        {
            return Err(format!(
                "contains '{bad}': only digits and capitals other than I, O, S, V and Z are used"
            ));
        }
        match check_char(&b[..17]) {
            Some(c) if c == b[17] => Ok(Self(v)),
            Some(c) => Err(format!(
                "has the wrong check character '{}' (GB 32100 gives '{}'); check for a mistyped character",
                b[17] as char, c as char
            )),
            None => Err("is not a unified social credit code".into()),
        }
    }

    /// Wraps a code read from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: [&str; 3] = [
        "91350100M000100Y43",
        "91110108551385082Q",
        "91420300MA49XXXX0X",
    ];

    #[test]
    fn valid_codes_pass_and_lower_case_is_taken_as_capitals() {
        for c in VALID {
            assert_eq!(CreditCode::parse(c).unwrap().as_str(), c);
        }
        assert!(CreditCode::parse(" 91350100m000100y43 ").is_ok());
    }

    #[test]
    fn every_one_character_corruption_is_caught() {
        for code in VALID {
            let b = code.as_bytes();
            for i in 0..18 {
                for &c in ALPHABET.iter() {
                    if c == b[i] {
                        continue;
                    }
                    let mut bad = b.to_vec();
                    bad[i] = c;
                    let bad = String::from_utf8(bad).unwrap();
                    assert!(CreditCode::parse(&bad).is_err(), "{bad} passed");
                }
            }
        }
    }

    #[test]
    fn wrong_length_and_letters_outside_the_alphabet_are_refused_with_why() {
        assert!(
            CreditCode::parse("91350100M000100Y4")
                .unwrap_err()
                .contains("18 characters")
        );
        assert!(
            CreditCode::parse("91350100M000100Y433")
                .unwrap_err()
                .contains("(got 19)")
        );
        assert!(
            CreditCode::parse("91350100M0001O0Y43")
                .unwrap_err()
                .contains("'O'")
        );
        assert!(
            CreditCode::parse("91350100M000100Y44")
                .unwrap_err()
                .contains("'3'")
        );
        assert!(CreditCode::parse("").is_err());
        assert!(CreditCode::parse("九1350100M000100Y43").is_err());
    }
}

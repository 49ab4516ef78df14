//! Owners' private data: the resident identity number (GB 11643), bank
//! account and phone, how they are checked, and how everyone but finance
//! sees them (masked). The values themselves never leave the sealed store
//! except in finance's replies; error messages about them never quote them.

use serde::{Deserialize, Serialize};

/// Weights of the first 17 digits of a resident identity number.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder mod 11.
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// A resident identity number (居民身份证号码, GB 11643-1999) whose check
/// digit is right.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentId(String);

impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", mask(&self.0, 4, 4))
    }
}

impl ResidentId {
    /// Checks length, digits, birth date plausibility and the check digit.
    /// The message never repeats the number.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim().to_ascii_uppercase();
        let b = v.as_bytes();
        if b.len() != 18 {
            return Err(format!("must be 18 characters (got {})", v.chars().count()));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err("must be 17 digits and a check digit (0-9 or X)".into());
        }
        let month = (b[10] - b'0') * 10 + (b[11] - b'0');
        let day = (b[12] - b'0') * 10 + (b[13] - b'0');
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err("has no valid birth date in digits 7 to 14".into());
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(ID_WEIGHTS)
            .map(|(c, w)| u32::from(c - b'0') * w)
            .sum();
        if ID_CHECK[(sum % 11) as usize] != b[17] {
            return Err("has the wrong check digit (GB 11643); check for a mistyped digit".into());
        }
        Ok(Self(v))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Keeps the first `head` and last `tail` characters and stars the rest:
/// `4203**********1234`; never shows more than a quarter at each end.
pub fn mask(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    // At least half is always hidden, however short the value.
    let (head, tail) = (head.min(chars.len() / 4), tail.min(chars.len() / 4));
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(chars.len());
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// A bank account number: 8 to 32 digits (spaces and dashes dropped).
pub fn parse_bank_account(raw: &str) -> Result<String, String> {
    let v: String = raw.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if v.is_empty() {
        return Err("is required: the account compensation is paid into".into());
    }
    if !(8..=32).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be 8 to 32 digits".into());
    }
    Ok(v)
}

/// A phone number: 5 to 20 digits, with an optional leading `+` and dashes.
pub fn parse_phone(raw: &str) -> Result<String, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err("is required: how the owner is reached".into());
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let ok = v
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || b == b'-' || (i == 0 && b == b'+'));
    if !ok || !(5..=20).contains(&digits) {
        return Err("must be 5 to 20 digits (a leading + and dashes allowed)".into());
    }
    Ok(v.to_string())
}

/// The private data of one owner, as sealed. Only finance reads it whole.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateOwner {
    /// Resident identity number of a person, or the company's unified
    /// social credit code.
    pub id_number: String,
    /// Bank account compensation is paid into.
    pub bank_account: String,
    /// Bank name.
    pub bank_name: String,
    /// Phone.
    pub phone: String,
}

impl std::fmt::Debug for PrivateOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.masked();
        f.debug_struct("PrivateOwner")
            .field("id_number", &m.id_number)
            .field("bank_account", &m.bank_account)
            .field("phone", &m.phone)
            .finish()
    }
}

impl PrivateOwner {
    /// The same data as everyone but finance sees it.
    pub fn masked(&self) -> MaskedOwner {
        MaskedOwner {
            id_number: mask(&self.id_number, 4, 4),
            bank_account: mask(&self.bank_account, 4, 4),
            bank_name: self.bank_name.clone(),
            phone: mask(&self.phone, 3, 4),
        }
    }
}

/// Private data masked: safe to store with the record, audit and show.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedOwner {
    /// `4203**********1234`.
    pub id_number: String,
    /// `6222********1234`.
    pub bank_account: String,
    /// The bank's name is not private.
    pub bank_name: String,
    /// `138****1234`.
    pub phone: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resident_id_with_the_right_check_digit_is_accepted_and_a_wrong_one_refused_without_echoing_it()
     {
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("420302198001011232").is_ok());
        assert!(ResidentId::parse("420302198001011234").is_err());
        let e = ResidentId::parse("110105194912310021").unwrap_err();
        assert!(e.contains("check digit"), "{e}");
        assert!(!e.contains("110105"), "the number must not be echoed: {e}");
        assert!(ResidentId::parse("1101051949123100").is_err());
        assert!(ResidentId::parse("11010519491331002X").is_err(), "month 13");
        assert_eq!(
            ResidentId::parse("11010519491231002x").unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn masks_keep_four_and_four_and_phones_three_and_four() {
        assert_eq!(mask("42030219800101123X", 4, 4), "4203**********123X");
        assert_eq!(mask("13812345678", 3, 4), "13*******78");
        assert_eq!(mask("87654321", 3, 4), "87****21");
        assert_eq!(mask("123", 4, 4), "***");
        let p = PrivateOwner {
            id_number: "11010519491231002X".into(),
            bank_account: "6222020200112233445".into(),
            bank_name: "工商银行".into(),
            phone: "13812345678".into(),
        };
        let dbg = format!("{p:?}");
        assert!(
            !dbg.contains("6222020200112233445") && !dbg.contains("19491231"),
            "{dbg}"
        );
        assert_eq!(p.masked().bank_account, "6222***********3445");
    }

    #[test]
    fn bank_accounts_and_phones_are_checked() {
        assert_eq!(
            parse_bank_account("6222 0202 0011 2233").unwrap(),
            "6222020200112233"
        );
        assert!(parse_bank_account("12ab5678").is_err());
        assert!(parse_bank_account("1234567").is_err());
        assert!(parse_phone("+86-138-1234-5678").is_ok());
        assert!(parse_phone("call me").is_err());
    }
}

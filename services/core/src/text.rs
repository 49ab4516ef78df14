//! Rules shared by free-text fields: length in characters, no control characters.

/// Checks a required text field: trimmed non-empty, at most `max` characters,
/// no control characters. Returns the trimmed text.
pub fn required(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    optional(v, max)
}

/// Checks an optional text field: at most `max` characters, no control
/// characters. Returns the trimmed text (possibly empty).
pub fn optional(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    let n = v.chars().count();
    if n > max {
        return Err(format!("must be at most {max} characters (got {n})"));
    }
    if v.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_is_counted_in_characters_not_bytes() {
        assert_eq!(
            required("竹山县应急物资储备库", 10).unwrap(),
            "竹山县应急物资储备库"
        );
        assert!(required("竹山县应急物资储备库", 9).is_err());
    }

    #[test]
    fn blank_required_text_is_refused_and_control_characters_too() {
        assert_eq!(required("   ", 5).unwrap_err(), "is required");
        assert!(optional("a\u{0}b", 5).is_err());
        assert_eq!(optional("  x ", 5).unwrap(), "x");
    }
}

//! National identity numbers, one detector per [`NationalId`]: a pattern
//! for the printed shapes, then the format's own rules (check digit or
//! letter, never-issued ranges).

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::checksum::{de_tax_id, digits_of, es_dni_letter, nl_bsn};
use super::config::NationalId;
use super::edges::{glued, standalone_number};

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in national id pattern")
}

/// `123-45-6789` or `123 45 6789`, one kind of separator. Nine bare digits
/// are left alone: too many other numbers look like that.
static US_SSN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}"));
/// `AB123456C`, `AB 12 34 56 C`, either case.
static UK_NINO: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]"));
/// DNI `12345678Z`, `12345678-Z`; NIE `X1234567L`, `X-1234567-L`.
static ES_DNI: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[0-9]{8}[ \-]?[A-Za-z]|[XYZxyz][ \-]?[0-9]{7}[ \-]?[A-Za-z]"));
/// `12345678901` or `12 345 678 901` as printed on the tax office's letters.
static DE_TAX_ID: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[1-9][0-9] ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}"));
/// `123456782`, `1234.56.782`, `123 456 782`.
static NL_BSN: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}|[0-9]{3} [0-9]{3} [0-9]{3}"));

/// The byte ranges of numbers of format `id` in `text`.
pub(super) fn find(id: NationalId, text: &str) -> Vec<Range<usize>> {
    let (regex, valid): (&Regex, fn(&str) -> bool) = match id {
        NationalId::UsSsn => (&US_SSN, us_ssn),
        NationalId::UkNino => (&UK_NINO, uk_nino),
        NationalId::EsDni => (&ES_DNI, es_dni),
        NationalId::DeTaxId => (&DE_TAX_ID, |s| de_tax_id(&digits_of(s))),
        NationalId::NlBsn => (&NL_BSN, |s| nl_bsn(&digits_of(s))),
    };
    // Ids with letters only need to stand apart from words; all-digit ids
    // must not be a piece of a longer number either.
    let alone: fn(&str, &Range<usize>) -> bool = match id {
        NationalId::UkNino | NationalId::EsDni => |t, r| !glued(t, r),
        _ => standalone_number,
    };
    regex
        .find_iter(text)
        .filter(|m| alone(text, &m.range()) && valid(m.as_str()))
        .map(|m| m.range())
        .collect()
}

/// Area 000, 666 and 900–999, group 00 and serial 0000 are never issued.
fn us_ssn(s: &str) -> bool {
    let d = digits_of(s);
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = (d[3], d[4]);
    let serial = &d[5..9];
    area != 0 && area != 666 && area < 900 && group != (0, 0) && serial.iter().any(|&x| x != 0)
}

/// The two prefix letters: neither is D, F, I, Q, U or V, the second is
/// not O, and BG, GB, KN, NK, NT, TN and ZZ are not allocated.
fn uk_nino(s: &str) -> bool {
    let upper: Vec<char> = s
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (a, b) = (upper[0], upper[1]);
    let prefix: String = [a, b].iter().collect();
    !"DFIQUV".contains(a)
        && !"DFIOQUV".contains(b)
        && !["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&prefix.as_str())
}

/// The letter after the number is the number's check letter; an NIE reads
/// its leading X, Y or Z as 0, 1 or 2.
fn es_dni(s: &str) -> bool {
    let compact: Vec<char> = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let Some((&letter, body)) = compact.split_last() else {
        return false;
    };
    let mut number = 0u32;
    for (i, &c) in body.iter().enumerate() {
        let value = match c {
            'X' | 'Y' | 'Z' if i == 0 => (c as u32) - ('X' as u32),
            '0'..='9' => (c as u32) - ('0' as u32),
            _ => return false,
        };
        number = number * 10 + value;
    }
    es_dni_letter(number) == letter
}

//! National identity numbers: each format's valid numbers, its
//! never-issued or wrongly checked ones, and which formats are on by
//! default.

use super::super::NationalId::{DeTaxId, EsDni, NlBsn, UkNino, UsSsn};
use super::{assert_redacts, assert_untouched, redact_ids};

#[test]
fn us_ssn_matches_issued_numbers_only() {
    for valid in ["123-45-6789", "123 45 6789", "665-01-0001", "899-99-9999"] {
        assert_eq!(redact_ids(&[UsSsn], valid), "[id]", "{valid}");
    }
    for invalid in [
        "000-12-3456", // area 000
        "666-12-3456", // area 666
        "912-34-5678", // area 9xx
        "123-00-4567", // group 00
        "123-45-0000", // serial 0000
        "123-45 6789", // mixed separators
        "123456789",   // bare digits
        "123-45-6789-0",
        "0123-45-6789",
        "a123-45-6789",
    ] {
        assert_eq!(redact_ids(&[UsSsn], invalid), invalid, "{invalid}");
    }
    assert_eq!(redact_ids(&[UsSsn], "SSN: 123-45-6789."), "SSN: [id].");
}

#[test]
fn uk_nino_matches_allocated_prefixes_only() {
    for valid in [
        "AB123456C",
        "AB 12 34 56 C",
        "ab123456c",
        "JG 103759 A",
        "ZX123456D",
    ] {
        assert_eq!(redact_ids(&[UkNino], valid), "[id]", "{valid}");
    }
    for invalid in [
        "DA123456C", // D never first
        "AO123456C", // O never second
        "QQ123456C", // Q never used (the form's example number)
        "GB123456C", // unallocated prefixes
        "NK123456C",
        "ZZ123456C",
        "AB123456E", // suffix only A-D
        "AB12345C",  // five digits
        "XAB123456C",
        "AB123456CX",
    ] {
        assert_eq!(redact_ids(&[UkNino], invalid), invalid, "{invalid}");
    }
}

#[test]
fn es_dni_and_nie_need_the_right_check_letter() {
    for valid in [
        "12345678Z",
        "12345678-Z",
        "12345678z",
        "X1234567L",
        "X-1234567-L",
        "Y2345678Z",
    ] {
        assert_eq!(redact_ids(&[EsDni], valid), "[id]", "{valid}");
    }
    for invalid in [
        "12345678A",
        "X1234567A",
        "W1234567L",
        "1234567Z",
        "12345678Zz",
    ] {
        assert_eq!(redact_ids(&[EsDni], invalid), invalid, "{invalid}");
    }
}

#[test]
fn de_tax_id_needs_its_check_digit_and_one_repeated_digit() {
    for valid in [
        "86095742719",
        "86 095 742 719",
        "47036892816",
        "65929970489",
    ] {
        assert_eq!(redact_ids(&[DeTaxId], valid), "[id]", "{valid}");
    }
    for invalid in [
        "86095742718", // wrong check digit
        "12345678903", // right check digit, but no digit repeats
        "06095742719", // leading 0
        "860957427190",
        "Steuer-ID 8609574271",
    ] {
        assert_eq!(redact_ids(&[DeTaxId], invalid), invalid, "{invalid}");
    }
}

#[test]
fn nl_bsn_needs_the_eleven_test() {
    for valid in ["111222333", "123456782", "1234.56.782", "123 456 782"] {
        assert_eq!(redact_ids(&[NlBsn], valid), "[id]", "{valid}");
    }
    for invalid in ["123456789", "000000000", "1234567820", "12345678"] {
        assert_eq!(redact_ids(&[NlBsn], invalid), invalid, "{invalid}");
    }
}

#[test]
fn the_default_set_is_the_shaped_formats() {
    assert_redacts(&[
        ("123-45-6789", "[id]"),
        ("AB 12 34 56 C", "[id]"),
        ("X1234567L", "[id]"),
    ]);
    // Bare-digit formats are opt-in: a valid tax id or BSN stays.
    assert_untouched(&["86095742719", "123456782"]);
}

#[test]
fn an_id_is_not_also_taken_for_a_phone() {
    let text = "call 0171 1234567 about 123-45-6789";
    assert_eq!(redact_ids(&[UsSsn], text), "call 0171 1234567 about [id]");
    assert_redacts(&[(text, "call [phone] about [id]")]);
}

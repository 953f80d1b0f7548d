//! Cards and phone numbers, and the numbers that must survive both.

use super::super::{HookConfig, HookPipeline, RedactConfig, Stage};
use super::{assert_redacts, assert_untouched, redactor};

#[test]
fn luhn_valid_cards_are_redacted_in_their_printed_shapes() {
    assert_redacts(&[
        ("4111 1111 1111 1111", "[card]"),
        ("4111-1111-1111-1111", "[card]"),
        ("4111111111111111", "[card]"),
        ("5555 5555 5555 4444", "[card]"),
        ("3782 822463 10005", "[card]"),   // Amex 4-6-5
        ("378282246310005", "[card]"),     // Amex, 15 digits
        ("3056 930902 5904", "[card]"),    // Diners 4-6-4
        ("4222222222222", "[card]"),       // 13 digits
        ("6212345678901234569", "[card]"), // 19 digits
        (
            "card: 4111111111111111, exp 12/29",
            "card: [card], exp 12/29",
        ),
        ("Pay with 4111 1111 1111 1111.", "Pay with [card]."),
    ]);
}

#[test]
fn a_card_is_found_inside_a_longer_run_of_groups() {
    // The 19-digit reading fails Luhn; the first four groups pass.
    assert_redacts(&[
        ("4111 1111 1111 1111 123 items", "[card] 123 items"),
        ("ref 12 4111 1111 1111 1111", "ref 12 [card]"),
    ]);
}

#[test]
fn numbers_that_fail_luhn_or_the_card_shape_stay() {
    assert_untouched(&[
        "4111 1111 1111 1112", // fails Luhn, and no phone either
        "4111-1111-1111-1112",
        "4111111111111112",
        "4000 0123 4567 8901",  // fails Luhn; its tail is no phone
        "411111111117",         // Luhn-valid but 12 digits
        "41111111111111111115", // Luhn-valid but 20 digits
        "0000 0000 0000 0000",  // passes Luhn, is no card
        "4111 1111-1111 1111",  // mixed separators
        "x4111111111111111",    // glued to a word
        "1732272000123",        // Luhn-valid, but a millisecond timestamp
        "7111111111111114",     // Luhn-valid, bare, not an issuer digit
        "5555555555554",        // Luhn-valid, 13 bare digits, not Visa
    ]);
}

#[test]
fn cards_off_leaves_a_card_and_no_phone_takes_it() {
    let p = redactor(RedactConfig {
        cards: false,
        ..RedactConfig::default()
    });
    let text = "4111 1111 1111 1111";
    assert_eq!(p.apply(Stage::Inbound, text).text, text);
}

#[test]
fn international_numbers_are_phones() {
    assert_redacts(&[
        ("+1 415 555 2671", "[phone]"),
        ("+1-415-555-2671", "[phone]"),
        ("+1 (415) 555-2671", "[phone]"),
        ("+44 20 7946 0958", "[phone]"),
        ("+44 (0)20 7946 0958", "[phone]"),
        ("+44 (0) 20 7946 0958", "[phone]"),
        ("+4915112345678", "[phone]"),
        ("+33 1 23 45 67 89", "[phone]"),
        ("+49 30 1234567", "[phone]"),
        ("0049 30 1234567", "[phone]"),
        ("Call me at +1 415 555 2671.", "Call me at [phone]."),
        ("(tel: +31 20 123 4567)", "(tel: [phone])"),
    ]);
}

#[test]
fn national_numbers_are_phones() {
    assert_redacts(&[
        ("(415) 555-2671", "[phone]"),
        ("415-555-2671", "[phone]"),
        ("415.555.2671", "[phone]"),
        ("415 555 2671", "[phone]"),
        ("555-123-4567", "[phone]"),
        ("1-800-555-0199", "[phone]"),
        ("030 1234567", "[phone]"),
        ("(030) 1234567", "[phone]"),
        ("030/1234567", "[phone]"),
        ("030-12345678", "[phone]"),
        ("020 7946 0958", "[phone]"),
        ("01632 960001", "[phone]"),
        ("06 12 34 56 78", "[phone]"),
        ("0171-1234567", "[phone]"),
        ("02079460958", "[phone]"),
        ("ruf an: 0171 1234567!", "ruf an: [phone]!"),
    ]);
}

#[test]
fn lists_of_phones_give_one_token_each() {
    assert_redacts(&[
        ("030 1234567, 040 7654321", "[phone], [phone]"),
        ("030 1234567 / 040 7654321", "[phone] / [phone]"),
        ("030 1234567 040 7654321", "[phone] [phone]"),
        ("415-555-2671 or 415-555-2672", "[phone] or [phone]"),
        // Two readings of these groups pass Luhn (`822 555 0134 912 555`,
        // `0134 912 555 7397`); neither is shaped like a printed card.
        ("822 555 0134 912 555 7397", "[phone] [phone]"),
        // Too long as one number: the trailing year is cut off.
        ("+44 20 7946 0958 2026", "[phone] 2026"),
        ("+1 415 555 2671 2026", "[phone] 2026"),
    ]);
}

#[test]
fn years_times_dates_and_short_numbers_are_not_phones() {
    assert_untouched(&[
        "in 2026",
        "from 1999 to 2026",
        "2024 2025 2026",
        "1990-2000",
        "at 12:30",
        "09:15-10:45",
        "12:30:45",
        "2026-11-22",
        "2026-11-22 12:30",
        "22.11.2026",
        "05.11.2026",
        "01.02.2026 14:00",
        "11/22/2026",
        "2026/11/22",
        "call 112 or 911",
        "555-1234",
        "+49 30",
        "room 0815 1234",
        "+20 degrees",
    ]);
}

#[test]
fn versions_amounts_and_other_numbers_are_not_phones() {
    assert_untouched(&[
        "1.2.3",
        "v10.15.7",
        "2.4.10.1",
        "version 0.10.1234567",
        "1.20.3000",
        "192.168.100.200",
        "1 000 000",
        "12 345 678",
        "8 000 000 000 people",
        "order #12345678",
        "ISBN 978-3-16-148410-0",
        "550e8400-e29b-41d4-a716-446655440000",
        "IBAN DE89 3704 0044 0532 0130 00",
        "0.123456789",
        "4155552671", // ten bare digits: an id as likely as a phone
    ]);
}

#[test]
fn phones_off_leaves_phones() {
    let p = redactor(RedactConfig {
        phones: false,
        ..RedactConfig::default()
    });
    let text = "+1 415 555 2671";
    assert_eq!(p.apply(Stage::Inbound, text).text, text);
}

#[test]
fn redactions_are_counted_and_typed() {
    let p = HookPipeline::build(&[HookConfig::Redact(RedactConfig::default())]).unwrap();
    let out = p.apply(
        Stage::Inbound,
        "mail a@b.io, call +1 415 555 2671, pay 4111 1111 1111 1111, ssn 123-45-6789",
    );
    assert_eq!(out.text, "mail [email], call [phone], pay [card], ssn [id]");
    assert_eq!(out.redactions, 4);
    assert!(out.flags.is_empty() && out.blocked.is_none());
}

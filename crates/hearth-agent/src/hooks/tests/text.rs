//! E-mail addresses, the word list, and the replacement tokens.

use super::super::{RedactConfig, Replacement, Stage};
use super::{assert_redacts, assert_untouched, redactor};

fn words(list: &[&str], text: &str) -> String {
    redactor(RedactConfig {
        words: list.iter().map(|w| w.to_string()).collect(),
        ..RedactConfig::default()
    })
    .apply(Stage::Inbound, text)
    .text
}

#[test]
fn email_addresses_are_redacted() {
    assert_redacts(&[
        ("alice@example.com", "[email]"),
        ("first.last+tag@sub.example.co.uk", "[email]"),
        ("user_name%x@example.org", "[email]"),
        ("o-brien@my-host.example", "[email]"),
        ("jörg@müller.de", "[email]"),
        ("info@xn--mller-kva.de", "[email]"),
        ("admin@[192.168.0.1]", "[email]"),
        ("<alice@example.com>", "<[email]>"),
        ("mailto:alice@example.com", "mailto:[email]"),
        ("email=bob@example.com", "email=[email]"),
        ("Write to alice@example.com.", "Write to [email]."),
        ("a@b.io, c@d.io", "[email], [email]"),
        ("git@github.com:org/repo", "[email]:org/repo"),
        // Its digits are part of the address, not a phone number.
        ("john.4155552671@example.com", "[email]"),
    ]);
}

#[test]
fn things_that_are_not_addresses_stay() {
    assert_untouched(&[
        "@alice",
        "alice@",
        "alice@localhost",
        "a@b",
        "alice at example dot com",
        "2@3.45",
        "price: 10 @ 5.99",
        "see @example.com",
    ]);
}

#[test]
fn listed_words_are_whole_words_in_any_case() {
    let list = ["falcon"];
    assert_eq!(
        words(&list, "Project Falcon is go"),
        "Project [redacted] is go"
    );
    assert_eq!(words(&list, "FALCON!"), "[redacted]!");
    assert_eq!(words(&list, "falcon's wing"), "[redacted]'s wing");
    assert_eq!(words(&list, "(falcon)"), "([redacted])");
    assert_eq!(words(&list, "falcon falcon"), "[redacted] [redacted]");
    for untouched in ["Falcons", "superfalcon", "falcon_2", "falcon9", "fal con"] {
        assert_eq!(words(&list, untouched), untouched);
    }
}

#[test]
fn words_are_unicode_aware() {
    let list = ["müller", "ærø"];
    assert_eq!(words(&list, "Herr MÜLLER kam"), "Herr [redacted] kam");
    assert_eq!(words(&list, "ÆRØ"), "[redacted]");
    // A letter outside ASCII is still a word character.
    assert_eq!(words(&list, "Müllerstraße"), "Müllerstraße");
    assert_eq!(words(&list, "éMüller"), "éMüller");
}

#[test]
fn words_in_scripts_without_spaces_match_inside_a_sentence() {
    assert_eq!(words(&["机密"], "这是机密文件"), "这是[redacted]文件");
    assert_eq!(words(&["ลับ"], "เอกสารลับมาก"), "เอกสาร[redacted]มาก");
}

#[test]
fn phrases_match_across_any_white_space_and_the_longest_wins() {
    let list = ["new york", "new york city", "new"];
    assert_eq!(words(&list, "New  York\tCity"), "[redacted]");
    assert_eq!(words(&list, "new\nyork"), "[redacted]");
    // "new york" is not a whole word in "new yorker"; "new" still is.
    assert_eq!(words(&list, "a new yorker"), "a [redacted] yorker");
    assert_eq!(words(&list, "newer"), "newer");
}

#[test]
fn words_with_punctuation_at_an_end_need_no_boundary_there() {
    let list = ["c++", "#secret"];
    assert_eq!(words(&list, "I like C++ and C"), "I like [redacted] and C");
    assert_eq!(words(&list, "tag:#secret."), "tag:[redacted].");
    // The word end still needs its boundary.
    assert_eq!(words(&list, "#secrets"), "#secrets");
}

#[test]
fn detectors_run_on_the_original_text_so_tokens_are_never_rematched() {
    // "alice" is inside the address: the address wins, whole.
    assert_eq!(
        words(&["alice"], "alice@example.com and alice"),
        "[email] and [redacted]"
    );
    // A word equal to a token's name does not eat the token.
    let out = redactor(RedactConfig {
        words: vec!["email".into(), "redacted".into()],
        ..RedactConfig::default()
    })
    .apply(Stage::Inbound, "my email: bob@example.com");
    assert_eq!(out.text, "my [redacted]: [email]");
    assert_eq!(out.redactions, 2);
}

#[test]
fn uniform_replacement_uses_the_token_for_everything() {
    let p = redactor(RedactConfig {
        replacement: Replacement::Uniform,
        token: "***".into(),
        words: vec!["falcon".into()],
        ..RedactConfig::default()
    });
    assert_eq!(
        p.apply(
            Stage::Inbound,
            "falcon: a@b.io, +1 415 555 2671, 4111111111111111"
        )
        .text,
        "***: ***, ***, ***"
    );
}

#[test]
fn typed_replacement_uses_the_token_for_words_only() {
    let p = redactor(RedactConfig {
        token: "[hidden]".into(),
        words: vec!["falcon".into()],
        ..RedactConfig::default()
    });
    assert_eq!(
        p.apply(Stage::Inbound, "falcon a@b.io").text,
        "[hidden] [email]"
    );
}

#[test]
fn emails_off_leaves_addresses_but_words_still_apply() {
    let p = redactor(RedactConfig {
        emails: false,
        words: vec!["alice".into()],
        ..RedactConfig::default()
    });
    assert_eq!(
        p.apply(Stage::Inbound, "alice@example.com").text,
        "[redacted]@example.com"
    );
}

#[test]
fn text_without_matches_is_returned_as_is() {
    let p = redactor(RedactConfig::default());
    let out = p.apply(
        Stage::Inbound,
        "Nothing personal here, see you at 12:30 in 2026.",
    );
    assert_eq!(out.text, "Nothing personal here, see you at 12:30 in 2026.");
    assert_eq!(out.redactions, 0);
}

//! The published protocol schema (`docs/protocol.schema.json`) is the one
//! generated from the Rust types. Regenerate with
//! `cargo run -p hearth -- protocol schema > docs/protocol.schema.json`
//! (or run this test with `HEARTH_BLESS=1`).

use std::path::Path;

#[test]
fn published_schema_matches_the_code() {
    let generated =
        serde_json::to_string_pretty(&hearth_gateway::protocol::schema::protocol_schema()).unwrap()
            + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol.schema.json");
    if std::env::var_os("HEARTH_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "docs/protocol.schema.json is out of date; run `cargo run -p hearth -- protocol schema > docs/protocol.schema.json`"
    );
    // It documents every advertised method.
    let schema: serde_json::Value = serde_json::from_str(&published).unwrap();
    for method in hearth_gateway::protocol::method::METHODS {
        if *method == "system-presence" {
            continue; // no params
        }
        assert!(
            schema["definitions"].get(*method).is_some(),
            "{method} missing from the schema"
        );
    }
}

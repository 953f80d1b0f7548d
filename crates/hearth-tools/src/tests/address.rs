//! Which addresses web_fetch may reach, and how allow settings widen that.

use std::net::{IpAddr, SocketAddr};

use hearth_core::ToolError;
use url::Url;

use crate::web_fetch::WebFetchConfig;
use crate::web_fetch::address::{AddressPolicy, is_public};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn non_public_addresses_are_recognized() {
    for refused in [
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.1",
        "172.16.5.4",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.100.100.200",
        "192.0.0.192",
        "192.0.2.10",
        "198.18.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::a00:1",
        "2002:c0a8:101::1",
        "2001:0:4136:e378::1",
    ] {
        assert!(!is_public(ip(refused)), "{refused} should be refused");
    }
    for public in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert!(is_public(ip(public)), "{public} should be allowed");
    }
}

fn policy(allow_private: bool, hosts: &[&str]) -> AddressPolicy {
    AddressPolicy::new(&WebFetchConfig {
        allow_private,
        allow_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..WebFetchConfig::default()
    })
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| SocketAddr::new(ip(a), 0)).collect()
}

#[test]
fn resolved_addresses_are_filtered_unless_the_host_is_allowed() {
    let strict = policy(false, &["lan.example", "192.168.1.10"]);
    // Mixed answers keep only the public addresses (rebinding tricks).
    let kept = strict
        .filter("mixed.example", addrs(&["10.0.0.1", "8.8.8.8"]))
        .unwrap();
    assert_eq!(kept, addrs(&["8.8.8.8"]));
    let blocked = strict
        .filter("localhost", addrs(&["127.0.0.1", "::1"]))
        .unwrap_err();
    assert_eq!(blocked.addresses, [ip("127.0.0.1"), ip("::1")]);
    assert!(blocked.to_string().contains("localhost"));
    // An allowed name may resolve anywhere, case and trailing dot aside.
    assert_eq!(
        strict
            .filter("LAN.example.", addrs(&["192.168.1.5"]))
            .unwrap(),
        addrs(&["192.168.1.5"])
    );
    // An allowed IP is allowed wherever it comes from.
    assert_eq!(
        strict
            .filter("printer.example", addrs(&["192.168.1.10"]))
            .unwrap(),
        addrs(&["192.168.1.10"])
    );
    let open = policy(true, &[]);
    assert!(open.filter("localhost", addrs(&["127.0.0.1"])).is_ok());
}

#[test]
fn urls_are_checked_for_scheme_and_literal_addresses() {
    let strict = policy(false, &["127.0.0.1", "[::1]"]);
    let check = |u: &str| strict.check_url(&Url::parse(u).unwrap());
    assert!(check("http://127.0.0.1:8080/").is_ok());
    assert!(check("http://[::1]/").is_ok());
    assert!(
        check("https://example.com/").is_ok(),
        "names go to the resolver"
    );
    assert!(matches!(
        check("http://127.0.0.2/"),
        Err(ToolError::Denied(_))
    ));
    // Numeric forms the URL parser normalizes to 127.0.0.2 and 10.0.0.1.
    assert!(matches!(
        check("http://2130706434/"),
        Err(ToolError::Denied(_))
    ));
    assert!(matches!(
        check("http://0x0a.0.0.1/"),
        Err(ToolError::Denied(_))
    ));
    assert!(matches!(
        check("http://[::ffff:a00:1]/"),
        Err(ToolError::Denied(_))
    ));
    assert!(matches!(check("file:///etc/passwd"), Err(ToolError::Denied(m)) if m.contains("http")));
    assert!(matches!(
        check("ftp://example.com/"),
        Err(ToolError::Denied(_))
    ));
}

#[test]
fn config_validation_rejects_bad_values() {
    assert_eq!(WebFetchConfig::default().validate(), Ok(()));
    let bad = |change: fn(&mut WebFetchConfig)| {
        let mut config = WebFetchConfig::default();
        change(&mut config);
        config.validate().unwrap_err()
    };
    assert!(bad(|c| c.max_bytes = 0).contains("max_bytes"));
    assert!(bad(|c| c.timeout_secs = 0).contains("timeout_secs"));
    assert!(bad(|c| c.max_redirects = 100).contains("max_redirects"));
    assert!(bad(|c| c.user_agent = "bad\nagent".into()).contains("user_agent"));
    assert!(bad(|c| c.allow_hosts = vec!["http://x".into()]).contains("allow_hosts"));
    assert!(bad(|c| c.allow_hosts = vec!["host:80".into()]).contains("allow_hosts"));
    let ok = WebFetchConfig {
        allow_hosts: vec!["nas.lan".into(), "192.168.1.2".into(), "[fd00::1]".into()],
        ..WebFetchConfig::default()
    };
    assert_eq!(ok.validate(), Ok(()));
    // Unknown keys are refused when the config is read.
    let parsed: Result<WebFetchConfig, _> =
        serde_json::from_str(r#"{"allow_private": true, "alow_hosts": []}"#);
    assert!(parsed.unwrap_err().to_string().contains("alow_hosts"));
    let parsed: WebFetchConfig = serde_json::from_str(r#"{"timeout_secs": 5}"#).unwrap();
    assert_eq!(parsed.timeout_secs, 5);
    assert_eq!(parsed.max_bytes, 2 * 1024 * 1024);
}

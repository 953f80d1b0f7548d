//! The HTTP client every remote provider uses: rustls, the provider's
//! default headers (auth, API version), and a bounded connect time.

use crate::config::BuildError;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// Bound on opening a TCP/TLS connection. Separate from (and shorter than)
/// the response timeout: a dead host should fail over fast, while a busy
/// model may legitimately take long to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn build(headers: HeaderMap) -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| BuildError::Client(e.to_string()))
}

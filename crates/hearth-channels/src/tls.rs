//! TLS for socket adapters (IRC, IMAP): rustls on ring with the web's
//! root certificates, plus those of an optional PEM file (self-signed
//! servers).

use std::path::Path;
use std::sync::Arc;

use hearth_core::ChannelError;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};

pub(crate) fn connector(extra_ca: Option<&Path>) -> Result<TlsConnector, ChannelError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| ChannelError::Permanent(format!("tls_ca_file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(ChannelError::Permanent(format!(
                "tls_ca_file {} holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                ChannelError::Permanent(format!("tls_ca_file {}: {e}", path.display()))
            })?;
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ChannelError::Permanent(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

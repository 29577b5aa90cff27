//! api-ssl (port 8729) with rustls, for the client and for the simulator.
//!
//! MikroTik routers usually carry a self-signed certificate, so besides the system roots the
//! client can trust one PEM file, or (only when asked for) accept any certificate while still
//! checking the handshake signatures.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::client::{RosError, TlsOptions, TlsVerify};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(crypto::aws_lc_rs::default_provider())
}

fn tls_err(e: impl std::fmt::Display) -> RosError {
    RosError::Tls(e.to_string())
}

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, RosError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| RosError::Tls(format!("cannot read {}: {e}", path.display())))?
        .collect();
    let certs = certs.map_err(|e| RosError::Tls(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(RosError::Tls(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

pub fn client_config(opts: &TlsOptions) -> Result<ClientConfig, RosError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?;
    let config = match &opts.verify {
        TlsVerify::AcceptAny => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider())))
            .with_no_client_auth(),
        TlsVerify::CaFile(path) => {
            let mut roots = RootCertStore::empty();
            for c in load_certs(path)? {
                roots.add(c).map_err(tls_err)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        TlsVerify::System => {
            let mut roots = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            for c in found.certs {
                let _ = roots.add(c);
            }
            if roots.is_empty() {
                return Err(RosError::Tls(
                    "no trusted root certificates found on this system".into(),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(config)
}

pub(crate) async fn connect(
    tcp: TcpStream,
    addr: &str,
    opts: &TlsOptions,
) -> Result<Box<dyn super::client::Io>, RosError> {
    let config = client_config(opts)?;
    let host = opts.server_name.clone().unwrap_or_else(|| host_of(addr));
    let name = ServerName::try_from(host.clone())
        .map_err(|_| RosError::Tls(format!("{host:?} is not a valid server name")))?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(tls_err)?;
    Ok(Box::new(stream))
}

/// The host part of `host:port`, `[v6]:port` or a bare host.
pub fn host_of(addr: &str) -> String {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match addr.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h.to_string(),
        _ => addr.to_string(),
    }
}

/// A TLS acceptor for the simulator, from a PEM certificate chain and a PEM private key.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, RosError> {
    let certs = load_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| RosError::Tls(format!("cannot read key {}: {e}", key.display())))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts any certificate, but still verifies that the peer holds its key.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parts() {
        assert_eq!(host_of("192.168.88.1:8729"), "192.168.88.1");
        assert_eq!(host_of("router.lan"), "router.lan");
        assert_eq!(host_of("[::1]:8729"), "::1");
        assert_eq!(host_of("::1"), "::1");
    }
}

//! TLS to the agents' Docker engines (dockerd `--tlsverify`, port 2376): the engine's
//! certificate is checked against our CA and we present a client certificate, as the docker
//! CLI does with `--tlsverify --tlscacert --tlscert --tlskey`.
//!
//! rustls drives the handshake over the runtime's connection through tokio's IO traits,
//! which are only traits here: hyper-util's `TokioIo` turns our `BoxIo` into them and back,
//! so the same code runs on any runtime.

use std::io;
use std::path::Path;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::runtime::BoxIo;

/// The files of a TLS client identity, as the docker CLI names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineTlsFiles {
    /// CA certificate(s) the engines' certificates must chain to (`ca.pem`).
    pub ca: std::path::PathBuf,
    /// Our client certificate chain (`cert.pem`).
    pub cert: std::path::PathBuf,
    /// Its private key (`key.pem`).
    pub key: std::path::PathBuf,
}

/// A TLS client for engines. Cheap to clone.
#[derive(Clone)]
pub struct EngineTls {
    connector: TlsConnector,
}

impl std::fmt::Debug for EngineTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineTls")
    }
}

impl EngineTls {
    /// Loads the CA, certificate and key; errors name the file and what is wrong with it.
    pub fn load(files: &EngineTlsFiles) -> Result<EngineTls, String> {
        let mut roots = RootCertStore::empty();
        for cert in certs(&files.ca)? {
            roots
                .add(cert)
                .map_err(|e| format!("{}: not a usable CA certificate: {e}", files.ca.display()))?;
        }
        let chain = certs(&files.cert)?;
        let key = PrivateKeyDer::from_pem_file(&files.key)
            .map_err(|e| format!("{}: no private key in it: {e}", files.key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| {
                format!(
                    "{} and {} do not make a client identity: {e}",
                    files.cert.display(),
                    files.key.display()
                )
            })?;
        Ok(EngineTls {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Runs the TLS handshake with the engine at `host` over `io`.
    pub async fn wrap(&self, host: &str, io: BoxIo) -> io::Result<BoxIo> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{host}: {e}")))?;
        let tls = self.connector.connect(name, TokioIo::new(io)).await?;
        Ok(Box::new(TokioIo::new(tls)))
    }
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let list = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if list.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(list)
}

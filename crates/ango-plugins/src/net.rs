//! Opening the websocket: TCP with timeouts, TLS by rustls with ango-core's trust policy
//! (the platform trust store, or the PEM bundle named by `SSL_CERT_FILE`).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use ango_core::Error;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use tungstenite::WebSocket;
use tungstenite::client::IntoClientRequest;

/// A plain or TLS connection.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// The TLS client configuration, with the same roots as ango-core's HTTP client.
pub(crate) fn tls_config() -> Result<Arc<ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Transport(format!("TLS setup: {e}")))?;
    let config = match std::env::var_os("SSL_CERT_FILE") {
        Some(path) if !path.is_empty() => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(&path).map_err(|e| {
                Error::InvalidArgument(format!(
                    "reading SSL_CERT_FILE {}: {e}",
                    path.to_string_lossy()
                ))
            })?;
            for cert in certs.flatten() {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::InvalidArgument(format!(
                    "SSL_CERT_FILE {} holds no certificates",
                    path.to_string_lossy()
                )));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        _ => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| Error::Transport(format!("TLS setup: {e}")))?
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// Connects to `url` (`ws://` or `wss://`) and performs the websocket handshake, each
/// step bounded by `timeout`.
pub(crate) fn open_websocket(
    url: &str,
    timeout: Duration,
    tls: &mut Option<Arc<ClientConfig>>,
) -> Result<WebSocket<Stream>, Error> {
    let request = url
        .into_client_request()
        .map_err(|e| Error::InvalidArgument(format!("bad websocket URL: {e}")))?;
    let uri = request.uri();
    let secure = uri.scheme_str() == Some("wss");
    let host = uri
        .host()
        .ok_or_else(|| Error::InvalidArgument("the hub URL has no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let addrs = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| Error::Connection(format!("resolving {host}: {e}")))?;
    let mut last = None;
    let mut tcp = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        Error::Connection(match last {
            Some(e) => format!("connecting to {host}:{port}: {e}"),
            None => format!("{host} has no address"),
        })
    })?;
    let io = |e: io::Error| Error::Connection(e.to_string());
    tcp.set_read_timeout(Some(timeout)).map_err(io)?;
    tcp.set_write_timeout(Some(timeout)).map_err(io)?;
    let _ = tcp.set_nodelay(true);
    let stream = if secure {
        let config = match tls {
            Some(config) => Arc::clone(config),
            None => {
                let config = tls_config()?;
                *tls = Some(Arc::clone(&config));
                config
            }
        };
        let name = ServerName::try_from(host.clone())
            .map_err(|e| Error::InvalidArgument(format!("bad host name {host:?}: {e}")))?;
        let conn = ClientConnection::new(config, name)
            .map_err(|e| Error::Transport(format!("TLS: {e}")))?;
        Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
    } else {
        Stream::Plain(tcp)
    };
    let (socket, _response) =
        tungstenite::client::client(request, stream).map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => {
                Error::Connection(format!("websocket handshake: {e}"))
            }
            tungstenite::HandshakeError::Interrupted(_) => {
                Error::Timeout("websocket handshake timed out".into())
            }
        })?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_tls_configuration_builds_and_unreachable_hosts_fail_fast() {
        if std::env::var_os("SSL_CERT_FILE").is_none() {
            assert!(tls_config().is_ok());
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut tls = None;
        let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
        assert!(matches!(
            open_websocket(&url, Duration::from_secs(2), &mut tls),
            Err(Error::Connection(_))
        ));
    }
}

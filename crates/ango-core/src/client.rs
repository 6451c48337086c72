//! The [`Client`]: configuration, the shared connection pool and the API key.

use std::fmt;
use std::sync::Arc;

use ureq::http::Method;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::config::{DEFAULT_HOST, Settings};
use crate::error::{Error, Result};
use crate::http::ApiCall;

/// The API key, kept out of every `Debug` and `Display` output.
#[derive(Clone)]
struct ApiKey(Arc<str>);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

struct Shared {
    agent: ureq::Agent,
    host: String,
    api_key: ApiKey,
}

/// A blocking Ango Hub client.
///
/// Cheap to clone: clones share one connection pool. Safe to use from many threads.
/// Every method sends the same request as the official Python SDK `imerit-ango` 1.4.10.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    settings: Arc<Settings>,
    cancel: Option<crate::cancel::Cancel>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("host", &self.shared.host)
            .field("api_key", &self.shared.api_key)
            .field("settings", &self.settings)
            .finish()
    }
}

/// Builds a [`Client`] with non-default settings.
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    api_key: ApiKey,
    host: String,
    settings: Settings,
}

/// The JSON view of a [`Client`], from [`Client::raw`]: the methods that have a typed
/// result on [`Client`] answer here with the server's reply as JSON ([`Value`](serde_json::Value)), exactly
/// as the server sent it, for fields the [`types`](crate::types) do not model or for
/// passing replies on untouched. Every other method of [`Client`] is reachable too
/// (`Raw` dereferences to it).
///
/// ```no_run
/// # let client = ango_core::Client::new("key", "https://imeritapi.ango.ai")?;
/// let reply = client.raw().get_project("PROJECT_ID")?;
/// println!("{}", reply["data"]["project"]["name"]);
/// # Ok::<(), ango_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Raw<'a> {
    client: &'a Client,
}

impl<'a> Raw<'a> {
    /// The typed client this view belongs to.
    pub fn client(&self) -> &'a Client {
        self.client
    }
}

impl std::ops::Deref for Raw<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client
    }
}

impl ClientBuilder {
    /// The API host, such as `https://imeritapi.ango.ai` (a trailing `/` is ignored).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// All settings at once.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Time allowed to connect (`None`: no limit).
    pub fn connect_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Time allowed for one whole API request (`None`: no limit).
    pub fn request_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Retries after a failed attempt (`0` turns retrying off).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.settings.retry.max_retries = retries;
        self
    }

    /// The full retry policy.
    pub fn retry_policy(mut self, policy: crate::config::RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// Parallel transfers for bulk work (at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.settings.concurrency = concurrency.clamp(1, crate::config::MAX_CONCURRENCY);
        self
    }

    /// Progress bars for bulk work.
    pub fn progress(mut self, mode: crate::config::ProgressMode) -> Self {
        self.settings.progress = mode;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.settings.user_agent = user_agent.into();
        self
    }

    /// Builds the client: validates the host and sets up TLS and the connection pool.
    pub fn build(self) -> Result<Client> {
        let host = self.host.trim().trim_end_matches('/').to_string();
        if !(host.starts_with("https://") || host.starts_with("http://")) {
            return Err(Error::invalid(format!(
                "host must start with https:// or http://, got {host:?}"
            )));
        }
        if self.api_key.0.is_empty() {
            return Err(Error::invalid("the API key is empty"));
        }
        if ureq::http::HeaderValue::from_str(&self.api_key.0).is_err() {
            return Err(Error::invalid(
                "the API key holds characters an HTTP header cannot carry (a line break or control character)",
            ));
        }
        if ureq::http::HeaderValue::from_str(&self.settings.user_agent).is_err() {
            return Err(Error::invalid(format!(
                "the user agent {:?} holds characters an HTTP header cannot carry",
                self.settings.user_agent
            )));
        }
        if let Some(insecure) = plain_http_host(&host) {
            warn_plain_http_once(insecure);
        }
        let agent = build_agent(&self.settings)?;
        Ok(Client {
            shared: Arc::new(Shared {
                agent,
                host,
                api_key: self.api_key,
            }),
            settings: Arc::new(self.settings),
            cancel: None,
        })
    }
}

/// One agent (connection pool) per client, verifying TLS against the platform trust
/// store, plus the PEM bundle named by `SSL_CERT_FILE` when that is set. API calls never
/// follow redirects (the `apikey` header would go along); signed storage downloads opt in.
fn build_agent(settings: &Settings) -> Result<ureq::Agent> {
    let roots = match std::env::var_os("SSL_CERT_FILE") {
        Some(path) if !path.is_empty() => {
            let path = std::path::PathBuf::from(path);
            let mut certs = platform_roots();
            certs.extend(read_pem_bundle(&path)?);
            RootCerts::new_with_certs(&certs)
        }
        _ => RootCerts::PlatformVerifier,
    };
    let config = ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .timeout_connect(crate::config::cap_timeout(settings.connect_timeout))
        .timeout_global(crate::config::cap_timeout(settings.request_timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(settings.user_agent.as_str())
        .max_idle_connections_per_host(
            settings
                .concurrency
                .clamp(4, crate::config::MAX_CONCURRENCY)
                * 2,
        )
        .build();
    Ok(ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::Connector::chain(
            ureq::unversioned::transport::DefaultConnector::default(),
            crate::cancel::CancelConnector,
        ),
        CachingResolver::default(),
    ))
}

/// How long a host name's addresses are reused before they are looked up again.
const RESOLVE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// ureq's resolver looks the host up before every request, pooled connections included,
/// and with a timeout set it does so on a new thread each time (tens of µs per call,
/// plus a DNS query for a host name). This one answers an IP-literal host at once and
/// keeps a name's addresses for [`RESOLVE_TTL`]; lookups still go through ureq's
/// resolver (with its timeout). Only where a new connection goes is affected: nothing
/// on the wire changes.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<Vec<(String, Vec<std::net::SocketAddr>, std::time::Instant)>>,
}

impl ureq::unversioned::resolver::Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let port = uri.port_u16().or(match uri.scheme_str() {
            Some(scheme) if scheme.eq_ignore_ascii_case("http") => Some(80),
            Some(scheme) if scheme.eq_ignore_ascii_case("https") => Some(443),
            _ => None,
        });
        let (Some(host), Some(port)) = (uri.host(), port) else {
            return self.inner.resolve(uri, config, timeout);
        };
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<std::net::IpAddr>() {
            let mut addrs = self.empty();
            addrs.push(std::net::SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{}:{port}", host.to_ascii_lowercase());
        let now = std::time::Instant::now();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, cached, at)) = cache.iter().find(|(k, _, _)| *k == key)
                && now.duration_since(*at) < RESOLVE_TTL
                && !cached.is_empty()
            {
                let mut addrs = self.empty();
                for addr in cached.iter().take(16) {
                    addrs.push(*addr);
                }
                return Ok(addrs);
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|(k, _, at)| *k != key && now.duration_since(*at) < RESOLVE_TTL);
        cache.push((key, addrs.iter().copied().collect(), now));
        Ok(addrs)
    }
}

/// Every certificate of a PEM bundle; any malformed entry is an error naming the file.
pub(crate) fn read_pem_bundle(path: &std::path::Path) -> Result<Vec<Certificate<'static>>> {
    let shown = path.display();
    let pem =
        std::fs::read(path).map_err(|e| Error::io(format!("reading SSL_CERT_FILE {shown}"), e))?;
    let mut certs = Vec::new();
    for (index, item) in ureq::tls::parse_pem(&pem).enumerate() {
        let entry = index + 1;
        match item {
            Ok(PemItem::Certificate(cert)) => {
                let der = rustls_pki_types::CertificateDer::from(cert.der());
                if let Err(e) = webpki::anchor_from_trusted_cert(&der) {
                    return Err(Error::invalid(format!(
                        "SSL_CERT_FILE {shown}: entry {entry} is not a usable certificate ({e})"
                    )));
                }
                certs.push(cert.to_owned());
            }
            // Keys or CRLs in a bundle are not roots; they are left aside.
            Ok(_) => {}
            Err(e) => {
                return Err(Error::invalid(format!(
                    "SSL_CERT_FILE {shown}: entry {entry} is malformed PEM ({e})"
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "SSL_CERT_FILE {shown} holds no certificates"
        )));
    }
    Ok(certs)
}

/// The system's trusted roots, read from the usual locations without looking at
/// `SSL_CERT_FILE` (which is added to them, not put in their place).
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn platform_roots() -> Vec<Certificate<'static>> {
    const FILES: [&str; 6] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/cert.pem",
        "/etc/pki/tls/cacert.pem",
    ];
    let file = FILES.iter().map(std::path::Path::new).find(|p| p.exists());
    let mut certs = Vec::new();
    let mut add = |found: rustls_native_certs::CertificateResult| {
        certs.extend(
            found
                .certs
                .into_iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned()),
        );
    };
    add(rustls_native_certs::load_certs_from_paths(file, None));
    if file.is_none() {
        for dir in openssl_probe::candidate_cert_dirs() {
            add(rustls_native_certs::load_certs_from_paths(None, Some(dir)));
        }
    }
    certs
}

/// On macOS, iOS, Windows and Android the system store is reached only through the OS
/// verifier, which cannot be combined with extra roots here: `SSL_CERT_FILE` then holds
/// the only roots trusted (as OpenSSL-based tools treat it).
#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
fn platform_roots() -> Vec<Certificate<'static>> {
    Vec::new()
}

/// The host of an `http://` URL when it is not a loopback address, `None` otherwise.
pub(crate) fn plain_http_host(url: &str) -> Option<&str> {
    let rest = url
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
        .map(|_| &url[7..])?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let lower = host.to_ascii_lowercase();
    let loopback = lower == "localhost"
        || lower.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then_some(host)
}

/// Warns on stderr, once per process, that the API key travels unencrypted.
fn warn_plain_http_once(host: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "warning: the Ango API host {host} is plain http://: the API key and data travel \
             unencrypted; use https://"
        );
    });
}

impl Client {
    /// A client for `host` with default settings (timeouts and retries on).
    pub fn new(api_key: impl Into<String>, host: impl Into<String>) -> Result<Client> {
        Client::builder(api_key).host(host).build()
    }

    /// A builder starting from [`Settings::from_env`] and the default host.
    pub fn builder(api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            api_key: ApiKey(Arc::from(api_key.into())),
            host: DEFAULT_HOST.to_string(),
            settings: Settings::from_env(),
        }
    }

    /// A client from `ANGO_API_KEY` and `ANGO_HOST` (default host when unset), with
    /// settings from the environment (see [`Settings::from_env`]).
    pub fn from_env() -> Result<Client> {
        Client::builder_from_env(None, None)?.build()
    }

    /// A client from the bindings' options: the key and host given, else from the
    /// environment ([`Client::builder_from_env`]); the user agent; the settings from the
    /// environment with the options' changes ([`ClientOptions::overrides`](crate::ClientOptions::overrides)).
    pub fn from_options(options: &crate::ClientOptions) -> Result<Client> {
        let overrides = options.overrides()?;
        let mut builder =
            Client::builder_from_env(options.api_key.as_deref(), options.host.as_deref())?;
        if let Some(agent) = &options.user_agent {
            builder = builder.user_agent(agent.clone());
        }
        overrides.apply(&mut builder.settings);
        builder.build()
    }

    /// A builder for the key and host given, each read from the environment when not
    /// given (or empty): `ANGO_API_KEY` (an error when that is unset too) and
    /// `ANGO_HOST` (the default host when unset or blank). The one place the bindings
    /// take these from.
    pub fn builder_from_env(api_key: Option<&str>, host: Option<&str>) -> Result<ClientBuilder> {
        let api_key = match api_key.filter(|key| !key.is_empty()) {
            Some(key) => key.to_string(),
            None => std::env::var("ANGO_API_KEY")
                .map_err(|_| Error::invalid("no API key: pass one or set ANGO_API_KEY"))?,
        };
        let host = host
            .map(str::to_string)
            .or_else(|| std::env::var("ANGO_HOST").ok())
            .filter(|host| !host.trim().is_empty());
        let builder = Client::builder(api_key);
        Ok(match host {
            Some(host) => builder.host(host),
            None => builder,
        })
    }

    /// The JSON view of this client: the same methods, answering with the server's
    /// replies as [`Value`](serde_json::Value) instead of typed results (see [`Raw`]).
    pub fn raw(&self) -> Raw<'_> {
        Raw { client: self }
    }

    /// The API host, without a trailing slash.
    pub fn host(&self) -> &str {
        &self.shared.host
    }

    /// The settings in force for this client.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A client sharing this one's connection pool and key, with changed settings:
    /// the way to override timeouts, retries or concurrency for some calls.
    pub fn with_settings(&self, change: impl FnOnce(&mut Settings)) -> Client {
        let mut settings = (*self.settings).clone();
        change(&mut settings);
        settings.concurrency = settings
            .concurrency
            .clamp(1, crate::config::MAX_CONCURRENCY);
        Client {
            shared: Arc::clone(&self.shared),
            settings: Arc::new(settings),
            cancel: self.cancel.clone(),
        }
    }

    /// A client sharing this one's pool, key and settings whose work stops with
    /// [`Error::Cancelled`] at its next checkpoint once `cancel` is cancelled (see
    /// [`crate::cancel`]). Iterators and uploads started from it carry the token too.
    pub fn with_cancel(&self, cancel: &crate::cancel::Cancel) -> Client {
        Client {
            cancel: Some(cancel.clone()),
            ..self.clone()
        }
    }

    /// The cancellation token attached with [`Client::with_cancel`], if any.
    pub fn cancel_token(&self) -> Option<&crate::cancel::Cancel> {
        self.cancel.as_ref()
    }

    /// The token this client's work on the current thread obeys: its own, else the
    /// one of an enclosing [`crate::cancel::scope`].
    pub(crate) fn active_cancel(&self) -> Option<crate::cancel::Cancel> {
        self.cancel.clone().or_else(crate::cancel::ambient)
    }

    /// A clone carrying the enclosing [`crate::cancel::scope`]'s token, when this client
    /// has none of its own and there is one: for work handed to other threads.
    pub(crate) fn bind_ambient_cancel(&self) -> Option<Client> {
        if self.cancel.is_some() {
            return None;
        }
        crate::cancel::ambient().map(|cancel| self.with_cancel(&cancel))
    }

    /// Sends any API request, like the official `make_request`: `endpoint` is the path
    /// and query string as they go on the wire (for example `/v2/project/ID`), `payload`
    /// the JSON body. For endpoints this crate has no method for yet.
    ///
    /// The endpoint is percent-encoded as the official SDK's `requests` does (a space
    /// becomes `%20`, non-ASCII text its UTF-8 escapes, existing `%XX` escapes stay).
    /// Retries follow the crate's retry table: an endpoint it does not know is retried
    /// only for `GET`, or when the request cannot have reached the server.
    pub fn make_request(
        &self,
        method: &str,
        endpoint: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value> {
        let method: Method = method
            .trim()
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| Error::invalid(format!("{method:?} is not an HTTP method")))?;
        if !endpoint.starts_with('/') {
            return Err(Error::invalid(format!(
                "the endpoint must start with '/', got {endpoint:?}"
            )));
        }
        let mut call = ApiCall::new(self, method, crate::http::requote_endpoint(endpoint));
        if let Some(body) = payload {
            call = call.json(body);
        }
        call.send()
    }

    /// A client sharing this one's connection pool and key, with the given changes:
    /// what the bindings' `with_options` calls.
    pub fn with_overrides(&self, overrides: &crate::config::SettingsOverrides) -> Client {
        self.with_settings(|settings| overrides.apply(settings))
    }

    /// Runs `call`, one method of this client's JSON view ([`Raw`]) that sends a single
    /// API request and returns its JSON reply unchanged (such as [`Raw::get_project`],
    /// or [`Client::delete_project`] through it), and returns
    /// that reply's body undecoded, for callers that decode JSON into their own objects
    /// (the Python binding builds Python objects from it directly). The request sent
    /// is exactly the method's; a method that sends several requests, or derives its
    /// result from the reply, gives [`Error::Internal`].
    pub fn raw_reply(
        &self,
        call: impl FnOnce(&Raw<'_>) -> Result<serde_json::Value>,
    ) -> Result<Vec<u8>> {
        crate::http::capture_raw_reply(|| call(&self.raw()))
    }

    pub(crate) fn agent(&self) -> &ureq::Agent {
        &self.shared.agent
    }

    pub(crate) fn api_key_value(&self) -> &str {
        &self.shared.api_key.0
    }

    pub(crate) fn get(&self, path: impl Into<String>) -> ApiCall<'_> {
        ApiCall::new(self, Method::GET, path)
    }

    pub(crate) fn post(&self, path: impl Into<String>) -> ApiCall<'_> {
        ApiCall::new(self, Method::POST, path)
    }

    pub(crate) fn delete(&self, path: impl Into<String>) -> ApiCall<'_> {
        ApiCall::new(self, Method::DELETE, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_key() {
        let client = Client::new("super-secret-key", "http://127.0.0.1:1").unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("super-secret-key"), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn bad_hosts_and_empty_keys_are_refused() {
        assert!(matches!(
            Client::new("k", "imeritapi.ango.ai"),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            Client::new("", "https://x"),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(Client::new("k", "https://x/").unwrap().host(), "https://x");
    }

    /// A self-signed CA certificate made for these tests (P-256, valid until 2126).
    const TEST_ROOT: &str = "-----BEGIN CERTIFICATE-----\nMIIBijCCAS+gAwIBAgIUO+4kqZKau16+KMxJxn88YHOlEBQwCgYIKoZIzj0EAwIw\nGTEXMBUGA1UEAwwOYW5nby10ZXN0LXJvb3QwIBcNMjYxMTMwMDIyNTIzWhgPMjEy\nNjExMDYwMjI1MjNaMBkxFzAVBgNVBAMMDmFuZ28tdGVzdC1yb290MFkwEwYHKoZI\nzj0CAQYIKoZIzj0DAQcDQgAEmTab06cH8WQhLssrxCjCLgYJmVP1+mnlrEHqY6BF\nUbk3gjCeEHuam5OnqkYyE78V536AaZ+a685hdj1VpOclxKNTMFEwHQYDVR0OBBYE\nFEVpdi52+sQPOOazVPkoUas/LGWTMB8GA1UdIwQYMBaAFEVpdi52+sQPOOazVPko\nUas/LGWTMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAPxkU6YZ\n1hFHwC8YW86eJCWvDm320ZoKSH7PO0PBscExAiEAqeHLqoHRZ0W2gaWYA2egMdTV\noYzTDbaXv1YdCrUPkRc=\n-----END CERTIFICATE-----\n";

    fn bundle(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "ango-core-{}-{name}.pem",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn ssl_cert_file_entries_are_checked_and_named() {
        let good = bundle("good", &format!("comment line\n{TEST_ROOT}{TEST_ROOT}"));
        assert_eq!(read_pem_bundle(&good).unwrap().len(), 2);

        let broken_base64 = TEST_ROOT.replacen("MIIB", "M!!B", 1);
        let bad = bundle("bad", &format!("{TEST_ROOT}{broken_base64}"));
        let err = read_pem_bundle(&bad).unwrap_err().to_string();
        assert!(
            err.contains(&bad.display().to_string()) && err.contains("entry 2"),
            "{err}"
        );

        let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let junk = bundle("junk", not_der);
        let err = read_pem_bundle(&junk).unwrap_err().to_string();
        assert!(
            err.contains("entry 1") && err.contains("not a usable certificate"),
            "{err}"
        );

        let empty = bundle("empty", "nothing here\n");
        assert!(
            read_pem_bundle(&empty)
                .unwrap_err()
                .to_string()
                .contains("no certificates")
        );
        let missing = std::env::temp_dir().join("ango-core-no-such-bundle.pem");
        assert!(matches!(read_pem_bundle(&missing), Err(Error::Io { .. })));
        for path in [good, bad, junk, empty] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
    #[test]
    fn the_system_roots_are_kept_alongside_ssl_cert_file() {
        // Only meaningful where the machine has a system store.
        if std::path::Path::new("/etc/ssl/certs").is_dir() {
            assert!(platform_roots().len() > 10, "the system store was not read");
        }
    }

    #[test]
    fn only_non_loopback_plain_http_hosts_are_flagged() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:3000/x",
            "HTTP://LOCALHOST",
            "http://[::1]:80",
            "http://127.8.9.10",
            "http://api.localhost",
            "https://imeritapi.ango.ai",
        ] {
            assert_eq!(plain_http_host(url), None, "{url}");
        }
        assert_eq!(
            plain_http_host("http://imeritapi.ango.ai"),
            Some("imeritapi.ango.ai")
        );
        assert_eq!(plain_http_host("http://10.0.0.2:80/v2"), Some("10.0.0.2"));
        assert_eq!(
            plain_http_host("http://user@localhost.evil.com"),
            Some("localhost.evil.com")
        );
        assert_eq!(
            plain_http_host("http://[2001:db8::1]:8080"),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn header_breaking_user_agents_and_keys_are_refused() {
        for agent in ["ango\r\nX-Evil: 1", "a\nb", "nul\0"] {
            let err = Client::builder("k")
                .host("http://127.0.0.1:1")
                .user_agent(agent)
                .build()
                .unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{agent:?}");
        }
        let err = Client::new("key\nX-Evil: 1", "http://127.0.0.1:1").unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(m) if !m.contains("X-Evil")));
    }
}

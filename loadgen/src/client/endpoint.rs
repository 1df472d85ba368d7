//! Where requests go: a host and port with its addresses, looked up once per worker so that
//! opening a connection never waits for DNS again, and how a failed connect is classified.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hyper::Uri;
use hyper::header::HeaderValue;
use tokio::net::TcpStream;

use super::lock;
use crate::outcome::ErrorKind;

/// One target host and port.
pub(super) struct Endpoint {
    host: Box<str>,
    port: u16,
    /// The `Host` header HTTP/1.1 requests to it carry.
    host_header: HeaderValue,
    addresses: OnceLock<Box<[SocketAddr]>>,
    /// The address that last accepted a connection, tried first: "localhost" may resolve to
    /// an address nothing listens on.
    preferred: AtomicUsize,
}

impl Endpoint {
    /// The endpoint `uri` names. Only `http://` URIs with a host can be reached: there is no
    /// TLS, so anything else fails as a connect error.
    fn for_uri(uri: &Uri) -> Result<Self, ErrorKind> {
        let (host, port) = host_and_port(uri)?;
        let authority = uri.authority().ok_or(ErrorKind::Connect)?.as_str();
        // `Host` carries no user information.
        let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
        let host_header = HeaderValue::from_str(host_and_port).map_err(|_| ErrorKind::Connect)?;
        let addresses = OnceLock::new();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let _ = addresses.set(Box::from([SocketAddr::new(ip, port)]));
        }
        Ok(Self {
            host: host.into(),
            port,
            host_header,
            addresses,
            preferred: AtomicUsize::new(0),
        })
    }

    pub(super) fn host_header(&self) -> &HeaderValue {
        &self.host_header
    }

    /// Opens a TCP connection (with `TCP_NODELAY`, since requests are small and latency is
    /// what is measured) within `timeout`, which includes the first address lookup.
    pub(super) async fn connect(&self, timeout: Duration) -> Result<TcpStream, ErrorKind> {
        match tokio::time::timeout(timeout, self.connect_any()).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(error)) if error.kind() == io::ErrorKind::ConnectionRefused => {
                Err(ErrorKind::Refused)
            }
            Ok(Err(_)) => Err(ErrorKind::Connect),
            Err(_elapsed) => Err(ErrorKind::ConnectTimeout),
        }
    }

    async fn connect_any(&self) -> io::Result<TcpStream> {
        let addresses = self.addresses().await?;
        let first = self.preferred.load(Ordering::Relaxed);
        let mut last_error = None;
        for offset in 0..addresses.len() {
            let index = (first + offset) % addresses.len();
            match TcpStream::connect(addresses[index]).await {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(stream);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}:{} resolves to no address", self.host, self.port),
            )
        }))
    }

    async fn addresses(&self) -> io::Result<&[SocketAddr]> {
        if let Some(addresses) = self.addresses.get() {
            return Ok(addresses);
        }
        let found: Box<[SocketAddr]> = tokio::net::lookup_host((&*self.host, self.port))
            .await?
            .collect();
        // Concurrent first connects may both look up; the first answer stays.
        Ok(self.addresses.get_or_init(|| found))
    }

    fn is(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
    }
}

fn host_and_port(uri: &Uri) -> Result<(&str, u16), ErrorKind> {
    if uri.scheme_str() != Some("http") {
        return Err(ErrorKind::Connect);
    }
    let host = uri.host().ok_or(ErrorKind::Connect)?;
    Ok((host, uri.port_u16().unwrap_or(80)))
}

/// A host a worker sends to, with its connections.
pub(super) struct Host<C> {
    pub(super) endpoint: Endpoint,
    pub(super) connections: C,
}

/// The hosts a worker has sent to.
pub(super) struct Hosts<C> {
    // A target has few hosts (usually one), so a scan beats hashing the host on every request.
    hosts: Mutex<Vec<Arc<Host<C>>>>,
}

impl<C> Hosts<C> {
    pub(super) fn new() -> Self {
        Self {
            hosts: Mutex::new(Vec::new()),
        }
    }

    /// The host `uri` names, added with `connections` on first use.
    pub(super) fn get(
        &self,
        uri: &Uri,
        connections: impl FnOnce(&Endpoint) -> C,
    ) -> Result<Arc<Host<C>>, ErrorKind> {
        let (host, port) = host_and_port(uri)?;
        let mut hosts = lock(&self.hosts);
        if let Some(found) = hosts.iter().find(|known| known.endpoint.is(host, port)) {
            return Ok(found.clone());
        }
        let endpoint = Endpoint::for_uri(uri)?;
        let connections = connections(&endpoint);
        let added = Arc::new(Host {
            endpoint,
            connections,
        });
        hosts.push(added.clone());
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_server;
    use super::*;

    fn endpoint(uri: &str) -> Endpoint {
        Endpoint::for_uri(&uri.parse().expect("test URI")).expect("reachable URI")
    }

    #[test]
    fn host_header_names_host_and_port_as_written() {
        assert_eq!(
            endpoint("http://example.com/fn").host_header(),
            "example.com"
        );
        assert_eq!(
            endpoint("http://user:pw@127.0.0.1:8080/fn").host_header(),
            "127.0.0.1:8080"
        );
        assert_eq!(endpoint("http://[::1]:9/").host_header(), "[::1]:9");
    }

    #[test]
    fn same_host_and_port_share_connections() {
        let hosts = Hosts::new();
        let uri = |text: &str| -> Uri { text.parse().expect("test URI") };
        let a = hosts
            .get(&uri("http://Example.com/a"), |_| ())
            .expect("host");
        let b = hosts
            .get(&uri("http://example.com:80/b?x=1"), |_| ())
            .expect("host");
        let c = hosts
            .get(&uri("http://example.com:8080/a"), |_| ())
            .expect("host");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[tokio::test]
    async fn connect_failures_are_classified() {
        let port = test_server::unused_port().await;
        let refused = endpoint(&format!("http://127.0.0.1:{port}/"));
        assert_eq!(
            refused.connect(Duration::from_secs(1)).await.err(),
            Some(ErrorKind::Refused)
        );

        // Linux refuses TCP to a broadcast address as unreachable, at once.
        let unreachable = endpoint("http://255.255.255.255/");
        assert_eq!(
            unreachable.connect(Duration::from_secs(1)).await.err(),
            Some(ErrorKind::Connect)
        );
    }

    #[tokio::test]
    async fn connect_tries_each_address() {
        let server = test_server::raw(|stream, _| async move { drop(stream) }).await;
        let port = server.uri("/").port_u16().expect("port");
        let closed = test_server::unused_port().await;
        // A name, so that its addresses are not fixed yet.
        let endpoint = endpoint(&format!("http://localhost:{port}/"));
        // Nothing listens on the first address, as when "localhost" resolves to ::1 first.
        let set = endpoint.addresses.set(Box::from([
            SocketAddr::from(([127, 0, 0, 1], closed)),
            SocketAddr::from(([127, 0, 0, 1], port)),
        ]));
        assert!(set.is_ok());

        assert!(endpoint.connect(Duration::from_secs(1)).await.is_ok());
        assert_eq!(endpoint.preferred.load(Ordering::Relaxed), 1);
    }
}

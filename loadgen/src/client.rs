//! The HTTP client: sends one invocation and reads the platform's answer.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::outcome::{ErrorKind, PlatformMetering, StartKind};

/// The platform's answer to one invocation, body read to the end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer {
    pub(crate) result: Result<(), ErrorKind>,
    pub(crate) start: StartKind,
    pub(crate) metering: PlatformMetering,
}

/// A pooled HTTP/1.1 keep-alive client; connections are reused across invocations.
#[derive(Clone)]
pub(crate) struct InvokeClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl InvokeClient {
    pub(crate) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        Self { client }
    }

    /// POSTs `body` to `uri` and reads the whole answer.
    pub(crate) async fn invoke(&self, uri: Uri, body: Bytes) -> Result<Answer, ErrorKind> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .body(Full::new(body))
            .map_err(|_| ErrorKind::Connection)?;
        let response = self.client.request(request).await.map_err(|err| {
            if err.is_connect() {
                ErrorKind::Connect
            } else {
                ErrorKind::Connection
            }
        })?;
        let status = response.status();
        let start = response
            .headers()
            .get("x-faas-start")
            .map_or(StartKind::Unknown, |value| {
                StartKind::from_header(value.as_bytes())
            });
        let metering = read_metering(response.headers());
        // The invocation ends when the last byte of the answer has arrived.
        response
            .into_body()
            .collect()
            .await
            .map_err(|_| ErrorKind::Connection)?;
        let result = if status.is_success() {
            Ok(())
        } else {
            Err(ErrorKind::Status(status.as_u16()))
        };
        Ok(Answer {
            result,
            start,
            metering,
        })
    }
}

fn read_metering(headers: &HeaderMap) -> PlatformMetering {
    let number = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.parse().ok() };
    PlatformMetering {
        init_us: number("x-faas-init-us"),
        queue_us: number("x-faas-queue-us"),
        exec_us: number("x-faas-exec-us"),
        billed_ms: number("x-faas-billed-ms"),
        memory_mb: number("x-faas-memory-mb"),
        instance: number("x-faas-instance"),
    }
}

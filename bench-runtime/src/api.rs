//! The HTTP API: routes requests to the runtime and turns its answers into responses.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::{InvokeError, Metering, Runtime};

pub(crate) type ApiResponse = Response<Full<Bytes>>;

/// Answers one request. Never fails: every problem becomes a status code and a message.
pub(crate) async fn route(
    runtime: Arc<Runtime>,
    request: Request<Incoming>,
) -> Result<ApiResponse, Infallible> {
    let path = request.uri().path().to_owned();
    let response = if let Some(name) = path.strip_prefix("/invoke/") {
        if request.method() != Method::POST {
            method_not_allowed("POST")
        } else if name.is_empty() || name.contains('/') {
            text(
                StatusCode::NOT_FOUND,
                format!("no function in path `{path}`"),
            )
        } else {
            invoke(&runtime, name, request).await
        }
    } else {
        match (request.method(), path.as_str()) {
            (&Method::GET, "/healthz") => text(StatusCode::OK, "ok".into()),
            (&Method::GET, "/functions") => text(StatusCode::OK, runtime.functions().join("\n")),
            (_, "/healthz" | "/functions") => method_not_allowed("GET"),
            _ => text(StatusCode::NOT_FOUND, format!("no route for `{path}`")),
        }
    };
    Ok(response)
}

async fn invoke(runtime: &Runtime, name: &str, request: Request<Incoming>) -> ApiResponse {
    let limit = runtime.config().max_body_bytes;
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let input = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Err(err) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {err}"),
            );
        }
    };
    match runtime.invoke(name, input).await {
        Ok(done) => {
            let mut response = Response::new(Full::new(Bytes::from(done.output)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            with_metering(response, &done.metering)
        }
        Err(err @ InvokeError::UnknownFunction(_)) => text(StatusCode::NOT_FOUND, err.to_string()),
        Err(ref err @ InvokeError::Trap { ref metering, .. }) => {
            let metering = *metering;
            with_metering(
                text(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()),
                &metering,
            )
        }
        Err(err @ InvokeError::StartFailed { .. }) => {
            text(StatusCode::INTERNAL_SERVER_ERROR, err.to_string())
        }
    }
}

/// Adds the `x-faas-*` measurement headers of the HTTP protocol.
fn with_metering(mut response: ApiResponse, metering: &Metering) -> ApiResponse {
    let headers = response.headers_mut();
    headers.insert(
        "x-faas-start",
        HeaderValue::from_static(metering.start.as_str()),
    );
    headers.insert("x-faas-init-us", metering.init_us.into());
    headers.insert("x-faas-queue-us", metering.queue_us.into());
    headers.insert("x-faas-exec-us", metering.exec_us.into());
    headers.insert("x-faas-billed-ms", metering.billed_ms.into());
    headers.insert("x-faas-memory-mb", metering.memory_mb.into());
    headers.insert("x-faas-instance", metering.instance.into());
    response
}

fn text(status: StatusCode, mut message: String) -> ApiResponse {
    message.push('\n');
    let mut response = Response::new(Full::new(Bytes::from(message)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn method_not_allowed(allowed: &'static str) -> ApiResponse {
    let mut response = text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed; use {allowed}"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

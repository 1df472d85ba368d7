//! The HTTP API: routes requests to the runtime and turns its answers into responses.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::io::Write as _;

use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::{FunctionConfig, InvokeError, Metering, ModuleSource, Runtime};

pub(crate) type ApiResponse = Response<Full<Bytes>>;

/// Answers one request. Never fails: every problem becomes a status code and a message.
pub(crate) async fn route(
    runtime: Arc<Runtime>,
    request: Request<Incoming>,
) -> Result<ApiResponse, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let response = if let Some(name) = path.strip_prefix("/invoke/") {
        match method {
            Method::POST if valid_name(name) => invoke(&runtime, name, request).await,
            Method::POST => text(
                StatusCode::NOT_FOUND,
                format!("no function in path `{path}`"),
            ),
            _ => method_not_allowed("POST"),
        }
    } else if let Some(name) = path.strip_prefix("/functions/") {
        if !valid_name(name) {
            text(
                StatusCode::NOT_FOUND,
                format!("no function in path `{path}`"),
            )
        } else {
            match method {
                Method::PUT => deploy(runtime.clone(), name, request).await,
                Method::GET => match runtime.function_config(name) {
                    Some(config) => json_response(StatusCode::OK, describe(&runtime, &config)),
                    None => text(StatusCode::NOT_FOUND, format!("unknown function `{name}`")),
                },
                Method::DELETE if runtime.remove(name) => empty(StatusCode::NO_CONTENT),
                Method::DELETE => text(StatusCode::NOT_FOUND, format!("unknown function `{name}`")),
                _ => method_not_allowed("GET, PUT, DELETE"),
            }
        }
    } else {
        match (&method, path.as_str()) {
            (&Method::GET, "/healthz") => text(StatusCode::OK, "ok".into()),
            (&Method::GET, "/functions") => {
                let functions: Vec<_> = runtime
                    .functions()
                    .iter()
                    .filter_map(|name| runtime.function_config(name))
                    .map(|config| describe(&runtime, &config))
                    .collect();
                let stats = runtime.stats();
                json_response(
                    StatusCode::OK,
                    json!({
                        "policy": stats.policy,
                        "memory_used_mb": stats.memory_used_mb,
                        "capacity_mb": stats.capacity_mb,
                        "functions": functions,
                    }),
                )
            }
            (&Method::GET, "/metrics") => {
                let mut response = text(StatusCode::OK, runtime.stats().prometheus());
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                response
            }
            (_, "/healthz" | "/functions" | "/metrics") => method_not_allowed("GET"),
            _ => text(StatusCode::NOT_FOUND, format!("no route for `{path}`")),
        }
    };
    Ok(response)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/')
}

/// How much of a body over the limit is read and thrown away before the 413 is sent, so that
/// the client, still sending, gets the answer instead of a connection reset (closing a socket
/// with unread data in it resets the connection). Beyond this the connection is closed after
/// the answer.
const DRAIN_BYTES: u64 = 64 << 20;

/// Reads a request body of at most `limit` bytes, or the response that refuses it.
async fn read_body(request: Request<Incoming>, limit: usize) -> Result<Bytes, ApiResponse> {
    let too_large = |close: bool| {
        let mut response = text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {limit} bytes"),
        );
        if close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    };
    let headers = request.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if let Some(length) = declared.filter(|&length| length > limit_u64) {
        // A client waiting for `100 Continue` has sent nothing yet: refuse before it does.
        let waits = headers
            .get(header::EXPECT)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if waits || length > DRAIN_BYTES {
            return Err(too_large(true));
        }
    }
    let mut body = request.into_body();
    // Frames are kept as they arrive; a body of one frame (the common case) is not copied.
    let mut kept: Vec<Bytes> = Vec::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {err}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len() as u64);
        if seen > DRAIN_BYTES {
            return Err(too_large(true));
        }
        if seen <= limit_u64 {
            kept.push(data);
        }
    }
    if seen > limit_u64 {
        return Err(too_large(false));
    }
    Ok(match kept.len() {
        1 => kept.swap_remove(0),
        _ => Bytes::from(kept.concat()),
    })
}

async fn invoke(runtime: &Runtime, name: &str, request: Request<Incoming>) -> ApiResponse {
    let input = match read_body(request, runtime.config().max_body_bytes).await {
        Ok(input) => input,
        Err(response) => return response,
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
        Err(err) => {
            let status = match &err {
                InvokeError::UnknownFunction(_) => StatusCode::NOT_FOUND,
                InvokeError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
                InvokeError::QueueFull { .. } | InvokeError::CapacityFull { .. } => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                InvokeError::Trap { .. } | InvokeError::StartFailed { .. } => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            let mut response = text(status, err.to_string());
            if let InvokeError::QueueFull { retry_after_s, .. }
            | InvokeError::CapacityFull { retry_after_s, .. } = &err
            {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, (*retry_after_s).into());
            }
            match err.metering() {
                Some(metering) => with_metering(response, metering),
                None => response,
            }
        }
    }
}

/// `PUT /functions/{name}`: the body is the module (WebAssembly binary or text) unless the
/// `guest` parameter names a built-in guest; the other settings are query parameters. The
/// module is compiled on a blocking thread, not on the threads that serve requests.
async fn deploy(runtime: Arc<Runtime>, name: &str, request: Request<Incoming>) -> ApiResponse {
    let query = request.uri().query().unwrap_or("").to_owned();
    let body = match read_body(request, runtime.config().max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let config = match function_from_query(name, &query, body) {
        Ok(config) => config,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    let deploying = runtime.clone();
    let deployed = tokio::task::spawn_blocking({
        let config = config.clone();
        move || deploying.deploy(config)
    })
    .await;
    match deployed {
        Ok(Ok(replaced)) => {
            let status = if replaced {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            json_response(status, describe(&runtime, &config))
        }
        Ok(Err(err)) => text(StatusCode::BAD_REQUEST, err.to_string()),
        Err(err) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("deploying `{name}` did not finish: {err}"),
        ),
    }
}

fn function_from_query(name: &str, query: &str, body: Bytes) -> Result<FunctionConfig, String> {
    let mut guest = None;
    let mut settings = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value =
            percent_decode(value).map_err(|err| format!("query parameter `{key}`: {err}"))?;
        if key == "guest" {
            guest = Some(value);
        } else {
            settings.push((key.to_owned(), value));
        }
    }
    let module = match guest {
        Some(spec) => ModuleSource::Builtin(spec),
        None if body.is_empty() => {
            return Err("send the module (WebAssembly binary or text) as the body, or name a built-in guest with ?guest=".into());
        }
        None => ModuleSource::Wasm(body.to_vec()),
    };
    let mut config = FunctionConfig::new(name, module);
    for (key, value) in settings {
        let number = || {
            value.parse::<u32>().map_err(|_| {
                format!("query parameter `{key}`: expected a whole number, found `{value}`")
            })
        };
        let duration = || {
            humantime::parse_duration(&value).map_err(|err| {
                format!("query parameter `{key}`: expected a duration such as 30s, found `{value}` ({err})")
            })
        };
        match key.as_str() {
            "memory_mb" => config.memory_mb = number()?,
            "max_instances" => config.max_instances = number()?,
            "max_queue" => config.max_queue = number()?,
            "prewarm" => config.prewarm = number()?,
            "timeout" => config.timeout = duration()?,
            "keep_alive" => config.keep_alive = Some(duration()?),
            other => {
                return Err(format!(
                    "unknown query parameter `{other}`; expected guest, memory_mb, timeout, max_instances, max_queue, prewarm or keep_alive"
                ));
            }
        }
    }
    // A WAT body arrives as bytes too; the runtime accepts both forms.
    if let ModuleSource::Wasm(bytes) = &config.module
        && !bytes.starts_with(b"\0asm")
    {
        config.module = ModuleSource::Wat(String::from_utf8_lossy(bytes).into_owned());
    }
    Ok(config)
}

fn percent_decode(value: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut input = value.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex: String = input.by_ref().take(2).map(char::from).collect();
                let decoded = u8::from_str_radix(&hex, 16)
                    .map_err(|_| format!("bad percent-escape `%{hex}`"))?;
                bytes.push(decoded);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 after decoding".into())
}

fn describe(runtime: &Runtime, config: &FunctionConfig) -> serde_json::Value {
    let module = match &config.module {
        ModuleSource::Builtin(spec) => format!("guest {spec}"),
        ModuleSource::Wat(text) => format!("WebAssembly text, {} bytes", text.len()),
        ModuleSource::Wasm(bytes) => format!("WebAssembly binary, {} bytes", bytes.len()),
        ModuleSource::Path(path) => format!("file {}", path.display()),
    };
    let stats = runtime.stats();
    json!({
        "name": config.name,
        "module": module,
        "memory_mb": config.memory_mb,
        "timeout_ms": millis(config.timeout),
        "max_instances": config.max_instances,
        "max_queue": config.max_queue,
        "prewarm": config.prewarm,
        "keep_alive_ms": config.keep_alive.map(millis),
        "stats": stats.function(&config.name),
    })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

const X_FAAS_START: HeaderName = HeaderName::from_static("x-faas-start");
const X_FAAS_INIT_US: HeaderName = HeaderName::from_static("x-faas-init-us");
const X_FAAS_QUEUE_US: HeaderName = HeaderName::from_static("x-faas-queue-us");
const X_FAAS_EXEC_US: HeaderName = HeaderName::from_static("x-faas-exec-us");
const X_FAAS_BILLED_MS: HeaderName = HeaderName::from_static("x-faas-billed-ms");
const X_FAAS_MEMORY_MB: HeaderName = HeaderName::from_static("x-faas-memory-mb");
const X_FAAS_INSTANCE: HeaderName = HeaderName::from_static("x-faas-instance");
const X_FAAS_DELAYED_BY_START: HeaderName = HeaderName::from_static("x-faas-delayed-by-start");

/// Adds the `x-faas-*` measurement headers of the HTTP protocol. The numbers are written into
/// one buffer and each header value is a slice of it: one allocation per response.
fn with_metering(mut response: ApiResponse, metering: &Metering) -> ApiResponse {
    let numbers = [
        (X_FAAS_INIT_US, metering.init_us),
        (X_FAAS_QUEUE_US, metering.queue_us),
        (X_FAAS_EXEC_US, metering.exec_us),
        (X_FAAS_BILLED_MS, metering.billed_ms),
        (X_FAAS_MEMORY_MB, u64::from(metering.memory_mb)),
        (X_FAAS_INSTANCE, metering.instance),
    ];
    let mut digits = Vec::with_capacity(numbers.len() * 20);
    let mut ends = [0usize; 6];
    for (end, (_, value)) in ends.iter_mut().zip(&numbers) {
        let _ = write!(digits, "{value}");
        *end = digits.len();
    }
    let digits = Bytes::from(digits);
    let headers = response.headers_mut();
    headers.insert(
        X_FAAS_START,
        HeaderValue::from_static(metering.start.as_str()),
    );
    // Sent only when it applies: the common warm answer stays as small as it was.
    if metering.delayed_by_start {
        headers.insert(X_FAAS_DELAYED_BY_START, HeaderValue::from_static("1"));
    }
    let mut start = 0;
    for ((name, _), end) in numbers.into_iter().zip(ends) {
        // Decimal digits are always a valid header value.
        if let Ok(value) = HeaderValue::from_maybe_shared(digits.slice(start..end)) {
            headers.insert(name, value);
        }
        start = end;
    }
    response
}

fn json_response(status: StatusCode, value: serde_json::Value) -> ApiResponse {
    let mut body = serde_json::to_vec_pretty(&value).unwrap_or_default();
    body.push(b'\n');
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn text(status: StatusCode, mut message: String) -> ApiResponse {
    if !message.ends_with('\n') {
        message.push('\n');
    }
    let mut response = Response::new(Full::new(Bytes::from(message)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn empty(status: StatusCode) -> ApiResponse {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_settings_come_from_the_query() {
        let config = function_from_query(
            "f",
            "guest=init-heavy(init_ms%3D5%2C+state_mib%3D1)&memory_mb=256&timeout=2s&prewarm=1&keep_alive=5m",
            Bytes::new(),
        )
        .unwrap();
        assert_eq!(
            config.module,
            ModuleSource::Builtin("init-heavy(init_ms=5, state_mib=1)".into())
        );
        assert_eq!(config.memory_mb, 256);
        assert_eq!(config.timeout, Duration::from_secs(2));
        assert_eq!(config.prewarm, 1);
        assert_eq!(config.keep_alive, Some(Duration::from_secs(300)));

        let wat = function_from_query("f", "", Bytes::from_static(b"(module)")).unwrap();
        assert_eq!(wat.module, ModuleSource::Wat("(module)".into()));
        let wasm = function_from_query("f", "", Bytes::from_static(b"\0asm\x01\0\0\0")).unwrap();
        assert!(matches!(wasm.module, ModuleSource::Wasm(_)));
    }

    #[test]
    fn bad_deployment_queries_name_the_parameter() {
        let cases = [
            (
                "guest=cpu&memroy_mb=5",
                "unknown query parameter `memroy_mb`",
            ),
            (
                "guest=cpu&memory_mb=lots",
                "`memory_mb`: expected a whole number",
            ),
            ("guest=cpu&timeout=soon", "`timeout`: expected a duration"),
            ("guest=%zz", "bad percent-escape"),
            ("memory_mb=5", "send the module"),
        ];
        for (query, expected) in cases {
            let err = function_from_query("f", query, Bytes::new()).unwrap_err();
            assert!(err.contains(expected), "{query}: {err}");
        }
    }
}

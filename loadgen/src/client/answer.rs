//! Reading the platform's answer. An invocation ends when the last byte of its answer has
//! arrived, so the body is always read to its end (and discarded: only its arrival counts),
//! and what the platform says about its own work is taken from the `x-faas-*` headers.

use http_body_util::BodyExt;
use hyper::Response;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName};
use tokio::time::{Instant, timeout_at};

use crate::outcome::{AnswerFacts, ErrorKind, StartKind};

/// The protocol's response headers all start with this (header names are lower case).
const FAAS_PREFIX: &str = "x-faas-";

/// Reads `response` to its last byte by `deadline`. The facts come from the headers, so they
/// are kept even when the body then fails or is late.
pub(super) async fn read_answer(
    response: Response<Incoming>,
    instance_header: Option<&HeaderName>,
    deadline: Instant,
) -> (Result<(), ErrorKind>, AnswerFacts) {
    let (head, mut body) = response.into_parts();
    let facts = read_facts(&head.headers, instance_header);
    let drained = timeout_at(deadline, async {
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok::<(), hyper::Error>(())
    })
    .await;
    let result = match drained {
        Err(_elapsed) => Err(ErrorKind::Timeout),
        // An answer that did not arrive whole is a broken connection, whatever its status.
        Ok(Err(_broken)) => Err(ErrorKind::Reset),
        Ok(Ok(())) if head.status.is_success() => Ok(()),
        Ok(Ok(())) => Err(ErrorKind::Status(head.status.as_u16())),
    };
    (result, facts)
}

/// What the answer's headers say; absent or malformed values are left unknown. The headers
/// are walked once, looking only at `x-faas-*` names and the instance header.
///
/// `x-faas-delayed-by-start` is sent only when it applies, so its absence means "not
/// delayed" from a platform that speaks the protocol — one that reported the start kind —
/// and "unknown" from any other.
pub(super) fn read_facts(headers: &HeaderMap, instance_header: Option<&HeaderName>) -> AnswerFacts {
    let mut facts = AnswerFacts::default();
    let mut delay_header_seen = false;
    for (name, value) in headers {
        if instance_header == Some(name) {
            facts.instance_tag = Some(instance_tag(value.as_bytes()));
        }
        let Some(field) = name.as_str().strip_prefix(FAAS_PREFIX) else {
            continue;
        };
        let number = || -> Option<u64> { value.to_str().ok()?.parse().ok() };
        let metering = &mut facts.metering;
        match field {
            "start" => facts.start = StartKind::from_header(value.as_bytes()),
            "init-us" => metering.init_us = number(),
            "queue-us" => metering.queue_us = number(),
            "exec-us" => metering.exec_us = number(),
            "billed-ms" => metering.billed_ms = number(),
            "memory-mb" => metering.memory_mb = number(),
            "instance" => metering.instance = number(),
            "delayed-by-start" => {
                delay_header_seen = true;
                metering.delayed_by_start = match value.as_bytes() {
                    b"1" => Some(true),
                    b"0" => Some(false),
                    _ => None,
                };
            }
            _ => {}
        }
    }
    if !delay_header_seen && facts.start != StartKind::Unknown {
        facts.metering.delayed_by_start = Some(false);
    }
    facts
}

/// A 64-bit FNV-1a hash of an instance header's value: cheap, and stable across runs and
/// builds, so tags can be compared between invocation logs.
pub(super) fn instance_tag(value: &[u8]) -> u64 {
    value.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;
    use crate::outcome::PlatformMetering;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|&(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn every_faas_header_is_read() {
        let facts = read_facts(
            &headers(&[
                ("x-faas-start", "snapshot"),
                ("x-faas-init-us", "15000"),
                ("x-faas-queue-us", "12"),
                ("x-faas-exec-us", "340"),
                ("x-faas-billed-ms", "100"),
                ("x-faas-memory-mb", "256"),
                ("x-faas-instance", "3"),
                ("x-faas-delayed-by-start", "1"),
            ]),
            None,
        );
        assert_eq!(
            facts,
            AnswerFacts {
                start: StartKind::Snapshot,
                metering: PlatformMetering {
                    init_us: Some(15000),
                    queue_us: Some(12),
                    exec_us: Some(340),
                    billed_ms: Some(100),
                    memory_mb: Some(256),
                    instance: Some(3),
                    delayed_by_start: Some(true),
                },
                instance_tag: None,
            }
        );
    }

    #[test]
    fn missing_or_malformed_values_stay_unknown() {
        let facts = read_facts(
            &headers(&[
                ("x-faas-start", "lukewarm"),
                ("x-faas-init-us", "-5"),
                ("x-faas-exec-us", "12ms"),
                ("x-faas-delayed-by-start", "yes"),
            ]),
            Some(&HeaderName::from_static("x-served-by")),
        );
        assert_eq!(facts, AnswerFacts::default());
    }

    #[test]
    fn delayed_by_start_is_absent_unless_it_applies_and_unknown_without_the_protocol() {
        let delayed = |pairs: &[(&'static str, &'static str)]| {
            read_facts(&headers(pairs), None).metering.delayed_by_start
        };
        // A warm invocation that queued behind another instance's start.
        assert_eq!(
            delayed(&[("x-faas-start", "warm"), ("x-faas-delayed-by-start", "1")]),
            Some(true)
        );
        // The runtime leaves the header out when the invocation waited for no start.
        assert_eq!(delayed(&[("x-faas-start", "warm")]), Some(false));
        assert_eq!(delayed(&[("x-faas-delayed-by-start", "0")]), Some(false));
        // A platform that sends no start kind says nothing about delays either.
        assert_eq!(delayed(&[("x-faas-exec-us", "300")]), None);
        assert_eq!(delayed(&[]), None);
        // A value other than 0 or 1 is not read as an answer, even from the protocol.
        assert_eq!(
            delayed(&[
                ("x-faas-start", "cold"),
                ("x-faas-delayed-by-start", "true")
            ]),
            None
        );
    }

    #[test]
    fn instance_header_value_is_tagged_so_instances_tell_apart() {
        let name = HeaderName::from_static("x-served-by");
        let a = read_facts(&headers(&[("x-served-by", "pod-a")]), Some(&name));
        let a_again = read_facts(&headers(&[("x-served-by", "pod-a")]), Some(&name));
        let b = read_facts(&headers(&[("x-served-by", "pod-b")]), Some(&name));
        assert!(a.instance_tag.is_some());
        assert_eq!(a.instance_tag, a_again.instance_tag);
        assert_ne!(a.instance_tag, b.instance_tag);
        // Without a configured header the value is not looked at.
        assert_eq!(
            read_facts(&headers(&[("x-served-by", "pod-a")]), None).instance_tag,
            None
        );
    }

    #[test]
    fn instance_tag_is_stable_fnv1a() {
        // Published FNV-1a 64 test vectors: tags must not change between builds.
        assert_eq!(instance_tag(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(instance_tag(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}

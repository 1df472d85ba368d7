//! How a run's measurements are saved, so that reports can be rebuilt without re-running.
//!
//! Histograms are kept in HdrHistogram's V2 deflate encoding (the one of `.hlog` files),
//! base64-encoded inside JSON: exact, bucket by bucket, and readable by any HdrHistogram
//! implementation. These are `serde(with = …)` modules for the recorder's fields.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{
    Deserializer as HdrDeserializer, Serializer as _, V2DeflateSerializer,
};
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::outcome::ErrorKind;

fn encode(histogram: &Histogram<u64>) -> Result<String, String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|err| format!("cannot encode a histogram: {err:?}"))?;
    Ok(STANDARD.encode(bytes))
}

fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|err| format!("a histogram is not valid base64: {err}"))?;
    let histogram: Histogram<u64> = HdrDeserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|err| format!("a histogram cannot be decoded: {err:?}"))?;
    let mut histogram = histogram;
    // Saved histograms go on growing when more is added to them, like the recorder's own.
    histogram.auto(true);
    Ok(histogram)
}

/// One histogram.
pub(crate) mod histogram {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(h: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        encode(h).map_err(S::Error::custom)?.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        decode(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// A fixed array of histograms.
pub(crate) mod histograms {
    use super::*;

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        hs: &[Histogram<u64>; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: Result<Vec<String>, String> = hs.iter().map(encode).collect();
        encoded.map_err(S::Error::custom)?.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[Histogram<u64>; N], D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        let decoded = texts
            .iter()
            .map(|t| decode(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(D::Error::custom)?;
        let found = decoded.len();
        decoded
            .try_into()
            .map_err(|_| D::Error::custom(format!("{found} histograms where {N} belong")))
    }
}

/// A fixed array of optional histograms.
pub(crate) mod optional_histograms {
    use super::*;

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        hs: &[Option<Histogram<u64>>; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: Result<Vec<Option<String>>, String> = hs
            .iter()
            .map(|h| h.as_ref().map(encode).transpose())
            .collect();
        encoded.map_err(S::Error::custom)?.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[Option<Histogram<u64>>; N], D::Error> {
        let texts = Vec::<Option<String>>::deserialize(d)?;
        let decoded = texts
            .iter()
            .map(|t| t.as_deref().map(decode).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(D::Error::custom)?;
        let found = decoded.len();
        decoded
            .try_into()
            .map_err(|_| D::Error::custom(format!("{found} histograms where {N} belong")))
    }
}

/// Error counts keyed by the error's name (`http_503`, `timeout`, …).
pub(crate) mod error_counts {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        counts: &BTreeMap<ErrorKind, u64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let named: BTreeMap<String, u64> =
            counts.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        named.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<ErrorKind, u64>, D::Error> {
        BTreeMap::<String, u64>::deserialize(d)?
            .into_iter()
            .map(|(name, count)| {
                ErrorKind::from_name(&name)
                    .map(|kind| (kind, count))
                    .ok_or_else(|| D::Error::custom(format!("unknown error kind `{name}`")))
            })
            .collect()
    }
}

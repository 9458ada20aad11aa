//! SigMF annotations: a labelled span of samples and frequencies. `synth`
//! writes them as ground truth, evidence files describe their alert with one,
//! and `score` matches alerts against them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Key of rfsentry's alert-kind field in an annotation (e.g. `jamming.tone`).
pub const KIND_KEY: &str = "rfsentry:kind";
/// Key of the stated excess power over the noise floor, in dB.
pub const EXCESS_KEY: &str = "rfsentry:excess_db";

/// One SigMF annotation. Core fields are typed; any other key is kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    #[serde(rename = "core:sample_start")]
    pub sample_start: u64,
    #[serde(
        rename = "core:sample_count",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sample_count: Option<u64>,
    #[serde(
        rename = "core:freq_lower_edge",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub freq_lower_edge: Option<f64>,
    #[serde(
        rename = "core:freq_upper_edge",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub freq_upper_edge: Option<f64>,
    #[serde(
        rename = "core:label",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub label: Option<String>,
    #[serde(
        rename = "core:comment",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Annotation {
    /// A new annotation over `[sample_start, sample_start + sample_count)`.
    pub fn new(sample_start: u64, sample_count: u64) -> Self {
        Annotation {
            sample_start,
            sample_count: Some(sample_count),
            freq_lower_edge: None,
            freq_upper_edge: None,
            label: None,
            comment: None,
            extra: Map::new(),
        }
    }

    /// The rfsentry alert kind this annotation labels, if any.
    pub fn kind(&self) -> Option<&str> {
        self.extra.get(KIND_KEY).and_then(Value::as_str)
    }

    /// The stated excess power in dB, if any.
    pub fn excess_db(&self) -> Option<f64> {
        self.extra.get(EXCESS_KEY).and_then(Value::as_f64)
    }

    /// Set a custom (namespaced) field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// Exclusive end sample, when the count is known.
    pub fn sample_end(&self) -> Option<u64> {
        self.sample_count.map(|n| self.sample_start + n)
    }
}

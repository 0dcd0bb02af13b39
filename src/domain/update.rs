//! The lifecycle of an update.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    Processing,
    Ready,
    Failed,
}

impl UpdateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateStatus::Processing => "processing",
            UpdateStatus::Ready => "ready",
            UpdateStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "processing" => Some(UpdateStatus::Processing),
            "ready" => Some(UpdateStatus::Ready),
            "failed" => Some(UpdateStatus::Failed),
            _ => None,
        }
    }
}

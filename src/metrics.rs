//! Prometheus metrics: what this process measured (HTTP latencies by route, job
//! durations and outcomes, transcription speed) plus gauges read at scrape time
//! from the shared database and the local index (queue depth and age, index lag).
//!
//! A handful of histograms behind one mutex: every observation is a few
//! additions, far below the cost of the request or job it describes, so a
//! metrics library would add weight without adding anything we use.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Seconds: from a cached page to a slow upload.
const HTTP_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0];
/// Seconds: from an index job to a long re-encode.
const JOB_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];
/// Processing time over audio time: below 1 is faster than real time.
const RTF_BUCKETS: &[f64] = &[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Observations at or below each bound (not cumulative; summed when rendered).
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, counts: vec![0; bounds.len()], sum: 0.0, count: 0 }
    }

    fn observe(&mut self, value: f64) {
        if let Some(slot) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[slot] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Recorded {
    /// (method, route template, status) → latency.
    http: BTreeMap<(&'static str, String, u16), Histogram>,
    /// (job kind, outcome) → duration.
    jobs: BTreeMap<(&'static str, &'static str), Histogram>,
    transcription_rtf: Option<Histogram>,
}

/// Shared by every handler and worker loop of the process.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    recorded: Arc<Mutex<Recorded>>,
}

/// How a job attempt ended, as a label.
#[derive(Debug, Clone, Copy)]
pub enum JobOutcome {
    Done,
    Failed,
    /// Its lease was lost or the process shut down: another attempt will run it.
    Abandoned,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Done => "done",
            JobOutcome::Failed => "failed",
            JobOutcome::Abandoned => "abandoned",
        }
    }
}

/// Gauges read from the database and the index when scraped.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// (kind, state) → jobs.
    pub queue_depth: Vec<(String, String, i64)>,
    /// kind → age of its oldest due, unclaimed job.
    pub queue_oldest_age: Vec<(String, Duration)>,
    /// Changes in the database's feed this server's index has not applied yet.
    pub index_lag: Option<i64>,
    pub index_documents: Option<u64>,
    /// This process's media slots (see `media::admission`).
    pub media: crate::media::SlotStats,
}

impl Metrics {
    fn recorded(&self) -> std::sync::MutexGuard<'_, Recorded> {
        // A panic elsewhere while holding the lock leaves plain numbers behind: keep using them.
        self.recorded.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn observe_http(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        self.recorded()
            .http
            .entry((method, route.to_string(), status))
            .or_insert_with(|| Histogram::new(HTTP_BUCKETS))
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_job(&self, kind: &'static str, outcome: JobOutcome, elapsed: Duration) {
        self.recorded()
            .jobs
            .entry((kind, outcome.as_str()))
            .or_insert_with(|| Histogram::new(JOB_BUCKETS))
            .observe(elapsed.as_secs_f64());
    }

    /// Transcription time over the media's duration.
    pub fn observe_transcription(&self, elapsed: Duration, media: Duration) {
        if media.is_zero() {
            return;
        }
        self.recorded()
            .transcription_rtf
            .get_or_insert_with(|| Histogram::new(RTF_BUCKETS))
            .observe(elapsed.as_secs_f64() / media.as_secs_f64());
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = String::new();
        let recorded = self.recorded();
        header(&mut out, "bulletin_http_request_duration_seconds", "histogram", "HTTP request latency by route");
        for ((method, route, status), histogram) in &recorded.http {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", escape(route));
            histogram.render(&mut out, "bulletin_http_request_duration_seconds", &labels);
        }
        header(&mut out, "bulletin_job_duration_seconds", "histogram", "Job attempts run by this process, by outcome");
        for ((kind, outcome), histogram) in &recorded.jobs {
            let labels = format!("kind=\"{kind}\",outcome=\"{outcome}\"");
            histogram.render(&mut out, "bulletin_job_duration_seconds", &labels);
        }
        header(&mut out, "bulletin_job_failures_total", "counter", "Failed job attempts run by this process");
        for ((kind, outcome), histogram) in &recorded.jobs {
            if *outcome == JobOutcome::Failed.as_str() {
                let _ = writeln!(out, "bulletin_job_failures_total{{kind=\"{kind}\"}} {}", histogram.count);
            }
        }
        header(
            &mut out,
            "bulletin_transcription_real_time_factor",
            "histogram",
            "Transcription time divided by media duration",
        );
        if let Some(histogram) = &recorded.transcription_rtf {
            histogram.render(&mut out, "bulletin_transcription_real_time_factor", "");
        }
        drop(recorded);

        header(&mut out, "bulletin_queue_jobs", "gauge", "Jobs waiting or running, by kind and state");
        for (kind, state, count) in &snapshot.queue_depth {
            let _ = writeln!(out, "bulletin_queue_jobs{{kind=\"{kind}\",state=\"{state}\"}} {count}");
        }
        header(&mut out, "bulletin_queue_oldest_age_seconds", "gauge", "Age of the oldest due, unclaimed job");
        for (kind, age) in &snapshot.queue_oldest_age {
            let _ = writeln!(out, "bulletin_queue_oldest_age_seconds{{kind=\"{kind}\"}} {}", age.as_secs_f64());
        }
        let media = &snapshot.media;
        for (name, kind, help, value) in [
            ("bulletin_media_slots", "gauge", "Media processes this process may run at once", media.slots as u64),
            ("bulletin_media_slots_in_use", "gauge", "Media processes running now", media.in_use as u64),
            ("bulletin_media_waiting", "gauge", "Upload probes waiting for a media slot", media.waiting as u64),
            (
                "bulletin_media_refused_total",
                "counter",
                "Media processes refused a slot (answered busy)",
                media.refused,
            ),
        ] {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        if let Some(lag) = snapshot.index_lag {
            header(&mut out, "bulletin_search_index_lag_changes", "gauge", "Feed changes this index has not applied");
            let _ = writeln!(out, "bulletin_search_index_lag_changes {lag}");
        }
        if let Some(documents) = snapshot.index_documents {
            header(&mut out, "bulletin_search_documents", "gauge", "Documents in this server's search index");
            let _ = writeln!(out, "bulletin_search_documents {documents}");
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cumulative_buckets_and_gauges() {
        let metrics = Metrics::default();
        metrics.observe_http("GET", "/api/updates/{id}", 200, Duration::from_millis(3));
        metrics.observe_http("GET", "/api/updates/{id}", 200, Duration::from_millis(40));
        metrics.observe_job("transcribe", JobOutcome::Failed, Duration::from_secs(3));
        metrics.observe_transcription(Duration::from_secs(6), Duration::from_secs(60));
        let snapshot = Snapshot {
            queue_depth: vec![("transcode".into(), "queued".into(), 4)],
            queue_oldest_age: vec![("transcode".into(), Duration::from_millis(1500))],
            index_lag: Some(2),
            index_documents: Some(10),
            media: crate::media::SlotStats { slots: 4, in_use: 3, waiting: 1, refused: 7 },
        };
        let text = metrics.render(&snapshot);
        let route = "method=\"GET\",route=\"/api/updates/{id}\",status=\"200\"";
        assert!(text.contains(&format!("bulletin_http_request_duration_seconds_bucket{{{route},le=\"0.005\"}} 1")));
        assert!(text.contains(&format!("bulletin_http_request_duration_seconds_bucket{{{route},le=\"0.05\"}} 2")));
        assert!(text.contains(&format!("bulletin_http_request_duration_seconds_count{{{route}}} 2")));
        assert!(text.contains("bulletin_job_failures_total{kind=\"transcribe\"} 1"));
        assert!(text.contains("bulletin_transcription_real_time_factor_bucket{le=\"0.1\"} 1"));
        assert!(text.contains("bulletin_queue_jobs{kind=\"transcode\",state=\"queued\"} 4"));
        assert!(text.contains("bulletin_queue_oldest_age_seconds{kind=\"transcode\"} 1.5"));
        assert!(text.contains("bulletin_search_index_lag_changes 2"));
        assert!(text.contains("bulletin_media_slots 4\n"));
        assert!(text.contains("bulletin_media_slots_in_use 3\n"));
        assert!(text.contains("bulletin_media_refused_total 7\n"));
    }
}

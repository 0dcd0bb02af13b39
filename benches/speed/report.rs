//! The results table: one row per measure, Bulletin beside its peer, with the ratio and
//! the target. Printed as Markdown so the README can show it as is.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    MiB,
    PerSecond,
    /// Megabytes per second.
    MBps,
    /// A plain number (e.g. a real-time factor).
    Factor,
    /// Word error rate, 0..1, shown as a percentage.
    Rate,
}

#[derive(Debug, Clone, Copy)]
pub struct Value {
    pub value: f64,
    pub unit: Unit,
}

impl Value {
    pub fn new(value: f64, unit: Unit) -> Value {
        Value { value, unit }
    }

    fn render(&self) -> String {
        let v = self.value;
        match self.unit {
            Unit::Seconds => format!("{v:.2} s"),
            Unit::Millis if v < 10.0 => format!("{v:.2} ms"),
            Unit::Millis => format!("{v:.1} ms"),
            Unit::MiB => format!("{v:.0} MiB"),
            Unit::PerSecond => format!("{v:.0}/s"),
            Unit::MBps => format!("{v:.0} MB/s"),
            Unit::Factor => format!("{v:.3}"),
            Unit::Rate => format!("{:.1} %", v * 100.0),
        }
    }
}

/// Whether the target for this measure is met, and the target in words.
#[derive(Debug, Clone)]
pub struct Target {
    pub text: String,
    pub met: bool,
}

impl Target {
    pub fn at_most(limit: f64, actual: f64, text: impl Into<String>) -> Target {
        Target { text: text.into(), met: actual <= limit }
    }

    pub fn at_least(floor: f64, actual: f64, text: impl Into<String>) -> Target {
        Target { text: text.into(), met: actual >= floor }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub section: &'static str,
    pub measure: String,
    pub bulletin: Value,
    /// The peer's name and figure, measured in the same run.
    pub peer: Option<(String, Value)>,
    pub targets: Vec<Target>,
}

impl Row {
    pub fn new(section: &'static str, measure: impl Into<String>, bulletin: Value) -> Row {
        Row { section, measure: measure.into(), bulletin, peer: None, targets: Vec::new() }
    }

    pub fn peer(mut self, name: impl Into<String>, value: Value) -> Row {
        self.peer = Some((name.into(), value));
        self
    }

    pub fn target(mut self, target: Target) -> Row {
        self.targets.push(target);
        self
    }

    /// Bulletin ÷ peer (below 1 is better for times, above 1 for throughputs).
    pub fn ratio(&self) -> Option<f64> {
        let (_, peer) = self.peer.as_ref()?;
        (peer.value > 0.0).then(|| self.bulletin.value / peer.value)
    }
}

pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from("| section | measure | Bulletin | peer | ratio | target |\n|---|---|---|---|---|---|\n");
    for row in rows {
        let peer = row.peer.as_ref().map(|(name, v)| format!("{} ({name})", v.render())).unwrap_or_default();
        let ratio = row.ratio().map(|r| format!("{r:.2}×")).unwrap_or_default();
        let targets: Vec<String> =
            row.targets.iter().map(|t| format!("{} {}", if t.met { "✅" } else { "❌" }, t.text)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.section,
            row.measure,
            row.bulletin.render(),
            peer,
            ratio,
            targets.join("<br>")
        );
    }
    out
}

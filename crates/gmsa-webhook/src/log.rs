//! Structured logs: one JSON object per line on stderr (time, level, message, fields).
//! Callers pass only what is safe to show: never a key, a token or a request body.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// The log line for a message and its fields.
pub fn line(level: Level, msg: &str, fields: Value) -> String {
    let mut o = Map::new();
    let ts = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    o.insert("ts".into(), Value::String(ts));
    o.insert("level".into(), Value::String(level.as_str().into()));
    o.insert("msg".into(), Value::String(msg.into()));
    if let Value::Object(f) = fields {
        o.extend(f);
    }
    Value::Object(o).to_string()
}

/// Write one log line.
pub fn log(level: Level, msg: &str, fields: Value) {
    eprintln!("{}", line(level, msg, fields));
}

pub fn info(msg: &str, fields: Value) {
    log(Level::Info, msg, fields)
}

pub fn warn(msg: &str, fields: Value) {
    log(Level::Warn, msg, fields)
}

pub fn error(msg: &str, fields: Value) {
    log(Level::Error, msg, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_fields() {
        let l = line(Level::Warn, "x", serde_json::json!({"uid": "u1"}));
        assert!(!l.contains('\n'));
        let v: Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["level"], "warn");
        assert_eq!(v["msg"], "x");
        assert_eq!(v["uid"], "u1");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
    }
}

//! The `CALL_LEDGER` D1 database: statements with bound parameters only,
//! rows read by position from the raw arrays D1 returns (typed rows would
//! go through serde_wasm_bindgen, more wasm for the same few columns), and
//! one error type that keeps D1's text for the log.

use js_sys::futures::JsFuture;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use worker::{D1Database, D1PreparedStatement, Env};

/// The binding in wrangler.toml.
pub const BINDING: &str = "CALL_LEDGER";
/// D1 refuses more bound parameters in one statement.
pub const MAX_PARAMS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// The binding is not configured.
    Missing,
    /// D1 failed; the detail is for the log only.
    Failed(String),
}

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LedgerError::Missing => write!(f, "the {BINDING} binding is missing"),
            LedgerError::Failed(detail) => write!(f, "D1 failed: {detail}"),
        }
    }
}

impl From<worker::Error> for LedgerError {
    fn from(e: worker::Error) -> Self {
        // D1's own message names the cause (`no such table…`), never the
        // bound values; it is cut short all the same.
        let detail: String = e.to_string().chars().take(200).collect();
        LedgerError::Failed(detail)
    }
}

pub type Result<T> = std::result::Result<T, LedgerError>;

pub struct Ledger {
    db: D1Database,
}

impl Ledger {
    pub fn open(env: &Env) -> Result<Self> {
        let db = env.d1(BINDING).map_err(|_| LedgerError::Missing)?;
        Ok(Self { db })
    }

    pub fn statement(&self, sql: &str, params: &[JsValue]) -> Result<D1PreparedStatement> {
        Ok(self.db.prepare(sql).bind(params)?)
    }

    /// The rows of one statement.
    pub async fn rows(&self, sql: &str, params: &[JsValue]) -> Result<Vec<Row>> {
        let rows = self.statement(sql, params)?.raw_js_value().await?;
        Ok(rows.into_iter().map(|r| Row(r.unchecked_into())).collect())
    }

    /// Runs the statements in one round trip and one transaction; the
    /// number of rows each changed (a statement with `RETURNING`: the rows
    /// it returned, since D1's change count includes what triggers wrote).
    /// Read from D1's own result objects: `D1Result::meta` would pull
    /// serde_wasm_bindgen into the bundle.
    pub async fn batch(&self, statements: Vec<D1PreparedStatement>) -> Result<Vec<usize>> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let list: Array = statements
            .iter()
            .map(|s| JsValue::from(s.inner()))
            .collect();
        let db: &JsValue = self.db.as_ref();
        let results = call(db, "batch", &list).await?;
        let changes = |r: JsValue| {
            let returned = Reflect::get(&r, &"results".into())
                .ok()
                .and_then(|rows| rows.dyn_into::<Array>().ok())
                .map_or(0, |rows| rows.length() as usize);
            if returned > 0 {
                return returned;
            }
            Reflect::get(&r, &"meta".into())
                .and_then(|m| Reflect::get(&m, &"changes".into()))
                .ok()
                .and_then(|c| c.as_f64())
                .unwrap_or(0.0) as usize
        };
        Ok(Array::from(&results).iter().map(changes).collect())
    }
}

/// `target[method](arg)`, awaited; a rejection becomes `Failed` with its message.
async fn call(target: &JsValue, method: &str, arg: &JsValue) -> Result<JsValue> {
    let failed = |e: JsValue| {
        let message = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "D1 failed".to_owned());
        LedgerError::Failed(message.chars().take(200).collect())
    };
    let function: Function = Reflect::get(target, &method.into())
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let promise: Promise = function
        .call1(target, arg)
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    JsFuture::from(promise).await.map_err(failed)
}

/// One row, by column position.
pub struct Row(Array);

impl Row {
    pub fn text(&self, i: u32) -> Option<String> {
        self.0.get(i).as_string()
    }

    pub fn int(&self, i: u32) -> Option<u64> {
        self.0.get(i).as_f64().map(|n| n.max(0.0) as u64)
    }
}

pub fn int(value: u64) -> JsValue {
    JsValue::from_f64(value as f64)
}

pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

pub fn opt_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

pub fn opt_int(value: Option<u64>) -> JsValue {
    value.map_or(JsValue::NULL, int)
}

/// `(?,?,…)` repeated `rows` times, for a multi-row statement.
pub fn placeholders(rows: usize, columns: usize) -> String {
    let one = format!("({})", vec!["?"; columns].join(","));
    vec![one; rows].join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_repeat_a_row() {
        assert_eq!(placeholders(2, 3), "(?,?,?),(?,?,?)");
        assert_eq!(placeholders(1, 1), "(?)");
    }
}

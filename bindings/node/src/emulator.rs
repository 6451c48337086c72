//! `startEmulator`: the local Ango Hub emulator, for tests and examples. The handle's
//! methods and properties are attached by `ango.js` from the emulator's control table
//! (`ango_emulator::control`); this file only starts, stops and calls.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Value, json};

use crate::errors::{MARKER, guard, invalid};
use crate::task::{Call, call_napi, call_with, parse_args};

/// A running emulator; `stop()` it when done (it also stops when garbage-collected).
#[napi]
pub struct Emulator {
    inner: Arc<ango_emulator::Emulator>,
}

#[napi]
impl Emulator {
    /// Runs control method `name` with `args` (JSON text) at once (properties and quick
    /// methods); returns the JSON text of its answer.
    #[napi(catch_unwind)]
    pub fn call_sync(&self, name: String, args: String) -> Result<String> {
        guard(|| run(&self.inner, &name, &args))
    }

    /// Runs control method `name` with `args` (JSON text) on the thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn call(&self, name: String, args: String) -> AsyncTask<Call<String>> {
        let emulator = Arc::clone(&self.inner);
        call_napi(move || run(&emulator, &name, &args))
    }

    /// The emulator's control table (`ango_emulator::control::methods_json()`), JSON text.
    #[napi(catch_unwind)]
    pub fn methods() -> String {
        ango_emulator::control::methods_json().to_string()
    }

    /// Stops serving and frees the port; ends the waits in progress. Idempotent.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.inner.shutdown();
    }
}

/// One control call, its answer as JSON text; its error an `AngoError` with the
/// table's code and the hub's status.
fn run(emulator: &ango_emulator::Emulator, name: &str, args: &str) -> Result<String> {
    let answer = ango_emulator::control::call(emulator, name, parse_args(args)?);
    Ok(answer
        .map_err(|error| {
            let mut fields = json!({"code": error.code(), "message": error.message});
            if let Some(status) = error.status {
                fields["status"] = json!(status);
            }
            Error::from_reason(format!("{MARKER}{fields}"))
        })?
        .to_string())
}

/// Starts an emulator on 127.0.0.1; resolves once it accepts connections. Rejects with
/// `INVALID_ARGUMENT` for an option the emulator refuses (unknown, wrong type, a rate
/// outside 0..1 ...).
#[napi(catch_unwind, ts_return_type = "Promise<Emulator>")]
pub fn start_emulator(
    #[napi(ts_arg_type = "Record<string, any> | undefined | null")] options: Option<Value>,
) -> Result<AsyncTask<Call<Emulator>>> {
    let config = ango_emulator::EmulatorConfig::from_options(&options.unwrap_or(Value::Null))
        .map_err(|e| invalid(e.to_string()))?;
    Ok(call_with(move || {
        let emulator =
            ango_emulator::Emulator::start(config).map_err(|e| ango_core::Error::Io {
                context: "starting the emulator".into(),
                source: e,
            })?;
        Ok(Emulator {
            inner: Arc::new(emulator),
        })
    }))
}

//! The one `AsyncTask` of the binding: a blocking call run on the libuv thread pool,
//! and the JSON text that carries arguments in and results out.

use napi::bindgen_prelude::*;
use serde_json::Value;

use crate::errors::{guard, to_napi};

type Work<T> = Box<dyn FnOnce() -> Result<T> + Send>;

/// A call to run off the event loop; its result resolves the returned Promise. A panic
/// becomes an `INTERNAL` rejection: it must not unwind out of the libuv worker (that
/// aborts Node).
pub struct Call<T: Send + 'static> {
    work: Option<Work<T>>,
}

/// A core call resolving to any value napi can convert.
pub fn call_with<T: Send + 'static>(
    work: impl FnOnce() -> ango_core::Result<T> + Send + 'static,
) -> AsyncTask<Call<T>>
where
    Call<T>: Task,
{
    call_napi(move || work().map_err(to_napi))
}

/// A call whose errors are napi errors already.
pub fn call_napi<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> AsyncTask<Call<T>>
where
    Call<T>: Task,
{
    AsyncTask::new(Call {
        work: Some(Box::new(work)),
    })
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Call<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::from_reason("the call already ran"))?;
        guard(work)
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// JSON text for JavaScript (`ango.js` parses it with `JSON.parse`, faster than
/// building the objects through napi): a reply body as the server sent it.
pub fn text_of(bytes: Vec<u8>) -> ango_core::Result<String> {
    String::from_utf8(bytes).map_err(|e| ango_core::Error::Decode {
        message: format!("the reply is not UTF-8: {e}"),
        body_snippet: String::new(),
    })
}

/// A value as JSON text for JavaScript (see [`text_of`]).
pub fn json_text(value: &impl serde::Serialize) -> ango_core::Result<String> {
    serde_json::to_string(value).map_err(|e| ango_core::Error::Internal(e.to_string()))
}

/// JSON text from JavaScript (`JSON.stringify` of the arguments, so dates are ISO
/// strings and `undefined` is left out) as a value; malformed text is `INVALID_ARGUMENT`.
pub fn parse_args(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| crate::errors::invalid(format!("arguments: {e}")))
}

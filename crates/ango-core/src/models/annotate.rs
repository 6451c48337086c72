//! Annotation payloads and the official merge rule of `annotate_task`.

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// A task answer: objects (tools), classifications and relations, as JSON objects
/// (a missing or `null` list is empty).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Answer {
    /// Objects drawn with tools (`tools` in the task's stored answer).
    #[serde(default, deserialize_with = "super::null_default")]
    pub objects: Vec<Value>,
    /// Classification answers.
    #[serde(default, deserialize_with = "super::null_default")]
    pub classifications: Vec<Value>,
    /// Relations between objects.
    #[serde(default, deserialize_with = "super::null_default")]
    pub relations: Vec<Value>,
}

impl Answer {
    /// `{"objects", "classifications", "relations"}`.
    pub fn to_value(&self) -> Value {
        json!({
            "objects": self.objects,
            "classifications": self.classifications,
            "relations": self.relations,
        })
    }
}

/// What `annotate_task` sends (snake_case or camelCase keys when deserialised; other
/// keys, such as the Python object's raw `brush_data` arrays, are ignored).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AnnotationPayload {
    /// The answer (an empty one when `None`).
    #[serde(default)]
    pub answer: Option<Answer>,
    /// URL of an uploaded brush mask.
    #[serde(default, alias = "brushDataUrl")]
    pub brush_data_url: Option<String>,
    /// URL of an uploaded medical brush mask.
    #[serde(default, alias = "medicalBrushDataUrl")]
    pub medical_brush_data_url: Option<String>,
}

impl AnnotationPayload {
    /// The request body, as the official `toDict()` (with `"duration": 0`).
    pub fn to_value(&self) -> Value {
        let answer = self.answer.clone().unwrap_or_default();
        json!({
            "answer": answer.to_value(),
            "brushDataUrl": self.brush_data_url,
            "medicalBrushDataUrl": self.medical_brush_data_url,
            "duration": 0,
        })
    }
}

/// Merges a task's stored answer into a new one, by the official rule: the new answer's
/// classifications win by `schemaId`, the stored ones with other schemaIds are kept, and
/// every stored object (`tools`) and relation is appended after the new ones.
///
/// A missing or `null` stored answer (or part of one) counts as empty.
pub fn merge_annotations(existing: &Value, new: Answer) -> Result<Answer> {
    let existing = match existing {
        Value::Null => return Ok(new),
        Value::Object(map) => map,
        other => {
            return Err(Error::decode(
                "the task's stored answer is not an object",
                other.to_string().as_bytes(),
            ));
        }
    };
    let list = |key: &str| -> Result<Vec<Value>> {
        match existing.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(other) => Err(Error::decode(
                format!("the task's stored answer has a non-list {key:?}"),
                other.to_string().as_bytes(),
            )),
        }
    };
    let Answer {
        mut objects,
        mut classifications,
        mut relations,
    } = new;
    let new_schema_ids: Vec<Option<Value>> = classifications
        .iter()
        .map(|c| c.get("schemaId").cloned())
        .collect();
    for stored in list("classifications")? {
        let schema_id = stored.get("schemaId").cloned();
        if !new_schema_ids.contains(&schema_id) {
            classifications.push(stored);
        }
    }
    objects.extend(list("tools")?);
    relations.extend(list("relations")?);
    Ok(Answer {
        objects,
        classifications,
        relations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_classifications_win_and_stored_objects_are_appended() {
        let stored = json!({
            "tools": [{"objectId": "old"}],
            "classifications": [{"schemaId": "a", "answer": "old"}, {"schemaId": "b", "answer": "keep"}],
            "relations": [{"objectId": "r"}]
        });
        let new = Answer {
            objects: vec![json!({"objectId": "new"})],
            classifications: vec![json!({"schemaId": "a", "answer": "new"})],
            relations: vec![],
        };
        let merged = merge_annotations(&stored, new).unwrap();
        assert_eq!(
            merged.objects,
            vec![json!({"objectId": "new"}), json!({"objectId": "old"})]
        );
        assert_eq!(
            merged.classifications,
            vec![
                json!({"schemaId": "a", "answer": "new"}),
                json!({"schemaId": "b", "answer": "keep"})
            ]
        );
        assert_eq!(merged.relations, vec![json!({"objectId": "r"})]);
    }

    #[test]
    fn missing_parts_are_empty_and_garbage_is_an_error() {
        let merged = merge_annotations(&json!({"tools": null}), Answer::default()).unwrap();
        assert_eq!(merged, Answer::default());
        assert!(merge_annotations(&json!("text"), Answer::default()).is_err());
        assert!(merge_annotations(&json!({"tools": 5}), Answer::default()).is_err());
    }

    #[test]
    fn payload_matches_the_official_dict() {
        let p = AnnotationPayload::default();
        assert_eq!(
            crate::pyjson::to_string(&p.to_value()),
            r#"{"answer": {"objects": [], "classifications": [], "relations": []}, "brushDataUrl": null, "medicalBrushDataUrl": null, "duration": 0}"#
        );
    }

    /// The expected texts are the official `merge_annotations(...).toDict()` and
    /// `AnnotationPayload(...).toDict()`.
    #[test]
    fn merge_drops_every_stored_duplicate_like_the_official_sdk() {
        let stored = json!({
            "tools": [{"o": 1}],
            "classifications": [{"schemaId": "a", "v": 1}, {"schemaId": "b"}, {"schemaId": "a", "v": 2}],
            "relations": []
        });
        let new = Answer {
            objects: vec![],
            classifications: vec![json!({"schemaId": "a", "v": 3})],
            relations: vec![json!({"r": 1})],
        };
        let merged = merge_annotations(&stored, new).unwrap();
        assert_eq!(
            crate::pyjson::to_string(&merged.to_value()),
            r#"{"objects": [{"o": 1}], "classifications": [{"schemaId": "a", "v": 3}, {"schemaId": "b"}], "relations": [{"r": 1}]}"#
        );
        let payload = AnnotationPayload {
            answer: Some(Answer {
                objects: vec![json!({"a": 1})],
                classifications: vec![json!({"schemaId": "x"})],
                relations: vec![],
            }),
            brush_data_url: Some("u".into()),
            medical_brush_data_url: None,
        };
        assert_eq!(
            crate::pyjson::to_string(&payload.to_value()),
            r#"{"answer": {"objects": [{"a": 1}], "classifications": [{"schemaId": "x"}], "relations": []}, "brushDataUrl": "u", "medicalBrushDataUrl": null, "duration": 0}"#
        );
    }
}

//! Collects the JSON Schemas of Rust types (`schemars`) into the generator's input.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use crate::ir::{Body, GenResult, TypeDef, Types};

/// Stands for a type parameter: the schema of `ApiDocument<TypeParam>` is the one of
/// the generic `ApiDocument<T>`, its `data` a reference to `T`. (`Default` and
/// `Serialize` because generic types may require them of their parameter.)
#[derive(Debug, Default, serde::Serialize)]
pub struct TypeParam;

impl JsonSchema for TypeParam {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "T".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "$ref": "#/$defs/T" })
    }
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
}

/// Gathers the schemas of the public types.
///
/// Types read from the server's JSON (`reply`, `request`) are described as their
/// `Deserialize` reads them: a field with a default may be missing. Types the SDK
/// writes itself (`produced`, and the envelopes given to `generic_reply`) are described
/// as their `Serialize` writes them: such a field is always there.
pub struct Collector {
    generator: SchemaGenerator,
    replies: Vec<String>,
    requests: Vec<String>,
    generics: BTreeMap<String, Vec<String>>,
    /// Definitions written by the serialize contract: the registered types themselves
    /// (which take precedence) and what they refer to (used where nothing else is).
    serialized: Map<String, Value>,
    serialized_roots: Vec<String>,
    /// The `data` types (see [`Collector::data`]).
    data: Vec<String>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Collector {
            generator: settings().into_generator(),
            replies: Vec::new(),
            requests: Vec::new(),
            generics: BTreeMap::new(),
            serialized: Map::new(),
            serialized_roots: Vec::new(),
            data: Vec::new(),
        }
    }

    /// A type users receive as the server sent it (described in TypeScript and in the
    /// Python stubs).
    pub fn reply<T: JsonSchema>(&mut self) -> &mut Self {
        self.generator.subschema_for::<T>();
        self.replies.push(T::schema_name().into_owned());
        self
    }

    /// A type users pass as an argument (described in TypeScript).
    pub fn request<T: JsonSchema>(&mut self) -> &mut Self {
        self.generator.subschema_for::<T>();
        self.requests.push(T::schema_name().into_owned());
        self
    }

    /// The `data` of one kind of reply (`ProjectData`, `TaskList`, ...): a successful
    /// reply always carries its keys, so it is described as its `Serialize` writes it;
    /// its `Option` keys (`total`) are ones the server may leave out, not send as null:
    /// optional, typed by their value. The resources inside are described as the server
    /// sends them.
    pub fn data<T: JsonSchema>(&mut self) -> &mut Self {
        self.data.push(T::schema_name().into_owned());
        self.produced::<T>()
    }

    /// A type users receive as the SDK serializes it (the upload report).
    pub fn produced<T: JsonSchema>(&mut self) -> &mut Self {
        self.serialized_schema::<T>();
        self.replies.push(T::schema_name().into_owned());
        self
    }

    /// A generic reply type with one parameter, given as `Type<TypeParam>`: an envelope
    /// (`ApiDocument<T>`, `Page<T>`), whose fields are described as always present.
    pub fn generic_reply<T: JsonSchema>(&mut self) -> &mut Self {
        let name = self.serialized_schema::<T>();
        self.generics.insert(name.clone(), vec!["T".into()]);
        self.replies.push(name);
        self
    }

    /// Adds `T`'s definitions by the serialize contract; returns its name.
    fn serialized_schema<T: JsonSchema>(&mut self) -> String {
        // A generator of its own: in a shared one, two instances of the same generic
        // type would be told apart by numbered names.
        let mut generator = settings().for_serialize().into_generator();
        generator.subschema_for::<T>();
        for (name, schema) in generator.take_definitions(true) {
            self.serialized.entry(name).or_insert(schema);
        }
        let name = T::schema_name().into_owned();
        self.serialized_roots.push(name.clone());
        name
    }

    /// The collected types. Fails when two different types share a name.
    pub fn finish(mut self) -> GenResult<Types> {
        let mut defs = self.generator.take_definitions(true);
        for (name, schema) in self.serialized {
            if self.serialized_roots.contains(&name) {
                defs.insert(name, schema);
            } else {
                defs.entry(name).or_insert(schema);
            }
        }
        let mut types = Types::from_defs(&defs, &self.generics)?;
        for name in &self.data {
            if let Some(TypeDef {
                body: Body::Object(object),
                ..
            }) = types.defs.get_mut(name)
            {
                for field in &mut object.fields {
                    field.ty = field.ty.without_null();
                }
            }
        }
        types.replies = self.replies;
        types.requests = self.requests;
        Ok(types)
    }
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

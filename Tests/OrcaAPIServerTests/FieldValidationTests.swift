import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Server-side field validation: the schema walk, pruning and the three directives.
@Suite struct FieldValidationTests {
    static let deployments = ResourceType("apps", "v1", "Deployment", "deployments")
    static let pods = ResourceType("", "v1", "Pod", "pods")

    /// (query value, directive; nil = the request is rejected)
    static let directives: [(String?, FieldValidation.Directive?)] = [
        (nil, .warn), ("", .warn), ("Warn", .warn), ("Strict", .strict), ("Ignore", .ignore), ("strict", nil), ("Loud", nil),
    ]

    @Test(arguments: directives)
    func directiveParsing(value: String?, expected: FieldValidation.Directive?) async {
        let query = value.map { ["fieldValidation": $0] } ?? [:]
        do {
            let v = try FieldValidation(query: query, options: "CreateOptions")
            #expect(v.directive == expected)
        } catch let e as APIError {
            #expect(expected == nil)
            #expect(e.code == 422)
            #expect(e.message == "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"\(value ?? "")\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// (case, body, unknown field paths)
    static let walkCases: [(String, String, [String])] = [
        ("all known", #"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"any": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}"#, []),
        ("top level", #"{"spec": {}, "extra": 1}"#, ["extra"]),
        ("nested", #"{"spec": {"foo": 1, "containers": []}}"#, ["spec.foo"]),
        ("list items by index", #"{"spec": {"containers": [{"name": "a"}, {"name": "b", "imagee": "x"}]}}"#, ["spec.containers[1].imagee"]),
        ("deep", #"{"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "1"}, "limitz": {}}}]}}"#, ["spec.containers[0].resources.limitz"]),
        ("metadata", #"{"metadata": {"name": "p", "nmae": "q"}}"#, ["metadata.nmae"]),
        ("several, sorted", #"{"spec": {"b": 1, "a": 2}, "z": 0}"#, ["spec.a", "spec.b", "z"]),
        ("free-form maps are not walked", #"{"metadata": {"annotations": {"whatever": "x"}, "labels": {"y": "z"}}, "spec": {"nodeSelector": {"k": "v"}}}"#, []),
        ("FieldsV1 is free-form", #"{"metadata": {"managedFields": [{"manager": "m", "fieldsV1": {"f:data": {}}}]}}"#, []),
        ("unknown null still counts", #"{"spec": {"bogus": null}}"#, ["spec.bogus"]),
        ("case matters", #"{"Spec": {}}"#, ["Spec"]),
    ]

    @Test(arguments: walkCases)
    func unknownFieldsOfAPod(name: String, body: String, expected: [String]) {
        var object = json(body)
        let unknown = FieldValidation.prune(&object, definition: FieldValidation.definition(Self.pods))
        #expect(unknown == expected, "\(name)")
        #expect(FieldValidation.unknownFields(object, definition: FieldValidation.definition(Self.pods)).isEmpty, "pruned: \(name)")
    }

    @Test func pruningKeepsKnownFields() {
        var object = json(#"{"spec": {"replicas": 2, "replica": 3, "template": {"spec": {"containers": [{"name": "c", "image": "i", "bogus": true}]}}}}"#)
        _ = FieldValidation.prune(&object, definition: FieldValidation.definition(Self.deployments))
        #expect(object == json(#"{"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}}"#))
    }

    @Test func rawExtensionsAreNotWalked() {
        let events = OpenAPISchema.definitionName(apiVersion: "v1", kind: "Event")
        #expect(FieldValidation.unknownFields(json(#"{"involvedObject": {"kind": "Pod"}}"#), definition: events).isEmpty)
        // ControllerRevision.data is a RawExtension: anything goes inside.
        let revisions = OpenAPISchema.definitionName(apiVersion: "apps/v1", kind: "ControllerRevision")
        #expect(FieldValidation.unknownFields(json(#"{"data": {"spec": {"anything": 1}}, "revision": 1}"#), definition: revisions).isEmpty)
    }

    @Test func strictRejectsCreateBodiesAsKubernetesDoes() {
        var body = json(#"{"spec": {"replica": 3, "template": {"spec": {"containers": [{"name": "c", "imag": "x"}]}}}}"#)
        let e = #expect(throws: APIError.self) { try FieldValidation(.strict).check(body: &body, Self.deployments) }
        #expect(e?.code == 400)
        #expect(e?.reason == "BadRequest")
        #expect(e?.message == #"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica", unknown field "spec.template.spec.containers[0].imag""#)
    }

    @Test func warnReturnsOneWarningPerFieldAndPrunes() throws {
        var body = json(#"{"spec": {"replica": 3, "replicas": 1}, "extra": true}"#)
        let warnings = try FieldValidation(.warn).check(body: &body, Self.deployments)
        #expect(warnings == [#"unknown field "extra""#, #"unknown field "spec.replica""#])
        #expect(body == json(#"{"spec": {"replicas": 1}}"#))
    }

    @Test func ignoreSaysNothingButStillPrunes() throws {
        var body = json(#"{"spec": {"replica": 3}}"#)
        #expect(try FieldValidation(.ignore).check(body: &body, Self.deployments).isEmpty)
        #expect(body == json(#"{"spec": {}}"#))
    }

    @Test func patchedObjectsReportOnlyNewUnknownFields() throws {
        let current = json(#"{"spec": {"legacy": 1, "replicas": 1}}"#)
        let patch = json(#"{"spec": {"foo": 2}}"#)
        var patched = MergePatch.apply(patch, to: current)
        let warnings = try FieldValidation(.warn).check(patched: &patched, current: current, patch: patch, strategic: false, Self.deployments)
        #expect(warnings == [#"unknown field "spec.foo""#])
        #expect(patched == json(#"{"spec": {"replicas": 1}}"#))
    }

    @Test func duplicateFieldsAreFoundWithTheirPaths() {
        let body = #"{"spec": {"replicas": 1, "x": 1, "replicas": 2, "template": {"spec": {"containers": [{"name": "a", "name": "b"}]}}}, "kind": "Deployment", "kind": "Deployment", "s\u0070ec2": 1, "spec2": 2}"#
        #expect(DuplicateJSONFields.paths(in: Array(body.utf8)) == ["spec.replicas", "spec.template.spec.containers[0].name", "kind", "spec2"])
        #expect(DuplicateJSONFields.paths(in: Array(#"{"a": {"b": 1}, "c": [{"b": 1}, {"b": 2}], "s": "{\"a\": 1, \"a\": 2}"}"#.utf8)).isEmpty)
        // Not JSON (YAML that starts like it): the scan stops instead of looping.
        #expect(DuplicateJSONFields.paths(in: Array("{\"a\": ['x}', 1], \"a\": 2}".utf8)).isEmpty)
        #expect(DuplicateJSONFields.paths(in: Array("[}, {]".utf8)).isEmpty)
    }

    @Test func strictReportsUnknownAndDuplicateFieldsInOneErrorAndWarnEachOne() {
        var body = json(#"{"spec": {"replicas": 2, "x": 1}}"#)
        let e = #expect(throws: APIError.self) {
            try FieldValidation(.strict).check(body: &body, Self.deployments, duplicates: ["spec.replicas"])
        }
        #expect(e?.message == #"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.x", duplicate field "spec.replicas""#)
        var again = json(#"{"spec": {"replicas": 2, "x": 1}}"#)
        let warnings = try? FieldValidation(.warn).check(body: &again, Self.deployments, duplicates: ["spec.replicas"])
        #expect(warnings == [#"unknown field "spec.x""#, #"duplicate field "spec.replicas""#])
        #expect(again == json(#"{"spec": {"replicas": 2}}"#))
    }

    @Test func strictPatchesAreInvalidWithThePatchAsTheValue() {
        let current = json(#"{"spec": {"replicas": 1}}"#)
        let patch = json(#"{"spec": {"foo": 2}}"#)
        var patched = MergePatch.apply(patch, to: current)
        let smp = #expect(throws: APIError.self) {
            try FieldValidation(.strict).check(patched: &patched, current: current, patch: patch, strategic: true, Self.deployments)
        }
        #expect(smp?.code == 422)
        #expect(smp?.message == #" "" is invalid: patch: Invalid value: "map[spec:map[foo:2]]": strict decoding error: unknown field "spec.foo""#)
        var merged = MergePatch.apply(patch, to: current)
        let merge = #expect(throws: APIError.self) {
            try FieldValidation(.strict).check(patched: &merged, current: current, patch: patch, strategic: false, Self.deployments)
        }
        #expect(merge?.message == #" "" is invalid: patch: Invalid value: "{\"spec\":{\"foo\":2,\"replicas\":1}}": strict decoding error: unknown field "spec.foo""#)
    }

    @Test func serverSideApplyFailsOnUnknownFieldsWithTypedPaths() {
        let applied = json(#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"bogus": 1, "template": {"spec": {"containers": [{"name": "c", "x": 1}]}}}}"#)
        let e = #expect(throws: APIError.self) { try FieldValidation.checkApplied(applied, Self.deployments, namespace: "default", name: "web") }
        #expect(e?.code == 500)
        #expect(e?.message == """
            failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:
              .spec.bogus: field not declared in schema
              .spec.template.spec.containers[name="c"].x: field not declared in schema
            """)
        let one = json(#"{"spec": {"bogus": 1}}"#)
        let single = #expect(throws: APIError.self) { try FieldValidation.checkApplied(one, Self.deployments, namespace: "default", name: "web") }
        #expect(single?.message == "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.bogus: field not declared in schema")
    }

    /// (warning text, header value)
    static let headers: [(String, String)] = [
        (#"unknown field "spec.foo""#, #"299 - "unknown field \"spec.foo\"""#),
        (#"a\b"#, #"299 - "a\\b""#),
        ("plain", #"299 - "plain""#),
    ]

    @Test(arguments: headers)
    func warningHeadersQuoteAsKubernetesDoes(text: String, header: String) {
        #expect(WarningHeader.value(text) == header)
    }
}

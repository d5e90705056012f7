import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// MutatingWebhookConfigurations and ValidatingWebhookConfigurations: kube's v1 defaults and
/// the validation messages, field by field.
struct WebhookConfigurationStrategyTests {
    static let group = "admissionregistration.k8s.io"
    static let valid: JSONValue = [
        "name": "valid.orca.test",
        "clientConfig": ["url": "https://127.0.0.1:8443/validate"],
        "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]]],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    ]

    static func create(_ c: TestCluster, _ resource: String, _ hooks: [JSONValue], name: String = "config") async throws -> JSONValue {
        let object: JSONValue = ["metadata": ["name": .string(name)], "webhooks": .array(hooks)]
        return try await c.registry.create(c.r(resource, group), namespace: nil, object: object)
    }

    @Test func webhooksGetKubesDefaults() async throws {
        let c = try await TestCluster()
        var hook = Self.valid
        hook["clientConfig"] = ["service": ["namespace": "default", "name": "hook"]]
        let mutating = try await Self.create(c, "mutatingwebhookconfigurations", [hook])
        let m = try #require(mutating["webhooks"]?.arrayValue?.first)
        #expect(m["failurePolicy"] == "Fail")
        #expect(m["matchPolicy"] == "Equivalent")
        #expect(m["namespaceSelector"] == [:])
        #expect(m["objectSelector"] == [:])
        #expect(m["timeoutSeconds"] == 10)
        #expect(m["reinvocationPolicy"] == "Never")
        #expect(m["rules"]?.arrayValue?.first?["scope"] == "*")
        #expect(m[path: ["clientConfig", "service", "port"]] == 443)
        #expect(mutating[path: ["metadata", "generation"]] == 1)

        let validating = try await Self.create(c, "validatingwebhookconfigurations", [Self.valid])
        let v = try #require(validating["webhooks"]?.arrayValue?.first)
        #expect(v["failurePolicy"] == "Fail")
        #expect(v["reinvocationPolicy"] == nil)
    }

    @Test func changingTheWebhooksBumpsTheGeneration() async throws {
        let c = try await TestCluster()
        var stored = try await Self.create(c, "validatingwebhookconfigurations", [Self.valid])
        stored[path: ["metadata", "labels"]] = ["team": "a"]
        let relabelled = try await c.registry.update(c.r("validatingwebhookconfigurations", Self.group), namespace: nil, name: "config", object: stored)
        #expect(relabelled[path: ["metadata", "generation"]] == 1)
        var changed = relabelled
        changed[path: ["webhooks"]] = .array([Self.valid.with(["timeoutSeconds"], 5)])
        let updated = try await c.registry.update(c.r("validatingwebhookconfigurations", Self.group), namespace: nil, name: "config", object: changed)
        #expect(updated[path: ["metadata", "generation"]] == 2)
    }

    /// One bad field and kube's message for it.
    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var path: [String]
        var value: JSONValue?
        var message: String
        var testDescription: String { "\(path.joined(separator: ".")) = \(value.map(\.jsonString) ?? "nil")" }
    }

    static let invalidCases: [InvalidCase] = [
        .init(path: ["name"], value: "hook", message: "webhooks[0].name: Invalid value: \"hook\": should be a domain with at least three segments separated by dots"),
        .init(path: ["name"], value: "two.parts", message: "webhooks[0].name: Invalid value: \"two.parts\": should be a domain with at least three segments separated by dots"),
        .init(path: ["name"], value: "Bad_Name.orca.test", message: "webhooks[0].name: Invalid value: \"Bad_Name.orca.test\": a lowercase RFC 1123 subdomain must consist of"),
        .init(path: ["name"], value: nil, message: "webhooks[0].name: Required value"),
        .init(path: ["clientConfig", "url"], value: "http://127.0.0.1/validate",
              message: "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]"),
        .init(path: ["clientConfig", "url"], value: "https://hook.example.com/validate?dry=1",
              message: "webhooks[0].clientConfig.url: Invalid value: \"dry=1\": query parameters are not permitted in the URL"),
        .init(path: ["clientConfig", "url"], value: "https://someone@hook.example.com/",
              message: "webhooks[0].clientConfig.url: Invalid value: \"someone\": user information is not permitted in the URL"),
        .init(path: ["clientConfig", "url"], value: "https://hook.example.com/#part",
              message: "webhooks[0].clientConfig.url: Invalid value: \"part\": fragments are not permitted in the URL"),
        .init(path: ["clientConfig", "service"], value: ["namespace": "default", "name": "hook"],
              message: "webhooks[0].clientConfig: Required value: exactly one of url or service is required"),
        .init(path: ["clientConfig"], value: ["service": ["namespace": "default", "name": "hook", "port": 70000]],
              message: "webhooks[0].clientConfig.service.port: Invalid value: 70000: port is not valid: must be between 1 and 65535, inclusive"),
        .init(path: ["clientConfig"], value: ["service": ["name": "hook"]],
              message: "webhooks[0].clientConfig.service.namespace: Required value: service namespace is required"),
        .init(path: ["clientConfig"], value: ["service": ["namespace": "default", "name": "hook", "path": "/Validate_Pods"]],
              message: "webhooks[0].clientConfig.service.path: Invalid value: \"/Validate_Pods\": segment[0]: a lowercase RFC 1123 subdomain"),
        .init(path: ["timeoutSeconds"], value: 31, message: "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"),
        .init(path: ["timeoutSeconds"], value: 0, message: "webhooks[0].timeoutSeconds: Invalid value: 0: the timeout value must be between 1 and 30 seconds"),
        .init(path: ["sideEffects"], value: nil, message: "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"),
        .init(path: ["sideEffects"], value: "Some", message: "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\""),
        .init(path: ["failurePolicy"], value: "Maybe", message: "webhooks[0].failurePolicy: Unsupported value: \"Maybe\": supported values: \"Fail\", \"Ignore\""),
        .init(path: ["matchPolicy"], value: "Loose", message: "webhooks[0].matchPolicy: Unsupported value: \"Loose\": supported values: \"Equivalent\", \"Exact\""),
        .init(path: ["admissionReviewVersions"], value: nil, message: "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1"),
        .init(path: ["admissionReviewVersions"], value: ["v2"],
              message: "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1"),
        .init(path: ["rules"], value: [["operations": [], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
              message: "webhooks[0].rules[0].operations: Required value"),
        .init(path: ["rules"], value: [["operations": ["PATCH"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
              message: "webhooks[0].rules[0].operations[0]: Unsupported value: \"PATCH\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\""),
        .init(path: ["rules"], value: [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["*", "pods"]]],
              message: "webhooks[0].rules[0].resources: Invalid value: []string{\"*\", \"pods\"}: if '*' is present, must not specify other resources without subresources"),
        .init(path: ["rules"], value: [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Global"]],
              message: "webhooks[0].rules[0].scope: Unsupported value: \"Global\": supported values: \"*\", \"Cluster\", \"Namespaced\""),
        .init(path: ["objectSelector"], value: ["matchExpressions": [["key": "app", "operator": "In"]]],
              message: "webhooks[0].objectSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
    ]

    @Test(arguments: invalidCases)
    func invalidWebhooksAreRefusedWithKubesMessage(_ bad: InvalidCase) async throws {
        let c = try await TestCluster()
        let hook = Self.valid.with(bad.path, bad.value)
        let e = await apiError { _ = try await Self.create(c, "validatingwebhookconfigurations", [hook]) }
        #expect(e?.code == 422)
        #expect(e?.message.contains(bad.message) == true, "\(e?.message ?? "no error")")
    }

    @Test func webhookNamesAreUniqueInAConfiguration() async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await Self.create(c, "mutatingwebhookconfigurations", [Self.valid, Self.valid]) }
        #expect(e?.code == 422)
        #expect(e?.message == "MutatingWebhookConfiguration \"config\" is invalid: webhooks[1].name: Duplicate value: \"valid.orca.test\"")
    }

    @Test func aMutatingReinvocationPolicyIsOneOfTwo() async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await Self.create(c, "mutatingwebhookconfigurations", [Self.valid.with(["reinvocationPolicy"], "Always")]) }
        #expect(e?.message.contains("webhooks[0].reinvocationPolicy: Unsupported value: \"Always\": supported values: \"IfNeeded\", \"Never\"") == true)
    }
}

extension JSONValue {
    /// A copy with `path` set to `value` (removed when nil).
    func with(_ path: [String], _ value: JSONValue?) -> JSONValue {
        var copy = self
        copy[path: path] = value
        return copy
    }
}

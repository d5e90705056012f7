import Foundation
import OrcaAPI
import OrcaAPIServer
import OrcaRuntime

/// The code paths fuzzed by `make fuzz` (libFuzzer harnesses in `Fuzz/`) and replayed by
/// `make test` on every input that ever crashed one (`Tests/OrcaFuzzingTests/Regressions/<name>/`).
///
/// Each target takes arbitrary bytes and must return normally: errors are expected, traps,
/// crashes and hangs are bugs.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case jsonBody = "json-body"
    case yamlBody = "yaml-body"
    case protobufBody = "protobuf-body"
    case labelSelector = "label-selector"
    case fieldSelector = "field-selector"
    case quantity
    case jsonPatch = "json-patch"
    case mergePatch = "merge-patch"
    case strategicMergePatch = "strategic-merge-patch"
    case layerWhiteout = "layer-whiteout"

    /// Runs the target on one input.
    public func run(_ input: [UInt8]) {
        switch self {
        case .jsonBody:
            _ = try? BodyDecoder.decode(input, contentType: "application/json")
        case .yamlBody:
            _ = try? BodyDecoder.decode(input, contentType: "application/yaml")
        case .protobufBody:
            _ = try? BodyDecoder.decode(input, contentType: "application/vnd.kubernetes.protobuf")
        case .labelSelector:
            guard let text = String(validating: input, as: UTF8.self), let matcher = try? LabelMatcher(parsing: text) else { return }
            _ = matcher.matches(["app": "web", "tier": "front", "": "x"])
        case .fieldSelector:
            guard let text = String(validating: input, as: UTF8.self), let matcher = try? FieldMatcher(parsing: text) else { return }
            _ = matcher.matches(["metadata": ["name": "p", "namespace": "default"], "spec": ["nodeName": "n"]])
        case .quantity:
            guard let text = String(validating: input, as: UTF8.self), let q = try? Quantity(parsing: text) else { return }
            _ = (q.value, q.milliValue, q.scaledValue(-9), q.scaledValue(18), q.string, q.compare(to: Quantity("1Ei")))
            _ = Quantity(q.string).string == q.string
        case .jsonPatch, .mergePatch, .strategicMergePatch:
            // The input is a document and a patch separated by a NUL byte.
            let parts = input.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let document = try? JSONValue.parse(parts[0]), let patch = try? JSONValue.parse(parts[1]) else { return }
            switch self {
            case .jsonPatch: _ = try? JSONPatch.apply(patch, to: document)
            case .mergePatch: _ = MergePatch.apply(patch, to: document)
            default:
                let pod = OpenAPISchema.definitionName(apiVersion: "v1", kind: "Pod")
                _ = try? StrategicMergePatch.apply(patch, to: document, definition: pod)
            }
        case .layerWhiteout:
            // Layer entry names, one per line: each whiteout's target must stay in its directory.
            for line in input.split(separator: 10) {
                guard let name = String(validating: line, as: UTF8.self), name.hasPrefix(".wh.") else { continue }
                let target = String(name.dropFirst(4))
                if ImageStore.isSafeWhiteoutTarget(target) {
                    precondition(!target.isEmpty && target != "." && target != ".." && !target.contains("/"),
                                 "unsafe whiteout target \(target) accepted")
                }
            }
        }
    }
}

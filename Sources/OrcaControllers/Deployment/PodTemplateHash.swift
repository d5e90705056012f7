import Foundation
import OrcaClient

/// The `pod-template-hash` label that tells a deployment's replica sets (and their pods)
/// apart (`controller.ComputeHash`, `deploymentutil.EqualIgnoreHash`).
///
/// Kubernetes hashes a spew dump of the Go struct with FNV-1a 32; Orca hashes a
/// deterministic JSON encoding (sorted keys) of the template instead, so the values differ
/// from kube's but keep their shape: the decimal digits of the 32-bit hash, each mapped
/// into the `SafeEncodeString` alphabet (no vowels, no confusable digits).
public enum PodTemplateHash {
    /// `apps/v1.DefaultDeploymentUniqueLabelKey`.
    public static let label = "pod-template-hash"

    /// The hash of `template`, with `collisionCount` (when set) mixed in so a collision can
    /// be resolved by bumping `status.collisionCount`.
    public static func compute(_ template: PodTemplateSpec?, collisionCount: Int32?) -> String {
        var bytes = [UInt8](canonicalJSON(template ?? PodTemplateSpec()))
        if let collisionCount {
            // binary.LittleEndian.PutUint32 into an 8-byte buffer, all 8 written.
            let value = UInt32(bitPattern: collisionCount)
            bytes += [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24), 0, 0, 0, 0]
        }
        return SafeHash.encoded(bytes)
    }

    /// Whether two templates are the same once the `pod-template-hash` label is dropped from
    /// both (`EqualIgnoreHash`); like Go's semantic equality, no labels and empty labels are equal.
    public static func equalIgnoringHash(_ a: PodTemplateSpec?, _ b: PodTemplateSpec?) -> Bool {
        withoutHash(a) == withoutHash(b)
    }

    /// `template` without the hash label, with empty labels and empty metadata normalized to nil.
    static func withoutHash(_ template: PodTemplateSpec?) -> PodTemplateSpec {
        var t = template ?? PodTemplateSpec()
        if var meta = t.metadata {
            meta.labels?[label] = nil
            if meta.labels?.isEmpty == true { meta.labels = nil }
            if meta.annotations?.isEmpty == true { meta.annotations = nil }
            t.metadata = meta == ObjectMeta() ? nil : meta
        }
        return t
    }

    /// The bytes hashed: JSON with sorted keys, so equal templates always hash alike.
    static func canonicalJSON(_ template: PodTemplateSpec) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(template)) ?? Data()
    }

    /// `template` with the hash label added to its labels (`CloneAndAddLabel`).
    static func labeled(_ template: PodTemplateSpec?, hash: String) -> PodTemplateSpec {
        var t = template ?? PodTemplateSpec()
        var meta = t.metadata ?? ObjectMeta()
        var labels = meta.labels ?? [:]
        labels[label] = hash
        meta.labels = labels
        t.metadata = meta
        return t
    }

    /// `selector` with `pod-template-hash=<hash>` added to its matchLabels (`CloneSelectorAndAddLabel`).
    static func labeled(_ selector: LabelSelector?, hash: String) -> LabelSelector {
        var s = selector ?? LabelSelector()
        var matchLabels = s.matchLabels ?? [:]
        matchLabels[label] = hash
        s.matchLabels = matchLabels
        return s
    }
}

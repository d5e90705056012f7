import Foundation
import OrcaClient
import OrcaRuntime

/// The kubelet's image manager: makes a container's image present by its `imagePullPolicy`,
/// pulling with the pod's `imagePullSecrets` under a per-container back-off, and records the
/// `Pulling`, `Pulled`, `Failed` and `BackOff` events kubectl shows.
struct ImageManager: Sendable {
    let images: ImageStore
    let puller: ImagePuller
    let client: any APIClient
    let events: EventRecorder
    let clock: @Sendable () -> Date

    enum Outcome: Sendable {
        /// The image is present; `pulled` tells whether this call fetched it.
        case ready(Image, pulled: Bool)
        /// The container waits (`ErrImageNeverPull`, `ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`).
        case waiting(PodRuntimeState.Waiting)
    }

    /// Kubernetes' default when a container names no policy: `Always` for `:latest` or no tag, else `IfNotPresent`.
    static func policy(_ container: JSONValue, _ reference: ImageReference) -> String {
        if let p = container["imagePullPolicy"]?.stringValue, !p.isEmpty { return p }
        return reference.digest == nil && reference.tag == "latest" ? "Always" : "IfNotPresent"
    }

    func ensureImage(_ pod: JSONValue, _ c: PodContainer, current: PodRuntimeState.Waiting?,
                     backoff: inout ImagePullBackoff) async -> Outcome {
        let raw = c.spec["image"]?.stringValue ?? ""
        let fieldPath = c.fieldPath
        let reference: ImageReference
        do { reference = try ImageReference(parsing: raw) } catch {
            let message = "Failed to apply default image tag \"\(raw)\": \(error)"
            if current?.reason != "InvalidImageName" {
                await events.record(pod, type: "Warning", reason: "InspectFailed", message: message, fieldPath: fieldPath)
            }
            return .waiting(.init("InvalidImageName", message))
        }
        let policy = Self.policy(c.spec, reference)
        let present = try? images.image(reference.description)
        // The built-in images come from no registry: present, they satisfy `Always` too.
        let builtin = BuiltinImages.busyboxNames.contains(reference.description)
        if let present, policy != "Always" || builtin {
            try? images.markUsed(present, at: clock())  // for least-recently-used image GC
            return .ready(present, pulled: false)
        }
        if policy == "Never" {
            let message = "Container image \"\(raw)\" is not present with pull policy of Never"
            if current?.reason != "ErrImageNeverPull" {
                await events.record(pod, type: "Warning", reason: "ErrImageNeverPull", message: message, fieldPath: fieldPath)
            }
            return .waiting(.init("ErrImageNeverPull", message))
        }
        let now = clock()
        if backoff.isBackingOff(at: now) {
            let message = "Back-off pulling image \"\(raw)\""
            if current?.reason != "ImagePullBackOff" {
                await events.record(pod, type: "Normal", reason: "BackOff", message: message, fieldPath: fieldPath)
            }
            return .waiting(.init("ImagePullBackOff", message))
        }
        await events.record(pod, type: "Normal", reason: "Pulling", message: "Pulling image \"\(raw)\"", fieldPath: fieldPath)
        let keyring = await pullSecrets(pod)
        do {
            let start = clock()
            let outcome = try await puller.pullWithOutcome(reference.description, keyring: keyring)
            let took = Self.goSeconds(clock().timeIntervalSince(start))
            backoff.succeeded()
            try? images.markUsed(outcome.image, at: clock())
            await events.record(pod, type: "Normal", reason: "Pulled",
                                message: "Successfully pulled image \"\(raw)\" in \(took) (\(took) including waiting). Image size: \(outcome.image.size) bytes.",
                                fieldPath: fieldPath)
            return .ready(outcome.image, pulled: true)
        } catch {
            backoff.failed(at: clock())
            let detail = (error as? OrcaError)?.message ?? "\(error)"
            let message = "Failed to pull image \"\(raw)\": \(detail)"
            await events.record(pod, type: "Warning", reason: "Failed", message: message, fieldPath: fieldPath)
            await events.record(pod, type: "Warning", reason: "Failed", message: "Error: ErrImagePull", fieldPath: fieldPath)
            return .waiting(.init("ErrImagePull", message))
        }
    }

    /// The credentials of the pod's `imagePullSecrets` (`kubernetes.io/dockerconfigjson` and
    /// `kubernetes.io/dockercfg`); a missing secret is reported and skipped, as the kubelet does.
    func pullSecrets(_ pod: JSONValue) async -> RegistryKeyring {
        var keyring = RegistryKeyring()
        for ref in pod[path: ["spec", "imagePullSecrets"]]?.arrayValue ?? [] {
            guard let name = ref["name"]?.stringValue, !name.isEmpty else { continue }
            guard let secret = try? await client.get(client.resource("secrets"), namespace: pod.metadataNamespace, name: name) else {
                await events.record(pod, type: "Warning", reason: "FailedToRetrieveImagePullSecret",
                                    message: "Unable to retrieve some image pull secrets (\(name)); attempting to pull the image may not succeed.")
                continue
            }
            let data = secret["data"]
            if let b64 = data?[".dockerconfigjson"]?.stringValue, let raw = Data(base64Encoded: b64),
               let parsed = try? RegistryKeyring(dockerConfigJSON: raw) {
                keyring = keyring.merging(parsed)
            } else if let b64 = data?[".dockercfg"]?.stringValue, let raw = Data(base64Encoded: b64),
                      let parsed = try? RegistryKeyring(dockerCfg: raw) {
                keyring = keyring.merging(parsed)
            }
        }
        return keyring
    }

    /// A duration as Go prints it in the kubelet's events (`1.234s`, `250ms`).
    static func goSeconds(_ t: TimeInterval) -> String {
        t < 1 ? "\(Int((t * 1000).rounded()))ms" : String(format: "%.3fs", t)
    }
}

import Foundation
import OrcaClient

/// Claims pods for a controller (Kubernetes' `PodControllerRefManager`): pods it controls
/// that still match its selector are kept; matching orphans are adopted by adding its
/// controller reference (not while the owner is being deleted); pods it controls that no
/// longer match are released by removing the reference.
public struct PodControllerRefManager: Sendable {
    let client: any APIClient
    let controllerRef: OwnerReference
    let selector: LabelMatcher
    let ownerDeleting: Bool

    public init(client: any APIClient, controllerRef: OwnerReference, selector: LabelMatcher, ownerDeleting: Bool) {
        self.client = client
        self.controllerRef = controllerRef
        self.selector = selector
        self.ownerDeleting = ownerDeleting
    }

    /// The pods this controller owns after adopting and releasing among `pods`.
    public func claim(_ pods: [Pod]) async throws -> [Pod] {
        var claimed: [Pod] = []
        var firstError: (any Error)?
        for pod in pods {
            let matches = selector.matches(pod.metadata?.labels ?? [:])
            if let ref = pod.metadata?.controllerRef {
                guard ref.uid == controllerRef.uid else { continue }
                if matches { claimed.append(pod); continue }
                if ownerDeleting { continue }
                do { try await release(pod) } catch { firstError = firstError ?? error }
                continue
            }
            guard matches, !ownerDeleting, pod.metadata?.deletionTimestamp == nil else { continue }
            do {
                claimed.append(try await adopt(pod))
            } catch let e as APIError where e.isNotFound || e.isConflict {
                // Gone or changed meanwhile: the next sync sees the new state.
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return claimed
    }

    /// Adds the controller reference (an update at the cached resourceVersion, so a pod
    /// adopted by someone else meanwhile conflicts instead of getting two controllers).
    func adopt(_ pod: Pod) async throws -> Pod {
        var adopted = pod
        adopted.metadata?.ownerReferences = (pod.metadata?.ownerReferences ?? []) + [controllerRef]
        return try await client.update(adopted)
    }

    /// Removes the controller reference.
    func release(_ pod: Pod) async throws {
        var released = pod
        released.metadata?.ownerReferences = pod.metadata?.ownerReferences?.filter { $0.uid != controllerRef.uid }
        if released.metadata?.ownerReferences?.isEmpty == true { released.metadata?.ownerReferences = nil }
        do { try await client.update(released) } catch let e as APIError where e.isNotFound {}
    }
}

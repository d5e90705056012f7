import Foundation
import Logging
import OrcaClient
import OrcaPKI

/// Approves the certificate requests of nodes, as kube-controller-manager's `csrapproving`
/// controller (with the permissions Kubernetes bootstraps): a node client certificate asked for
/// with a bootstrap token (`nodeclient`) or by the node itself to renew it (`selfnodeclient`).
///
/// Orca also approves a node's serving certificate (`kubernetes.io/kubelet-serving`) when the
/// node itself asks for its own name, as k3s issues agents their serving certificates; plain
/// Kubernetes leaves those to an operator. Anything else stays pending for `kubectl certificate approve`.
public struct CertificateSigningRequestApprover: Reconciler {
    let client: any APIClient
    let requests: SharedInformer<CertificateSigningRequest>
    let nodes: SharedInformer<Node>
    /// Addresses no node may have in a serving certificate: the API server's own.
    let reservedAddresses: Set<String>
    let clock: any WallClock
    let logger = Logger(label: "orca.controller.csrapproving")

    /// Builds the approver on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, reservedAddresses: Set<String> = [],
                                  clock: any WallClock = SystemClock()) async -> Controller<CertificateSigningRequestApprover> {
        let requests = await informers.informer(CertificateSigningRequest.self)
        let nodes = await informers.informer(Node.self)
        let queue = RateLimitingQueue(clock: clock)
        await requests.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<CertificateSigningRequest>.key($0)) },
            onUpdate: { _, csr in await queue.add(SharedInformer<CertificateSigningRequest>.key(csr)) },
            onDelete: { _ in }))
        return Controller(name: "csrapproving", queue: queue,
                          reconciler: CertificateSigningRequestApprover(client: client, requests: requests, nodes: nodes,
                                                                        reservedAddresses: reservedAddresses, clock: clock),
                          workers: 1, waitForSync: [{ await requests.waitForSync() }, { await nodes.waitForSync() }])
    }

    /// A serving certificate may name only the node itself and addresses that are not the API
    /// server's nor another node's: otherwise its holder could pose as them to anyone trusting the CA.
    func servingNamesAreTheNodes(_ subject: CertificateAuthority.Subject) async -> Bool {
        let name = String(subject.commonName.dropFirst("system:node:".count))
        guard subject.dnsNames.allSatisfy({ $0 == name }) else { return false }
        var taken = reservedAddresses
        for node in await nodes.list() where node.metadata?.name != name {
            for address in node.status?.addresses ?? [] { if let a = address.address { taken.insert(a) } }
        }
        return subject.ipAddresses.allSatisfy { !taken.contains($0) }
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard var csr = await requests.get(key), let spec = csr.spec,
              !KubeletCertificateRequest.condition(csr, "Approved"), !KubeletCertificateRequest.condition(csr, "Denied"),
              (csr.status?.certificate ?? "").isEmpty,
              let request = KubeletCertificateRequest.parse(csr) else { return .done }
        let usages = spec.usages ?? []
        let requester = spec.username ?? ""
        let groups = spec.groups ?? []
        let message: String
        switch spec.signerName {
        case KubeletCertificateRequest.clientSigner where KubeletCertificateRequest.isNodeClient(request, usages: usages):
            if groups.contains("system:bootstrappers") || requester == request.subject.commonName {
                message = "Auto approving kubelet client certificate after SubjectAccessReview."
            } else {
                return .done
            }
        case KubeletCertificateRequest.servingSigner where KubeletCertificateRequest.isNodeServing(request, usages: usages):
            guard requester == request.subject.commonName, groups.contains("system:nodes"),
                  await servingNamesAreTheNodes(request.subject) else { return .done }
            message = "Auto approving kubelet serving certificate of the node that asked for it."
        default:
            return .done
        }
        var status = csr.status ?? CertificateSigningRequestStatus()
        let now = KubernetesTime.string(clock.now)
        status.conditions = (status.conditions ?? []) + [CertificateSigningRequestCondition(
            lastTransitionTime: now, lastUpdateTime: now, message: message, reason: "AutoApproved", status: "True", type: "Approved")]
        csr.status = status
        do {
            _ = try await client.update(csr, subresource: "approval")
            logger.info("approved \(key) for \(requester)")
        } catch let e as APIError where e.code == 404 {
            return .done
        }
        return .done
    }
}

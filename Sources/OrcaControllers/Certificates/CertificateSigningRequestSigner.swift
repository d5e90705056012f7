import Foundation
import Logging
import OrcaClient
import OrcaPKI

/// Issues the certificates of approved requests with the cluster CA, as kube-controller-manager's
/// `csrsigning` controller: the Kubernetes signers for kubelet client and serving certificates and
/// for API clients. The lifetime is the requested `expirationSeconds`, at most
/// `--cluster-signing-duration` (one year). A request the signer cannot honour gets a `Failed`
/// condition with reason `SignerValidationFailure`.
public struct CertificateSigningRequestSigner: Reconciler {
    let client: any APIClient
    let requests: SharedInformer<CertificateSigningRequest>
    let authority: CertificateAuthority
    let signingDuration: TimeInterval
    let clock: any WallClock
    let logger = Logger(label: "orca.controller.csrsigning")

    /// The signers this controller serves.
    static let signers: Set<String> = [KubeletCertificateRequest.clientSigner, KubeletCertificateRequest.servingSigner,
                                       KubeletCertificateRequest.apiServerClientSigner]

    /// Builds the signer on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, authority: CertificateAuthority,
                                  signingDuration: TimeInterval = 365 * 86_400,
                                  clock: any WallClock = SystemClock()) async -> Controller<CertificateSigningRequestSigner> {
        let requests = await informers.informer(CertificateSigningRequest.self)
        let queue = RateLimitingQueue(clock: clock)
        await requests.addEventHandler(InformerEventHandler(
            onAdd: { await queue.add(SharedInformer<CertificateSigningRequest>.key($0)) },
            onUpdate: { _, csr in await queue.add(SharedInformer<CertificateSigningRequest>.key(csr)) },
            onDelete: { _ in }))
        let signer = CertificateSigningRequestSigner(client: client, requests: requests, authority: authority,
                                                     signingDuration: signingDuration, clock: clock)
        return Controller(name: "csrsigning", queue: queue, reconciler: signer, workers: 1,
                          waitForSync: [{ await requests.waitForSync() }])
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard var csr = await requests.get(key), let spec = csr.spec, Self.signers.contains(spec.signerName ?? ""),
              KubeletCertificateRequest.condition(csr, "Approved"), !KubeletCertificateRequest.condition(csr, "Failed"),
              (csr.status?.certificate ?? "").isEmpty else { return .done }
        let usages = spec.usages ?? []
        var status = csr.status ?? CertificateSigningRequestStatus()
        let request = KubeletCertificateRequest.parse(csr)
        let valid: Bool
        switch spec.signerName {
        case KubeletCertificateRequest.clientSigner: valid = request.map { KubeletCertificateRequest.isNodeClient($0, usages: usages) } ?? false
        case KubeletCertificateRequest.servingSigner: valid = request.map { KubeletCertificateRequest.isNodeServing($0, usages: usages) } ?? false
        default: valid = request != nil && usages.contains("client auth") && !usages.contains("server auth")
        }
        let now = clock.now
        if let request, valid, let words = CertificateAuthority.Usages(kubernetes: usages) {
            var lifetime = signingDuration
            if let seconds = spec.expirationSeconds { lifetime = min(lifetime, TimeInterval(seconds)) }
            let pem = try authority.issue(publicKey: request.csr.publicKey, subject: request.subject, usages: words,
                                          lifetime: lifetime, now: now)
            status.certificate = Data(pem.utf8).base64EncodedString()
        } else {
            let time = KubernetesTime.string(now)
            status.conditions = (status.conditions ?? []) + [CertificateSigningRequestCondition(
                lastTransitionTime: time, lastUpdateTime: time,
                message: "the request does not meet the requirements of signer \(spec.signerName)",
                reason: "SignerValidationFailure", status: "True", type: "Failed")]
        }
        csr.status = status
        do {
            _ = try await client.update(csr, subresource: "status")
            logger.info("\(status.certificate == nil ? "failed" : "signed") \(key)")
        } catch let e as APIError where e.code == 404 {
            return .done
        }
        return .done
    }
}

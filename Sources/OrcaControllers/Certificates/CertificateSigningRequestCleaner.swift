import Foundation
import Logging
import OrcaClient
import OrcaPKI

/// Garbage-collects CertificateSigningRequests, as kube-controller-manager's `csrcleaner`
/// controller: automated requests and approvals would otherwise pile up. Every
/// `pollingInterval` on the injected clock it lists the requests in the cache and deletes
/// - an approved request with a certificate whose `Approved` condition was last updated more
///   than an hour ago (`approvedExpiration`);
/// - a denied or failed request whose `Denied` or `Failed` condition was last updated more than
///   an hour ago (`deniedExpiration`);
/// - a pending request (no conditions at all) created more than a day ago (`pendingExpiration`);
/// - an approved request whose certificate's `notAfter` has passed.
/// A condition without `lastUpdateTime`, or a request without `creationTimestamp`, is never
/// old enough.
public struct CertificateSigningRequestCleaner: Runnable {
    /// How often the requests are checked (`pollingInterval`).
    public static let defaultPollingInterval: Duration = .seconds(3600)
    /// How long an approved and issued request is kept (`approvedExpiration`).
    static let approvedExpiration: TimeInterval = 3600
    /// How long a denied or failed request is kept (`deniedExpiration`).
    static let deniedExpiration: TimeInterval = 3600
    /// How long a request nobody approved or denied is kept (`pendingExpiration`).
    static let pendingExpiration: TimeInterval = 24 * 3600

    let client: any APIClient
    let requests: SharedInformer<CertificateSigningRequest>
    let clock: any WallClock
    let pollingInterval: Duration
    let logger = Logger(label: "orca.controller.csrcleaner")

    /// Builds the cleaner on `informers`.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, clock: any WallClock = SystemClock(),
                                  pollingInterval: Duration = defaultPollingInterval) async -> CertificateSigningRequestCleaner {
        let requests = await informers.informer(CertificateSigningRequest.self)
        return CertificateSigningRequestCleaner(client: client, requests: requests, clock: clock, pollingInterval: pollingInterval)
    }

    /// Waits for the cache, then cleans every `pollingInterval` until cancelled.
    public func run() async {
        await requests.waitForSync()
        while !Task.isCancelled {
            await clean()
            do { try await clock.sleep(for: pollingInterval) } catch { return }
        }
    }

    /// One pass (`worker`): deletes every request past its deadline; a failed delete is
    /// logged and tried again on the next pass.
    func clean() async {
        let now = clock.now
        for csr in await requests.list() {
            guard let why = Self.reasonToDelete(csr, now: now), let name = csr.metadata?.name else { continue }
            do {
                try await client.delete(CertificateSigningRequest.self, namespace: nil, name: name)
                logger.info("cleaned CSR \(name): \(why)")
            } catch {
                logger.error("unable to delete CSR \(name): \(error)")
            }
        }
    }

    /// Why `csr` should go at `now`, or nil to keep it (`handle`).
    static func reasonToDelete(_ csr: CertificateSigningRequest, now: Date) -> String? {
        let conditions = csr.status?.conditions ?? []
        let issued = !(csr.status?.certificate ?? "").isEmpty
        func olderThan(_ time: Time?, _ age: TimeInterval) -> Bool {
            guard let date = KubernetesTime.date(time) else { return false }
            return now.timeIntervalSince(date) > age
        }
        for c in conditions {
            switch c.type {
            case "Approved" where issued && olderThan(c.lastUpdateTime, approvedExpiration):
                return "approved more than \(Int(approvedExpiration))s ago"
            case "Denied" where olderThan(c.lastUpdateTime, deniedExpiration):
                return "denied more than \(Int(deniedExpiration))s ago"
            case "Failed" where olderThan(c.lastUpdateTime, deniedExpiration):
                return "failed more than \(Int(deniedExpiration))s ago"
            default:
                continue
            }
        }
        if conditions.isEmpty, olderThan(csr.metadata?.creationTimestamp, pendingExpiration) {
            return "pending for more than \(Int(pendingExpiration))s"
        }
        if issued, conditions.contains(where: { $0.type == "Approved" }), let notAfter = certificateNotAfter(csr), now > notAfter {
            return "its certificate expired at \(KubernetesTime.string(notAfter))"
        }
        return nil
    }

    /// The `notAfter` of the issued certificate (`status.certificate`, base64 of PEM).
    static func certificateNotAfter(_ csr: CertificateSigningRequest) -> Date? {
        guard let encoded = csr.status?.certificate, let data = Data(base64Encoded: encoded),
              let pem = String(data: data, encoding: .utf8) else { return nil }
        return CertificateAuthority.notAfter(ofPEM: pem)
    }
}

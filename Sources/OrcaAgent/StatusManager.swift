import Foundation
import Logging
import OrcaClient
import OrcaCore

/// The one writer of pod status on this node (the kubelet's status manager).
///
/// A pod worker hands it the status it computed (`setStatus`) and goes on: the call only
/// compares and stores. The manager keeps each pod's newest status and the one the API has from
/// it, marks a pod dirty only on a change of meaning (`PodStatusEquality`: times that did not
/// change meaning are not a change), and its own task writes dirty pods — several updates of a
/// pod between two writes become one write. A failed write is retried with back-off; every
/// `resyncPeriod` the API's copies are compared with what was written and pods whose copy
/// differs are written again (e.g. after the node lifecycle controller marked them not ready
/// while this node was unreachable). It also finishes the API deletion of terminated pods,
/// and forgets a pod once its worker is gone.
actor StatusManager {
    /// What the manager knows about one pod.
    struct Entry: Sendable {
        var pod: PodReference
        /// The newest status the pod's worker set.
        var status: JSONValue?
        /// The status the API has from this manager (nil: nothing written yet).
        var written: JSONValue?
        /// Whether `status` still has to be written.
        var dirty = false
        /// The API deletion (grace period 0) of a terminated pod: asked for, and done.
        var deleteRequested = false
        var deleted = false
        /// The API object is gone, or is another pod now: nothing more is written.
        var gone = false
        /// A write of this pod is under way.
        var inFlight = false
        /// Failed writes in a row, and when the next may be tried.
        var failures = 0
        var retryAt: Date?
    }

    /// How often the API's copies are compared with what was written.
    static let resyncPeriod: Duration = .seconds(10)
    /// The longest wait between two attempts of a failing write.
    static let maxBackoff: TimeInterval = 30
    /// Writes under way at once.
    static let maxConcurrentWrites = 8

    let writer: any PodStatusWriter
    let clock: any WallClock
    let logger = Logger(label: "orca.agent.status")
    private var entries: [String: Entry] = [:]
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init(writer: any PodStatusWriter, clock: any WallClock) {
        self.writer = writer
        self.clock = clock
        (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The entry of a pod, for inspection.
    func entry(_ uid: String) -> Entry? { entries[uid] }

    /// Takes the status a pod worker computed. Never waits for the API: the pod is marked dirty
    /// (when the status means something new) and the writer task is signalled. `apiStatus`, the
    /// status of the worker's copy of the pod, stands for what the API has until this manager
    /// has written (after an agent restart a pod whose status is right is not written again).
    func setStatus(_ pod: PodReference, _ status: JSONValue, apiStatus: JSONValue? = nil) {
        var e = entries[pod.uid] ?? Entry(pod: pod)
        guard !e.deleteRequested, !e.gone else { return }
        e.pod = pod
        if e.written == nil, e.status == nil, let apiStatus, !apiStatus.isNull { e.written = apiStatus }
        let new = PodStatusEquality.withTransitionTimes(status, previous: e.status, now: KubernetesTime.string(clock.now))
        if let old = e.status, PodStatusEquality.matches(new, old) { return }
        if let old = e.status ?? e.written {
            // A pod's phase never leaves Succeeded or Failed (the API's copy counts after a restart).
            if Self.isTerminal(old), !Self.isTerminal(new) {
                logger.warning("pod \(pod.namespace)/\(pod.name): status with phase \(new["phase"]?.stringValue ?? "") after \(old["phase"]?.stringValue ?? "") ignored")
                return
            }
        }
        e.status = new
        e.dirty = e.written.map { !PodStatusEquality.matches(new, $0) } ?? true
        entries[pod.uid] = e
        if e.dirty { signal.yield() }
    }

    /// Deletes the terminated pod's API object (grace period 0), once, retried until it is done;
    /// no status is written for the pod any more.
    func finishDeletion(_ pod: PodReference) {
        var e = entries[pod.uid] ?? Entry(pod: pod)
        guard !e.deleteRequested else { return }
        e.deleteRequested = true
        e.dirty = false
        e.failures = 0
        e.retryAt = nil
        entries[pod.uid] = e
        signal.yield()
    }

    /// Drops everything known about a pod (its worker is gone).
    func forget(_ uid: String) { entries[uid] = nil }

    /// Marks dirty every written pod whose API copy (in `apiPods`, the agent's pod cache) says
    /// something else than what was written; their conditions' times are measured against the
    /// API's copy. Pods not in `apiPods` are left alone (their workers learn they are gone).
    func reconcile(with apiPods: [JSONValue]) {
        var byUID: [String: JSONValue] = [:]
        for p in apiPods { if let uid = p.metadataUID { byUID[uid] = p } }
        let now = KubernetesTime.string(clock.now)
        var any = false
        for (uid, var e) in entries where !e.dirty && !e.inFlight && !e.gone && !e.deleteRequested {
            guard let written = e.written, let api = byUID[uid] else { continue }
            let current = api["status"]
            guard !PodStatusEquality.matches(written, current) else { continue }
            logger.debug("pod \(e.pod.namespace)/\(e.pod.name): API status differs from the written one; writing it again")
            e.status = PodStatusEquality.withTransitionTimes(e.status ?? written, previous: current, now: now)
            e.dirty = true
            entries[uid] = e
            any = true
        }
        if any { signal.yield() }
    }

    /// One write to do.
    enum Write: Sendable {
        case status(JSONValue)
        case delete
    }

    /// Writes every pod that is due (dirty, or its deletion asked for, and not backing off),
    /// several at once, and records the outcomes.
    func syncOnce() async {
        let now = clock.now
        var batch: [(PodReference, Write)] = []
        for (uid, var e) in entries where !e.inFlight && !e.gone && (e.retryAt.map { $0 <= now } ?? true) {
            if e.deleteRequested {
                guard !e.deleted else { continue }
                batch.append((e.pod, .delete))
            } else if e.dirty, let status = e.status {
                batch.append((e.pod, .status(status)))
            } else {
                continue
            }
            e.inFlight = true
            entries[uid] = e
        }
        guard !batch.isEmpty else { return }
        let writer = self.writer
        await withTaskGroup(of: (PodReference, Write, (any Error)?).self) { group in
            var running = 0
            for (pod, write) in batch {
                if running >= Self.maxConcurrentWrites, let done = await group.next() {
                    finish(done.0, done.1, done.2)
                    running -= 1
                }
                group.addTask {
                    do {
                        switch write {
                        case .status(let status): try await writer.writeStatus(pod, status)
                        case .delete: try await writer.deletePod(pod)
                        }
                        return (pod, write, nil)
                    } catch {
                        return (pod, write, error)
                    }
                }
                running += 1
            }
            for await done in group { finish(done.0, done.1, done.2) }
        }
    }

    /// Records a write's outcome: written (or the pod is gone), or failed and retried later.
    private func finish(_ pod: PodReference, _ write: Write, _ error: (any Error)?) {
        guard var e = entries[pod.uid] else { return }
        e.inFlight = false
        if let error, !Self.isGone(error) {
            e.failures += 1
            let delay = min(Self.maxBackoff, pow(2, Double(min(e.failures, 16) - 1)))
            e.retryAt = clock.now.addingTimeInterval(delay)
            let what: String
            switch write {
            case .status: what = "status update"
            case .delete: what = "deletion"
            }
            logger.log(level: e.failures >= 3 ? .warning : .debug,
                       "\(what) of pod \(pod.namespace)/\(pod.name) failed (\(e.failures) in a row, next in \(Int(delay)) s): \(error)")
            entries[pod.uid] = e
            return
        }
        e.failures = 0
        e.retryAt = nil
        switch write {
        case .status(let status):
            if error != nil {
                e.gone = true
                e.dirty = false
            } else {
                e.written = status
                e.dirty = e.status.map { !PodStatusEquality.matches($0, status) } ?? false
            }
        case .delete:
            e.deleted = true
        }
        entries[pod.uid] = e
        if e.dirty { signal.yield() }
    }

    /// Signals the writer when a failed write's back-off has passed.
    func signalIfDue() {
        let now = clock.now
        let due = entries.values.contains { e in
            !e.inFlight && !e.gone && (e.dirty || (e.deleteRequested && !e.deleted)) && (e.retryAt.map { $0 <= now } ?? true)
        }
        if due { signal.yield() }
    }

    /// Runs the writer until cancelled or shut down: writes when signalled, retries after
    /// back-off (checked every second) and compares with `listPods()` (the agent's pod cache)
    /// every `resyncPeriod`.
    func run(listPods: @escaping @Sendable () async -> [JSONValue]) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [clock] in
                let resyncEvery = Int(Self.resyncPeriod.components.seconds)
                var ticks = 0
                while !Task.isCancelled {
                    do { try await clock.sleep(for: .seconds(1)) } catch { return }
                    ticks += 1
                    if ticks % resyncEvery == 0 { await self.reconcile(with: await listPods()) }
                    await self.signalIfDue()
                }
            }
            for await _ in signals { await syncOnce() }
            group.cancelAll()
        }
    }

    /// Ends `run`.
    nonisolated func shutdown() { signal.finish() }

    static func isTerminal(_ status: JSONValue) -> Bool {
        let phase = status["phase"]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Whether a write failed because the object is gone (404) or is another pod now (409: the
    /// UID precondition): there is nothing to retry.
    static func isGone(_ error: any Error) -> Bool {
        guard let e = error as? APIError else { return false }
        // Another 409 (write conflicts that outlasted the server's retries) is retried.
        return e.code == 404 || (e.code == 409 && e.message.contains("UID in precondition"))
    }
}

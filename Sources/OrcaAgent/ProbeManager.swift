import Foundation
import Logging
import OrcaClient
import OrcaRuntime

/// The kubelet's prober manager: one worker per (pod, container, probe kind) for the running
/// instance of each container. A worker runs its `ProbeStateMachine`, records `Unhealthy`
/// events for failed probes and publishes only changes of result; a change wakes the pod's
/// worker, which reads the results when it syncs (readiness, started, liveness restarts).
actor ProbeManager {
    struct Key: Hashable, Sendable {
        var uid: String
        var container: String
        var kind: ProbeKind
    }

    /// A worker to start.
    struct Request: Sendable {
        var key: Key
        var generation: Int
        var probe: JSONValue
        var target: Prober.Target
        var startedAt: Date
        var hasStartupProbe: Bool
        var pod: JSONValue
        var fieldPath: String
    }

    let prober: Prober
    let events: EventRecorder
    let clock: @Sendable () -> Date
    let sleep: @Sendable (TimeInterval) async -> Void
    let logger = Logger(label: "orca.agent.prober")

    /// The current worker of each key: the container instance it probes and its generation.
    private var workers: [Key: (containerID: String, generation: Int)] = [:]
    private var results: [Key: (containerID: String, result: ProbeResult)] = [:]
    private var generation = 0
    private var onChange: (@Sendable (String) async -> Void)?
    private let requests: AsyncStream<Request>
    private let continuation: AsyncStream<Request>.Continuation

    init(prober: Prober, events: EventRecorder, clock: @escaping @Sendable () -> Date,
         sleep: @escaping @Sendable (TimeInterval) async -> Void = { try? await Task.sleep(for: .seconds(clamping: $0)) }) {
        self.prober = prober
        self.events = events
        self.clock = clock
        self.sleep = sleep
        (requests, continuation) = AsyncStream<Request>.makeStream()
    }

    /// Called with a pod UID whenever one of its published results changes.
    func setOnChange(_ handler: @escaping @Sendable (String) async -> Void) { onChange = handler }

    /// Makes sure the probes of a running container instance have workers (a new instance
    /// replaces the workers of the previous one).
    func ensureWorkers(pod: JSONValue, container c: PodContainer, containerID: String, startedAt: Date, podIP: String) {
        let uid = pod.metadataUID ?? ""
        let hasStartup = c.spec["startupProbe"]?.objectValue != nil
        for kind in ProbeKind.allCases {
            let key = Key(uid: uid, container: c.name, kind: kind)
            guard let probe = c.spec["\(kind.rawValue)Probe"], probe.objectValue != nil else {
                workers[key] = nil
                results[key] = nil
                continue
            }
            if workers[key]?.containerID == containerID { continue }
            generation += 1
            workers[key] = (containerID, generation)
            if results[key]?.containerID != containerID { results[key] = nil }
            continuation.yield(Request(key: key, generation: generation, probe: probe,
                                       target: .init(containerID: containerID, podIP: podIP, container: c.spec),
                                       startedAt: startedAt, hasStartupProbe: hasStartup, pod: pod, fieldPath: c.fieldPath))
        }
    }

    /// Stops the workers of a pod (or of one of its containers) and forgets their results.
    func stopWorkers(uid: String, container: String? = nil) {
        for key in Array(workers.keys) + Array(results.keys) where key.uid == uid && (container == nil || key.container == container) {
            workers[key] = nil
            results[key] = nil
        }
    }

    /// The published results for a container instance.
    func results(uid: String, container: String, containerID: String) -> [ProbeKind: ProbeResult] {
        var out: [ProbeKind: ProbeResult] = [:]
        for kind in ProbeKind.allCases {
            if let r = results[Key(uid: uid, container: container, kind: kind)], r.containerID == containerID { out[kind] = r.result }
        }
        return out
    }

    func isCurrent(_ key: Key, _ generation: Int) -> Bool { workers[key]?.generation == generation }

    func publish(_ request: Request, _ result: ProbeResult) async {
        guard isCurrent(request.key, request.generation) else { return }
        results[request.key] = (request.target.containerID, result)
        await onChange?(request.key.uid)
    }

    /// Runs the workers until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await request in requests {
                group.addTask { await self.work(request) }
            }
        }
    }

    func shutdown() { continuation.finish() }

    /// One worker's loop: the state machine's actions, carried out.
    nonisolated func work(_ r: Request) async {
        var machine = ProbeStateMachine(kind: r.key.kind, settings: Prober.settings(r.probe), startedAt: r.startedAt)
        var action = machine.event(.tick(clock()))
        while !Task.isCancelled, await isCurrent(r.key, r.generation) {
            switch action {
            case .sleep(let until):
                await sleep(until.timeIntervalSince(clock()))
                action = machine.event(.tick(clock()))
            case .probe(let timeout):
                if r.key.kind != .startup, r.hasStartupProbe,
                   await results(uid: r.key.uid, container: r.key.container, containerID: r.target.containerID)[.startup] != .success {
                    action = machine.event(.held(clock()))
                    continue
                }
                let outcome = await prober.run(r.probe, target: r.target, timeout: timeout)
                if !outcome.success, await isCurrent(r.key, r.generation) {
                    await events.record(r.pod, type: "Warning", reason: "Unhealthy",
                                        message: "\(r.key.kind.title) probe failed: \(outcome.message)", fieldPath: r.fieldPath)
                }
                action = machine.event(.result(outcome.success ? .success : .failure, at: clock()))
            case .publish(let result):
                await publish(r, result)
                action = machine.event(.tick(clock()))
            case .stop:
                return
            }
        }
    }
}

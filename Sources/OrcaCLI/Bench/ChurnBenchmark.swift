import Foundation
import NIOHTTP1
import OrcaClient
import OrcaCore
import OrcaScheduler
import Synchronization

/// `orca bench api --churn`: the load of a conformance run, for memory growth and dropped
/// requests. For `duration`, requests go out at `rate` per second (open loop) across
/// `namespaces` namespaces: ConfigMaps created, patched, read, listed and deleted, Pods
/// created and deleted, short watches opened (a quarter abandoned by their client mid-stream),
/// and every minute the oldest namespace deleted and a new one made. The server's RSS and open
/// watches are sampled every minute; at the end everything is deleted, and after a quiet spell
/// the RSS is taken again, to compare with the idle figure.
struct ChurnBenchmark: Sendable {
    let client: BenchAPIClient
    let namespaces: Int
    let rate: Int
    let duration: Duration
    let pid: Int32?
    /// Names of this run's namespaces start with it.
    let prefix: String

    /// The quiet spell after the load, before the last sample.
    static let quietSpell = Duration.seconds(70)

    /// One minute's sample of the server.
    struct Sample: Sendable {
        var minute: Int
        /// The server's RSS and anonymous RSS (its heap; the rest is mostly the mapped binary).
        var usage: ProcessUsage?
        var openWatches: Int?
    }

    /// What the run measured.
    struct Outcome: Sendable {
        var verbs: [LatencySamples]
        var samples: [Sample]
        var sent = 0
        /// Requests that got no HTTP answer at all (the connection closed or timed out).
        var dropped = 0
        /// Answers by class: 5xx, 429, and 4xx (other than the expected races with deletes).
        var serverErrors = 0
        var throttled = 0
        var rejected = 0
        var watchesOpened = 0
        var usageAfterLoad: ProcessUsage?
        var firstErrors: [String] = []
    }

    /// The live objects and counters, shared by the request tasks.
    final class State: Sendable {
        struct Inner {
            var active: [String] = []
            var configMaps: [String: [String]] = [:]
            var pods: [String: [String]] = [:]
            var next = 0
            var random = SeededRandomNumberGenerator(seed: 0x0c4a)
            var verbs: [String: LatencySamples] = [:]
            var outcome = Outcome(verbs: [], samples: [])
        }
        let inner = Mutex(Inner())
    }

    enum Operation { case createConfigMap, patchConfigMap, getConfigMap, listConfigMaps, deleteConfigMap, createPod, deletePod }

    /// The mix, in percent. Deletes match creates, so the live objects stay about level (a delete
    /// with nothing to delete creates instead) and growth in RSS is the server's, not the data's.
    static let mix: [(Operation, Int)] = [
        (.createConfigMap, 24), (.patchConfigMap, 20), (.getConfigMap, 12), (.listConfigMaps, 4),
        (.deleteConfigMap, 24), (.createPod, 8), (.deletePod, 8),
    ]

    func run() async throws -> Outcome {
        let state = State()
        let initial = (0..<namespaces).map { "\(prefix)-\($0)" }
        for ns in initial { try await createNamespace(ns) }
        state.inner.withLock { $0.active = initial; $0.next = namespaces }
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + duration
        let interval = Duration.seconds(1) / max(rate, 1)
        await withDiscardingTaskGroup { group in
            group.addTask { await sampleEveryMinute(state, start: start, end: end) }
            group.addTask { await rotateNamespaces(state, end: end) }
            group.addTask { await openWatches(state, end: end) }
            var i = 0
            while clock.now < end {
                try? await clock.sleep(until: start + interval * i)
                i += 1
                group.addTask { await request(state) }
            }
        }
        // The load ends: everything made is deleted, then the server gets a quiet spell.
        let left = state.inner.withLock { $0.active }
        for ns in left { _ = try? await client.send(.DELETE, "/api/v1/namespaces/\(ns)") }
        await waitForNamespacesGone(deadline: clock.now + .seconds(180))
        // Longer than one `MemoryTrimmer` interval, so the server has handed back what it can.
        try? await Task.sleep(for: Self.quietSpell)
        var outcome = state.inner.withLock { inner in
            var o = inner.outcome
            o.verbs = inner.verbs.values.sorted { $0.name < $1.name }
            return o
        }
        outcome.usageAfterLoad = pid.flatMap(ProcessUsage.of(pid:))
        return outcome
    }

    // MARK: - Requests

    private func request(_ state: State) async {
        let (operation, ns, target) = state.inner.withLock { inner -> (Operation, String, String?) in
            var roll = Int(inner.random.next() % 100)
            var op = Operation.createConfigMap
            for (candidate, share) in Self.mix {
                if roll < share { op = candidate; break }
                roll -= share
            }
            let ns = inner.active[Int(inner.random.next() % UInt64(max(1, inner.active.count)))]
            let serial = String(inner.random.next() % 1_000_000_000, radix: 36)
            switch op {
            case .patchConfigMap, .getConfigMap, .deleteConfigMap:
                guard var names = inner.configMaps[ns], !names.isEmpty else { return (.createConfigMap, ns, "cm-\(serial)") }
                let index = Int(inner.random.next() % UInt64(names.count))
                let name = names[index]
                if op == .deleteConfigMap {
                    names.remove(at: index)
                    inner.configMaps[ns] = names
                }
                return (op, ns, name)
            case .deletePod:
                guard var names = inner.pods[ns], !names.isEmpty else { return (.createPod, ns, "pod-\(serial)") }
                let name = names.removeLast()
                inner.pods[ns] = names
                return (op, ns, name)
            case .createConfigMap:
                return (op, ns, "cm-\(serial)")
            case .createPod:
                return (op, ns, "pod-\(serial)")
            case .listConfigMaps:
                return (op, ns, nil)
            }
        }
        let configMaps = APIBenchmark.configMapsPath(ns)
        let pods = "/api/v1/namespaces/\(ns)/pods"
        let name = target ?? ""
        let (verb, method, path, body, contentType): (String, HTTPMethod, String, JSONValue?, String) = switch operation {
        case .createConfigMap: ("create configmap", .POST, configMaps, APIBenchmark.configMap(name), "application/json")
        case .patchConfigMap: ("patch configmap", .PATCH, configMaps + "/" + name,
                               ["data": ["touched": .string(String(Int.random(in: 0..<1_000_000)))]], "application/merge-patch+json")
        case .getConfigMap: ("get configmap", .GET, configMaps + "/" + name, nil, "application/json")
        case .listConfigMaps: ("list configmaps", .GET, configMaps + "?limit=100", nil, "application/json")
        case .deleteConfigMap: ("delete configmap", .DELETE, configMaps + "/" + name, nil, "application/json")
        case .createPod: ("create pod", .POST, pods, APIBenchmark.pendingPod(name), "application/json")
        case .deletePod: ("delete pod", .DELETE, pods + "/" + name + "?gracePeriodSeconds=0", nil, "application/json")
        }
        let clock = ContinuousClock()
        let t0 = clock.now
        let status: Int?
        var failure: String?
        do {
            let response = try await client.send(method, path, json: body, contentType: contentType, timeout: .seconds(60))
            status = response.status
            if response.status >= 500 || response.status == 429 { failure = "\(verb): \(response.status) \(response.text.prefix(200))" }
        } catch {
            status = nil
            failure = "\(verb): no answer: \(error)"
        }
        let took = t0.duration(to: clock.now)
        state.inner.withLock { inner in
            inner.outcome.sent += 1
            inner.verbs[verb, default: LatencySamples(name: verb)].record(took)
            switch status {
            case nil: inner.outcome.dropped += 1
            case let s? where s >= 500: inner.outcome.serverErrors += 1
            case 429?: inner.outcome.throttled += 1
            case let s? where s >= 400:
                // 404 and 409 are the expected races with namespace deletion; the rest are counted.
                if s != 404, s != 409, s != 403 { inner.outcome.rejected += 1 }
            default: break
            }
            if status.map({ (200..<300).contains($0) }) == true {
                switch operation {
                case .createConfigMap: inner.configMaps[ns, default: []].append(name)
                case .createPod: inner.pods[ns, default: []].append(name)
                case .patchConfigMap, .getConfigMap, .listConfigMaps, .deleteConfigMap, .deletePod: break
                }
            }
            if let failure, inner.outcome.firstErrors.count < 10 { inner.outcome.firstErrors.append(failure) }
        }
    }

    // MARK: - Watches, namespaces, samples

    /// One short watch a second on a random namespace's ConfigMaps (2–10 s); every fourth is
    /// abandoned by the client after a second, as a test that stops watching does.
    private func openWatches(_ state: State, end: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        await withDiscardingTaskGroup { group in
            var n = 0
            while clock.now < end {
                n += 1
                let abandon = n % 4 == 0
                let (ns, seconds) = state.inner.withLock { inner in
                    (inner.active[Int(inner.random.next() % UInt64(max(1, inner.active.count)))], 2 + Int(inner.random.next() % 9))
                }
                state.inner.withLock { $0.outcome.watchesOpened += 1 }
                group.addTask {
                    let path = APIBenchmark.configMapsPath(ns) + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=\(seconds)"
                    let watch = Task { try? await client.watch(path) { _ in true } }
                    if abandon {
                        try? await Task.sleep(for: .seconds(1))
                        watch.cancel()
                    }
                    _ = await watch.value
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Every minute: the oldest namespace leaves the mix and is deleted, a new one joins.
    private func rotateNamespaces(_ state: State, end: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while clock.now + .seconds(60) < end {
            try? await Task.sleep(for: .seconds(60))
            let new = state.inner.withLock { inner -> String in
                defer { inner.next += 1 }
                return "\(prefix)-\(inner.next)"
            }
            do { try await createNamespace(new) } catch {
                state.inner.withLock { if $0.outcome.firstErrors.count < 10 { $0.outcome.firstErrors.append("create namespace: \(error)") } }
                continue
            }
            // The new one joins before the oldest leaves, so the mix always has a namespace.
            let old = state.inner.withLock { inner -> String in
                inner.active.append(new)
                let old = inner.active.removeFirst()
                inner.configMaps[old] = nil
                inner.pods[old] = nil
                return old
            }
            _ = try? await client.send(.DELETE, "/api/v1/namespaces/\(old)")
        }
    }

    /// `RSS 80.1 MiB (anonymous 22.4 MiB)`.
    static func describe(_ usage: ProcessUsage?) -> String {
        guard let usage else { return "RSS n/a" }
        return "RSS \(BenchReport.format(bytes: usage.residentBytes)) (anonymous \(BenchReport.format(bytes: usage.anonymousBytes)))"
    }

    private func sampleEveryMinute(_ state: State, start: ContinuousClock.Instant, end: ContinuousClock.Instant) async {
        var minute = 0
        while true {
            let sample = Sample(minute: minute, usage: pid.flatMap(ProcessUsage.of(pid:)), openWatches: await openWatchCount())
            state.inner.withLock { $0.outcome.samples.append(sample) }
            BenchLog.info("minute \(minute): \(Self.describe(sample.usage)), \(sample.openWatches.map(String.init) ?? "?") watches open")
            minute += 1
            let next = start + .seconds(60 * minute)
            guard next <= end else { return }
            try? await ContinuousClock().sleep(until: next)
        }
    }

    /// `apiserver_longrunning_requests{verb="WATCH"}` from the server's `/metrics`.
    func openWatchCount() async -> Int? {
        guard let r = try? await client.send(.GET, "/metrics", timeout: .seconds(10)), r.status == 200 else { return nil }
        let line = r.text.split(separator: "\n").first { $0.hasPrefix("apiserver_longrunning_requests{verb=\"WATCH\"}") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    private func createNamespace(_ name: String) async throws {
        try await client.expect(.POST, "/api/v1/namespaces", json: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
    }

    private func waitForNamespacesGone(deadline: ContinuousClock.Instant) async {
        while ContinuousClock().now < deadline {
            if let r = try? await client.send(.GET, "/api/v1/namespaces"), let list = try? r.json(),
               !(list["items"]?.arrayValue ?? []).contains(where: { $0.metadataName?.hasPrefix(prefix + "-") == true }) {
                return
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }
}

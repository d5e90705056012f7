import Foundation

/// What a probe decides about a container.
enum ProbeKind: String, Codable, Hashable, Sendable, CaseIterable {
    case liveness, readiness, startup

    /// As Kubernetes names it in events (`Liveness probe failed: …`).
    var title: String {
        switch self {
        case .liveness: return "Liveness"
        case .readiness: return "Readiness"
        case .startup: return "Startup"
        }
    }
}

/// A probe's published verdict.
enum ProbeResult: String, Codable, Hashable, Sendable { case success, failure }

/// The timing and thresholds of one probe (Kubernetes' defaults).
struct ProbeSettings: Hashable, Sendable {
    var initialDelay: TimeInterval = 0
    var period: TimeInterval = 10
    var timeout: TimeInterval = 1
    var successThreshold = 1
    var failureThreshold = 3
}

/// One probe worker's logic (the kubelet's prober worker), sans IO: when to probe, and when
/// consecutive results cross a threshold and change the published result.
///
/// Nothing is published until a threshold is reached: an unpublished readiness or startup probe
/// means "not yet", an unpublished liveness probe means "alive". A startup probe stops after it
/// succeeds; a liveness or startup probe stops after it fails (the container is restarted and
/// gets a new worker); a readiness probe runs as long as the container.
struct ProbeStateMachine: Hashable, Sendable {
    enum Phase: Hashable, Sendable {
        /// Nothing to do until the next probe is due.
        case waiting(until: Date)
        /// A probe is running.
        case probing
        /// The probe is done for this container instance.
        case finished
    }

    enum Event: Hashable, Sendable {
        /// Time passed.
        case tick(Date)
        /// The probe that ran finished with `result`, at `at`.
        case result(ProbeResult, at: Date)
        /// The probe was not run because the startup probe has not succeeded yet.
        case held(Date)
    }

    enum Action: Hashable, Sendable {
        /// Wait (then `tick`).
        case sleep(until: Date)
        /// Run the probe, giving up after `timeout` (then `result` or `held`).
        case probe(timeout: TimeInterval)
        /// The published result changed: publish it (then `tick`).
        case publish(ProbeResult)
        /// Stop the worker.
        case stop
    }

    let kind: ProbeKind
    let settings: ProbeSettings
    private(set) var phase: Phase
    private(set) var published: ProbeResult?
    private var last: ProbeResult?
    private var run = 0

    /// A worker for a container instance that started at `startedAt`.
    init(kind: ProbeKind, settings: ProbeSettings, startedAt: Date) {
        self.kind = kind
        self.settings = settings
        self.phase = .waiting(until: startedAt.addingTimeInterval(settings.initialDelay))
    }

    mutating func event(_ event: Event) -> Action {
        switch (phase, event) {
        case (.finished, .tick), (.finished, .result), (.finished, .held):
            return .stop
        case (.waiting(let until), .tick(let now)):
            guard now >= until else { return .sleep(until: until) }
            phase = .probing
            return .probe(timeout: settings.timeout)
        case (.waiting(let until), .result), (.waiting(let until), .held):
            // Stale: no probe was running.
            return .sleep(until: until)
        case (.probing, .tick):
            return .probe(timeout: settings.timeout)
        case (.probing, .held(let at)):
            last = nil
            run = 0
            let next = at.addingTimeInterval(settings.period)
            phase = .waiting(until: next)
            return .sleep(until: next)
        case (.probing, .result(let result, let at)):
            run = last == result ? run + 1 : 1
            last = result
            let next = at.addingTimeInterval(settings.period)
            let threshold = result == .success ? max(1, settings.successThreshold) : max(1, settings.failureThreshold)
            guard run >= threshold, published != result else {
                phase = .waiting(until: next)
                return .sleep(until: next)
            }
            published = result
            let done: Bool
            switch (kind, result) {
            case (.startup, .success), (.startup, .failure), (.liveness, .failure): done = true
            case (.liveness, .success), (.readiness, .success), (.readiness, .failure): done = false
            }
            phase = done ? .finished : .waiting(until: next)
            return .publish(result)
        }
    }
}

import Synchronization

/// The state scheduling cycles carry from one to the next: the random source that breaks
/// ties between equally good nodes (injected, so tests can seed it) and the node the next
/// cycle starts filtering at (`nextStartNodeIndex`, so every node gets looked at in turn
/// when a big cluster stops early).
final class HostSelection: Sendable {
    private struct State {
        var random: any RandomNumberGenerator & Sendable
        var nextStartNodeIndex = 0
    }

    /// Forwards to the stored generator.
    private struct Forwarding: RandomNumberGenerator {
        var base: any RandomNumberGenerator & Sendable
        mutating func next() -> UInt64 { base.next() }
    }

    private let state: Mutex<State>

    init(random: any RandomNumberGenerator & Sendable) {
        state = Mutex(State(random: random))
    }

    /// Runs `cycle` from where the last one stopped and moves the start on.
    func run(_ cycle: SchedulingCycle) -> SchedulingCycle.Outcome {
        state.withLock { s in
            var random = Forwarding(base: s.random)
            let (outcome, processed) = cycle.run(startIndex: s.nextStartNodeIndex, random: &random)
            s.random = random.base
            let count = cycle.snapshot.nodes.count
            if count > 0 { s.nextStartNodeIndex = (s.nextStartNodeIndex + processed) % count }
            return outcome
        }
    }
}

/// Thrown by `withDeadline` when the time ran out before the work finished.
public struct DeadlineExceeded: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "context deadline exceeded" }
}

/// Runs `body`, giving up after `duration`: the body is then cancelled and `DeadlineExceeded`
/// thrown (the caller does not wait for a body that ignores cancellation to notice).
public func withDeadline<T: Sendable>(_ duration: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded() }
        return value
    }
}

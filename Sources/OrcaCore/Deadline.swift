import Synchronization

/// Runs `body`, giving up after `duration`: the body is then cancelled and an `OrcaError` with
/// code `.timeout` ("context deadline exceeded") thrown at once — the caller does not wait for a
/// body that is slow to notice its cancellation. Cancelling the caller cancels the body.
public func withDeadline<T: Sendable>(_ duration: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.pending.withLock { $0 = continuation }
            let timer = Task {
                // Cancelled when the body finished first: then there is nothing to do.
                guard (try? await Task.sleep(for: duration)) != nil, !Task.isCancelled else { return }
                race.finish(.failure(OrcaError(.timeout, "context deadline exceeded")))
            }
            race.work.withLock {
                $0 = Task {
                    let result: Result<T, any Error>
                    do { result = .success(try await body()) } catch { result = .failure(error) }
                    race.finish(result)
                    timer.cancel()
                }
            }
            if Task.isCancelled { race.cancel() }
        }
    } onCancel: {
        race.cancel()
    }
}

/// The body and the timer of one `withDeadline`: whichever finishes first resumes the caller.
private final class DeadlineRace<T: Sendable>: Sendable {
    let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let work = Mutex<Task<Void, Never>?>(nil)

    func finish(_ result: Result<T, any Error>) {
        guard let continuation = pending.withLock({ $0.take() }) else { return }
        // Lost to the timer: the body is told to stop.
        if case .failure(let e as OrcaError) = result, e.code == .timeout { cancel() }
        continuation.resume(with: result)
    }

    func cancel() { work.withLock { $0?.cancel() } }
}

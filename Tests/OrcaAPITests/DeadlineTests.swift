import Foundation
import OrcaAPI
import Synchronization
import Testing

/// `withDeadline`: the body's answer when it comes in time; otherwise a `.timeout` error at the
/// deadline, even from a body that ignores its cancellation (which is still cancelled).
struct DeadlineTests {
    @Test func aPromptBodyAnswers() async throws {
        #expect(try await withDeadline(.seconds(30)) { 42 } == 42)
        await #expect(throws: CancellationError.self) { try await withDeadline(.seconds(30)) { throw CancellationError() } }
    }

    @Test func aStuckBodyIsAbandonedAtTheDeadline() async throws {
        let cancelled = Atomic<Bool>(false)
        let error = await #expect(throws: OrcaError.self) {
            try await withDeadline(.milliseconds(20)) { () async throws -> Int in
                // Ignores cancellation: polls until cancelled, then keeps going a while longer.
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                cancelled.store(true, ordering: .relaxed)
                while true { try? await Task.sleep(for: .seconds(3600)); if Task.isCancelled { break } }
                return 0
            }
        }
        #expect(error?.code == .timeout && error?.message == "context deadline exceeded")
        for _ in 0..<1000 where !cancelled.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled, "the body was cancelled")
    }
}

extension DeadlineTests {
    /// A body that answers after a pause (but well within the deadline) gets its answer, every time.
    @Test func aBodyThatAnswersInTimeIsNeverTakenForATimeout() async throws {
        for i in 0..<50 {
            #expect(try await withDeadline(.seconds(30)) { try await Task.sleep(for: .milliseconds(1)); return i } == i)
        }
    }
}

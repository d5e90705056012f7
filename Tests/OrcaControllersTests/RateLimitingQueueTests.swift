import Foundation
import OrcaControllers
import OrcaCore
import Testing

@Suite struct RateLimitingQueueTests {
    @Test(arguments: [(0, 0.005), (1, 0.010), (2, 0.020), (10, 5.12), (17, 655.36), (18, 1000.0), (500, 1000.0)])
    func backoffDoublesFromFiveMillisecondsToAThousandSeconds(failures: Int, seconds: Double) {
        let delay = RateLimitingQueue.Backoff().delay(afterFailures: failures)
        #expect(abs(delay.timeInterval - seconds) < 1e-9)
    }

    @Test func aKeyIsQueuedOnceAndNeverHandedOutTwiceAtOnce() async {
        let queue = RateLimitingQueue(clock: ManualClock())
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.count == 2)
        let first = await queue.next()
        #expect(first == "a")
        // "a" is being reconciled: adding it again only marks it dirty.
        await queue.add("a")
        #expect(await queue.next() == "b")
        #expect(await queue.count == 0)
        await queue.done("a")
        #expect(await queue.count == 1)
        #expect(await queue.next() == "a")
    }

    @Test func delayedAndRateLimitedKeysWaitForTheClock() async {
        let clock = ManualClock()
        let queue = RateLimitingQueue(clock: clock)
        await queue.addRateLimited("k")   // 5 ms
        await queue.addRateLimited("k")   // 10 ms: already due sooner, no second timer
        #expect(await queue.numRequeues("k") == 2)
        await clock.waitForSleepers(1)
        try? await Task.sleep(for: .milliseconds(20))
        #expect(clock.sleeperCount == 1)
        #expect(await queue.count == 0)
        clock.advance(by: .milliseconds(5))
        #expect(await eventually { await queue.count == 1 })
        #expect(await queue.next() == "k")
        await queue.done("k")
        await queue.forget("k")
        #expect(await queue.numRequeues("k") == 0)
        await queue.add("later", after: .seconds(30))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(29))
        #expect(await queue.count <= 1)
        clock.advance(by: .seconds(1))
        #expect(await eventually { await queue.count >= 1 })
    }

    /// Many delayed keys share one timer, which wakes for the earliest deadline and then the next;
    /// a key delayed again sooner is queued at the sooner time, once.
    @Test func delayedKeysShareOneTimerAndComeInDeadlineOrder() async {
        let clock = ManualClock()
        let queue = RateLimitingQueue(clock: clock)
        for i in (1...100).reversed() { await queue.add("k\(i)", after: .seconds(Double(i))) }
        await clock.waitForSleepers(1)
        try? await Task.sleep(for: .milliseconds(20))
        #expect(clock.sleeperCount == 1)
        await queue.add("k50", after: .milliseconds(500))   // sooner than its 50 s: re-arms the one timer
        await clock.waitForSleepers(1)
        try? await Task.sleep(for: .milliseconds(20))
        let delayed = await queue.delayedCount
        #expect(clock.sleeperCount == 1 && delayed == 100)
        clock.advance(by: .milliseconds(500))
        #expect(await eventually { await queue.count == 1 })
        #expect(await queue.next() == "k50")
        await queue.done("k50")
        var order: [String] = []
        for step in 1...100 {
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            let expected = step == 50 ? 0 : 1
            #expect(await eventually { await queue.count == expected }, "step \(step)")
            if expected == 1, let key = await queue.next() { order.append(key); await queue.done(key) }
        }
        #expect(order == (1...100).filter { $0 != 50 }.map { "k\($0)" })
        // k50's superseded 50 s entry did not queue it a second time; nothing sleeps now.
        try? await Task.sleep(for: .milliseconds(20))
        #expect(await queue.count == 0 && clock.sleeperCount == 0)
    }

    @Test func shutDownReleasesWaitingWorkers() async {
        let queue = RateLimitingQueue(clock: ManualClock())
        async let key = queue.next()
        try? await Task.sleep(for: .milliseconds(10))
        await queue.shutDown()
        #expect(await key == nil)
        await queue.add("x")
        #expect(await queue.next() == nil)
    }
}

/// Polls `condition` with short real sleeps (for work other tasks finish) until it holds.
func eventually(_ tries: Int = 2000, _ condition: () async throws -> Bool) async rethrows -> Bool {
    for _ in 0..<tries {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return false
}

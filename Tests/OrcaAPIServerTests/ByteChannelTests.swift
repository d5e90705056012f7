import OrcaCore
import Synchronization
import Testing

/// The exec stdin channel: a sender is held back while the consumer is behind.
@Suite struct ByteChannelTests {
    @Test func aSenderWaitsForTheConsumer() async throws {
        let channel = ByteChannel(limit: 1024)
        let sent = Atomic<Int>(0)
        let producer = Task {
            for _ in 0..<100 {
                await channel.send([UInt8](repeating: 1, count: 512))
                sent.add(1, ordering: .relaxed)
            }
            channel.finish()
        }
        // Nobody reads yet: the sender stops after the limit (two 512-byte chunks, then one that waits).
        try await Task.sleep(for: .milliseconds(200))
        #expect(sent.load(ordering: .relaxed) <= 3, "sent \(sent.load(ordering: .relaxed)) chunks with nobody reading")
        var received = 0
        for await chunk in channel.stream { received += chunk.count }
        await producer.value
        #expect(received == 100 * 512)
    }

    @Test func closingReleasesASuspendedSender() async {
        let channel = ByteChannel(limit: 1)
        let producer = Task {
            await channel.send([1, 2, 3])
            await channel.send([4, 5, 6])  // suspends: 3 bytes wait
            await channel.send([7])        // dropped after close
        }
        try? await Task.sleep(for: .milliseconds(100))
        channel.close()
        await producer.value
        #expect(await channel.receive() == nil)
    }

    @Test func cancellingReleasesASuspendedSender() async {
        let channel = ByteChannel(limit: 1)
        let producer = Task {
            await channel.send([1, 2, 3])
            await channel.send([4, 5, 6])
        }
        try? await Task.sleep(for: .milliseconds(100))
        producer.cancel()
        await producer.value
        #expect(await channel.receive() == [1, 2, 3])
    }
}

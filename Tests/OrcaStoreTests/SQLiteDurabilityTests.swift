import Foundation
import OrcaStore
import OrcaStoreSQLite
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An acknowledged write survives `kill -9` of the process that made it.
///
/// The writer is this test binary itself, re-run with `--filter` on ``writerChild()`` and
/// ``writerEnvironment`` naming the database: it creates keys forever, printing each
/// acknowledged revision. The parent kills it with SIGKILL mid-stream, reopens the file,
/// and checks every acknowledged write.
@Suite struct SQLiteDurabilityTests {
    static let writerEnvironment = "ORCA_STORE_DURABILITY_WRITER_DB"
    static let ackPrefix = "ORCA-STORE-ACK "

    @Test(.enabled(if: ProcessInfo.processInfo.environment[writerEnvironment] != nil))
    func writerChild() async throws {
        let path = ProcessInfo.processInfo.environment[Self.writerEnvironment]!
        let store = try SQLiteKVStore(path: path)
        let value = [UInt8](repeating: 0x5A, count: 2048)
        for i in 0..<1_000_000 {
            let kv = try await store.create("/durability/k\(i)", value: value)
            FileHandle.standardOutput.write(Data("\(Self.ackPrefix)\(kv.modRevision) \(kv.key)\n".utf8))
        }
    }

    @Test func acknowledgedWritesSurviveKill() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("db/state.sqlite")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = ["--testing-library", "swift-testing", "--filter", "SQLiteDurabilityTests/writerChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.writerEnvironment] = path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        let errorLog = directory.path("writer.stderr")
        FileManager.default.createFile(atPath: errorLog, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorLog))
        try process.run()

        // Read until enough writes are acknowledged, kill -9, then drain what was already printed.
        let text = await Self.readThenKill(output.fileHandleForReading, process: process, acks: 150)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let acked = Self.parseAcks(text)
        let errors = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
        try #require(acked.count >= 150, "writer stdout: \(text.suffix(1000)) stderr: \(errors.suffix(2000))")
        let store = try SQLiteKVStore(path: path)
        defer { try? store.close() }
        let current = try await store.currentRevision()
        #expect(current >= acked.map(\.revision).max() ?? 0)
        for (revision, key) in acked {
            let kv = try await store.get(key, revision: nil)
            #expect(kv?.modRevision == revision, "acknowledged \(key) at \(revision), found \(String(describing: kv))")
        }
        #expect(try await store.count(prefix: "/durability/") == Int(current))
    }

    static func parseAcks(_ text: String) -> [(revision: Int64, key: String)] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(ackPrefix) else { return nil }
            let fields = line.dropFirst(ackPrefix.count).split(separator: " ")
            guard fields.count == 2, let revision = Int64(fields[0]) else { return nil }
            return (revision, String(fields[1]))
        }
    }

    /// On a thread of its own (reads block): reads `handle` until `acks` acknowledgements
    /// or end of file, sends SIGKILL, then reads the rest.
    static func readThenKill(_ handle: FileHandle, process: Process, acks: Int) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var data = Data()
                var killed = false
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                    if !killed, parseAcks(String(decoding: data, as: UTF8.self)).count >= acks {
                        kill(process.processIdentifier, SIGKILL)
                        killed = true
                    }
                }
                if !killed { kill(process.processIdentifier, SIGKILL) }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
    }
}

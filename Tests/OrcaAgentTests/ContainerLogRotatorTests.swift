import Foundation
import Testing
@testable import OrcaAgent

/// Container log rotation as the kubelet's container log manager does it, against a fake
/// conmon (a reopen closure that creates the live file again) and a manual clock.
@Suite struct ContainerLogRotatorTests {
    struct NotRunning: Error {}

    /// 2024-01-01T00:00:00Z
    static let start = Date(timeIntervalSince1970: 1_704_067_200)

    static func names(_ paths: [String]) -> [String] {
        paths.map { ($0 as NSString).lastPathComponent }
    }

    /// A rotator with small limits whose reopen records the container and creates the file.
    static func rotator(path: String, maxSize: Int64 = 100, maxFiles: Int = 3, reopened: Shared<[String]>,
                        clock: Shared<Date>, running: Bool = true) -> ContainerLogRotator {
        ContainerLogRotator(maxSize: maxSize, maxFiles: maxFiles, reopen: { id in
            guard running else { throw NotRunning() }
            reopened.update { $0.append(id) }
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }, now: { clock.value })
    }

    @Test func aLogOverTheLimitIsRenamedReopenedAndOldFilesArePruned() async throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let reopened = Shared<[String]>([])
        let clock = Shared(Self.start)
        let rotator = Self.rotator(path: path, reopened: reopened, clock: clock)

        for round in 0..<5 {
            let content = String(repeating: "\(round)", count: 150)
            try CRILog.write(content, to: path)
            #expect(try await rotator.rotateIfNeeded(logPath: path, containerID: "c1"))
            #expect(try String(contentsOfFile: path + ".20240101-00000\(round)", encoding: .utf8) == content)
            clock.update { $0 = $0.addingTimeInterval(1) }
        }
        let rotated = ContainerLogFiles.rotated(of: path)
        #expect(Self.names(rotated) == ["0.log.20240101-000003", "0.log.20240101-000004"], "maxFiles - 1 rotated files remain")
        #expect(reopened.value == Array(repeating: "c1", count: 5))
        #expect(FileManager.default.fileExists(atPath: path), "the reopened live file")
    }

    @Test func aLogUnderTheLimitIsLeftAlone() async throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let reopened = Shared<[String]>([])
        let rotator = Self.rotator(path: path, reopened: reopened, clock: Shared(Self.start))
        try CRILog.write(String(repeating: "x", count: 99), to: path)

        #expect(try await rotator.rotateIfNeeded(logPath: path, containerID: "c1") == false)
        #expect(ContainerLogFiles.rotated(of: path).isEmpty)
        #expect(reopened.value.isEmpty)
    }

    @Test func aFailedReopenPutsTheLogBack() async throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let rotator = Self.rotator(path: path, reopened: Shared([]), clock: Shared(Self.start), running: false)
        let content = String(repeating: "x", count: 150)
        try CRILog.write(content, to: path)

        await #expect(throws: NotRunning.self) {
            try await rotator.rotateIfNeeded(logPath: path, containerID: "c1")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == content)
        #expect(ContainerLogFiles.rotated(of: path).isEmpty)
    }

    @Test func twoRotationsInOneSecondGetDistinctNames() async throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let rotator = Self.rotator(path: path, maxFiles: 5, reopened: Shared([]), clock: Shared(Self.start))
        for _ in 0..<3 {
            try CRILog.write(String(repeating: "x", count: 150), to: path)
            try await rotator.rotateIfNeeded(logPath: path, containerID: "c1")
        }
        #expect(Self.names(ContainerLogFiles.rotated(of: path))
            == ["0.log.20240101-000000", "0.log.20240101-000000-1", "0.log.20240101-000000-2"])
    }

    @Test func theLoopRotatesTheListedLogsUntilSleepThrows() async throws {
        let dir = try LogDirectory()
        defer { dir.remove() }
        let path = dir.file("0.log")
        let reopened = Shared<[String]>([])
        let rotator = Self.rotator(path: path, reopened: reopened, clock: Shared(Self.start))
        try CRILog.write(String(repeating: "x", count: 150), to: path)
        let sleeps = Shared(0)

        await rotator.run(logs: { [ContainerLogRotator.ContainerLog(containerID: "c1", path: path)] }, sleep: { _ in
            let count = sleeps.update { (count: inout Int) -> Int in
                count += 1
                return count
            }
            if count > 2 { throw CancellationError() }
        })
        #expect(sleeps.value == 3)
        #expect(reopened.value == ["c1"], "rotated in the first round; the new file is small")
        #expect(Self.names(ContainerLogFiles.rotated(of: path)) == ["0.log.20240101-000000"])
    }

    @Test(arguments: [
        (0.0, "19700101-000000"),
        (1_704_067_200.0, "20240101-000000"),
        (1_735_689_599.0, "20241231-235959"),
    ])
    func rotatedNamesUseTheKubeletTimestampFormat(seconds: Double, expected: String) {
        #expect(ContainerLogRotator.timestamp(Date(timeIntervalSince1970: seconds)) == expected)
    }
}

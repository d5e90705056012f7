import Foundation
import Testing

/// Issue 10's soak: a server holding 100 idle pods for 10 minutes must not grow without bound.
/// The bound is generous (it catches a leak such as the 3 MB/s of a task group that kept every
/// finished pod worker, not timing); figures come from `orca bench steady-state`.
@Suite(.serialized) struct SoakTests {
    static let pods = 100
    static let minutes = 10

    static func residentKiB(_ pid: Int32, _ key: String = "RssAnon:") -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return 0 }
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0
    }

    @Test func hundredIdlePodsForTenMinutesKeepMemoryBounded() async throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let manifest = (0..<Self.pods).map { i in
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: soak-\(i), labels: {app: soak}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: ["sleep", "3600"]}]
            """
        }.joined(separator: "\n---\n")
        _ = try s.k("apply", "-f", "-", stdin: manifest)
        try s.eventually("\(Self.pods) pods running", timeout: 300) {
            let phases = try s.k("get", "pods", "-l", "app=soak", "-o", "jsonpath={.items[*].status.phase}")
            return phases.split(separator: " ").filter { $0 == "Running" }.count == Self.pods
        }
        let pid = s.process.processIdentifier
        var samples: [Int] = [Self.residentKiB(pid)]
        for _ in 0..<Self.minutes {
            // Suspends rather than blocks: a blocked thread is one of the test pool's two.
            try await Task.sleep(for: .seconds(60))
            #expect(s.process.isRunning)
            samples.append(Self.residentKiB(pid))
        }
        let growthMiB = Double(samples.last! - samples[1]) / 1024
        print("soak: server anonymous RSS by minute (MiB): \(samples.map { String(format: "%.1f", Double($0) / 1024) }.joined(separator: " "))")
        // The leak this guards against grew ~180 MiB a minute with 100 pods.
        #expect(growthMiB < 64, "anonymous memory grew \(growthMiB) MiB over \(Self.minutes - 1) minutes: \(samples)")
        let running = try s.k("get", "pods", "-l", "app=soak", "-o", "jsonpath={.items[*].status.containerStatuses[0].restartCount}")
        #expect(running.split(separator: " ").allSatisfy { $0 == "0" }, "restarts: \(running)")
    }
}

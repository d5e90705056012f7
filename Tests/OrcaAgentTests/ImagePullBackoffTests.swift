import Foundation
import OrcaCore
import OrcaRuntime
import Testing
@testable import OrcaAgent

/// The image pull back-off as a script of failures and successes against a manual clock.
@Suite struct ImagePullBackoffTests {
    @Test func doublesFromTenSecondsToFiveMinutesAndResetsOnSuccess() {
        var b = ImagePullBackoff()
        var now = Date(timeIntervalSince1970: 1_000_000)
        #expect(!b.isBackingOff(at: now))
        var delays: [TimeInterval] = []
        for _ in 0..<7 {
            b.failed(at: now)
            delays.append(b.delay ?? 0)
            #expect(b.isBackingOff(at: now.addingTimeInterval((b.delay ?? 0) - 1)))
            now = now.addingTimeInterval(b.delay ?? 0)
            #expect(!b.isBackingOff(at: now))
        }
        #expect(delays == [10, 20, 40, 80, 160, 300, 300])
        b.succeeded()
        #expect(!b.isBackingOff(at: now))
        b.failed(at: now)
        #expect(b.delay == 10)
    }

    @Test(arguments: [
        ("docker.io/library/busybox", nil, "Always"),
        ("busybox:latest", nil, "Always"),
        ("busybox:1.35", nil, "IfNotPresent"),
        ("busybox@sha256:" + String(repeating: "a", count: 64), nil, "IfNotPresent"),
        ("busybox:1.35", "Never", "Never"),
    ] as [(String, String?, String)])
    func defaultPolicyFollowsTheTag(image: String, explicit: String?, expected: String) throws {
        var container: JSONValue = ["name": "c", "image": .string(image)]
        if let explicit { container["imagePullPolicy"] = .string(explicit) }
        #expect(ImageManager.policy(container, try ImageReference(parsing: image)) == expected)
    }
}

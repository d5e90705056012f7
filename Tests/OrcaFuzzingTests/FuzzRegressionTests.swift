import Foundation
import OrcaFuzzing
import Testing

/// Every input that ever crashed a fuzz harness (`make fuzz`), replayed on each run, plus a few
/// seeds per target so each target's code runs even before it has regressions.
@Suite struct FuzzRegressionTests {
    static var regressionsDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions").path
    }

    /// (target, file name) of every stored regression input.
    static var cases: [(String, String)] {
        FuzzTarget.allCases.flatMap { target in
            let dir = "\(regressionsDirectory)/\(target.rawValue)"
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            return files.sorted().map { (target.rawValue, $0) }
        }
    }

    @Test(arguments: cases)
    func regressionInputRunsCleanly(target: String, file: String) throws {
        let harness = try #require(FuzzTarget(rawValue: target))
        let data = try #require(FileManager.default.contents(atPath: "\(Self.regressionsDirectory)/\(target)/\(file)"))
        harness.run(Array(data))
    }

    @Test func everyTargetHasRegressionInputs() {
        let targets = Set(Self.cases.map(\.0))
        #expect(targets == Set(FuzzTarget.allCases.map(\.rawValue)), "targets without inputs: \(Set(FuzzTarget.allCases.map(\.rawValue)).subtracting(targets))")
    }
}

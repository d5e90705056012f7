import ArgumentParser
import OrcaAgent

/// `--allowed-unsafe-sysctls`, for the node of `orca server` and of `orca agent` (the kubelet's flag).
struct SysctlOptions: ParsableArguments {
    @Option(name: .customLong("allowed-unsafe-sysctls"),
            help: "Unsafe sysctls (names or prefix* patterns, comma-separated; repeatable) pods on the node may set besides the safe ones.")
    var allowedUnsafeSysctls: [String] = []

    /// One pattern per entry.
    var patterns: [String] { allowedUnsafeSysctls.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }

    func validate() throws {
        do { _ = try SysctlAllowlist(allowingUnsafe: patterns) } catch { throw ValidationError("--allowed-unsafe-sysctls: \(error)") }
    }
}

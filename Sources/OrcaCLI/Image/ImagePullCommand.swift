import ArgumentParser
import Foundation
import Synchronization
import Glibc
import OrcaRuntime

/// `orca image pull NAME`: pulls from a registry, with a progress bar on a terminal.
struct ImagePullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull an image from a registry.")

    @OptionGroup var options: ImageStoreOptions
    @OptionGroup var registryOptions: RegistryOptions
    @Argument(help: "The image, e.g. busybox:1.36 or 127.0.0.1:5000/app:v1.") var name: String
    @Option(help: "A docker config.json (auths) with credentials for private registries.") var authFile: String?

    func run() async throws {
        var keyring = RegistryKeyring()
        if let authFile {
            guard let data = FileManager.default.contents(atPath: authFile) else { throw ValidationError("cannot read \(authFile)") }
            keyring = try RegistryKeyring(dockerConfigJSON: data)
        }
        let reference = try ImageReference(parsing: name)
        let puller = ImagePuller(store: try options.store(), configuration: registryOptions.configuration)
        let bar = isatty(STDOUT_FILENO) == 1 ? ProgressBar(label: reference.description) : nil
        do {
            let progress: (@Sendable (RegistryProgress) -> Void)? = bar.map { b in { @Sendable p in b.update(p) } }
            let outcome = try await puller.pullWithOutcome(name, keyring: keyring, progress: progress)
            bar?.finish()
            let seconds = Double(outcome.result.duration.components.seconds) + Double(outcome.result.duration.components.attoseconds) / 1e18
            print("Pulled \(reference) (\(outcome.image.manifestDigest)): \(ByteCount.human(outcome.result.size)), "
                  + "\(outcome.result.blobsDownloaded) blob(s) fetched, \(outcome.result.blobsSkipped) already present, "
                  + String(format: "%.2fs", seconds))
            try await puller.shutdown()
        } catch {
            bar?.finish()
            try? await puller.shutdown()
            throw error
        }
    }
}

/// A one-line progress bar redrawn with `\r` (terminal only).
final class ProgressBar: Sendable {
    let label: String
    /// The percentage last drawn (-1: none yet).
    private let lastDrawn = Mutex(-1)

    init(label: String) { self.label = label }

    func update(_ p: RegistryProgress) {
        let percent = Int(p.fraction.isFinite ? min(max(p.fraction, 0), 1) * 100 : 0)
        let changed = lastDrawn.withLock { last in
            defer { last = percent }
            return last != percent
        }
        guard changed else { return }
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = "\r\(label) [\(bar)] \(percent)% \(ByteCount.human(p.completedBytes))/\(ByteCount.human(p.totalBytes))"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    func finish() {
        if lastDrawn.withLock({ $0 }) >= 0 { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}

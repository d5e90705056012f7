import ArgumentParser
import Foundation
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
            let outcome = try await puller.pullWithOutcome(name, keyring: keyring, progress: bar.map { b in { b.update($0) } })
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
final class ProgressBar: @unchecked Sendable {
    let label: String
    let lock = NSLock()
    var lastDrawn = -1

    init(label: String) { self.label = label }

    func update(_ p: RegistryProgress) {
        lock.lock()
        defer { lock.unlock() }
        let percent = Int(p.fraction * 100)
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let width = 30
        let filled = width * percent / 100
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        let line = "\r\(label) [\(bar)] \(percent)% \(ByteCount.human(p.completedBytes))/\(ByteCount.human(p.totalBytes))"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if lastDrawn >= 0 { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}

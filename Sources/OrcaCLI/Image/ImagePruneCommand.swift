import ArgumentParser
import Foundation
import OrcaRuntime

/// `orca image prune`: removes every image no container uses (the built-in images stay) and
/// content left behind by interrupted pulls.
struct ImagePruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove images no container uses.")

    @OptionGroup var options: ImageStoreOptions

    func run() async throws {
        let collector = ImageGarbageCollector(store: try options.store(), runtime: try options.runtime())
        let removed = try await collector.prune()
        for name in removed { print("Deleted: \(name)") }
        print("Removed \(removed.count) image(s)")
    }
}

import ArgumentParser
import Foundation
import OrcaRuntime

/// `orca image`: the node's local image store (`<data-dir>/images`), shared with a running
/// `orca server` (the store locks its index, so both may use it at once).
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage the local image store.",
        subcommands: [ImageImportCommand.self, ImagePullCommand.self, ImageListCommand.self,
                      ImageRemoveCommand.self, ImagePruneCommand.self])
}

/// The data directory option every `orca image` command takes.
struct ImageStoreOptions: ParsableArguments {
    @Option(help: "Directory for all state (images live in <data-dir>/images).") var dataDir = "/var/lib/orca"

    func store() throws -> ImageStore { try ImageStore(root: dataDir + "/images") }

    /// The node's container runtime state (to tell which images containers use).
    func runtime() throws -> RuncContainerRuntime {
        try RuncContainerRuntime(dataDirectory: dataDir + "/runtime", reapMonitors: false)
    }
}

/// Human sizes as `docker images` prints them (`4.86MB`, `1.2GB`).
enum ByteCount {
    static func human(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes)B" : String(format: value < 10 ? "%.2f%@" : value < 100 ? "%.1f%@" : "%.0f%@", value, units[unit])
    }
}

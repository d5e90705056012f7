import ArgumentParser
import Foundation
import OrcaRuntime

/// `orca image rm NAME…`: removes names (or image IDs); content no other image uses goes too.
/// An image a container uses is kept unless `--force`.
struct ImageRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove local images.", aliases: ["remove", "rmi"])

    @OptionGroup var options: ImageStoreOptions
    @Flag(name: .shortAndLong, help: "Remove even if a container uses the image.") var force = false
    @Argument(help: "Image names or IDs.") var names: [String]

    func run() async throws {
        let store = try options.store()
        let containers = try await options.runtime().list()
        var failed = false
        for name in names {
            guard let image = try store.image(name) else {
                FileHandle.standardError.write(Data("Error: no such image: \(name)\n".utf8))
                failed = true
                continue
            }
            let users = containers.filter { Set(image.layers).isSubset(of: $0.config.rootfsLayers) }
            if !force, let user = users.first {
                FileHandle.standardError.write(Data("Error: image \(name) is in use by container \(user.id)\n".utf8))
                failed = true
                continue
            }
            if try store.remove(name) { print("Deleted: \(name)") }
        }
        if failed { throw ExitCode(1) }
    }
}

import ArgumentParser
import Foundation
import OrcaRuntime

/// `orca image ls`: one row per name, as `crictl images` shows them.
struct ImageListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List local images.", aliases: ["list"])

    @OptionGroup var options: ImageStoreOptions
    @Flag(name: .shortAndLong, help: "Print only image IDs.") var quiet = false
    @Flag(help: "Show digests.") var digests = false

    func run() async throws {
        let images = try options.store().list()
        if quiet {
            var seen = Set<String>()
            for image in images where seen.insert(image.id.hex).inserted { print(image.id.hex) }
            return
        }
        var rows = [["IMAGE", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "SIZE"]]
        for image in images {
            let ref = try? ImageReference(parsing: image.name)
            let repo = ref.map { "\($0.domain)/\($0.path)" } ?? image.name
            let tag = ref?.tag ?? "<none>"
            rows.append([repo, tag] + (digests ? [image.manifestDigest.description] : [])
                        + [String(image.id.hex.prefix(13)), ByteCount.human(image.size)])
        }
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0) }.joined())
        }
    }
}

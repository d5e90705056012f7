import ArgumentParser
import Foundation
import OrcaRuntime

/// `orca image import FILE`: loads a `docker save` archive or an OCI image layout tarball.
struct ImageImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import a docker save archive or an OCI layout tarball.")

    @OptionGroup var options: ImageStoreOptions
    @Argument(help: "The archive (.tar, .tar.gz).") var file: String
    @Option(help: "Repository for entries named only by a tag (OCI layouts), e.g. example.com/app.") var repository: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no such file: \(file)") }
        let images = try await ImageArchive.import(fileAt: file, into: options.store(), repository: repository)
        for image in images {
            print("Loaded image: \(image.name) (\(image.id.description.prefix(19)), \(ByteCount.human(image.size)))")
        }
    }
}

import ArgumentParser
import OrcaCLI

/// The `orca` executable: every command lives in OrcaCLI.
@main
struct Orca: AsyncParsableCommand {
    static let configuration = OrcaCommand.configuration
}

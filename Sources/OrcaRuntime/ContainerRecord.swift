import Foundation
import OrcaCore

/// What the runtime remembers of one container, in `<data-dir>/containers/<id>/container.json`.
struct ContainerRecord: Codable, Hashable, Sendable {
    var config: ContainerConfig
    var logPath: String
    var createdAt: Date
    /// When `start` ran the process; nil before.
    var startedAt: Date?
    /// The conmon monitor's PID, once known.
    var conmonPID: Int32?

    static let fileName = "container.json"

    /// Reads the record in `dir`, or nil when there is none.
    static func load(from dir: String) throws -> ContainerRecord? {
        guard let data = FileManager.default.contents(atPath: "\(dir)/\(fileName)") else { return nil }
        do { return try JSONDecoder().decode(ContainerRecord.self, from: data) } catch {
            throw OrcaError(.internalError, "unreadable container record in \(dir)", cause: error)
        }
    }

    /// Writes the record into `dir` atomically.
    func save(to dir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try PrivateFiles.write(encoder.encode(self), to: "\(dir)/\(Self.fileName)")
    }
}

import Synchronization

/// Warnings admission adds to the response of the request being served (webhooks' `warnings`,
/// Pod Security's `warn` mode). The request handler installs a sink for the task serving it;
/// writes without one (the server's own) drop them.
public final class AdmissionWarnings: Sendable {
    @TaskLocal public static var current: AdmissionWarnings?

    private let items = Mutex<[String]>([])

    public init() {}

    /// Adds a warning to the current request, if any; the same text once.
    public static func add(_ warning: String) {
        current?.items.withLock { if !$0.contains(warning) { $0.append(warning) } }
    }

    /// The warnings added so far.
    public var warnings: [String] { items.withLock { $0 } }
}

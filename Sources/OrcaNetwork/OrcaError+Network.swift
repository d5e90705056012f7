import OrcaCore

extension OrcaError.Code {
    /// A CNI plugin failed (its JSON error is in the message) or returned output that is not a CNI result.
    public static let networkPlugin = OrcaError.Code("NetworkPluginError")
}

import OrcaCore

extension OrcaError.Code {
    /// An image reference that does not parse (the CRI's `InvalidImageName`).
    public static let invalidImageName = OrcaError.Code("InvalidImageName")
    /// An OCI runtime, the container monitor or an image tool failed.
    public static let runtimeError = OrcaError.Code("RuntimeError")
    /// Pulling an image from a registry failed (the kubelet's `ErrImagePull`).
    public static let imagePullFailed = OrcaError.Code("ErrImagePull")
    /// Content did not hash to the digest it was fetched or imported by; it was not stored.
    public static let digestMismatch = OrcaError.Code("DigestMismatch")
    /// The disk is (nearly) full: unpacking or importing stopped before it filled it.
    public static let insufficientStorage = OrcaError.Code("InsufficientStorage")
}

/// The cause of a failed system call: the call and its errno.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call that failed, e.g. `mount`.
    public var call: String
    /// The errno it set.
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): errno \(errno)" }
}

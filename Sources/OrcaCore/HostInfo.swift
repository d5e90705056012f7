#if canImport(Glibc)
import Glibc
#endif

/// Facts of the machine (of the calling process's UTS namespace).
public enum HostInfo {
    /// The host name, lower-cased; nil when the system gives none.
    public static func hostname() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(cString: buffer).lowercased()
        return name.isEmpty ? nil : name
    }

    /// The kernel release (`uname -r`, e.g. `6.1.0-18-amd64`).
    public static func kernelRelease() -> String {
        var uts = utsname()
        uname(&uts)
        return withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The kernel's major and minor version numbers (`6.1.0-18-amd64` → (6, 1)).
    public static func kernelVersion() -> (major: Int, minor: Int) {
        let parts = kernelRelease().split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator arenas. By default glibc makes up to eight arenas per core and rarely hands
/// their free memory back, so a long-running server's RSS keeps what its busiest moment
/// fragmented (under `orca bench api --churn` about three times the growth of two arenas).
/// Swift's Glibc module does not export `malloc.h`, so `mallopt` is looked up by name.
public enum MallocArenas {
    /// glibc's `M_ARENA_MAX` parameter.
    static let arenaMaxParameter: Int32 = -8

    /// Caps the number of arenas (as `MALLOC_ARENA_MAX` does), unless that variable is set;
    /// call it first thing, before threads allocate. Returns whether the cap was set.
    @discardableResult
    public static func limit(to count: Int32) -> Bool {
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        return unsafeBitCast(symbol, to: Mallopt.self)(arenaMaxParameter, count) == 1
    }
}

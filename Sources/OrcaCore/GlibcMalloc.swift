#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator, tuned for a long-running server. By default glibc makes up to eight arenas
/// per core and hands free memory back only from the top of the main heap, so a server's RSS
/// keeps what its busiest moment fragmented. Swift's Glibc module does not export `malloc.h`,
/// so `mallopt` and `malloc_trim` are looked up by name (and skipped on another libc).
public enum GlibcMalloc {
    /// glibc's `M_ARENA_MAX` parameter.
    static let arenaMaxParameter: Int32 = -8

    /// Caps the number of arenas (as `MALLOC_ARENA_MAX` does), unless that variable is set;
    /// call it first thing, before threads allocate. Returns whether the cap was set.
    @discardableResult
    public static func limitArenas(to count: Int32) -> Bool {
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = function("mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        return unsafeBitCast(symbol, to: Mallopt.self)(arenaMaxParameter, count) == 1
    }

    /// Returns the free pages of every arena to the kernel (`malloc_trim(0)`), as Go's scavenger
    /// does for kube-apiserver; live allocations are untouched. Returns whether glibc released
    /// any memory, nil where there is no `malloc_trim`.
    @discardableResult
    public static func trim() -> Bool? {
        guard let symbol = function("malloc_trim") else { return nil }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        return unsafeBitCast(symbol, to: MallocTrim.self)(0) == 1
    }

    private static func function(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
    }
}

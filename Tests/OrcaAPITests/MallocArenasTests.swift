import OrcaAPI
import Testing

/// The arena cap reaches glibc's `mallopt` (found by name) and is taken.
struct MallocArenasTests {
    @Test func theArenaCapIsSet() {
        #expect(MallocArenas.limit(to: 2))
    }
}

import OrcaAPI
import Testing

/// The arena cap and the trim reach glibc's `mallopt` and `malloc_trim` (found by name).
struct GlibcMallocTests {
    @Test func theArenaCapIsSet() {
        #expect(GlibcMalloc.limitArenas(to: 2))
    }

    @Test func freedMemoryGoesBackToTheKernel() {
        // Many small blocks freed in a heap that cannot shrink from the top (one is kept last)
        // leave whole free pages inside it: only malloc_trim hands those back.
        var blocks = (0..<20_000).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16) }
        for block in blocks { block.storeBytes(of: 1, as: UInt8.self) }
        let last = blocks.removeLast()
        for block in blocks { block.deallocate() }
        #expect(GlibcMalloc.trim() == true)
        last.deallocate()
    }
}

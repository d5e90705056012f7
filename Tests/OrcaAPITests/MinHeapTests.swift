import OrcaCore
import Testing

struct MinHeapTests {
    @Test func popsInOrderWhateverThePushOrder() {
        var heap = MinHeap<Int>(by: <)
        // A fixed scramble (a linear congruential sequence) with repeats and negatives.
        let values = (0..<1000).map { (i: Int) in (i * 7_919 + 13) % 1_001 - 500 }
        for v in values { heap.push(v) }
        #expect(heap.count == 1000 && heap.min == values.min())
        var popped: [Int] = []
        while let v = heap.popMin() { popped.append(v) }
        #expect(popped == values.sorted())
        #expect(heap.isEmpty && heap.min == nil && heap.popMin() == nil)
    }

    @Test func interleavedPushesAndPopsKeepTheLeastOnTop() {
        var heap = MinHeap<(at: Double, key: String)> { $0.at < $1.at }
        heap.push((3, "c"))
        heap.push((1, "a"))
        #expect(heap.popMin()?.key == "a")
        heap.push((2, "b"))
        heap.push((0.5, "z"))
        #expect(heap.min?.key == "z")
        #expect([heap.popMin(), heap.popMin(), heap.popMin()].map { $0?.key } == ["z", "b", "c"])
        heap.push((1, "again"))
        heap.removeAll()
        #expect(heap.isEmpty)
    }
}

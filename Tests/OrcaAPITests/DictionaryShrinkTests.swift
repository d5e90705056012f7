import OrcaCore
import Testing

/// A dictionary emptied of most of its entries gives its buckets back and keeps the rest.
struct DictionaryShrinkTests {
    @Test func aSparseDictionaryShrinksAndKeepsItsEntries() {
        var d: [String: Int] = [:]
        for i in 0..<10_000 { d["k\(i)"] = i }
        let full = d.capacity
        for i in 0..<9_900 {
            d["k\(i)"] = nil
            d.shrinkIfSparse()
        }
        #expect(d.capacity < full / 16)
        #expect(d.count == 100)
        #expect((9_900..<10_000).allSatisfy { (i: Int) in d["k\(i)"] == i })
    }

    @Test func aDictionaryInUseKeepsItsCapacity() {
        var d: [Int: Int] = [:]
        for i in 0..<1_000 { d[i] = i }
        let full = d.capacity
        for i in 0..<400 { d[i] = nil; d.shrinkIfSparse() }
        #expect(d.capacity == full)
        var small: [Int: Int] = [1: 1]
        small.shrinkIfSparse()
        #expect(small.capacity >= 1 && small[1] == 1)
    }
}

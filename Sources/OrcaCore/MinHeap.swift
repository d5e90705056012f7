/// A binary min-heap: `push` and `popMin` in O(log n), `min` in O(1).
public struct MinHeap<Element> {
    private var items: [Element] = []
    private let areInIncreasingOrder: (Element, Element) -> Bool

    /// An empty heap ordered by `areInIncreasingOrder`.
    public init(by areInIncreasingOrder: @escaping (Element, Element) -> Bool) {
        self.areInIncreasingOrder = areInIncreasingOrder
    }

    public var count: Int { items.count }
    public var isEmpty: Bool { items.isEmpty }

    /// The least element, if any.
    public var min: Element? { items.first }

    public mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard areInIncreasingOrder(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the least element.
    @discardableResult
    public mutating func popMin() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let least = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, areInIncreasingOrder(items[left], items[smallest]) { smallest = left }
            if right < items.count, areInIncreasingOrder(items[right], items[smallest]) { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return least
    }

    /// Removes every element, giving the storage back.
    public mutating func removeAll() {
        items = []
    }
}

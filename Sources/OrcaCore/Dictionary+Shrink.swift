extension Dictionary {
    /// Gives back storage after many removals: Swift's dictionaries keep the capacity of their
    /// largest moment, so a cache that held 50,000 objects once holds their buckets for good.
    /// Rebuilds at the present size when fewer than a quarter of the buckets are in use (and
    /// there are more than `floor`); the cost is amortized over the removals that led there.
    public mutating func shrinkIfSparse(floor: Int = 64) {
        guard capacity > floor, count * 4 < capacity else { return }
        var shrunk = Self(minimumCapacity: count)
        for (key, value) in self { shrunk[key] = value }
        self = shrunk
    }
}
